#!/usr/bin/env bash
# End to end: the real `tuban` binary renders the sample notices, and independent tools judge
# them: qpdf --check, pdffonts, pdftotext (-bbox-layout too), pdfsig, openssl cms -verify.  Then
# bad input: each case must exit 2, name what is wrong, and leave no output file behind.
# Usage: render_notices.sh <tuban> <source dir>
set -uo pipefail
tuban=${1:?tuban binary}
src=${2:?source dir}
. "$src/tests/integration/lib.sh"

# A private copy of the sample office with freshly made throwaway keys.
office=$work/office
mkdir -p "$office"
cp "$src"/templates/sample-office/{office.xml,notice.xml,seal.png} "$office"/
sed "s|\.\./\.\./samples/|$src/samples/|" "$src/templates/sample-office/imagery.xml" >"$office/imagery.xml"
bash "$src/scripts/make-sample-keys.sh" "$office" 2>/dev/null
ca=$office/keys/ca.crt
export SOURCE_DATE_EPOCH=1732060800 # 2024-11-20: reproducible output
render() { "$tuban" render notice --office "$office" --imagery "$src/samples/basemap.tif" \
           --date 2024-11-20 "$@"; }

# --- the sample notices ---------------------------------------------------------------------
out=$work/out
render --patches "$src/samples/patches.gpkg" --out "$out" >"$work/paths" 2>"$work/err"
check "render exits 0" test $? -eq 0
mapfile -t pdfs <"$work/paths"
check "one notice per township with illegal patches (3)" test "${#pdfs[@]}" -eq 3

# Expected ids and areas, read from the sample by ogrinfo, not by tuban.
ogrinfo -q -sql "SELECT XZQDM, JCBH, JCMJ FROM patches WHERE PDJG = '违法用地' ORDER BY JCBH" \
  "$src/samples/patches.gpkg" | awk -F' = ' '
    /XZQDM \(String\)/ {code=$2} /JCBH \(String\)/ {id=$2}
    /JCMJ \(Real\)/ {printf "%s %s %.2f\n", code, id, $2 * 15 / 10000}' >"$work/expected"
check "ogrinfo found the 12 illegal patches" test "$(wc -l <"$work/expected")" -eq 12

