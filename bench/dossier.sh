#!/usr/bin/env bash
# The 约谈问责卷宗 at size (issue 9: "a dossier of 300 patch sections renders in under 60 s with
# peak RSS under 500 MB"): N generated 违法用地 patches (bench/import/make_patches.py, all put in
# 南湖街道 so the ratio rule selects it), imported into a fresh store with one status change
# each, then `tuban render dossier --db` with the sample office and its imagery catalogue (a
# before/after map pair per patch).  Prints the wall time, peak RSS, pages and the pass/fail of
# both limits; exits 1 when a limit is missed.
# Usage: bench/dossier.sh [build dir] [patches]      (not run by CI: timings are noisy)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
n=${2:-300}
tuban=$(realpath "$build/src/cli/tuban")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1742860800

# The benchmark's own copy of the sample office (keys made here; imagery from the samples).
office=$work/office
mkdir -p "$office"
cp templates/sample-office/{office.xml,notice.xml,seal.png} "$office"/
sed "s|\.\./\.\./samples/|$PWD/samples/|" templates/sample-office/imagery.xml >"$office/imagery.xml"
bash scripts/make-sample-keys.sh "$office" >/dev/null 2>&1

/usr/bin/python3 bench/import/make_patches.py "$work/p.gpkg" "$n" >/dev/null
ogrinfo -q "$work/p.gpkg" -dialect SQLite -sql "UPDATE patches SET XZQDM = '139901001',
  XZQMC = '南湖街道', PDJG = '违法用地', WFLX = '违法占地', HFSJYT = '', QTSJYT = '',
  ZGCS = '拆除复耕', ZGZT = '未整改', ZGQX = '2025-06-30'" >/dev/null
db=$work/tuban.db
"$tuban" import "$work/p.gpkg" --db "$db" --at 2025-01-05 >/dev/null
# One reported change per patch, so every section has a status history beyond the import.
sqlite3 "$db" "SELECT id FROM patch ORDER BY id" >"$work/ids"
while read -r id; do
  "$tuban" patch set "$id" --status 整改中 --db "$db" --at 2025-02-10 --by "南湖街道 孙七" \
    --note "已开始拆除" >/dev/null
done <"$work/ids"

echo "== tuban render dossier: $n patch sections (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
/usr/bin/time -f "%e %M" -o "$work/t" "$tuban" render dossier --office "$office" --db "$db" \
  --date 2025-04-21 --out "$work/out" >"$work/paths"
read -r secs kb <"$work/t"
pdf=$(head -1 "$work/paths")
pages=$(pdfinfo "$pdf" | awk '/^Pages:/ {print $2}')
sections=$(qpdf --json=2 --json-key=outlines "$pdf" | python3 -c '
import json, sys
print(sum(1 for o in json.load(sys.stdin)["outlines"] if o["title"].startswith("图斑")))')
size=$(du -m "$pdf" | cut -f1)
awk -v s="$secs" -v kb="$kb" -v p="$pages" -v n="$sections" -v mb="$size" 'BEGIN {
  printf "%d patch sections, %d pages, %d MB: %.1f s (%.2f pages/s), peak RSS %.0f MB\n",
         n, p, mb, s, p / s, kb / 1024 }'
ok=1
awk -v s="$secs" 'BEGIN { exit !(s < 60) }' && echo "time < 60 s: yes" || { echo "time < 60 s: NO"; ok=0; }
awk -v kb="$kb" 'BEGIN { exit !(kb < 500 * 1024) }' && echo "peak RSS < 500 MB: yes" ||
  { echo "peak RSS < 500 MB: NO"; ok=0; }
[ "$sections" -eq "$n" ] || { echo "expected $n patch sections, found $sections"; ok=0; }
[ "$ok" -eq 1 ]
