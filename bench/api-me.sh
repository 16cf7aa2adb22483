#!/usr/bin/env bash
# bench/api-me.sh
#
# Throughput and latency of an authenticated API call, GET /api/v1/me with
# an API key, measured by wrk against `envoi serve` on a fresh SQLite data
# directory (set ENVOI_DATABASE_URL to an empty PostgreSQL database to
# measure PostgreSQL instead). Listens only on 127.0.0.1.
#
# Settings (environment): THREADS (2), CONNECTIONS (50), DURATION (10s).
set -euo pipefail
cd "$(dirname "$0")/.."

threads=${THREADS:-2}
connections=${CONNECTIONS:-50}
duration=${DURATION:-10s}

if ! command -v wrk >/dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "installing wrk"
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk </dev/null >/dev/null ||
			{ apt-get update </dev/null >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk </dev/null >/dev/null; }
	else
		echo "api-me: wrk is needed (Debian: apt-get install wrk)" >&2
		exit 1
	fi
fi

# ENVOI_BIN=path skips the build and measures that binary instead.
envoi=${ENVOI_BIN:-bin/envoi}
if [ -z "${ENVOI_BIN:-}" ]; then
	echo "building bin/envoi"
	go build -o bin/envoi ./cmd/envoi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/envoi-bench.XXXXXX")
data="$work/data"
log="$work/serve.log"
pid=""
stop_server() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		pid=""
	fi
}
trap 'stop_server; rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "api-me: $*" >&2
	if [ -s "$log" ]; then
		echo "--- last lines of the server log:" >&2
		tail -n 30 "$log" >&2
	fi
	exit 1
}

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		if ! { exec 4<>"/dev/tcp/127.0.0.1/$p"; } 2>/dev/null; then
			echo "$p"
			return
		fi
		exec 4<&- 4>&-
	done
}

# status PORT PATH [HEADER]: the HTTP status of a GET.
status() {
	local line="" header=""
	if [ -n "${3:-}" ]; then header="$3"$'\r\n'; fi
	{ exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || { echo 000; return; }
	printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sConnection: close\r\n\r\n' "$2" "$header" >&3
	read -r -t 5 line <&3 || true
	exec 3<&- 3>&-
	line=${line#HTTP/1.? }
	echo "${line:0:3}"
}

port=$(free_port)
base="http://127.0.0.1:$port"
"$envoi" serve --addr "127.0.0.1:$port" --data "$data" >"$log" 2>&1 &
pid=$!
for _ in $(seq 600); do
	[ "$(status "$port" /healthz)" = 200 ] && break
	kill -0 "$pid" 2>/dev/null || fail "envoi serve exited before being ready"
	sleep 0.05
done
[ "$(status "$port" /healthz)" = 200 ] || fail "envoi serve not ready after 30 s"

out=$("$envoi" account create --name Bench --admin-email bench@example.com \
	--admin-password 'bench-password-123' --data "$data" --json 2>&1) ||
	fail "account create failed: $out"
# The account id, whether the JSON says "account_id", "accountId" or
# {"account": {"id": …}}, quoted or not.
account=$(grep -oE '"(account_id|accountId|account)"[[:space:]]*:[[:space:]]*"?[A-Za-z0-9_-]+' <<<"$out" |
	head -n 1 | sed -E 's/.*:[[:space:]]*"?//')
if [ -z "$account" ]; then
	account=$(grep -oE '"id"[[:space:]]*:[[:space:]]*"?[A-Za-z0-9_-]+' <<<"$out" | head -n 1 | sed -E 's/.*:[[:space:]]*"?//')
fi
[ -n "$account" ] || fail "no account id in the output of account create: $out"

out=$("$envoi" apikey create --account "$account" --user bench@example.com --data "$data" 2>&1) ||
	fail "apikey create failed: $out"
key=$(grep -oE 'envoi_[A-Za-z0-9_-]+' <<<"$out" | tail -n 1)
[ -n "$key" ] || fail "no envoi_… key in the output of apikey create: $out"

code=$(status "$port" /api/v1/me "Authorization: Bearer $key")
[ "$code" = 200 ] || fail "GET /api/v1/me with the new key answered $code, not 200"

echo "wrk -t$threads -c$connections -d$duration --latency $base/api/v1/me"
result=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency \
	-H "Authorization: Bearer $key" "$base/api/v1/me")
echo "$result"
stop_server

rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$result")
p99=$(awk '$1 == "99%" {print $2}' <<<"$result")
if grep -q 'Non-2xx or 3xx responses' <<<"$result"; then
	echo "api-me: WARNING: some responses were not 2xx/3xx; the figure is not valid" >&2
fi
echo "api-me: GET /api/v1/me: ${rps:-?} req/s, p99 ${p99:-?} (-t$threads -c$connections -d$duration)"
