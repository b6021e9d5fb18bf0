#!/usr/bin/env bash
# The 约谈问责卷宗 (interview dossier): `tuban render dossier --explain` on the sample store.
# Which townships qualify and the figures behind each verdict are computed here again, in SQL
# over the store's patch and status_history tables and the rules in python, and must match
# what tuban prints; the samples hold a township selected only by the 15 % ratio and one only by
# a single case; manual flags and office rules change the verdicts; bad use exits 2.
# Usage: dossier.sh <tuban> <source dir>
set -uo pipefail
tuban=${1:?tuban binary}
src=${2:?source dir}
. "$src/tests/integration/lib.sh"

office=$work/office
sample_office "$office"
bash "$src/scripts/make-sample-keys.sh" "$office" 2>/dev/null
export SOURCE_DATE_EPOCH=1742860800
db=$work/tuban.db
sample_store "$db" >"$work/history.err" 2>&1
check "the samples import and the sample history applies" test $? -eq 0 -a ! -s "$work/history.err"
date=2025-04-21

explain() { "$tuban" render dossier --explain --office "${OFFICE:-$office}" --date $date "$@"; }

# The independent computation: per township, from each patch's legality at the end of the day
# (its newest legality row in status_history), the 约谈 figures and verdict (DESIGN §5).
# expected <ratio> <basic 亩> <general 亩> [flagged code:reason ...]
expected() {
  sqlite3 "$db" "
    SELECT p.admin_code, p.admin_name, p.id, p.farmland_m2, p.basic_farmland_m2,
      (SELECT to_value FROM status_history h WHERE h.patch_pk = p.pk AND h.field = 'legality'
         AND h.at <= '${date}T23:59:59' ORDER BY h.at DESC, h.id DESC LIMIT 1)
    FROM patch p WHERE p.missing = 0 ORDER BY p.admin_code, p.id" >"$work/patches"
  python3 - "$work/patches" "$@" <<'PY'
import sys
ratio_line, basic_line, general_line = map(float, sys.argv[2:5])
flags = dict(f.split(':', 1) for f in sys.argv[5:])
mu = lambda m2: m2 / 10000 * 15
towns = {}
for l in open(sys.argv[1]):
    code, name, pid, farm, basic, legality = l.rstrip('\n').split('|')
    t = towns.setdefault(code, {'name': name, 'ill': 0.0, 'con': 0.0, 'basic': (0, ''), 'gen': (0, '')})
    farm, basic = float(farm or 0), float(basic or 0)
    if legality in ('合法用地', '违法用地'):
        t['con'] += farm
    if legality != '违法用地':
        continue
    t['ill'] += farm
    if basic > t['basic'][0]:
        t['basic'] = (basic, pid)
    gen = max(farm - basic, 0)
    if gen > t['gen'][0]:
        t['gen'] = (gen, pid)
for code, t in sorted(towns.items()):
    ratio = t['ill'] / t['con'] if t['con'] > 0 else 0
    rules = []
    if t['con'] > 0 and ratio >= ratio_line:
        rules.append('ratio')
    if round(mu(t['basic'][0]) * 100) >= round(basic_line * 100):
        rules.append('basic')
    if round(mu(t['gen'][0]) * 100) >= round(general_line * 100):
        rules.append('general')
    if code in flags:
        rules.append('flag')
    print('%s %s %s 违法占用耕地%.2f亩 新增建设用地占用耕地%.2f亩 比例%.1f%% 永久基本农田%.2f亩%s 一般耕地%.2f亩%s' % (
        code, t['name'], ','.join(rules) or 'none', mu(t['ill']) + 1e-9, mu(t['con']) + 1e-9,
        ratio * 100 + 1e-9, mu(t['basic'][0]) + 1e-9, t['basic'][1], mu(t['gen'][0]) + 1e-9, t['gen'][1]))
PY
}
# The same, read from tuban's --explain lines.
parsed() {
  python3 -c '
import re, sys
names = {"违法占用耕地比例": "ratio", "单宗占用永久基本农田": "basic", "单宗占用一般耕地": "general", "人工标记": "flag"}
for l in sys.stdin:
    m = re.match(r"(\d+) (\S+)：(约谈（(.*?)）|不约谈)。违法占用耕地([\d.]+)亩，新增建设用地占用耕地([\d.]+)亩，比例([\d.]+)%.*?单宗最大占用永久基本农田([\d.]+)亩(?:（([0-9A-Z]+)）)?.*?单宗最大占用一般耕地([\d.]+)亩(?:（([0-9A-Z]+)）)?", l)
    if not m:
        print("UNPARSED " + l.strip()); continue
    g = m.groups()
    rules = [v for k, v in names.items() if g[3] and k in g[3]]
    ratio = g[6] if float(g[5]) > 0 else "0.0"
    print("%s %s %s 违法占用耕地%s亩 新增建设用地占用耕地%s亩 比例%s%% 永久基本农田%s亩%s 一般耕地%s亩%s" % (
        g[0], g[1], ",".join(rules) or "none", g[4], g[5], ratio, g[7], g[8] or "", g[9], g[10] or ""))
'
}

