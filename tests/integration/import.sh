#!/usr/bin/env bash
# `tuban import` and `tuban patch` end to end: first import, re-import with differences (history,
# missing kept), status changes against the workflow, as-of queries, and the bad-input corpus
# (tests/data/bad/README.md lists each file's documented outcome).  The store is checked with
# the sqlite3 shell, not with tuban.
# Usage: import.sh <tuban> <source dir>
set -uo pipefail
tuban=${1:?tuban binary}
src=${2:?source dir}
bad=$src/tests/data/bad
. "$src/tests/integration/lib.sh"
db=$work/store.db
sql() { sqlite3 -batch -noheader "$db" "$1"; }
dump() { sqlite3 "$db" .dump | sha256sum; }

# --- first import -----------------------------------------------------------------------------
"$tuban" import "$src/samples/patches.gpkg" --db "$db" --by 张三 --at 2024-11-01 --report "$work/first.json" >"$work/out" 2>&1
check "first import exits 0" test $? -eq 0
check "first import: 35 new" grep -q "35 new, 0 changed, 0 unchanged, 0 missing" "$work/out"
check "the store holds 35 patches" test "$(sql 'SELECT count(*) FROM patch')" -eq 35
check "townships registered from the data (4)" test "$(sql 'SELECT count(*) FROM township')" -eq 4
check "initial states are history rows by 张三" \
  test "$(sql "SELECT count(*) FROM status_history WHERE field = 'state' AND who = '张三'")" -ge 12
check "SQLite store is in WAL mode" test "$(sql 'PRAGMA journal_mode')" = wal
check "JSON report parses and says 35 new" python3 -c "
import json,sys; r=json.load(open('$work/first.json')); sys.exit(0 if r['result']['new']==35 and not r['refused'] else 1)"

# --- re-import: the same file, then a newer export --------------------------------------------
"$tuban" import "$src/samples/patches.gpkg" --db "$db" --at 2024-11-10 >"$work/out" 2>&1
check "same file again: 35 unchanged" grep -q "0 new, 0 changed, 35 unchanged, 0 missing" "$work/out"
cp "$src/samples/patches.gpkg" "$work/v2.gpkg"
ogrinfo -q "$work/v2.gpkg" -dialect SQLite -sql "UPDATE patches SET ZGZT = '整改中' WHERE JCBH = '139901SJBG24210003'" >/dev/null 2>&1
ogrinfo -q "$work/v2.gpkg" -dialect SQLite -sql "UPDATE patches SET ZGCS = '补办手续', ZGQX = '2025-06-30' WHERE JCBH = '139901SJBG24210019'" >/dev/null 2>&1
ogrinfo -q "$work/v2.gpkg" -dialect SQLite -sql "DELETE FROM patches WHERE JCBH = '139901SJBG24210008'" >/dev/null 2>&1
"$tuban" import "$work/v2.gpkg" --db "$db" --by 李四 --at 2024-11-20 >"$work/out" 2>&1
check "newer export: 0 new, 2 changed, 32 unchanged, 1 missing" \
  grep -q "0 new, 2 changed, 32 unchanged, 1 missing" "$work/out"
check "the change is described (未整改 → 整改中)" grep -q "139901SJBG24210003.*未整改.*整改中" "$work/out"
check "missing patch reported" grep -q "missing 139901SJBG24210008" "$work/out"
check "missing patch kept, flagged" test "$(sql "SELECT missing FROM patch WHERE id = '139901SJBG24210008'")" = 1
check "history: state change by 李四" \
  test "$(sql "SELECT from_value || '>' || to_value FROM status_history h JOIN patch p ON p.pk = h.patch_pk WHERE p.id = '139901SJBG24210003' AND field = 'state' AND who = '李四'")" = "未整改>整改中"
check "history: measure and deadline changes" \
  test "$(sql "SELECT count(*) FROM status_history h JOIN patch p ON p.pk = h.patch_pk WHERE p.id = '139901SJBG24210019' AND who = '李四'")" -eq 2

