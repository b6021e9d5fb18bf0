#!/usr/bin/env bash
# One computation behind every kind: the 整改通知书, the 月报 and the statistical tables issued from
# the same store at the same day state, per township and for the county, the same 违法用地 figures
# (图斑 count, 监测面积, 耕地, 永久基本农田 in 亩), and these equal an independent SQL computation
# over the store's patch and status_history tables.  Read back with pdftotext and, for the tables,
# from the workbook (python3 zipfile).
# Usage: consistency.sh <tuban> <source dir>
set -uo pipefail
tuban=${1:?tuban binary}
src=${2:?source dir}
. "$src/tests/integration/lib.sh"

office=$work/office
sample_office "$office"
bash "$src/scripts/make-sample-keys.sh" "$office" 2>/dev/null
export SOURCE_DATE_EPOCH=1742860800
db=$work/tuban.db
sample_store "$db"
check "the sample store with its history is made" test $? -eq 0
day=2025-03-20
render() { "$tuban" render "$1" --office "$office" --imagery "$src/samples/basemap.tif" --db "$db" \
           --jobs 2 "${@:2}" >/dev/null 2>"$work/err"; }
render notice --date $day --out "$work/notice"
check "notices issued as of $day" test $? -eq 0
render monthly --month 2025-03 --date 2025-03-25 --out "$work/monthly"
check "月报 of 2025-03 (cut-off $day) issued" test $? -eq 0
render tables --date $day --out "$work/tables"
check "tables issued as of $day" test $? -eq 0
xlsx_rows "$work/tables/tables.xlsx" >"$work/xlsx"

# The independent computation: every patch's legality at the end of the day, from the history.
sql() { sqlite3 "$db" "
  WITH s AS (
    SELECT p.admin_code AS code, p.area_m2 AS area, p.farmland_m2 AS farm,
      p.basic_farmland_m2 AS basic,
      (SELECT to_value FROM status_history h WHERE h.patch_pk = p.pk AND h.field = 'legality'
         AND h.at <= '${day}T23:59:59' ORDER BY h.at DESC, h.id DESC LIMIT 1) AS legality
    FROM patch p)
  SELECT printf('%d %.2f %.2f %.2f', count(*), sum(area) * 0.0015 + 1e-9, sum(farm) * 0.0015 + 1e-9,
                sum(basic) * 0.0015 + 1e-9)
  FROM s WHERE legality = '违法用地' $1"; }
# The figures as a notice or a 月报 states them: 共有违法用地图斑N个，监测面积X亩，其中耕地Y亩、永久基本农田Z亩.
stated() {
  pdftotext "$1" - | tr -d ' \n' |
    grep -oE '共有违法用地图斑[0-9]+个，监测面积[0-9.]+亩，其中耕地[0-9.]+亩、永久基本农田[0-9.]+亩' | head -1 |
    sed -E 's/[^0-9.]+/ /g; s/^ //; s/ $//'
}
# The tables' 违法用地 columns of a row (count, area, 耕地, 永久基本农田), from the workbook.
tabled() {
  xlsx_row_values "$work/xlsx" 违法用地数据汇总表 "$1" | awk '{ printf "%d %.2f %.2f %.2f", $3, $4, $5, $6 }'
}
codes=$(sqlite3 "$db" "SELECT DISTINCT admin_code FROM patch ORDER BY 1")
n=0
for code in $codes; do
  [ -e "$work/notice/notice-$code.pdf" ] || continue
  n=$((n + 1))
  name=$(sqlite3 "$db" "SELECT admin_name FROM patch WHERE admin_code = '$code' AND admin_name <> '' LIMIT 1")
  want=$(sql "AND code = '$code'")
  a=$(stated "$work/notice/notice-$code.pdf")
  b=$(stated "$work/monthly/monthly-$code.pdf")
  c=$(tabled "$name")
  check "$name ($code): SQL says $want; notice $a, 月报 $b, tables $c: all equal" \
    test "$a" = "$want" -a "$b" = "$want" -a "$c" = "$want"
done
towns=$(sqlite3 "$db" "
  SELECT count(DISTINCT code) FROM (SELECT p.admin_code AS code,
      (SELECT to_value FROM status_history h WHERE h.patch_pk = p.pk AND h.field = 'legality'
         AND h.at <= '${day}T23:59:59' ORDER BY h.at DESC, h.id DESC LIMIT 1) AS legality
    FROM patch p) WHERE legality = '违法用地'")
check "every township with 违法用地 was compared ($n of $towns)" test "$n" -eq "$towns" -a "$n" -gt 0
want=$(sql "")
a=$(stated "$work/monthly/monthly-county.pdf")
c=$(tabled 全县合计)
check "the county: SQL says $want; 月报 roll-up $a, tables 全县合计 $c: all equal" \
  test "$a" = "$want" -a "$c" = "$want"
check "the tables' PDF prints the workbook's 全县合计 area ($(cut -d' ' -f2 <<<"$c") 亩)" \
  grep -qE "全县合计.*[^0-9.]$(cut -d' ' -f2 <<<"$c")([^0-9]|$)" \
  <(pdftotext -layout "$work/tables/tables.pdf" - | tr -s ' ')
finish