explain --db "$db" >"$work/explain" 2>"$work/explain.err"
check "render dossier --explain --db exits 0" test $? -eq 0
echo "--- tuban render dossier --explain:"; cat "$work/explain"
expected 0.15 5 10 >"$work/want"
parsed <"$work/explain" >"$work/got"
check "--explain names every township of the store, in code order" \
  test "$(cut -d' ' -f1 "$work/got")" = "$(sqlite3 "$db" 'SELECT DISTINCT admin_code FROM patch ORDER BY 1')"
check "--explain: each township's verdict and figures equal SQL over the store" diff "$work/want" "$work/got"
diff "$work/want" "$work/got" || true
check "南湖街道 (139901001) qualifies only through the 15 % ratio" \
  grep -q '^139901001 南湖街道 ratio 违法' "$work/got"
check "东河乡 (139901201) qualifies only through a single case (永久基本农田 ≥ 5 亩)" \
  grep -q '^139901201 东河乡 basic 违法' "$work/got"
check "城关镇 (139901100) qualifies through the ratio and both single-case rules" \
  grep -q '^139901100 城关镇 ratio,basic,general 违法' "$work/got"
check "西岭镇 (139901102), with no 违法用地, is not selected and says why" \
  grep -q '^139901102 西岭镇：不约谈。.*未达到约谈条件$' "$work/explain"

explain --patches "$src/samples/patches.gpkg" >"$work/explain-file" 2>&1
check "--explain from the patch file (as imported) gives the same findings (no legality changed in the history)" \
  diff "$work/explain" "$work/explain-file"

# Manual flags and the office's own thresholds (office.xml <rules>).
flagged=$work/flagged
mkdir -p "$flagged"; cp -r "$office"/. "$flagged"/
sed -i 's|</townships>|</townships>\n  <rules>\n    <rule name="interview_ratio" value="0.6"/>\n    <interview-flag township="139901102" reason="上报数据虚报瞒报"/>\n    <interview-flag township="139901999" reason="整改落实不到位"/>\n  </rules>|' \
  "$flagged/office.xml"
OFFICE=$flagged explain --db "$db" >"$work/explain-flag" 2>&1
check "--explain with flags and interview_ratio 0.6 exits 0" test $? -eq 0
expected 0.6 5 10 139901102:上报数据虚报瞒报 139901999:整改落实不到位 >"$work/want-flag"
grep -v '^139901999 ' "$work/explain-flag" | parsed >"$work/got-flag"
check "--explain with the office's ratio 0.6 and a flag equals SQL" \
  diff <(grep -v '^139901999 ' "$work/want-flag") "$work/got-flag"
diff <(grep -v '^139901999 ' "$work/want-flag") "$work/got-flag" || true
check "a flagged township is selected by the flag, with its reason" \
  grep -q '^139901102 西岭镇：约谈（人工标记（上报数据虚报瞒报））。.*人工标记：上报数据虚报瞒报。应予约谈$' "$work/explain-flag"
check "at ratio 0.6 南湖街道 (74.5 %) is still selected, 东河乡 (48 %) not by the ratio" \
  grep -q '^139901201 东河乡：约谈（单宗占用永久基本农田5亩以上）' "$work/explain-flag"
check "a flagged township without patches is listed, selected by its flag" \
  grep -q '^139901999 （无名称）：约谈（人工标记（整改落实不到位））' "$work/explain-flag"

# Bad use and bad profiles: exit 2, named.
"$tuban" render notice --explain --office "$office" --db "$db" >/dev/null 2>"$work/err"
check "--explain with another kind exits 2" test $? -eq 2
check "… and says it goes with dossier" grep -q 'explain goes with dossier' "$work/err"
bad=$work/bad
mkdir -p "$bad"; cp -r "$office"/. "$bad"/
sed -i 's|</townships>|</townships>\n  <rules><interview-flag township="南湖" reason="x"/></rules>|' "$bad/office.xml"
OFFICE=$bad explain --db "$db" >/dev/null 2>"$work/err"
check "an interview-flag without a township code is refused (exit 2)" test $? -eq 2
check "… naming office.xml" grep -q 'office.xml' "$work/err"
explain >/dev/null 2>"$work/err"
check "--explain without --db or --patches exits 2" test $? -eq 2

