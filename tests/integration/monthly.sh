#!/usr/bin/env bash
# The 月报: `tuban render monthly --db` on the sample store with the sample history
# (samples/history.csv).  Every figure read back with pdftotext equals the same figure computed
# here independently, in SQL over the store's patch and status_history tables; qpdf --check is
# clean; bad --month exits 2.
# Usage: monthly.sh <tuban> <source dir>
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

monthly() { "$tuban" render monthly --office "$office" --imagery "$src/samples/basemap.tif" \
            --db "$db" --date 2025-04-21 --jobs 2 "$@"; }

# The independent computation: each illegal patch's state at the end of a day, from the history.
# as_of <date> prints id|township|rectified(0/1)|measure|kind|farmland m²|overdue(0/1).
as_of() {
  sqlite3 "$db" "
    WITH s AS (
      SELECT p.id, p.admin_code AS code, p.kind, p.farmland_m2 AS farm,
        (SELECT to_value FROM status_history h WHERE h.patch_pk = p.pk AND h.field = '$2'
           AND h.at <= '$1T23:59:59' ORDER BY h.at DESC, h.id DESC LIMIT 1) AS v,
        (SELECT to_value FROM status_history h WHERE h.patch_pk = p.pk AND h.field = 'state'
           AND h.at <= '$1T23:59:59' ORDER BY h.at DESC, h.id DESC LIMIT 1) AS state,
        (SELECT to_value FROM status_history h WHERE h.patch_pk = p.pk AND h.field = 'measure'
           AND h.at <= '$1T23:59:59' ORDER BY h.at DESC, h.id DESC LIMIT 1) AS measure,
        (SELECT to_value FROM status_history h WHERE h.patch_pk = p.pk AND h.field = 'deadline'
           AND h.at <= '$1T23:59:59' ORDER BY h.at DESC, h.id DESC LIMIT 1) AS deadline
      FROM patch p)
    SELECT id, code, state IN ('已整改', '已验收'), measure, kind, farm,
           NOT (state IN ('已整改', '已验收')) AND deadline < '$1'
    FROM s WHERE v = '违法用地' ORDER BY id"
}
# figures <cut-off> <previous cut-off> <township or ''>: the report's figures, computed in SQL.
figures() {
  as_of "$1" legality >"$work/now"
  as_of "$2" legality >"$work/before"
  python3 - "$work/now" "$work/before" "$3" <<'PY'
import sys
rows = lambda f: [l.rstrip('\n').split('|') for l in open(f) if l.strip()]
now, before, town = rows(sys.argv[1]), rows(sys.argv[2]), sys.argv[3]
done_before = {r[0] for r in before if r[2] == '1'}
mu = lambda m2: '%.2f' % (m2 / 10000 * 15 + 1e-9)
sel = [r for r in now if not town or r[1] == town]
done = [r for r in sel if r[2] == '1']
month = [r for r in done if r[0] not in done_before]
farm = lambda rs: mu(sum(float(r[5] or 0) for r in rs))
def by(rs, measure=None, kind=None):
    return [r for r in rs if (measure is None or r[3] == measure) and (kind is None or r[4] == kind)]
print('共有违法用地图斑%d个' % len(sel))
print('已整改到位%d个、耕地%s亩，整改率%.1f%%' % (len(done), farm(done), 100.0 * len(done) / len(sel)))
print('本月新增整改到位%d个、耕地%s亩' % (len(month), farm(month)))
print('逾期未整改图斑%d个' % sum(1 for r in sel if r[6] == '1'))
for label, m, k in (('拆除复耕', '拆除复耕', None), ('拆除复绿', '拆除复绿', None),
                    ('补办手续', '补办手续', None), ('矿产案件查处', None, '矿产')):
    a, b = by(done, m, k), by(month, m, k)
    print('%s %d %s %d %s' % (label, len(a), farm(a), len(b), farm(b)))
print('OVERDUE ' + ' '.join(r[0] for r in sel if r[6] == '1'))
PY
}
# The same figures as the PDF states them (text without line breaks; the table rows as words).
pdf_figures() {
  local flat; flat=$(pdftotext "$1" - | sed -E 's/^ *—[0-9]+— *$//' | tr -d ' \n\f')
  for pat in '共有违法用地图斑[0-9]+个' '已整改到位[0-9]+个、耕地[0-9.]+亩，整改率[0-9.]+%' \
             '本月新增整改到位[0-9]+个、耕地[0-9.]+亩' '逾期未整改图斑[0-9]+个'; do
    grep -oE "$pat" <<<"$flat" | head -1
  done
  pdftotext -layout "$1" - | awk '$1 ~ /^(拆除复耕|拆除复绿|补办手续|矿产案件查处)$/ && NF == 5 {print}' |
    tr -s ' '
  echo "OVERDUE $(sed 's/^.*清单如下//' <<<"$flat" | grep -oE '139901SJBG[0-9]{8}' | sort -u |
    tr '\n' ' ' | sed 's/ $//')"
}

