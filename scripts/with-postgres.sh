#!/usr/bin/env bash
# with-postgres.sh CMD [ARG...]
#
# Runs CMD with ENVOI_TEST_POSTGRES pointing at a throwaway PostgreSQL
# cluster, so that every test binary of a `go test ./...` run shares one
# server instead of each starting its own (see internal/dbtest).
#
# - ENVOI_TEST_POSTGRES already set: CMD runs as is.
# - Otherwise a cluster is made in a fresh /tmp directory (as the postgres
#   user when running as root, since the server refuses root), listening only
#   on a Unix socket in that directory, with durability off (it is thrown
#   away). It is stopped and the directory removed however CMD ends.
# - PostgreSQL not installed: with CI=true this is an error; otherwise CMD
#   runs anyway and the PostgreSQL half of the tests is skipped.
#
# The exit status is CMD's.
set -euo pipefail

if [ "$#" -eq 0 ]; then
	echo "usage: $0 CMD [ARG...]" >&2
	exit 2
fi

if [ -n "${ENVOI_TEST_POSTGRES:-}" ]; then
	exec "$@"
fi

say() { echo "with-postgres: $*" >&2; }

# pgbin NAME: the path of a PostgreSQL server program, newest version first.
pgbin() {
	local p
	if p=$(command -v "$1" 2>/dev/null); then
		echo "$p"
		return 0
	fi
	p=$(ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1)
	[ -n "$p" ] && [ -x "$p" ] && echo "$p"
}

initdb=$(pgbin initdb) || initdb=""
pg_ctl=$(pgbin pg_ctl) || pg_ctl=""
if [ -z "$initdb" ] || [ -z "$pg_ctl" ]; then
	if [ "${CI:-}" = "true" ]; then
		say "PostgreSQL (initdb, pg_ctl) is required when CI=true; install the postgresql package"
		exit 1
	fi
	say "PostgreSQL not installed: running without it, PostgreSQL tests will be skipped"
	exec "$@"
fi

# /tmp rather than $TMPDIR: the postgres user must reach it, and the socket
# path must stay under the ~107-byte Unix socket limit.
dir=$(mktemp -d /tmp/envoi-pg.XXXXXX)
data="$dir/data"
port=$((20000 + RANDOM % 30000))

as_pg=()
if [ "$(id -u)" -eq 0 ]; then
	if ! id postgres >/dev/null 2>&1; then
		say "running as root needs the postgres user (created by the postgresql package)"
		rm -rf "$dir"
		exit 1
	fi
	chown postgres: "$dir"
	as_pg=(runuser -u postgres --)
fi

started=""
cleanup() {
	if [ -n "$started" ]; then
		"${as_pg[@]}" "$pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! "${as_pg[@]}" "$initdb" -D "$data" -A trust -U postgres --no-sync -E UTF8 >"$dir/initdb.log" 2>&1; then
	say "initdb failed:"
	cat "$dir/initdb.log" >&2
	exit 1
fi

opts="-k $dir -p $port -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
started=yes
if ! "${as_pg[@]}" "$pg_ctl" -D "$data" -o "$opts" -l "$dir/log" -w start >/dev/null 2>&1; then
	say "pg_ctl start failed:"
	cat "$dir/log" >&2 || true
	exit 1
fi

export ENVOI_TEST_POSTGRES="postgres://postgres@/postgres?host=$dir&port=$port&sslmode=disable"
say "PostgreSQL $("$initdb" --version | awk '{print $3}') on $dir (port $port)"

# Not exec: the EXIT trap must stop the cluster after CMD.
status=0
"$@" || status=$?
exit "$status"
