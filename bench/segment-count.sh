#!/usr/bin/env bash
# Segment counts over a generated base (SPEC §13.3: ≤ 200 ms over 1M contacts):
# criteria.BenchmarkCount on SQLite and PostgreSQL (the throwaway cluster of
# internal/dbtest, or ENVOI_TEST_POSTGRES). CONTACTS (default 1,000,000) contacts with 10 events
# each; the SQLite base is generated once into KEEP (default a temporary
# directory) and reused when KEEP is given again; PGKEEP=postgres://… does the
# same with a PostgreSQL database. PLANS=1 prints each statement and its plan;
# PLAN=static|in|hash|probe|nosplit forces how sets are written (see
# criteria.SetPlan), to compare with the planner's choice.
#
#   bench/segment-count.sh                       # 1M contacts, 10M events, both engines
#   CONTACTS=100000 DATABASES=sqlite bench/segment-count.sh
set -euo pipefail
cd "$(dirname "$0")/.."
contacts=${CONTACTS:-1000000}
databases=${DATABASES:-sqlite postgres}
keep=${KEEP:-}
benchtime=${BENCHTIME:-5x}
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go test -c -o "$bin/criteria.test" ./internal/criteria/
echo "machine: $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
for db in $databases; do
	dir=""
	if [ "$db" = sqlite ] && [ -n "$keep" ]; then
		mkdir -p "$keep"
		dir=$keep
	fi
	run=("$bin/criteria.test" -test.run '^$' -test.bench "Count/$db/" -test.benchtime "$benchtime" -test.timeout 2h -test.v)
	ENVOI_BENCH_CONTACTS=$contacts ENVOI_BENCH_ONLY=$db ENVOI_BENCH_DIR=$dir ENVOI_BENCH_PLANS=${PLANS:-} \
		ENVOI_BENCH_POSTGRES=${PGKEEP:-} ENVOI_BENCH_PLAN=${PLAN:-} \
		"${run[@]}" | grep -E '^(Benchmark|\s+bench_test.go:[0-9]+: (sqlite|postgres): generated)|^\s{8}' || true
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