for month in 2025-02 2025-03 2025-04; do
  out=$work/out-$month
  monthly --month "$month" --out "$out" >"$work/paths" 2>"$work/err"
  check "$month: render monthly exits 0" test $? -eq 0
  # --db issues them (the archive's paths come first), --out gets the copies.
  check "$month: one report per township with illegal patches and the county roll-up" \
    test "$(grep "^$out/" "$work/paths" | tr '\n' ' ')" = "$out/monthly-139901001.pdf $out/monthly-139901100.pdf $out/monthly-139901201.pdf $out/monthly-county.pdf "
  y=${month%-*} m=${month#*-}
  cut="$month-20"
  prev=$(date -d "$y-$m-01 -1 month" +%Y-%m)-20
  for f in "$out"/monthly-*.pdf; do
    check "$month $(basename "$f"): qpdf --check clean" qpdf --check "$f"
    case $f in *county*) town= ;; *) town=$(basename "$f" .pdf); town=${town#monthly-} ;; esac
    figures "$cut" "$prev" "$town" >"$work/want"
    pdf_figures "$f" >"$work/got"
    if diff "$work/want" "$work/got" >"$work/diff"; then
      ok "$month $(basename "$f"): every figure equals the SQL computation"
    else
      fail "$month $(basename "$f"): figures differ from SQL:"; cat "$work/diff"
    fi
  done
done

# The month's changes move with the history: March's rectified this month are 15, 02, 18.
check "March: 3 patches rectified this month (15 拆除复绿, 02 补办手续, 18 矿产)" \
  grep -q '本月新增整改到位3个' <(pdftotext "$work/out-2025-03/monthly-county.pdf" - | tr -d ' \n')
check "April: 19 and 23 are overdue (deadline 2025-03-31 passed)" \
  grep -q 'OVERDUE 139901SJBG24210019 139901SJBG24210023' <(pdf_figures "$work/out-2025-04/monthly-county.pdf")
check "the township table lists every township (西岭镇 with none)" \
  grep -q '西岭镇' <(pdftotext "$work/out-2025-03/monthly-county.pdf" -)
check "the county roll-up has the bar chart by township (its legend: 违法图斑, 已整改到位)" \
  grep -qE '违法图斑已整改到位|已整改到位违法图斑' <(pdftotext "$work/out-2025-03/monthly-county.pdf" - | tr -d ' \n')
check "the township report shows its overview map (a figure caption)" \
  grep -q '城关镇违法用地图斑分布图' <(pdftotext "$work/out-2025-03/monthly-139901100.pdf" - | tr -d ' \n')

# --- bad input ---------------------------------------------------------------------------------
for bad in 2025-13 2025-3 25-03 2025-03x abc; do
  monthly --month "$bad" --out "$work/bad" >/dev/null 2>"$work/err"
  check "--month $bad exits 2" test $? -eq 2
done
check "the message names --month" grep -q -- '--month' "$work/err"
monthly --out "$work/bad" >/dev/null 2>&1
check "render monthly without --month exits 2" test $? -eq 2
"$tuban" render monthly --office "$office" --patches "$src/samples/patches.gpkg" --month 2025-03 \
  --out "$work/bad" >/dev/null 2>&1
check "render monthly from a patch file (no history) exits 2" test $? -eq 2
monthly --month 2025-03 --cutoff 0 --out "$work/bad" >/dev/null 2>&1
check "--cutoff 0 exits 2" test $? -eq 2
check "nothing was written for bad input" test ! -e "$work/bad"
monthly --month 2025-02 --cutoff 31 --out "$work/feb" >/dev/null 2>&1
check "--cutoff 31 in February is its last day (2025年2月28日)" \
  grep -q '截至2025年2月28日' <(pdftotext "$work/feb/monthly-county.pdf" - | tr -d ' \n')
finish
