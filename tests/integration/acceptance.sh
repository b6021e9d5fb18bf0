#!/usr/bin/env bash
# 验收意见书: `tuban render acceptance` makes one form per rectified 违法用地 patch (or one per
# township with --per township) from a patch file or from the store; a patch that is not
# rectified is refused naming it and its state; --reject marks one 不合格 with its opinion; the
# forms are signed (pdfsig, qpdf) and the township countersigns with `tuban sign`, the bureau's
# signature staying valid.  Which patches get a form is checked against OGR SQL over the file
# and SQL over the store, their figures against the file's values.
# Usage: acceptance.sh <tuban> <source dir>
set -uo pipefail
tuban=${1:?tuban binary}
src=${2:?source dir}
. "$src/tests/integration/lib.sh"

export SOURCE_DATE_EPOCH=1742860800
export TUBAN_SAMPLE_CA=$work/ca
office=$work/office
sample_office "$office"
bash "$src/scripts/make-sample-keys.sh" "$office" "示例县自然资源局" 2>/dev/null
township=$work/township
sample_office "$township"
bash "$src/scripts/make-sample-keys.sh" "$township" "示例县城关镇人民政府" 2>/dev/null
ca=$work/ca/ca.crt
patches=$src/samples/patches.gpkg
render() { "$tuban" render acceptance --office "$office" --date 2025-03-25 --jobs 2 "$@"; }
# The text of a form as one string: no spaces, no line breaks, no page numbers (— 2 —).
text() { pdftotext -layout "$1" - 2>/dev/null | tr -d ' \n\f' | sed 's/—[0-9]*—//g'; }

