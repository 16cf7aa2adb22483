#!/usr/bin/env bash
# bench/contacts-search.sh [GO TEST FLAGS]
#
# The contacts page and GET /api/v1/contacts over a large base (issue 4:
# "Contacts page with a search over 1M contacts: under 100 ms per page"):
# BenchmarkSearch in internal/contact generates CONTACTS (1,000,000)
# realistic French contacts (names with accents in Title, UPPER and lower
# case, 8 % without a name, emails from the names, mobile and landline
# phones, statuses, four lists of 60 %, 10 %, 1 % and 200 contacts) with
# multi-row INSERTs into a temporary SQLite file and a throwaway PostgreSQL
# database (scripts/with-postgres.sh), then times pages of 50: first page,
# page 200 through cursors, searches (common last name, rare last-name
# prefix, first and last name, one letter, email prefix, whole email, phone
# in national format, start of a phone number, no result), list and status
# filters, search with a list, and every sort. Generation takes about
# 40 s per database on the reference machine.
#
set -euo pipefail
cd "$(dirname "$0")/.."

export ENVOI_BENCH_CONTACTS="${CONTACTS:-1000000}"
echo "== $ENVOI_BENCH_CONTACTS contacts, load average $(cut -d' ' -f1-3 /proc/loadavg)"
scripts/with-postgres.sh go test -run '^$' -bench '^BenchmarkSearch$' -benchtime "${BENCHTIME:-20x}" -timeout 60m "$@" ./internal/contact/
echo "== done, load average $(cut -d' ' -f1-3 /proc/loadavg)"