# --- status changes: the workflow -------------------------------------------------------------
set_state() { "$tuban" patch set "$1" --status "$2" --db "$db" --by 王五 --at "$3" ${4:+--note "$4"}; }
set_state 139901SJBG24210003 已整改 2024-12-05 "拆除完毕" >"$work/out" 2>&1
check "整改中 → 已整改 accepted" test $? -eq 0
set_state 139901SJBG24210019 已验收 2024-12-06 >"$work/out" 2>&1
rc=$?
check "未整改 → 已验收 refused with exit 2" test $rc -eq 2
check "refusal names the rule" grep -q "未整改 → 已验收 is not allowed" "$work/out"
set_state 139901SJBG24210008 整改中 2024-12-06 >"$work/out" 2>&1
check "a legal patch is not rectified (exit 2)" test $? -eq 2
set_state NO-SUCH-ID 整改中 2024-12-06 >"$work/out" 2>&1
check "unknown patch id exits 2" test $? -eq 2
set_state 139901SJBG24210003 已验收 2024-12-20 >/dev/null 2>&1
check "已整改 → 已验收 accepted" test $? -eq 0
set_state 139901SJBG24210019 整改中 2024-11-05 >"$work/out" 2>&1
check "a change dated before the last recorded one is refused" \
  bash -c "test $? -eq 2 && grep -q 'before its last recorded change' '$work/out'"

# --- as-of queries ----------------------------------------------------------------------------
state_on() { "$tuban" patch list --db "$db" --batch 2024 --as-of "$1" | awk -F'\t' -v id="$2" '$1 == id {print $4}'; }
today=$(date +%F)
check "as of today 139901SJBG24210003 is 已验收" test "$(state_on "$today" 139901SJBG24210003)" = 已验收
check "as of 2024-12-10 it was 已整改" test "$(state_on 2024-12-10 139901SJBG24210003)" = 已整改
check "as of 2024-11-25 it was 整改中 (the 2024-11-20 export)" test "$(state_on 2024-11-25 139901SJBG24210003)" = 整改中
check "as of 2024-11-15 it was 未整改" test "$(state_on 2024-11-15 139901SJBG24210003)" = 未整改
check "as of 2024-10-31 the batch was not imported yet" test "$("$tuban" patch list --db "$db" --batch 2024 --as-of 2024-10-31 | wc -l)" -eq 0
check "as of 2024-11-25 139901SJBG24210008 is missing" bash -c "'$tuban' patch list --db '$db' --batch 2024 --as-of 2024-11-25 | grep 139901SJBG24210008 | grep -q missing"
check "patch list prints 35 patches" test "$("$tuban" patch list --db "$db" --batch 2024 | wc -l)" -eq 35

# --- the bad-input corpus: refused, every problem listed, the store unchanged -----------------
before=$(dump)
refused() { # what, file, expected text..., -- extra args
  local what=$1 file=$2; shift 2
  local needles=() args=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do needles+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  args=("$@")
  "$tuban" import "$file" --db "$db" "${args[@]}" >"$work/out" 2>&1
  local rc=$? missing=""
  for n in "${needles[@]}"; do grep -qF -- "$n" "$work/out" || missing+=" [$n]"; done
  if [ $rc -eq 2 ] && [ -z "$missing" ] && [ "$(dump)" = "$before" ]; then ok "$what"
  else fail "$what (exit $rc, missing:$missing): $(head -c 600 "$work/out")"; fi
}
refused "bow-tie polygon" "$bad/bowtie.geojson" "record 1 (patch BAD0001), field geometry: invalid geometry: Self-intersection"
refused "empty geometry" "$bad/empty_geometry.geojson" "record 1 (patch BAD0002), field geometry: empty geometry"
refused "duplicate id" "$bad/duplicate_id.geojson" "record 2 (patch BAD0003), field JCBH: duplicate patch id"
refused "null id" "$bad/null_id.geojson" "record 1 (patch (no id)), field JCBH: the patch id is empty"
refused "JCGDMJ > JCMJ" "$bad/gdmj_gt_jcmj.geojson" "field JCGDMJ: cultivated area 2000.00 m² is larger than the patch's 1616.70 m²"
refused "every problem listed, not just the first" "$bad/many_problems.geojson" \
  "record 1 (patch BAD0101), field XZQDM: unknown township code 139901999" \
  "record 2 (patch BAD0102), field ZGQX: '2025/02/30' is not a date" \
  "record 3 (patch BAD0103), field PDJG: unknown legality '违规用地'" \
  "record 4 (patch BAD0104), field JCMJ: negative area" \
  "record 5 (patch BAD0105), field YJJBNTMJ" \
  "record 6 (patch BAD0106), field ZGZT: unknown rectification state '处理完'" "refused: 6 errors"