# --- per patch, from the file ---------------------------------------------------------------
render --patches "$patches" --out "$work/out" >"$work/paths" 2>"$work/err"
check "render acceptance exits 0" test $? -eq 0
want=$(ogrinfo -q -ro "$patches" -sql "SELECT JCBH FROM patches WHERE PDJG = '违法用地' AND
  ZGZT IN ('已整改', '已验收') ORDER BY XZQDM, JCBH" | sed -n 's/.*JCBH (String) = //p' | tr '\n' ' ')
got=$(sed -n 's|.*/acceptance-\(.*\)\.pdf$|\1|p' "$work/paths" | tr '\n' ' ')
check "one form for every rectified illegal patch (OGR SQL: $want)" test -n "$want" -a "$got" = "$want"
check "every path printed exists" bash -c "xargs -a '$work/paths' ls >/dev/null"
for id in $want; do
  f=$work/out/acceptance-$id.pdf
  check "$id: qpdf --check clean" qpdf --check "$f"
  check "$id: pdfsig: the bureau's signature is valid" bash -c "pdfsig '$f' 2>&1 | grep -q 'Signature is Valid'"
  check "$id: openssl cms -verify over the signed bytes" sh "$src/tests/integration/check_signature.sh" "$f" "$ca"
  # The patch's figures as the file holds them (JCMJ in 亩, ZGCS, ZGZT).
  row=$(ogrinfo -q -ro "$patches" -sql "SELECT JCMJ, JCGDMJ, ZGCS, ZGZT FROM patches WHERE JCBH = '$id'")
  mu=$(sed -n 's/.*JCMJ (Real) = //p' <<<"$row" | awk '{printf "%.2f", $1 / (10000 / 15)}')
  gd=$(sed -n 's/.*JCGDMJ (Real) = //p' <<<"$row" | awk '{printf "%.2f", $1 / (10000 / 15)}')
  zgcs=$(sed -n 's/.*ZGCS (String) = //p' <<<"$row")
  zgzt=$(sed -n 's/.*ZGZT (String) = //p' <<<"$row")
  t=$(text "$f")
  check "$id: the form states its id, 监测面积 $mu 亩, 耕地 $gd 亩, $zgcs, $zgzt and 合格" \
    bash -c "grep -q '图斑编号$id' <<<'$t' && grep -q '监测面积$mu亩' <<<'$t' && grep -q '耕地$gd亩' <<<'$t' &&
             grep -q '整改措施$zgcs' <<<'$t' && grep -q '整改状态$zgzt' <<<'$t' && grep -q '验收结论合格' <<<'$t'"
done
f=$work/out/acceptance-139901SJBG24210007.pdf
t=$(text "$f")
check "the form has the inspectors' signature line and the township's box" \
  bash -c "grep -q '验收组成员（签字）' <<<'$t' && grep -q '乡镇（街道）意见（签章）' <<<'$t'"
check "the form has the before/after imagery (前时相 and 后时相 panels)" \
  bash -c "grep -q '前时相2023年9月20日' <<<'$t' && grep -q '后时相2024年9月15日' <<<'$t'"
check "the form is addressed to the township and dated" \
  bash -c "grep -q '城关镇人民政府：' <<<'$t' && grep -q '2025年3月25日' <<<'$t'"
check "the form carries a 发文字号" grep -q '示自然资发〔2025〕' <<<"$t"
pdftoppm -r 40 -png "$f" "$work/page"
check "its pages render (pdftoppm)" test -s "$work/page-1.png"

# --- refusals -------------------------------------------------------------------------------
refused() { # what needle args...
  local what=$1 needle=$2; shift 2
  render --patches "$patches" --out "$work/refused" "$@" >"$work/r.out" 2>"$work/r.err"
  local rc=$?
  if [ $rc -eq 2 ] && grep -qF -- "$needle" "$work/r.err" && [ ! -e "$work/refused" ]; then ok "$what"
  else fail "$what (exit $rc: $(cat "$work/r.err"))"; fi
}
refused "a patch not rectified is refused, naming it and its state (exit 2, nothing written)" \
  "patch 139901SJBG24210003 cannot be accepted: its 整改状态 (ZGZT) is 未整改" --patch 139901SJBG24210003
refused "a patch being rectified (整改中) is refused" \
  "patch 139901SJBG24210002 cannot be accepted: its 整改状态 (ZGZT) is 整改中" \
  --patch 139901SJBG24210007 --patch 139901SJBG24210002
refused "a legal patch is refused, naming its 合法性判定" \
  "patch 139901SJBG24210004 cannot be accepted: it is 合法用地 (PDJG)" --patch 139901SJBG24210004
refused "a township without a rectified patch: refused" "is a rectified 违法用地 patch" --township 139901102
refused "--reject of a patch the run does not accept: refused naming it" \
  "--reject 139901SJBG24210003: no rectified patch" --reject 139901SJBG24210003:未复耕
refused "--reject without an opinion: refused" "--reject: expected" --reject 139901SJBG24210007
refused "--per with a wrong value: refused" "--per: expected patch or township" --per county
"$tuban" render notice --office "$office" --patches "$patches" --out "$work/refused" --reject x:y \
  >/dev/null 2>"$work/r.err"
check "--reject with another kind: exit 2" test $? -eq 2

# --- on-site photos ---------------------------------------------------------------------------
photos=$src/samples/photos
(cd "$src" && bash scripts/make_sample_photos.sh "$work/photos-made" >/dev/null 2>&1)
check "the sample photos are what scripts/make_sample_photos.sh makes (byte for byte)" \
  diff -r "$photos" "$work/photos-made"
render --patches "$patches" --out "$work/photos" --photos "$photos" >/dev/null 2>"$work/err"
check "render acceptance --photos exits 0" test $? -eq 0
f=$work/photos/acceptance-139901SJBG24210007.pdf
check "--photos: qpdf --check clean, signature valid" \
  bash -c "qpdf --check '$f' >/dev/null && pdfsig '$f' 2>&1 | grep -q 'Signature is Valid'"
mkdir -p "$work/extract"
pdfimages -j "$f" "$work/extract/img"
embedded=0
for ph in "$photos"/139901SJBG24210007/*.jpg; do
  for x in "$work"/extract/img-*.jpg; do cmp -s "$ph" "$x" && embedded=$((embedded + 1)) && break; done
done
check "both photos of 139901SJBG24210007 are embedded as the very JPEG files (pdfimages -j, cmp)" test "$embedded" -eq 2
t=$(text "$f")
# Independent: EXIF as gdalinfo prints it, degrees by awk, inside by OGR SQL (SQLite dialect).
for ph in "$photos"/139901SJBG24210007/*.jpg; do
  name=$(basename "$ph")
  info=$(gdalinfo "$ph")
  when=$(sed -n 's/.*EXIF_DateTimeOriginal=\(....\):\(..\):\(..\) \(..:..\).*/\1-\2-\3\4/p' <<<"$info")
  deg() { sed -n "s/.*EXIF_GPS$1=(\([0-9.]*\)) (\([0-9.]*\)) (\([0-9.]*\)).*/\1 \2 \3/p" <<<"$info" |
          awk '{ printf "%.6f", $1 + $2 / 60 + $3 / 3600 }'; }
  lat=$(deg Latitude) lon=$(deg Longitude)
  inside=$(ogrinfo -q -ro -dialect SQLite "$patches" -sql "SELECT ST_Intersects(geom, MakePoint($lon, $lat)) AS i FROM patches WHERE JCBH = '139901SJBG24210007'" | sed -n 's/.*i (Integer) = //p')
  check "$name: the form shows its EXIF time $when and place 东经$lon° 北纬$lat°" \
    bash -c "grep -qF '$name$when' <<<'$t' && grep -qF '东经$lon°北纬$lat°' <<<'$t'"
  if [ "$inside" = 0 ]; then
    check "$name: taken outside the patch (OGR): the form notes it" \
      bash -c "grep -qF '注：照片$name的拍摄位置（东经$lon°北纬$lat°）不在图斑范围内' <<<'$t'"
  else
    check "$name: taken inside the patch (OGR): no outside note for it" \
      bash -c "! grep -qF '注：照片$name的拍摄位置' <<<'$t'"
  fi
  case $name in IMG_0001.jpg) want_inside=1 ;; *) want_inside=0 ;; esac
  check "$name: the sample is inside/outside as made ($inside)" test "$inside" = "$want_inside"