for pdf in "${pdfs[@]}"; do
  name=$(basename "$pdf")
  code=${name#notice-}; code=${code%.pdf}
  check "$name: qpdf --check" qpdf --check "$pdf"
  check "$name: every font embedded and subset" \
    bash -c "pdffonts '$pdf' | awk 'NR>2 && (\$(NF-4)!=\"yes\" || \$(NF-3)!=\"yes\" || \$(NF-2)!=\"yes\") {exit 1}'"
  pdftotext -layout "$pdf" "$work/$name.txt"
  text=$(tr -d ' \n' <"$work/$name.txt")
  missing=""
  while read -r c id mu; do
    [ "$c" = "$code" ] || continue
    [[ $text == *"$id"* ]] || missing+=" $id"
    [[ $text == *"监测面积${mu}亩"* ]] || missing+=" ${mu}亩"
  done <"$work/expected"
  check "$name: text has every id and area of its patches${missing:+ (missing:$missing)}" test -z "$missing"
  check "$name: every map is a before/after pair with its image dates" \
    bash -c "[[ '$text' == *前时相2023年9月20日* && '$text' == *后时相2024年9月15日* ]]"
  # pdfimages -list: page num type width height color comp bpc enc ...; the seal is the one
  # image with a soft mask (smask), every map picture is JPEG.
  npatch=$(awk -v c="$code" '$1 == c' "$work/expected" | wc -l)
  check "$name: two JPEG map pictures per patch, no other bitmap but the seal" \
    bash -c "pdfimages -list '$pdf' | awk -v n=$npatch 'NR>2 && \$3==\"image\" {if (\$9==\"jpeg\") j++; else o++} END {exit !(j==2*n && o<=1)}'"
  check "$name: 发文机关标志, 发文字号, 成文日期 are text" \
    bash -c "[[ '$text' == *示例县自然资源局文件* && '$text' == *示自然资发〔2024〕*号* && '$text' == *2024年11月20日* ]]"
  sig=$(pdfsig "$pdf" 2>&1)
  check "$name: pdfsig says valid" grep -q "Signature is Valid" <<<"$sig"
  check "$name: pdfsig says total document signed" grep -q "Total document signed" <<<"$sig"
  check "$name: openssl cms -verify against the sample CA" \
    sh "$src/tests/integration/check_signature.sh" "$pdf" "$ca"
  check "$name: tuban verify" "$tuban" verify "$pdf" --trust "$ca"
done

# Geometry of page 1 (GB/T 9704): A4, body lines on the 28.99 pt grid starting 28 mm + two
# characters in.  pdftotext -bbox-layout reports each line's box in points.
first=${pdfs[0]}
pdftotext -f 1 -l 1 -bbox-layout "$first" "$work/bbox.html"
check "page 1 is A4" grep -q 'page width="595.2[0-9]*" height="841.8[0-9]*"' "$work/bbox.html"
check "body paragraphs start two characters in (79.37 + 31.59 pt)" \
  python3 - "$work/bbox.html" <<'PY'
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
lines = re.findall(r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</line>', html, re.S)
starts = [float(x) for x, y, X, Y, body in lines if "根据" in body]
sys.exit(0 if starts and abs(starts[0] - (79.37 + 2 * 15.79)) < 1.0 else 1)
PY
check "body lines sit on the 28.99 pt grid" \
  python3 - "$work/bbox.html" <<'PY'
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
boxes = re.findall(r'<line xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', html)
# 3号仿宋 lines (16 pt boxes) below the title; headings in other fonts have other box heights
body = [float(y) for y, Y in boxes if abs(float(Y) - float(y) - 16) < 0.2 and float(y) > 300]
steps = [b - a for a, b in zip(body, body[1:])]
pitch = 637.795 / 22
sys.exit(0 if steps and all(abs(s / pitch - round(s / pitch)) < 0.02 for s in steps) else 1)
PY

# Tampering: one byte changed inside the signed range must be caught.
tampered=$work/tampered.pdf
cp "$first" "$tampered"
printf 'X' | dd of="$tampered" bs=1 seek=2000 conv=notrunc status=none
check "tampered: tuban verify exits 1" bash -c "'$tuban' verify '$tampered' --trust '$ca'; test \$? -eq 1"
check "tampered: openssl cms -verify fails" bash -c "! sh '$src/tests/integration/check_signature.sh' '$tampered' '$ca'"

# The wording comes from the office's template: per-patch deadlines (ZGQX, read by ogrinfo), and
# the 30-day fallback of _base's rules for a patch without one; no sentence with one deadline.
ogrinfo -q -sql "SELECT JCBH, ZGQX FROM patches WHERE PDJG = '违法用地' AND XZQDM = '139901100'" \
  "$src/samples/patches.gpkg" | awk -F' = ' '/ZGQX/ {split($2, d, "-"); printf "%d年%d月%d日\n", d[1], d[2], d[3]}' \
  >"$work/deadlines"
text100=$(pdftotext "$out/notice-139901100.pdf" - | tr -d ' \n')
missing=""
while read -r d; do [[ $text100 == *"整改期限：$d"* ]] || missing+=" $d"; done <"$work/deadlines"
check "each patch paragraph states its own deadline${missing:+ (missing:$missing)}" \
  test -n "$(cat "$work/deadlines")" -a -z "$missing"
check "no single earliest deadline for all patches (于…前消除违法状态)" \
  bash -c "[[ '$text100' != *于2024年12月31日前消除* ]]"
check "addressee and 你镇 from the office's unit rules" \
  bash -c "[[ '$text100' == *城关镇人民政府：* && '$text100' == *你镇辖区内* ]]"
check "合计 counts 图斑 as 个" bash -c "[[ '$text100' == *合计5个* ]]"

# A second office in another style (信函格式, its own prefix, rules and addressees) renders from
# its own template with the same binary.
gov=$work/gov-office
mkdir -p "$gov"
cp "$src"/templates/sample-gov-office/{office.xml,notice.xml,seal.png} "$gov"/
bash "$src/scripts/make-sample-keys.sh" "$gov" 2>/dev/null
"$tuban" render notice --office "$gov" --imagery "$src/samples/basemap.tif" --date 2024-11-20 \
  --patches "$src/samples/patches.gpkg" --out "$work/gov" >"$work/gov.paths" 2>"$work/gov.err"
check "the government office's letters render (exit 0, 3 files)" \
  test $? -eq 0 -a "$(wc -l <"$work/gov.paths")" -eq 3
govtext=$(pdftotext "$work/gov/notice-139901100.pdf" - 2>/dev/null | tr -d ' \n')
check "letter: its prefix, title, addressee override, 附注, earliest-deadline reply, township overview map" \
  bash -c "[[ '$govtext' == *示政办函〔2024〕*号* && '$govtext' == *督促整改* && '$govtext' == *城关镇党委、人民政府：* && '$govtext' == *联系人：县政府办督查室* && '$govtext' == *请于2024年12月31日前将整改进展* && '$govtext' == *城关镇违法用地图斑分布图* ]]"
check "letter: the office's farmland rule flags the case over 10 亩 of farmland" \
  bash -c "[[ '$govtext' == *图斑139901SJBG24210002占用耕地12.28亩，已达到约谈标准* ]]"
check "letter: qpdf --check and a valid signature" \
  bash -c "qpdf --check '$work/gov/notice-139901100.pdf' && pdfsig '$work/gov/notice-139901100.pdf' | grep -q 'Signature is Valid'"

# Aliases, GBK through .cpg and a projected CRS: the Shapefile gives the same notices.
render --patches "$src/tests/data/gbk_cpg/patches.shp" --out "$work/shp" >"$work/shp.paths" 2>&1
check "GBK Shapefile with alias field names renders 3 notices" test "$(wc -l <"$work/shp.paths")" -eq 3
check "GBK text decoded (城关镇 in the notice)" \
  bash -c "pdftotext '$work/shp/notice-139901100.pdf' - | tr -d ' \n' | grep -q 城关镇人民政府"

# --- bad input: exit 2, a message naming file/record/field, no output left behind -----------
expect_refusal() { # what, expected text in stderr, args...
  local what=$1 needle=$2; shift 2
  local dir=$work/refused
  rm -rf "$dir"
  "$tuban" "$@" --out "$dir" >/dev/null 2>"$work/stderr"
  local rc=$?
  if [ $rc -eq 2 ] && grep -qF -- "$needle" "$work/stderr" && [ -z "$(ls -A "$dir" 2>/dev/null)" ]; then
    ok "$what"
  else
    fail "$what (exit $rc: $(cat "$work/stderr"))"
  fi
}
expect_refusal "missing patch file" "$work/nope.gpkg" \
  render notice --office "$office" --patches "$work/nope.gpkg"
ogr2ogr -f GeoJSON "$work/nolegal.geojson" "$src/samples/patches.gpkg" -select JCBH,XZQDM,JCMJ 2>/dev/null
expect_refusal "missing required field is named, with the fields the file has" \
  "missing required field(s) PDJG; the file has: JCBH, XZQDM, JCMJ" \
  render notice --office "$office" --patches "$work/nolegal.geojson"
ogr2ogr -f GeoJSON "$work/badvalue.geojson" "$src/samples/patches.gpkg" \
  -sql "SELECT *, CASE WHEN JCBH = '139901SJBG24210005' THEN 'abc' ELSE CAST(JCMJ AS TEXT) END AS JCMJ2 FROM patches" 2>/dev/null
sed -i 's/"JCMJ": [0-9.]*, //; s/"JCMJ2"/"JCMJ"/' "$work/badvalue.geojson"
expect_refusal "bad value names file, record, patch and field" \
  "record 5 (patch 139901SJBG24210005), field JCMJ: 'abc' is not a number" \
  render notice --office "$office" --patches "$work/badvalue.geojson"
broken=$work/broken-office
cp -r "$office" "$broken"
printf '<template xmlns="urn:tuban:template:1" kind="notice"><title>x</title>' >"$broken/notice.xml"
expect_refusal "unreadable template names the file" "$broken/notice.xml" \
  render notice --office "$broken" --patches "$src/samples/patches.gpkg"
xxe=$work/xxe-office
cp -r "$office" "$xxe"
sed -i 's|<?xml version="1.0" encoding="UTF-8"?>|<?xml version="1.0"?><!DOCTYPE template [<!ENTITY x SYSTEM "file:///etc/passwd">]>|; s|<title>|<title>\&x;|' "$xxe/notice.xml"
expect_refusal "template with an external entity is refused" "DOCTYPE is not allowed" \
  render notice --office "$xxe" --patches "$src/samples/patches.gpkg"
# A template error is found when the office is opened, before any document: file:line:column.
cp "$office/notice.xml" "$broken/notice.xml"
sed -i 's/{p.jcgdmj|mu}/{p.gdmj|mu}/' "$broken/notice.xml"
line=$(grep -n '{p.gdmj|mu}' "$broken/notice.xml" | head -1 | cut -d: -f1)
col=$(grep '{p.gdmj|mu}' "$broken/notice.xml" | head -1 | python3 -c "import sys; l=sys.stdin.read(); print(l.index('{p.gdmj')+4)")
expect_refusal "unknown field in the template: file:line:column and a suggestion" \
  "$broken/notice.xml:$line:$col: unknown field 'gdmj' of patch (did you mean 'jcgdmj'?)" \
  render notice --office "$broken" --patches "$src/samples/patches.gpkg"
printf '<template xmlns="urn:tuban:template:1" kind="notice">\n  <tittle>x</tittle>\n</template>\n' >"$broken/notice.xml"
expect_refusal "schema violation: file:line:column and a hint" \
  "$broken/notice.xml:2:3: does not match the schema: Did not expect element tittle there (did you mean <title>?)" \
  render notice --office "$broken" --patches "$src/samples/patches.gpkg"
# The template's page limit: exceeded, the message names the record and the template place.
cp "$office/notice.xml" "$broken/notice.xml"
sed -i 's/kind="notice">/kind="notice" page-limit="4">/' "$broken/notice.xml"
expect_refusal "page-limit from the template: the record and template line that did not fit" \
  "page limit of 4 pages; stopped at record " \
  render notice --office "$broken" --imagery "$src/samples/basemap.tif" --jobs 1 --patches "$src/samples/patches.gpkg"
check "... and the template place (templates/_base/patch-maps.xml:N)" grep -q "(templates/_base/patch-maps.xml:[0-9]*)" "$work/stderr"
# Patch files that lack what the wording needs are refused, never addressed to a code.
ogr2ogr -f GeoJSON "$work/noname.geojson" "$src/samples/patches.gpkg" -sql "SELECT JCBH, XZQDM, JCMJ, PDJG, geom FROM patches" 2>/dev/null
nameless=$work/nameless-office
cp -r "$office" "$nameless"
sed -i '/<townships>/,/<\/townships>/d' "$nameless/office.xml"
first_id=$(ogrinfo -q -sql "SELECT JCBH FROM patches WHERE PDJG = '违法用地' ORDER BY XZQDM, JCBH LIMIT 1" "$src/samples/patches.gpkg" | awk -F' = ' '/JCBH/ {print $2}')
expect_refusal "no XZQMC and no office entry: refused naming file, record and field" \
  "$work/noname.geojson: record" \
  render notice --office "$nameless" --imagery "$src/samples/basemap.tif" --patches "$work/noname.geojson"
check "... the refusal names the patch and field XZQMC" grep -q "(patch $first_id), field XZQMC: no township name" "$work/stderr"
rm -rf "$work/refused"
"$tuban" render notice --office "$office" --imagery "$src/samples/basemap.tif" --date 2024-11-20 \
  --patches "$work/noname.geojson" --out "$work/noname" >/dev/null 2>&1
check "no XZQMC but the office lists the township: addressed by the office's name for it" \
  bash -c "pdftotext '$work/noname/notice-139901100.pdf' - | tr -d ' \n' | grep -q 城关镇人民政府："
ogr2ogr -f GeoJSON "$work/county.geojson" "$src/samples/patches.gpkg" -sql "SELECT JCBH, substr(XZQDM, 1, 6) AS XZQDM, XZQMC, JCMJ, PDJG, geom FROM patches" 2>/dev/null
expect_refusal "a 6-digit county code is refused: a notice needs a township" \
  "field XZQDM: '139901' is a county code" \
  render notice --office "$office" --imagery "$src/samples/basemap.tif" --patches "$work/county.geojson"
chmod 644 "$broken/keys/office.key"
cp "$office/notice.xml" "$broken/notice.xml"
expect_refusal "world-readable private key is refused" "office.key" \
  render notice --office "$broken" --patches "$src/samples/patches.gpkg"
other=$work/other-office
cp -r "$office" "$other"
rm -rf "$other/keys"
ln -s "$office/keys" "$other/keys"
expect_refusal "an office cannot sign with another office's key (symlinked keys/)" \
  "leads outside $other" render notice --office "$other" --patches "$src/samples/patches.gpkg"
# Every office file is opened beneath the office folder (openat2 RESOLVE_BENEATH): a link out of
# it is refused whichever file it is, and the message names the file.
outside=$work/outside
mkdir -p "$outside"
for f in notice.xml seal.png imagery.xml; do
  rm -rf "$other"; cp -r "$office" "$other"
  mv "$other/$f" "$outside/$f"
  ln -s "$outside/$f" "$other/$f"
  expect_refusal "$f as a symbolic link out of the office folder is refused" \
    "$other/$f: leads outside $other" render notice --office "$other" --patches "$src/samples/patches.gpkg"
done
rm -rf "$other"; cp -r "$office" "$other"
mv "$other/office.xml" "$outside/office.xml"; ln -s "$outside/office.xml" "$other/office.xml"
expect_refusal "office.xml itself as a link out is refused" "$other/office.xml: leads outside" \
  render notice --office "$other" --patches "$src/samples/patches.gpkg"
# The office's own fonts: a family only in <office>/fonts serves a role (so fontconfig read the
# file opened beneath the folder); the same font reached through a link is refused.
rm -rf "$other"; cp -r "$office" "$other"
sed -i 's|<imagery-catalogue|<font role="songti" family="FandolBraille"/>\n  <imagery-catalogue|' "$other/office.xml"
expect_refusal "a role mapped to a family the office does not ship is refused" \
  "family 'FandolBraille' is not installed" render notice --office "$other" --patches "$src/samples/patches.gpkg"
mkdir -p "$other/fonts" "$outside/fonts"
cp /usr/share/texlive/texmf-dist/fonts/opentype/public/fandol/FandolBraille-Regular.otf "$outside/fonts/"
cp "$outside/fonts/FandolBraille-Regular.otf" "$other/fonts/"
rm -rf "$work/office-font"
"$tuban" render notice --office "$other" --patch "$first_id" --date 2024-11-20 \
  --patches "$src/samples/patches.gpkg" --out "$work/office-font" >/dev/null 2>"$work/stderr"
check "a family in the office's fonts/ serves its role (exit 0, one notice)" \
  bash -c "test \$(ls '$work/office-font'/notice-*.pdf | wc -l) -eq 1"
rm "$other/fonts/FandolBraille-Regular.otf"
ln -s "$outside/fonts/FandolBraille-Regular.otf" "$other/fonts/FandolBraille-Regular.otf"
expect_refusal "a font file linked from outside the office folder is refused" \
  "$other/fonts/FandolBraille-Regular.otf: a symbolic link among the office's fonts" \
  render notice --office "$other" --patches "$src/samples/patches.gpkg"
rm -rf "$other/fonts"; ln -s "$outside/fonts" "$other/fonts"
expect_refusal "fonts/ as a link out of the office folder is refused" "fonts: leads outside $other" \
  render notice --office "$other" --patches "$src/samples/patches.gpkg"
# Imagery that cannot serve as a picture is refused before anything is rendered.
gdal_translate -q -ot Float32 -b 1 -scale 0 255 100 400 "$src/samples/basemap.tif" "$work/dem.tif" 2>/dev/null
expect_refusal "a Float32 elevation model as imagery: exit 2, the file and a way out" \
  "$work/dem.tif: one Float32 band of measurements" \
  render notice --office "$office" --imagery "$work/dem.tif" --patches "$src/samples/patches.gpkg"
gdal_translate -q -of GTiff -co PROFILE=BASELINE "$src/samples/basemap.tif" "$work/plain.tif" 2>/dev/null
rm -f "$work/plain.tif.aux.xml" "$work/plain.tfw"
expect_refusal "imagery without georeferencing: exit 2 and a sentence, not a PROJ message" \
  "$work/plain.tif: has no georeferencing" \
  render notice --office "$office" --imagery "$work/plain.tif" --patches "$src/samples/patches.gpkg"
check "... and no PROJ or GDAL jargon in it" bash -c "! grep -qi 'proj\|CPLE\|OGR' '$work/stderr'"
rm -rf "$work/refused"
"$tuban" render notice --office "$office" --patches "$src/samples/patches.gpkg" --out "" >/dev/null 2>&1
check "--out '' is refused (exit 2)" test $? -eq 2
printf '%%PDF-1.5\nxref\n8388608 1\n0000000000 65535 f \ntrailer\n<< /Size 1 >>\nstartxref\n9\n%%%%EOF\n' >"$work/bigxref.pdf"
check "a tiny PDF claiming 8 million objects is refused as bad input (exit 2)" \
  bash -c "'$tuban' verify '$work/bigxref.pdf'; test \$? -eq 2"
expect_refusal "unknown document kind" "unknown document kind" \
  render nonsense --office "$office" --patches "$src/samples/patches.gpkg"
check "tuban --help exits 0" "$tuban" --help
check "tuban render --help exits 0" "$tuban" render --help
check "tuban with no command exits 2" bash -c "'$tuban'; test \$? -eq 2"

finish
