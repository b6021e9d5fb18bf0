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

finish