# ---- the dossier itself -------------------------------------------------------------------------
# The registry gets the notices first (so each patch's section lists its 整改通知书) and one
# acceptance in the history.
"$tuban" render notice --office "$office" --imagery "$src/samples/basemap.tif" --db "$db" \
  --date 2025-01-10 >"$work/notices" 2>&1
check "the notices are issued into the registry first" test $? -eq 0
"$tuban" patch set 139901SJBG24210003 --status 已验收 --db "$db" --at 2025-04-18 --by "县局 李四" \
  --note "实地验收合格" >/dev/null 2>&1
check "139901SJBG24210003 is accepted (已验收) on 2025-04-18" test $? -eq 0
"$tuban" render acceptance --office "$office" --imagery "$src/samples/basemap.tif" --db "$db" \
  --patch 139901SJBG24210003 --date 2025-04-18 >"$work/acceptance" 2>&1
check "its 验收意见书 is issued into the registry" test $? -eq 0
acc_docno=$(sqlite3 "$db" "SELECT docno FROM registry WHERE kind = 'acceptance'")

"$tuban" render dossier --office "$office" --patches "$src/samples/patches.gpkg" --out "$work/x" \
  >/dev/null 2>"$work/err"
check "render dossier --patches exits 2 (it needs the store's history)" test $? -eq 2
check "… saying to give --db" grep -q 'give --db' "$work/err"
check "… and writes nothing" test ! -e "$work/x"

dossier() { "$tuban" render dossier --office "$office" --imagery "$src/samples/basemap.tif" \
            --db "$db" --date $date --jobs 2 "$@"; }
dossier >"$work/paths" 2>"$work/dossier.err"
check "render dossier --db exits 0" test $? -eq 0
cat "$work/dossier.err"
# kind|patches|path of each dossier the registry holds
sqlite3 "$db" "SELECT docno, patches, path FROM registry WHERE kind = 'dossier' ORDER BY seq" \
  >"$work/reg"
archive=$(dirname "$db")/archive
check "one dossier is issued per township selected with 违法用地 (3), none for 西岭镇" \
  test "$(wc -l <"$work/reg")" -eq 3 -a "$(wc -l <"$work/paths")" -eq 3
want_towns=$(grep '：约谈' "$work/explain" | cut -d' ' -f1 | while read -r t; do
  n=$(sqlite3 "$db" "SELECT count(*) FROM patch WHERE admin_code = '$t' AND legality = '违法用地'")
  [ "$n" -gt 0 ] && echo "$t"; done | tr '\n' ' ')
got_towns=$(cut -d'|' -f2 "$work/reg" | while read -r ids; do
  sqlite3 "$db" "SELECT DISTINCT admin_code FROM patch WHERE id = '${ids%%,*}'"; done | tr '\n' ' ')
check "the dossiers are those of the townships --explain selects ($want_towns)" \
  test "$want_towns" = "$got_towns"

while IFS='|' read -r docno ids path; do
  pdf=$archive/$path
  first=${ids%%,*}
  town=$(sqlite3 "$db" "SELECT admin_code FROM patch WHERE id = '$first'")
  name=$(sqlite3 "$db" "SELECT admin_name FROM patch WHERE id = '$first'")
  want_ids=$(sqlite3 "$db" "SELECT group_concat(id, ',') FROM (SELECT id FROM patch WHERE admin_code = '$town' AND legality = '违法用地' ORDER BY id)")
  check "$name: the registry lists the township's 违法用地 patches ($want_ids)" test "$ids" = "$want_ids"
  check "$name: qpdf --check is clean" qpdf --check "$pdf"
  pdfsig "$pdf" >"$work/sig" 2>&1
  check "$name: pdfsig: the signature is valid" grep -q 'Signature Validation: Signature is Valid' "$work/sig"
  pages=$(pdfinfo "$pdf" | awk '/^Pages:/ {print $2}')
  # Page numbers: every page's footer number is its position in the volume.
  nums=$(for i in $(seq 1 "$pages"); do
    pdftotext -f "$i" -l "$i" "$pdf" - | tr -d ' ' | grep -oE '^—[0-9]+—$' | tail -1 | tr -d '—'; done | tr '\n' ' ')
  check "$name: pages numbered 1 to $pages without a gap, across the whole volume" \
    test "$nums" = "$(seq -s ' ' 1 "$pages") "
  # 卷内目录 (page 2) against the PDF outline (qpdf's JSON: title and page of each bookmark).
  pdftotext -f 2 -l 2 -layout "$pdf" - | awk 'NF >= 2 && $NF ~ /^[0-9]+$/ {n = $NF; $NF = ""; sub(/ +$/, ""); print $0 "|" n}' >"$work/toc"
  qpdf --json=2 --json-key=outlines "$pdf" | python3 -c '
import json, sys
def walk(items):
    for o in items:
        print("%s|%d" % (o["title"], o["destpageposfrom1"])); walk(o["kids"])