done
t=$(text "$work/photos/acceptance-139901SJBG24210024.pdf")
check "a photo without EXIF: shown, with no time and no place, and noted" \
  bash -c "grep -qF 'IMG_0003.jpg无拍摄时间' <<<'$t' && grep -qF '注：照片IMG_0003.jpg无拍摄位置信息（EXIFGPS）' <<<'$t'"
check "a patch without a photo folder gets no photo figure" \
  bash -c "! pdftotext '$work/photos/acceptance-139901SJBG24210014.pdf' - | grep -q 现场验收照片"
pdftoppm -r 40 -f 2 -l 2 -png "$f" "$work/photo-page"
check "the photo page renders (pdftoppm)" test -s "$work/photo-page-2.png"
mkdir -p "$work/badphotos/139901SJBG24210007"
echo "not a photo" >"$work/badphotos/139901SJBG24210007/IMG_9.jpg"
refused "a photo that is not a JPEG: refused naming the file" \
  "$work/badphotos/139901SJBG24210007/IMG_9.jpg: not a JPEG photo" --photos "$work/badphotos"
{ printf '\377\330\377\340'; head -c 3000 "$patches"; } >"$work/badphotos/139901SJBG24210007/IMG_9.jpg"
refused "a JPEG marker over garbage: refused naming the file" \
  "$work/badphotos/139901SJBG24210007/IMG_9.jpg: not a readable JPEG photo" --photos "$work/badphotos"
refused "--photos of a missing folder: refused" "--photos $work/nowhere: no such folder" \
  --photos "$work/nowhere"

# --- 不合格 ---------------------------------------------------------------------------------
render --patches "$patches" --out "$work/reject" --patch 139901SJBG24210007 \
  --reject '139901SJBG24210007:复耕面积不足，地块东侧仍有硬化地面' >/dev/null 2>"$work/err"
check "--reject renders" test $? -eq 0
t=$(text "$work/reject/acceptance-139901SJBG24210007.pdf")
check "the rejected patch is 不合格 with the inspectors' opinion and the request to rectify" \
  bash -c "grep -q '验收结论不合格' <<<'$t' && grep -q '复耕面积不足，地块东侧仍有硬化地面' <<<'$t' && grep -q '整改要求' <<<'$t'"