refused "Shapefile without .prj" "$bad/no_prj/patches.shp" "has no coordinate reference system"
refused "broken JSON" "$bad/broken.json" "not a vector file GDAL can read"
refused "CSV with bad WKT" "$bad/bad_wkt.csv" "record 2 (patch CSV0002), field geometry: empty geometry" \
  "record 3 (patch CSV0003), field geometry: invalid geometry" -- --srs EPSG:4490
refused "a file of another batch" "$src/samples/patches.gpkg" "the patch belongs to batch 2024, the import to 2023" -- --batch 2023
"$tuban" import "$bad/many_problems.geojson" --db "$db" --report "$work/bad.json" >/dev/null 2>&1
check "refusal JSON lists 6 errors" python3 -c "
import json,sys; r=json.load(open('$work/bad.json')); sys.exit(0 if r['refused'] and r['counts']['errors']==6 and len([p for p in r['problems'] if p['severity']=='error'])==6 else 1)"

# --- what is fixable gets in --------------------------------------------------------------------
"$tuban" import "$bad/bowtie.geojson" --db "$db" --repair --batch 2024 --source 省 >"$work/out" 2>&1
check "bow-tie with --repair imported" test $? -eq 0
check "repair reports the area before and after" grep -q "repaired (Self-intersection.*m² before.*m² after" "$work/out"
"$tuban" import "$bad/no_prj/patches.shp" --db "$db" --srs EPSG:4548 --source 省 >"$work/out" 2>&1
check "Shapefile without .prj imported with --srs" test $? -eq 0
"$tuban" import "$bad/gbk_no_cpg/patches.shp" --db "$work/gbk.db" >"$work/out" 2>&1
check "GBK without .cpg imported" test $? -eq 0
check "the report says GBK was assumed" grep -q "text GBK (no .cpg: assumed GBK" "$work/out"
check "GBK names decoded (城关镇)" test "$(sqlite3 "$work/gbk.db" "SELECT admin_name FROM patch WHERE id = 'SHP0001'")" = 城关镇
"$tuban" import "$bad/gbk_no_cpg/patches.shp" --db "$work/forced.db" --encoding UTF-8 >"$work/out" 2>&1
check "the same file forced to UTF-8 is refused, naming the field (no mojibake stored)" \
  bash -c "test $? -eq 2 && grep -q 'field XZQMC: text does not decode as UTF-8' '$work/out'"

# --- 军用土地 (SFJYTD, alias 是否军用土地): 是/否 or 1/0, anything else refused ---------------
cp "$src/samples/patches.gpkg" "$work/mil.gpkg"
ogrinfo -q "$work/mil.gpkg" -sql "ALTER TABLE patches ADD COLUMN 是否军用土地 TEXT" >/dev/null 2>&1
ogrinfo -q "$work/mil.gpkg" -dialect SQLite -sql "UPDATE patches SET 是否军用土地 = CASE JCBH WHEN '139901SJBG24210003' THEN '是' ELSE '否' END" >/dev/null 2>&1
"$tuban" import "$work/mil.gpkg" --db "$work/mil.db" >"$work/out" 2>&1
check "military flag imported under its alias (one patch)" \
  test "$(sqlite3 "$work/mil.db" "SELECT group_concat(id) FROM patch WHERE military = 1")" = 139901SJBG24210003
ogrinfo -q "$work/mil.gpkg" -dialect SQLite -sql "UPDATE patches SET 是否军用土地 = '待定' WHERE JCBH = '139901SJBG24210007'" >/dev/null 2>&1
"$tuban" import "$work/mil.gpkg" --db "$work/mil2.db" >"$work/out" 2>&1
check "an unknown military value is refused, naming record and field (exit 2)" \
  bash -c "test $? -eq 2 && grep -q '139901SJBG24210007' '$work/out' && grep -q 'SFJYTD' '$work/out'"

# --- every export format, through OGR: the same 35 patches each time --------------------------
ogr2ogr -f GeoJSON "$work/p.geojson" "$src/samples/patches.gpkg" 2>/dev/null
ogr2ogr -f OpenFileGDB "$work/p.gdb" "$src/samples/patches.gpkg" 2>/dev/null
ogr2ogr -f CSV "$work/p.csv" "$src/samples/patches.gpkg" -lco GEOMETRY=AS_WKT 2>/dev/null
for f in p.geojson p.gdb p.csv; do
  extra=(); [ "$f" = p.csv ] && extra=(--srs EPSG:4490)
  "$tuban" import "$work/$f" --db "$work/fmt-$f.db" "${extra[@]}" >"$work/out" 2>&1
  check "$f: 35 new" grep -q "35 new, 0 changed" "$work/out"
