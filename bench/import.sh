#!/usr/bin/env bash
# bench/import.sh [FLAGS]
#
# Contact import (SPEC §4.4, issue 4): generates ROWS (1,000,000) realistic
# French contacts as a 10-column CSV, then imports them through the real
# service and job worker, first in create mode, then again in upsert
# (create-or-update) mode, on SQLite (a fresh temporary directory) and, when
# PostgreSQL is installed, on a throwaway cluster from scripts/with-postgres.sh
# (which runs with fsync off). Prints rows/s, the report's counts and the
# peak RSS of each phase. DATABASES=sqlite or DATABASES=postgres runs one;
# ENVOI_DATABASE_URL pointing at an empty PostgreSQL database is used instead
# of a throwaway cluster. FLAGS go to bench/import (see its doc comment),
# e.g. -cpuprofile /tmp/import.
set -euo pipefail
cd "$(dirname "$0")/.."

rows="${ROWS:-1000000}"
databases="${DATABASES:-sqlite postgres}"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/import" ./bench/import
"$bin/import" -generate "$bin/contacts.csv" -rows "$rows"

for db in $databases; do
	echo "== $db, $rows rows, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	case "$db" in
	sqlite)
		"$bin/import" -file "$bin/contacts.csv" "$@"
		;;
	postgres)
		if [ -n "${ENVOI_DATABASE_URL:-}" ]; then
			"$bin/import" -file "$bin/contacts.csv" -db "$ENVOI_DATABASE_URL" "$@"
		else
			# The cluster's own empty "postgres" database.
			scripts/with-postgres.sh bash -c 'exec "$0" -file "$1" -db "$ENVOI_TEST_POSTGRES" "${@:2}"' "$bin/import" "$bin/contacts.csv" "$@"
		fi
		;;
	*)
		echo "unknown database $db (sqlite or postgres)" >&2
		exit 2
		;;
	esac
done
