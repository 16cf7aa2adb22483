#!/usr/bin/env bash
# bench/live-fanout.sh [FLAGS]
#
# Live sharing (SPEC §3.2): opens STREAMS (1000) server-sent event streams on
# one account of an envoi serving on 127.0.0.1, records CHANGES (20) changes
# one after the other and prints how long each took to reach the first and
# the last stream. SQLite in a fresh temporary directory, or the empty
# PostgreSQL database ENVOI_DATABASE_URL points at. FLAGS go to
# bench/livefanout (see its doc comment).
set -euo pipefail
cd "$(dirname "$0")/.."

args=(-streams "${STREAMS:-1000}" -changes "${CHANGES:-20}")
if [ -n "${ENVOI_DATABASE_URL:-}" ]; then
	args+=(-db "$ENVOI_DATABASE_URL")
fi
exec go run ./bench/livefanout "${args[@]}" "$@"