check "... and says nothing of 合格" bash -c "! grep -q '验收结论合格' <<<'$t'"

# --- per township ---------------------------------------------------------------------------
render --patches "$patches" --out "$work/town" --per township \
  --reject '139901SJBG24210014:用地手续未批复' >"$work/paths" 2>"$work/err"
check "--per township exits 0" test $? -eq 0
want=$(ogrinfo -q -ro "$patches" -sql "SELECT DISTINCT XZQDM FROM patches WHERE PDJG = '违法用地' AND
  ZGZT IN ('已整改', '已验收') ORDER BY XZQDM" | sed -n 's/.*XZQDM (String) = //p' | tr '\n' ' ')
got=$(sed -n 's|.*/acceptance-\(.*\)\.pdf$|\1|p' "$work/paths" | tr '\n' ' ')
check "one form per township with a rectified patch ($want)" test -n "$want" -a "$got" = "$want"
t=$(text "$work/town/acceptance-139901100.pdf")
ids=$(ogrinfo -q -ro "$patches" -sql "SELECT JCBH FROM patches WHERE XZQDM = '139901100' AND PDJG = '违法用地' AND
  ZGZT IN ('已整改', '已验收') ORDER BY JCBH" | sed -n 's/.*JCBH (String) = //p')
n=$(wc -w <<<"$ids")
all=1; for id in $ids; do grep -q "图斑编号$id" <<<"$t" || all=0; done
check "城关镇's form lists its $n rectified patches" test "$all" = 1 -a "$n" -ge 2
check "城关镇's form counts them: $n, 合格 $((n - 1)), 不合格 1" \
  bash -c "grep -q '违法用地图斑${n}个' <<<'$t' && grep -q '合格$((n - 1))个，不合格1个' <<<'$t'"
check "the township form is one document with one signature" \
  test "$(pdfsig "$work/town/acceptance-139901100.pdf" 2>&1 | grep -c 'Signature is Valid')" -eq 1

# --- the township countersigns ------------------------------------------------------------
f=$work/town/acceptance-139901100.pdf
"$tuban" sign --office "$township" "$f" --out "$work/counter.pdf" --reason 城关镇会签 \
  >/dev/null 2>"$work/err"
check "the township countersigns with tuban sign" test -s "$work/counter.pdf"
sig=$(pdfsig "$work/counter.pdf" 2>&1)
check "pdfsig: both signatures valid (the bureau's stays valid)" \
  test "$(grep -c 'Signature is Valid' <<<"$sig")" -eq 2
check "pdfsig: the first signer is the bureau, the second the township" \
  test "$(sed -n 's/.*Signer Certificate Common Name: //p' <<<"$sig" | tr '\n' ' ')" = "示例县自然资源局 示例县城关镇人民政府 "
check "countersigned: qpdf --check clean" qpdf --check "$work/counter.pdf"
check "countersigned: openssl cms -verify accepts both" \
  sh "$src/tests/integration/check_signature.sh" "$work/counter.pdf" "$ca"
check "countersigned: tuban verify --office exits 0" \
  "$tuban" verify "$work/counter.pdf" --office "$office"

# --- from the store: issued into the registry ---------------------------------------------
db=$work/tuban.db
sample_store "$db"
check "the sample store with its history is made" test $? -eq 0
# The patches rectified by the end of 2025-03-25, by SQL over the status history.
want=$(sqlite3 "$db" "
  WITH s AS (
    SELECT p.id AS id, p.admin_code AS code,
      (SELECT to_value FROM status_history h WHERE h.patch_pk = p.pk AND h.field = 'legality'
         AND h.at <= '2025-03-25T23:59:59' ORDER BY h.at DESC, h.id DESC LIMIT 1) AS legality,
      (SELECT to_value FROM status_history h WHERE h.patch_pk = p.pk AND h.field = 'state'
         AND h.at <= '2025-03-25T23:59:59' ORDER BY h.at DESC, h.id DESC LIMIT 1) AS state
    FROM patch p)
  SELECT group_concat(id, ' ') FROM (SELECT id FROM s WHERE legality = '违法用地'
    AND state IN ('已整改', '已验收') ORDER BY code, id)")
rejected=139901SJBG24210015
# Imported as 已验收 already: they keep that state (the workflow has nothing after it).
preaccepted=" $(sqlite3 "$db" "SELECT group_concat(id, ' ') FROM patch WHERE state = '已验收'") "
render --db "$db" --photos "$photos" --reject "$rejected:复绿未完成" >"$work/paths" 2>"$work/err"
check "render acceptance --db --photos issues (exit 0)" test $? -eq 0
n=$(wc -w <<<"$want")
check "the registry holds one acceptance form per patch rectified at the date ($n: SQL)" \
  test "$(sqlite3 "$db" "SELECT group_concat(patches, ' ') FROM (SELECT patches FROM registry WHERE kind = 'acceptance' ORDER BY seq)")" = "$want"
check "every issued form is in the archive and printed" \
  test "$(wc -l <"$work/paths")" -eq "$n"
check "archive check: archive and registry agree" "$tuban" archive check --db "$db"
first=$(head -1 "$work/paths")
check "tuban verify --db finds the issued form in the registry" \
  "$tuban" verify "$first" --office "$office" --db "$db"
before=$(sqlite3 "$db" "SELECT count(*) FROM registry")
render --db "$db" --patch 139901SJBG24210019 >/dev/null 2>"$work/err"
check "--db: a patch not rectified at the date is refused (exit 2)" test $? -eq 2
check "... naming the patch and its state in the store" grep -q "139901SJBG24210019 cannot be accepted: its 整改状态 (ZGZT) is 整改中" "$work/err"
check "... and no number is taken" test "$(sqlite3 "$db" "SELECT count(*) FROM registry")" = "$before"

# --- an issued 合格 form accepts the patch in the store -------------------------------------------
# What the registry and the status history say, by SQL: every 合格 patch of the run went to 已验收
# with its form's number, in the issue's transaction; the 不合格 one did not.
accepted_ok=1
for id in $want; do
  docno=$(sqlite3 "$db" "SELECT docno FROM registry WHERE kind = 'acceptance' AND patches = '$id'")
  moved=$(sqlite3 "$db" "SELECT count(*) FROM status_history h JOIN patch p ON p.pk = h.patch_pk
    WHERE p.id = '$id' AND h.field = 'state' AND h.to_value = '已验收' AND h.note = '$docno'")
  if [ "$id" = "$rejected" ] || [[ $preaccepted == *" $id "* ]]; then [ "$moved" = 0 ] || accepted_ok=0
  else [ -n "$docno" ] && [ "$moved" = 1 ] || accepted_ok=0; fi
done
check "--db: each 合格 form moved its patch to 已验收 with its number in the history; 不合格 did not" \
  test "$accepted_ok" = 1 -a "$(wc -w <<<"$want")" -ge 2 -a "$(wc -w <<<"$preaccepted")" -lt "$(wc -w <<<"$want")"
id=$(for i in $want; do [ "$i" != "$rejected" ] && [[ $preaccepted != *" $i "* ]] && echo "$i"; done | head -1)
docno=$(sqlite3 "$db" "SELECT docno FROM registry WHERE kind = 'acceptance' AND patches = '$id'")
before=$(sqlite3 "$db" "SELECT count(*) FROM registry")
render --db "$db" --patch "$id" >/dev/null 2>"$work/err"
check "--db: a second acceptance of an accepted patch is refused (exit 2)" test $? -eq 2
check "... naming the patch, its state and the form that accepted it ($docno)" \
  grep -qF "patch $id cannot be accepted: its 整改状态 is 已验收: the 验收意见书 $docno accepted it already" "$work/err"
check "... and no number is taken" test "$(sqlite3 "$db" "SELECT count(*) FROM registry")" = "$before"
render --db "$db" --patch "$rejected" >"$work/paths" 2>"$work/err"
check "--db: a patch whose form was 不合格 can be issued again (exit 0)" test $? -eq 0
check "... and is then 已验收 in the store" test "$(sqlite3 "$db" "SELECT state FROM patch WHERE id = '$rejected'")" = 已验收
check "archive check after the second issue: archive and registry agree" "$tuban" archive check --db "$db"
finish
