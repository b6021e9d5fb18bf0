#!/usr/bin/env bash
# The statistical tables: `tuban render tables` writes tables.pdf and tables.xlsx from the same
# tables.  Every number of every row of the workbook (read with python3's zipfile) equals the
# number the PDF prints in that row (pdftotext -layout), and the counts and areas equal an
# independent SQL computation over the store; qpdf --check is clean; the pages are landscape.
# Usage: tables.sh <tuban> <source dir>
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
out=$work/out
"$tuban" render tables --office "$office" --db "$db" --date 2025-03-20 --out "$out" \
  >"$work/paths" 2>"$work/err"
check "render tables exits 0" test $? -eq 0
check "it prints the archived tables, then tables.pdf and tables.xlsx in --out" \
  test "$(sed "s|^$work/archive/sample-office/2025/示自然资发/[0-9]*\.pdf\$|ARCHIVED|" "$work/paths" | tr '\n' ' ')" = "ARCHIVED $out/tables.pdf $out/tables.xlsx "
check "qpdf --check is clean" qpdf --check "$out/tables.pdf"
xlsx_rows "$out/tables.xlsx" >"$work/xlsx"
check "the workbook has a sheet per table" \
  test "$(cut -f1 "$work/xlsx" | uniq | tr '\n' ' ')" = "违法用地数据汇总表 违法用地分类统计表 变化图斑情况统计表 新增农村乱占耕地建房图斑清单 土地卫片地块核查情况登记卡 "

# The page each attachment starts on (its title, read with pdftotext -raw, page by page).
pages=$(pdfinfo "$out/tables.pdf" | awk '/^Pages:/ {print $2}')
for i in $(seq 1 "$pages"); do
  printf '%s\t%s\n' "$i" "$(pdftotext -raw -f "$i" -l "$i" "$out/tables.pdf" - | tr -d ' \n')"
done >"$work/pages"
page_of() { grep -E "附件[0-9]$1" "$work/pages" | head -1 | cut -f1; } # its title below 附件N
# The PDF's text of the attachment <title>, laid out (its rows as lines).
attachment_text() { local p; p=$(page_of "$1"); pdftotext -layout -f "$p" -l "$p" "$out/tables.pdf" -; }
for t in 违法用地数据汇总表 违法用地分类统计表 变化图斑情况统计表; do attachment_text $t >"$work/pdf-$t.txt"; done
# The same rows in the PDF: the numbers of the line that starts with the row's label.
check "the tables are set turned on their pages (GB/T 9704 横排表格: the title runs up the page)" python3 -c "
import re, subprocess, sys
out = subprocess.run(['pdftotext', '-f', sys.argv[2], '-l', sys.argv[3], '-bbox', sys.argv[1], '-'], capture_output=True, text=True).stdout
boxes = [tuple(map(float, m)) for m in re.findall(r'<word xMin=\"([\d.]+)\" yMin=\"([\d.]+)\" xMax=\"([\d.]+)\" yMax=\"([\d.]+)\">违法用地(?:数据汇总|分类统计)表</word>', out)]
sys.exit(0 if len(boxes) == 2 and all(y1 - y0 > x1 - x0 for x0, y0, x1, y1 in boxes) else 1)" "$out/tables.pdf" "$(page_of 违法用地数据汇总表)" "$(page_of 违法用地分类统计表)"
compare_row() { # <sheet> <label>: the workbook's numbers of the row equal the PDF's
  python3 - "$work/xlsx" "$work/pdf-$1.txt" "$1" "$2" <<'PY'
import re, sys
xlsx, pdf, sheet, label = sys.argv[1:]
num = re.compile(r'^-?[\d,]+(\.\d+)?%?$')
def value(tok):
    tok = tok.replace(',', '')
    return round(float(tok[:-1]) / 100, 6) if tok.endswith('%') else round(float(tok), 6)
rows = [l.rstrip('\n').split('\t')[1:] for l in open(xlsx) if l.startswith(sheet + '\t')]
row = next(r for r in rows if label in [c.strip('\u3000') for c in r])
got = [round(float(c), 6) for c in row[row.index(next(c for c in row if c.strip('\u3000') == label)) + 1:]
       if re.match(r'^-?\d+\.\d{6}$', c)]
line = next(l for l in open(pdf) if re.search(r'(^|\s)' + re.escape(label) + r'(\s|$)', l))
toks = line.split()
want = [value(t) for t in toks[toks.index(label) + 1:] if num.match(t)]
print('xlsx', got, 'pdf', want)
sys.exit(0 if got == want and got else 1)
PY
}
for t in 南湖街道 城关镇 西岭镇 东河乡 全县合计; do
  if compare_row 违法用地数据汇总表 "$t" >"$work/cmp" 2>&1; then ok "汇总表 $t: the workbook's numbers equal the PDF's"
  else fail "汇总表 $t: workbook and PDF differ: $(cat "$work/cmp")"; fi
