#!/usr/bin/env bash
# bench/serve-ready.sh [RUNS]
#
# Time from launching `envoi serve` to its first `GET /healthz` answering
# 200, over RUNS runs (default 10), each on a fresh data directory (so each
# start creates and migrates the SQLite database; FRESH=0 reuses one
# directory to time restarts instead). Polls every 5 ms over a bash
# /dev/tcp socket (no process forked per poll). Prints min/median/max in ms.
# Listens only on 127.0.0.1; every server is stopped before the next run.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-${RUNS:-10}}
fresh=${FRESH:-1}
timeout_ms=${READY_TIMEOUT_MS:-30000}

# ENVOI_BIN=path skips the build and measures that binary instead.
envoi=${ENVOI_BIN:-bin/envoi}
if [ -z "${ENVOI_BIN:-}" ]; then
	echo "building bin/envoi"
	go build -o bin/envoi ./cmd/envoi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/envoi-bench.XXXXXX")
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

# free_port: a port nothing listens on at 127.0.0.1.
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

# healthy PORT: GET /healthz answers 200.
healthy() {
	local status=""
	{ exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
	printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
	read -r -t 2 status <&3 || true
	exec 3<&- 3>&-
	[[ $status == "HTTP/1."?" 200"* ]]
}

now_ns() { date +%s%N; }

times=()
for run in $(seq "$runs"); do
	if [ "$fresh" = 1 ] || [ "$run" = 1 ]; then
		data="$work/data$run"
	fi
	port=$(free_port)
	log="$work/serve$run.log"
	t0=$(now_ns)
	"$envoi" serve --addr "127.0.0.1:$port" --data "$data" >"$log" 2>&1 &
	pid=$!
	until healthy "$port"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "run $run: envoi serve exited before being ready:" >&2
			tail -n 30 "$log" >&2
			exit 1
		fi
		if [ $((($(now_ns) - t0) / 1000000)) -gt "$timeout_ms" ]; then
			echo "run $run: not ready after ${timeout_ms} ms:" >&2
			tail -n 30 "$log" >&2
			exit 1
		fi
		sleep 0.005
	done
	ms=$((($(now_ns) - t0) / 1000000))
	times+=("$ms")
	echo "run $run: ready in $ms ms"
	stop_server
done

mapfile -t sorted < <(printf '%s\n' "${times[@]}" | sort -n)
n=${#sorted[@]}
if [ $((n % 2)) -eq 1 ]; then
	median=${sorted[n / 2]}
else
	median=$(((sorted[n / 2 - 1] + sorted[n / 2]) / 2))
fi
mode=$([ "$fresh" = 1 ] && echo "fresh data dir each run" || echo "restarts on one data dir")
echo "serve-ready: $n runs ($mode): min ${sorted[0]} ms, median $median ms, max ${sorted[n - 1]} ms"
