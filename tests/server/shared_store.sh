#!/usr/bin/env bash
# The daemon and a CLI batch on one store: `render --db` issues document by document, each in a
# transaction of its own (the write lock held for milliseconds, not for the batch), so a daemon
# issue made while the batch renders succeeds at once instead of failing after SQLite's busy
# timeout; the batch's documents whose guessed numbers the daemon took are rendered again with
# the numbers they get, and the registry stays gapless with every PDF printing its own number.
# Usage: shared_store.sh <tuban> <source dir>
set -uo pipefail
tuban=${1:?tuban binary}
src=$(cd "${2:?source dir}" && pwd)
. "$src/tests/integration/lib.sh"
. "$src/tests/server/lib.sh"
cli=
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; [ -n "$cli" ] && kill -KILL "$cli" 2>/dev/null; [ -n "${KEEP:-}" ] && find "$work/data" > /tmp/ss.find; rm -rf "$work"' EXIT

make_office "$work/office-a" office-a 139901
tok_a=test-token-office-a-0001 tok_admin=test-token-admin-00003
cat >"$work/tuban.conf" <<EOF
store = data/tuban.db
archive = data/archive
workers = 1

[office office-a]
dir = office-a
token_sha256 = $(hash $tok_a)

[admin operator]
token_sha256 = $(hash $tok_admin)
EOF
started
call $tok_admin POST "/v1/imports?batch=2024&at=2024-11-01" --data-binary @"$src/samples/patches.gpkg"
check "import: 200" test "$code" = 200
notices=$(ogrinfo -q -sql "SELECT count(DISTINCT XZQDM) AS n FROM patches WHERE PDJG = '违法用地'" \
  "$src/samples/patches.gpkg" | awk -F' = ' '/n \(/ {print $2}')

# The batch renders each notice 2.5 s (a slow county's maps), one at a time: longer than the
# store's 5 s busy timeout in all.
TUBAN_TEST_SLOW_MS=2500 "$tuban" render notice --office "$work/office-a" --db "$work/data/tuban.db" \
  --archive "$work/data/archive" --date 2024-11-20 --jobs 1 >"$work/cli.out" 2>"$work/cli.err" &
cli=$!
sleep 1.5
t0=$(date +%s%N)
call $tok_a POST /v1/documents -d '{"kind":"notice","batch":"2024","township":"139901201","date":"2024-11-21"}'
ms=$((($(date +%s%N) - t0) / 1000000))
check "a daemon issue while the CLI batch renders: 201 (${ms} ms)" json "d['registered'] and d['number'] >= 1"
check "... at once, not after the busy timeout (< 4000 ms)" test "$ms" -lt 4000
daemon_no=$(jget "d['number']")
check "the CLI batch was still running then" kill -0 "$cli"
wait "$cli"
rc=$?
cli=
check "the CLI batch exits 0 ($(head -c 300 "$work/cli.err"))" test "$rc" -eq 0
check "it names $notices archived notices" test "$(grep -c "^$work/data/archive/office-a/2024/.*/[0-9]*\.pdf$" "$work/cli.out")" = "$notices"
total=$((notices + 1))
check "the registry: $total documents numbered 1..$total, no gap, none twice" \
  test "$(sql "SELECT count(*) || ' ' || count(DISTINCT number) || ' ' || min(number) || ' ' || max(number) FROM registry WHERE office = 'office-a' AND year = 2024")" = "$total $total 1 $total"
check "the daemon's document kept its number ($daemon_no), none of the CLI's has it" \
  test "$(sql "SELECT count(*) FROM registry WHERE number = $daemon_no")" = 1
check "archive check: clean (hash chain, files, numbers)" \
  "$tuban" archive check --db "$work/data/tuban.db" --archive "$work/data/archive"
check "every archived PDF prints the 发文字号 the registry gave it" bash -c "
  sqlite3 -separator ' ' '$work/data/tuban.db' 'SELECT path, docno FROM registry' |
  while read -r f no; do pdftotext '$work/data/archive/'\$f - | grep -qF \"\$no\" || exit 1; done"
check "every archived PDF: qpdf --check and a valid signature" bash -c "
  for f in \$(find '$work/data/archive/office-a' -name '*.pdf'); do
    qpdf --check \"\$f\" >/dev/null && pdfsig \"\$f\" | grep -q 'Signature is Valid' || exit 1
  done"
check "no temporary left in the archive" bash -c "[ -z \"\$(find '$work/data/archive/office-a' -name '.*')\" ]"
stop
finish
