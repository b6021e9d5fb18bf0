#!/usr/bin/env bash
# Selection (--batch, --township, --patch) for every kind: applied once to the patch set before
# any document is planned.  What a selection keeps is what the documents show (the patch ids
# pdftotext finds, the tables' figures against SQL over the store); an unknown township, patch or
# batch is refused naming it (exit 2) and writes nothing.
# Usage: selection.sh <tuban> <source dir>
set -uo pipefail
tuban=${1:?tuban binary}
src=${2:?source dir}
. "$src/tests/integration/lib.sh"

office=$work/office
sample_office "$office"
bash "$src/scripts/make-sample-keys.sh" "$office" 2>/dev/null
export SOURCE_DATE_EPOCH=1742860800
patches=$src/samples/patches.gpkg
render() { "$tuban" render "$@" --office "$office" --date 2025-03-20 --jobs 2; }
ids_in() { pdftotext "$1" - | grep -o '139901SJBG[0-9]*' | sort -u | tr '\n' ' '; }
# The 违法用地 ids of a township in the file, by OGR (independent of tuban).
illegal_of() {
  ogrinfo -q "$patches" -sql "SELECT JCBH FROM patches WHERE XZQDM = '$1' AND PDJG = '违法用地' ORDER BY JCBH" |
    sed -n 's/.*JCBH (String) = //p' | tr '\n' ' '
}

# --township: only that township's notice, with all its illegal patches and no other.
render notice --patches "$patches" --township 139901100 --out "$work/t" >"$work/paths" 2>"$work/err"
check "notice --township 139901100 exits 0" test $? -eq 0
check "it writes only notice-139901100.pdf" test "$(cat "$work/paths")" = "$work/t/notice-139901100.pdf"
want=$(illegal_of 139901100)
check "the notice lists exactly 城关镇's 违法用地 patches ($want)" \
  test "$(ids_in "$work/t/notice-139901100.pdf")" = "$want"

# --patch, repeated: one notice per township of the named patches, each with only its patch.
render notice --patches "$patches" --patch 139901SJBG24210002 --patch 139901SJBG24210017 \
  --out "$work/p" >"$work/paths" 2>"$work/err"
check "notice --patch A --patch B exits 0" test $? -eq 0
check "it writes the notices of their two townships" \
  test "$(tr '\n' ' ' <"$work/paths")" = "$work/p/notice-139901100.pdf $work/p/notice-139901201.pdf "
check "城关镇's notice lists only 139901SJBG24210002" \
  test "$(ids_in "$work/p/notice-139901100.pdf")" = "139901SJBG24210002 "
check "东河乡's notice lists only 139901SJBG24210017" \
  test "$(ids_in "$work/p/notice-139901201.pdf")" = "139901SJBG24210017 "

# --batch on a file: by NF / JD.
render notice --patches "$patches" --batch 2024 --township 139901201 --out "$work/b" >"$work/paths" 2>&1
check "--batch 2024 (the file's NF) selects the file's patches" test "$(cat "$work/paths")" = "$work/b/notice-139901201.pdf"

# Refusals: exit 2, the message names what is unknown, nothing written.
refused() { # <what> <needle> <args…>
  local what=$1 needle=$2; shift 2
  rm -rf "$work/r"
  render "$@" --out "$work/r" >"$work/paths" 2>"$work/err"
  local rc=$?
  if [ $rc -eq 2 ] && grep -q -- "$needle" "$work/err" && [ ! -s "$work/paths" ] &&
     [ -z "$(ls -A "$work/r" 2>/dev/null)" ]; then ok "$what"
  else fail "$what (exit $rc: $(cat "$work/err"))"; fi
}
refused "an unknown --township is refused naming it" "--township 139901999" \
  notice --patches "$patches" --township 139901100 --township 139901999
refused "an unknown --patch is refused naming it" "--patch NOPE-1" \
  notice --patches "$patches" --patch 139901SJBG24210002 --patch NOPE-1
refused "a --patch outside the --township given is refused naming the patch and its township" \
  "139901SJBG24210017.*139901201" notice --patches "$patches" --township 139901100 --patch 139901SJBG24210017
refused "a --batch the file does not hold is refused naming it" "batch 2023" \
  notice --patches "$patches" --batch 2023
refused "a malformed --batch is refused" "--batch" notice --patches "$patches" --batch 2024-Q5
refused "a batch id with a patch file is refused" "batch id" notice --patches "$patches" --batch 3
refused "a selection with no 违法用地 patch makes no notice and says so" "no document to make" \
  notice --patches "$patches" --township 139901102

# From the store: --batch by label and by id, unknown ones refused; the tables' figures are the
# selection's (SQL over the store).
db=$work/tuban.db
sample_store "$db"
check "the sample store is made" test $? -eq 0
refused "a --batch the store does not hold is refused naming it" "no batch 2024Q2" \
  tables --db "$db" --batch 2024-Q2
refused "an unknown batch id is refused naming it" "no batch with id 9" tables --db "$db" --batch 9
id=$(sqlite3 "$db" "SELECT id FROM batch WHERE year = 2024 AND quarter = 0")
for b in 2024 "$id"; do
  render tables --db "$db" --batch "$b" --township 139901201 --township 139901001 --out "$work/s$b" \
    >/dev/null 2>"$work/err"
  check "tables --batch $b --township ×2 from the store exits 0" test $? -eq 0
done
xlsx_rows "$work/s2024/tables.xlsx" >"$work/rows"
xlsx_rows "$work/s$id/tables.xlsx" >"$work/rows-id"
check "the batch named by label and by id give the same workbook rows" cmp -s "$work/rows" "$work/rows-id"
xlsx_row_values "$work/rows" 违法用地数据汇总表 全县合计 | awk '{ printf "%g %g %g", $1, $2, $3 }' >"$work/total"
want=$(sqlite3 "$db" "
  WITH s AS (SELECT p.admin_code AS code, p.area_m2 AS area,
      (SELECT to_value FROM status_history h WHERE h.patch_pk = p.pk AND h.field = 'legality'
         AND h.at <= '2025-03-20T23:59:59' ORDER BY h.at DESC, h.id DESC LIMIT 1) AS legality
    FROM patch p WHERE p.admin_code IN ('139901201', '139901001'))
  SELECT printf('%g %g %g', sum(legality IN ('合法用地', '违法用地')),
    round(sum(CASE WHEN legality IN ('合法用地', '违法用地') THEN area END) * 0.0015, 2),
    sum(legality = '违法用地')) FROM s")
check "the tables' 全县合计 of the two townships equals SQL over them ($want; got $(cat "$work/total"))" \
  test "$(cat "$work/total")" = "$want"
render monthly --db "$db" --month 2025-03 --township 139901201 --out "$work/m" >"$work/paths" 2>"$work/err"
check "monthly --township 139901201 writes that township's report and the roll-up of the selection" \
  test "$(grep "^$work/m/" "$work/paths" | tr '\n' ' ')" = "$work/m/monthly-139901201.pdf $work/m/monthly-county.pdf "
finish
