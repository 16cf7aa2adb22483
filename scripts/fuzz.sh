#!/usr/bin/env bash
# fuzz.sh [FUZZTIME]
#
# Runs every Fuzz* target of the module for FUZZTIME each (default 20s), one
# after the other (`go test -fuzz` accepts one target and one package at a
# time). Packages are found by their *_test.go files declaring `func Fuzz`,
# then `go test -list` names the targets. New crashers are written under the
# package's testdata/fuzz/ and make the script fail.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${1:-${FUZZTIME:-20s}}
go=${GO:-go}

mapfile -t dirs < <(grep -rlE --include='*_test.go' '^func Fuzz[A-Z0-9_]' . 2>/dev/null |
	xargs -r -n1 dirname | sort -u)
if [ "${#dirs[@]}" -eq 0 ]; then
	echo "fuzz: no Fuzz targets found"
	exit 0
fi

failed=()
count=0
for dir in "${dirs[@]}"; do
	mapfile -t targets < <("$go" test -list '^Fuzz' -run '^$' "$dir" | grep -E '^Fuzz')
	for target in "${targets[@]}"; do
		count=$((count + 1))
		echo "=== fuzz $dir $target ($fuzztime)"
		if ! "$go" test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$dir"; then
			failed+=("$dir $target")
		fi
	done
done

if [ "${#failed[@]}" -gt 0 ]; then
	echo "fuzz: ${#failed[@]} of $count targets failed:"
	printf '  %s\n' "${failed[@]}"
	exit 1
fi
echo "fuzz: $count targets passed"
