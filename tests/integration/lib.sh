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
# xlsx_rows <file.xlsx>: every row of the workbook (read with python3's zipfile, not
# libxlsxwriter): sheet name, then the row's cells (numbers as %.6f), tab-separated.
xlsx_rows() {
  python3 - "$1" <<'PY'
import re, sys, zipfile, xml.etree.ElementTree as ET
m = '{http://schemas.openxmlformats.org/spreadsheetml/2006/main}'
z = zipfile.ZipFile(sys.argv[1])
shared = []
if 'xl/sharedStrings.xml' in z.namelist():
    shared = [''.join(t.text or '' for t in si.iter(m + 't'))
              for si in ET.fromstring(z.read('xl/sharedStrings.xml')).iter(m + 'si')]
names = [s.get('name') for s in ET.fromstring(z.read('xl/workbook.xml')).iter(m + 'sheet')]
for i, name in enumerate(names, 1):
    for row in ET.fromstring(z.read('xl/worksheets/sheet%d.xml' % i)).iter(m + 'row'):
        cells = []
        for c in row.iter(m + 'c'):
            v = c.find(m + 'v')
            t = c.get('t')
            if t == 's':
                cells.append(shared[int(v.text)])
            elif t == 'inlineStr':
                cells.append(''.join(x.text or '' for x in c.iter(m + 't')))
            elif v is not None:
                cells.append('%.6f' % float(v.text))
        print('\t'.join([name] + cells))
PY
}
# xlsx_row_values <rows file> <sheet> <label>: the numbers after the cell <label> (full-width
# spaces ignored) of the sheet's first such row in xlsx_rows output, space-separated.
xlsx_row_values() {
  awk -F'\t' -v s="$2" -v l="$3" '$1 == s { for (i = 2; i <= NF; i++) { g = $i; gsub(/\xe3\x80\x80/, "", g); if (g == l) { for (j = i + 1; j <= NF; j++) printf "%s ", $j; print ""; exit } } }' "$1"
}