walk(json.load(sys.stdin)["outlines"])' >"$work/outline"
  check "$name: the 卷内目录 lists every bookmark with the same page number" diff "$work/toc" "$work/outline"
  diff "$work/toc" "$work/outline" | head -5
  check "$name: bookmarks for cover, 目录, statistics, list, each patch, 约谈通知书 and 备考表" \
    test "$(cut -d'|' -f1 "$work/outline" | tr '\n' ' ')" = "卷宗封面 卷内目录 约谈依据和统计情况 违法用地清单 $(tr ',' '\n' <<<"$ids" | sed 's/^/图斑/' | tr '\n' ' ')约谈通知书 备考表 "
  # Each section's pages: from its bookmark to the page before the next one.
  flat_pages() { pdftotext -f "$1" -l "$2" -layout "$pdf" -; }
  page_of() { awk -F'|' -v t="$1" '$1 == t {print $2}' "$work/outline"; }
  next_page() { awk -F'|' -v t="$1" 'f {print $2 - 1; exit} $1 == t {f = 1}' "$work/outline"; }
  stat=$(flat_pages "$(page_of 约谈依据和统计情况)" "$(next_page 约谈依据和统计情况)" | tr -d ' \n')
  figures=$(grep "^$town " "$work/explain" | grep -oE '违法占用耕地[0-9.]+亩，新增建设用地占用耕地[0-9.]+亩，比例[0-9.]+%')
  check "$name: the statistics state the --explain figures ($figures)" grep -qF "$figures" <<<"$stat"
  grounds=$(grep "^$town " "$work/explain" | sed -E 's/^[^：]*：约谈（(.*)）。违法.*/\1/')
  check "$name: … and the rules that selected it ($grounds)" grep -qF "因${grounds}，列入约谈对象" <<<"$stat"
  notice_pages=$(flat_pages "$(page_of 约谈通知书)" "$(next_page 约谈通知书)" | tr -d ' \n')
  check "$name: the 约谈通知书 is addressed to the township and gives the grounds" \
    grep -qF "因${grounds}，列入警示约谈对象" <<<"$notice_pages"
  bad=$failed
  for id in ${ids//,/ }; do
    from=$(page_of "图斑$id"); to=$(next_page "图斑$id")
    text=$(flat_pages "$from" "$to")
    rows=$(grep -cE '^ *[0-9]{4}-[0-9]{2}-[0-9]{2} +(合法性判定|整改措施|整改状态|整改期限|数据缺失) ' <<<"$text")
    want=$(sqlite3 "$db" "SELECT count(*) FROM status_history h JOIN patch p ON p.pk = h.patch_pk WHERE p.id = '$id' AND h.at <= '${date}T23:59:59'")
    [ "$rows" -eq "$want" ] || fail "$name: $id: $rows history rows in its section, $want in the store"
    for d in $(sqlite3 "$db" "SELECT docno FROM registry WHERE kind IN ('notice', 'acceptance') AND ','||patches||',' LIKE '%,$id,%'"); do
      grep -qF "$d" <<<"$text" || fail "$name: $id: its notice $d is not in its section"
    done
    grep -q "图斑[0-9]*  *$id" <<<"$text" || fail "$name: $id: its section has no heading"
  done
  [ "$failed" -eq "$bad" ] &&
    ok "$name: each patch's section holds its status history (row count = SQL) and the notices issued for it"
done <"$work/reg"
acc=$(pdftotext -layout "$archive/$(grep 139901SJBG24210003 "$work/reg" | cut -d'|' -f3)" - | tr -d ' \n')
check "the accepted patch's section says when and by whom it was accepted" \
  grep -qF '本图斑于2025年4月18日验收实地验收合格（记录人：县局李四）' <<<"$acc"
check "the accepted patch's section lists its 验收意见书 ($acc_docno) beside its notice" \
  grep -qF "验收意见书${acc_docno}" <<<"$acc"
check "the dossiers' 发文字号 follow the notices' and the acceptance's (one sequence, no gap)" \
  test "$(sqlite3 "$db" "SELECT group_concat(number) FROM (SELECT number FROM registry ORDER BY seq)")" = "1,2,3,4,5,6,7"
"$tuban" archive check --db "$db" >"$work/archive-check" 2>&1
check "tuban archive check is clean after issuing the dossiers" test $? -eq 0
# The pages as a clerk sees them (kept for a look when the test is run by hand).
pdftoppm -r 30 -png -f 1 -l 3 "$archive/$(head -1 "$work/reg" | cut -d'|' -f3)" "$work/page" 2>/dev/null
check "pdftoppm renders the cover, 目录 and statistics pages" \
  test "$(find "$work" -name 'page-*.png' -size +1k | wc -l)" -eq 3

finish