done
check "CSV without --srs is refused" bash -c "'$tuban' import '$work/p.csv' --db '$work/x.db' 2>&1 | grep -q 'no coordinate reference system'"
check "GBK Shapefile (.cpg) with alias fields: 35 new" \
  bash -c "'$tuban' import '$src/tests/data/gbk_cpg/patches.shp' --db '$work/gbkcpg.db' | grep -q '35 new'"
check "the report names the .cpg's encoding" \
  bash -c "'$tuban' import '$src/tests/data/gbk_cpg/patches.shp' --db '$work/gbkcpg2.db' | grep -q 'text GBK (as its .cpg says)'"

# A mapping profile: a province's column names and value spellings.
ogr2ogr -f GeoJSON "$work/prov.geojson" "$src/samples/patches.gpkg" -dialect SQLite -sql \
  "SELECT JCBH AS 监测图斑编号, XZQDM, XZQMC, NF, JCMJ, JCGDMJ, YJJBNTMJ, CASE PDJG WHEN '违法用地' THEN '违法' WHEN '合法用地' THEN '合法' ELSE '其它' END AS PDJG, ZGZT, geom FROM patches" 2>/dev/null
cat >"$work/prov.xml" <<'XML'
<mapping xmlns="urn:tuban:mapping:1" name="某省卫片导出">
  <field name="JCBH" column="监测图斑编号"/>
  <value field="PDJG" from="其它" to="其他用地"/>
</mapping>
XML
"$tuban" import "$work/prov.geojson" --db "$work/prov.db" >"$work/out" 2>&1
check "without the profile: refused, the fields the file has are listed" \
  bash -c "grep -q 'missing required field(s) JCBH; the file has: 监测图斑编号' '$work/out'"
"$tuban" import "$work/prov.geojson" --db "$work/prov.db" --mapping "$work/prov.xml" >"$work/out" 2>&1
check "with the profile: 35 new" grep -q "35 new" "$work/out"
check "value synonym applied (其它 → 其他用地)" \
  test "$(sqlite3 "$work/prov.db" "SELECT count(*) FROM patch WHERE legality = '其他用地'")" -eq 8
printf '<mapping xmlns="urn:tuban:mapping:1"><field name="JCBH"/></mapping>' >"$work/badmap.xml"
check "an invalid profile is refused with its line" \
  bash -c "'$tuban' import '$work/prov.geojson' --db '$work/prov2.db' --mapping '$work/badmap.xml' 2>&1 | grep -q 'badmap.xml:1:[0-9]*: does not match the schema'"

# Review findings (History: code review of 2026-11-24) -----------------------------------------
"$tuban" import "$bad/bowtie.geojson" --db "$work/fresh.db" >/dev/null 2>&1
check "a refused import to a new store leaves no store file" bash -c "test $? -eq 2 && ! test -e '$work/fresh.db'"
"$tuban" patch list --db "$work/typo.db" --batch 2024 >/dev/null 2>&1
check "patch list on a missing store exits 2 and creates nothing" bash -c "test $? -eq 2 && ! test -e '$work/typo.db'"
gbkname=$(printf '%s/\xb3\xc7\xb9\xd8.geojson' "$work")
cp "$src/tests/data/small.geojson" "$gbkname"
"$tuban" import "$gbkname" --db "$work/gbkname.db" --report "$work/gbkname.json" >/dev/null 2>&1
check "a file name that is not UTF-8 still gives a valid JSON report" \
  bash -c "test $? -eq 0 && python3 -c 'import json; json.load(open(\"$work/gbkname.json\"))'"

# A 200,000-vertex polygon: valid, imported, within limits.
python3 - "$work/big.geojson" <<'PY'
import json, math, sys
n = 200000
ring = [[117.1 + 0.001 * math.cos(2 * math.pi * i / n), 35.2 + 0.001 * math.sin(2 * math.pi * i / n)] for i in range(n)]
ring.append(ring[0])
props = {"JCBH": "BIG0001", "NF": 2024, "XZQDM": "139901100", "XZQMC": "城关镇", "JCMJ": 28200, "JCGDMJ": 0, "PDJG": "合法用地"}
json.dump({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}}]}, open(sys.argv[1], "w"))
PY
"$tuban" import "$work/big.geojson" --db "$db" --batch 2024 --source 省 >"$work/out" 2>&1
check "200,000-vertex polygon imported" test $? -eq 0

finish