done
for c in 违法占地 其中：未批先用 未报即用 边报边用 违法批地 合计; do
  if compare_row 违法用地分类统计表 "$c" >"$work/cmp" 2>&1; then ok "分类统计表 $c: the workbook's numbers equal the PDF's"
  else fail "分类统计表 $c: workbook and PDF differ: $(cat "$work/cmp")"; fi
done

# The figures against SQL over the store (state at the end of 2025-03-20).
sql() { sqlite3 "$db" "
  WITH s AS (
    SELECT p.admin_code AS code, p.area_m2 AS area, p.farmland_m2 AS farm, p.violation AS wflx,
      (SELECT to_value FROM status_history h WHERE h.patch_pk = p.pk AND h.field = 'legality'
         AND h.at <= '2025-03-20T23:59:59' ORDER BY h.at DESC, h.id DESC LIMIT 1) AS legality,
      (SELECT to_value FROM status_history h WHERE h.patch_pk = p.pk AND h.field = 'state'
         AND h.at <= '2025-03-20T23:59:59' ORDER BY h.at DESC, h.id DESC LIMIT 1) AS state
    FROM patch p)
  $1"; }
row_values() { xlsx_row_values "$work/xlsx" "$@"; }
want=$(sql "SELECT printf('%.6f %.6f %.6f %.6f %.6f', sum(legality IN ('合法用地', '违法用地')),
              round(sum(CASE WHEN legality IN ('合法用地', '违法用地') THEN area END) * 0.0015, 2),
              sum(legality = '违法用地'), round(sum(CASE WHEN legality = '违法用地' THEN area END) * 0.0015, 2),
              round(sum(CASE WHEN legality = '违法用地' THEN farm END) * 0.0015, 2)) FROM s")
got=$(row_values 违法用地数据汇总表 全县合计 | cut -d' ' -f1-5)
check "全县合计: 新增建设用地 count and area, 违法用地 count, area and 耕地 equal SQL ($want)" test "$got" = "$want"
rect=$(sql "SELECT printf('%.6f', sum(legality = '违法用地' AND state IN ('已整改', '已验收'))) FROM s")
check "全县合计: 整改到位 equals SQL ($rect)" test "$(row_values 违法用地数据汇总表 全县合计 | cut -d' ' -f9)" = "$rect"
for c in 未报即用 边报边用; do
  n=$(sql "SELECT printf('%.6f', count(*)) FROM s WHERE legality = '违法用地' AND wflx LIKE '%$c%'")
  check "分类统计表 $c: count equals SQL ($n)" test "$(row_values 违法用地分类统计表 "$c" | cut -d' ' -f1)" = "$n"
done

# --- 变化图斑情况统计表, the SFNCLZGDJF list and the 登记卡 ------------------------------------------
for t in 南湖街道 城关镇 西岭镇 东河乡 全县合计; do
  if compare_row 变化图斑情况统计表 "$t" >"$work/cmp" 2>&1; then ok "变化图斑表 $t: the workbook's numbers equal the PDF's"
  else fail "变化图斑表 $t: workbook and PDF differ: $(cat "$work/cmp")"; fi
done
# Every patch of the batch, by 合法性判定, and the 新增农村乱占耕地建房 ones, in SQL at the date.
sql_all() { sqlite3 "$db" "
  WITH s AS (
    SELECT p.id, p.admin_code AS code, p.area_m2 AS area, p.farmland_m2 AS farm,
      p.basic_farmland_m2 AS basic, p.rural_housing AS rural,
      (SELECT to_value FROM status_history h WHERE h.patch_pk = p.pk AND h.field = 'legality'
         AND h.at <= '2025-03-20T23:59:59' ORDER BY h.at DESC, h.id DESC LIMIT 1) AS legality
    FROM patch p)
  $1"; }
mu() { printf "round(sum(%s) * 0.0015, 2)" "$1"; }
want=$(sql_all "SELECT printf('%.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f',
  count(*), $(mu area), $(mu farm),
  sum(legality = '合法用地'), $(mu "CASE WHEN legality = '合法用地' THEN area END"),
  sum(legality = '违法用地'), $(mu "CASE WHEN legality = '违法用地' THEN area END"),
  sum(legality = '其他用地'), coalesce($(mu "CASE WHEN legality = '其他用地' THEN area END"), 0),
  sum(coalesce(legality, '') = ''),
  sum(rural = 1), coalesce($(mu "CASE WHEN rural = 1 THEN area END"), 0)) FROM s")
got=$(row_values 变化图斑情况统计表 全县合计 | sed 's/ $//')
check "变化图斑表 全县合计: every count and area equals SQL ($want; got $got)" test "$got" = "$want"
for code in 139901001 139901100; do
  name=$(sqlite3 "$db" "SELECT name FROM township WHERE code = '$code'" 2>/dev/null)
  [ -n "$name" ] || name=$(sqlite3 "$db" "SELECT admin_name FROM patch WHERE admin_code = '$code' LIMIT 1")
  want=$(sql_all "SELECT printf('%.6f %.6f', count(*), sum(legality = '合法用地')) FROM s WHERE code = '$code'")
  got=$(row_values 变化图斑情况统计表 "$name" | cut -d' ' -f1,4)
  check "变化图斑表 $name: 变化图斑 and 合法用地 counts equal SQL ($want; got $got)" test "$got" = "$want"
done
# The list of 新增农村乱占耕地建房 patches: the same ids in the workbook, the PDF and SQL.
want_ids=$(sql_all "SELECT id FROM s WHERE rural = 1 ORDER BY code, id" | tr '\n' ' ')
xlsx_ids=$(awk -F'\t' '$1 == "新增农村乱占耕地建房图斑清单"' "$work/xlsx" | grep -oE '139901SJBG[0-9]{8}' | tr '\n' ' ')
pdf_ids=$(grep "^$(page_of 新增农村乱占耕地建房图斑清单)\s" "$work/pages" | grep -oE '139901SJBG[0-9]{8}' | tr '\n' ' ')
check "SFNCLZGDJF list: SQL has some ($want_ids)" test -n "$want_ids"
check "SFNCLZGDJF list: the workbook lists exactly them ($xlsx_ids)" test "$xlsx_ids" = "$want_ids"
check "SFNCLZGDJF list: the PDF page lists exactly them ($pdf_ids)" test "$pdf_ids" = "$want_ids"
check "SFNCLZGDJF list: its 合计 area equals the 变化图斑表's" test "$(row_values 新增农村乱占耕地建房图斑清单 合计 | cut -d' ' -f1)" = "$(row_values 变化图斑情况统计表 全县合计 | cut -d' ' -f12)"
# One 登记卡 per patch, one per page, in township and id order, in both files.
n=$(sqlite3 "$db" "SELECT count(*) FROM patch")
pdf_cards=$(sed 's/\xe3\x80\x80//g' "$work/pages" | grep -oE '登记卡第[0-9]+张监测编号139901SJBG[0-9]{8}' | sed 's/.*监测编号//' | tr '\n' ' ')
xlsx_cards=$(awk -F'\t' '$1 == "土地卫片地块核查情况登记卡"' "$work/xlsx" | sed 's/[ \t]//g; s/\xe3\x80\x80//g' | grep -oE '登记卡第[0-9]+张监测编号139901SJBG[0-9]{8}' | sed 's/.*监测编号//' | tr '\n' ' ')
want_cards=$(sqlite3 "$db" "SELECT id FROM patch ORDER BY admin_code, id" | tr '\n' ' ')
check "登记卡: one card per patch in the PDF ($n), in township and id order" test "$pdf_cards" = "$want_cards"
check "登记卡: the same cards in the workbook" test "$xlsx_cards" = "$want_cards"
last_card=$(grep "^$pages\s" "$work/pages" | grep -oE '登记卡第[0-9]+张' | tr '\n' ' ')
check "登记卡: the last page holds the last card only (登记卡第${n}张)" test "$last_card" = "登记卡第${n}张 "
check "登记卡: every card is set the same way up (upright, a form on its page)" python3 -c "
import re, subprocess, sys
out = subprocess.run(['pdftotext', '-bbox', sys.argv[1], '-'], capture_output=True, text=True).stdout
boxes = [tuple(map(float, m)) for m in re.findall(r'<word xMin=\"([\d.]+)\" yMin=\"([\d.]+)\" xMax=\"([\d.]+)\" yMax=\"([\d.]+)\">登记卡第', out)]
sys.exit(0 if len(boxes) == int(sys.argv[2]) and all(x1 - x0 > y1 - y0 for x0, y0, x1, y1 in boxes) else 1)" "$out/tables.pdf" "$n"
id=139901SJBG24210019
want=$(sqlite3 "$db" "SELECT printf('%.6f', round(area_m2 * 0.0015, 2)) FROM patch WHERE id = '$id'")
card_area=$(awk -F'\t' -v id="$id" '$1 == "土地卫片地块核查情况登记卡" { if (index($0, id)) hit = 1; else if (hit && $2 ~ /监测面积/) { print $3; exit } }' "$work/xlsx")
check "登记卡 $id: 监测面积 in the workbook equals SQL ($want; got $card_area)" test "$card_area" = "$want"
check "发现率: the tables say which data it lacks" \
  grep -q '发现率需要巡查、举报等途径发现的违法用地数，图斑数据中没有' "$work/pages"

# From a patch file too (no history needed), and bad input.
"$tuban" render tables --office "$office" --patches "$src/samples/patches.gpkg" --date 2025-03-20 \
  --out "$work/file" >/dev/null 2>&1
check "render tables from the patch file exits 0" test -s "$work/file/tables.xlsx"
"$tuban" render tables --office "$office" --db "$db" --date 2025-03-20 >/dev/null 2>"$work/err"
check "render tables --db without --out exits 2 (the workbook has no place in the archive)" \
  test $? -eq 2
finish
