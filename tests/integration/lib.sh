# Shared by the integration scripts: a work directory removed at exit, and checks that count.
# Usage (after setting tuban= and src=): . lib.sh; ...; finish
work=$(mktemp -d "${TMPDIR:-/tmp}/tuban-it.XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
# check <what> <command...>: passes when the command exits 0.
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else fail "$what"; fi; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; }
# sample_office <dir>: a private copy of the sample office (its imagery pointing at the samples),
# without keys.
sample_office() {
  mkdir -p "$1"
  cp "$src"/templates/sample-office/{office.xml,notice.xml,seal.png} "$1"/
  sed "s|\.\./\.\./samples/|$src/samples/|" "$src/templates/sample-office/imagery.xml" >"$1/imagery.xml"
}
# sample_store <db>: the sample patches imported on 2025-01-05 and the townships' reported
# progress since (samples/history.csv) applied with `tuban patch set --at`.  Needs tuban=.
sample_store() {
  "$tuban" import "$src/samples/patches.gpkg" --db "$1" --at 2025-01-05 >/dev/null || return 1
  tail -n +2 "$src/samples/history.csv" | while IFS=, read -r id status date by note; do
    "$tuban" patch set "$id" --status "$status" --db "$1" --at "$date" --by "$by" --note "$note" \
      >/dev/null || return 1
  done
}
