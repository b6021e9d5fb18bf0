#!/usr/bin/env bash
# Countersigning (`tuban sign`) places the new seal beside the document's first seal, on its
# page, clear of every seal already there: the bureau's notice countersigned twice, the widgets'
# rectangles and pages read back with qpdf --json (an independent reader), every signature still
# valid (pdfsig, tuban verify), qpdf --check clean; --page / --at still place it by hand.
# Usage: countersign.sh <tuban> <source dir>
set -uo pipefail
tuban=${1:?tuban binary}
src=${2:?source dir}
. "$src/tests/integration/lib.sh"

export SOURCE_DATE_EPOCH=1732060800
export TUBAN_SAMPLE_CA=$work/ca
office=$work/bureau
sample_office "$office"
bash "$src/scripts/make-sample-keys.sh" "$office" "示例县自然资源局" 2>/dev/null
township=$work/township
sample_office "$township"
bash "$src/scripts/make-sample-keys.sh" "$township" "示例县城关镇人民政府" 2>/dev/null
"$tuban" render notice --office "$office" --imagery "$src/samples/basemap.tif" --date 2024-11-20 \
  --patches "$src/samples/patches.gpkg" --township 139901100 --jobs 1 --out "$work/out" \
  >/dev/null 2>"$work/err"
doc=$work/out/notice-139901100.pdf
check "the bureau's notice is rendered" test -s "$doc"

# seals <file>: one line per signature widget, "name page x0 y0 x1 y1", in /Fields order.
seals() {
  qpdf --json=2 "$1" | python3 -c '
import json, sys
j = json.load(sys.stdin)
pages = [p["object"] for p in j["pages"]]
objs = j["qpdf"][1]
for k, v in objs.items():
    d = v.get("value")
    if isinstance(d, dict) and d.get("/FT") == "/Sig" and "/Rect" in d:
        print(d["/T"][2:], pages.index(d["/P"]) + 1, *d["/Rect"])'
}
# apart <seals>: no two rectangles on one page meet, each inside the A4 sheet.
apart() {
  python3 -c '
import sys
r = [l.split() for l in sys.argv[1].splitlines()]
r = [(p, *map(float, xy)) for _, p, *xy in r]
inside = all(0 <= a and 0 <= b and c <= 595.3 and d <= 841.9 for _, a, b, c, d in r)
meet = any(p == q and a < g and e < c and b < h and f < d
           for i, (p, a, b, c, d) in enumerate(r) for (q, e, f, g, h) in r[i + 1:])
sys.exit(0 if inside and not meet and len(r) >= 2 else 1)' "$1"
}

"$tuban" sign --office "$township" "$doc" --out "$work/c2.pdf" >/dev/null 2>>"$work/err"
"$tuban" sign --office "$township" "$work/c2.pdf" --out "$work/c3.pdf" >/dev/null 2>>"$work/err"
check "countersigned twice" test -s "$work/c3.pdf"
s=$(seals "$work/c3.pdf")
echo "$s" | sed 's/^/  seal: /'
check "three signature widgets" test "$(wc -l <<<"$s")" -eq 3
first_page=$(awk 'NR == 1 {print $2}' <<<"$s")
check "the countersignatures are on the first seal's page ($first_page)" \
  test "$(awk '{print $2}' <<<"$s" | sort -u)" = "$first_page"
check "no seal covers another, all on the sheet" apart "$s"
check "the second seal is left of the first, at its height" \
  python3 -c '
import sys
a, b = [list(map(float, l.split()[2:])) for l in sys.argv[1].splitlines()[:2]]
sys.exit(0 if b[2] < a[0] and abs(b[1] - a[1]) < 1 else 1)' "$s"
sig=$(pdfsig "$work/c3.pdf" 2>&1)
check "pdfsig: all three signatures valid" test "$(grep -c 'Signature is Valid' <<<"$sig")" -eq 3
check "tuban verify --office (the bureau first): valid" \
  "$tuban" verify "$work/c3.pdf" --office "$office" --trust "$work/ca/ca.crt"
check "qpdf --check clean" qpdf --check "$work/c3.pdf"
pdftoppm -r 40 -f "$first_page" -l "$first_page" -png "$work/c3.pdf" "$work/look"
check "the page renders (pdftoppm)" bash -c "ls '$work'/look-*.png"

"$tuban" sign --office "$township" "$doc" --page 1 --at 30,40 --out "$work/hand.pdf" \
  >/dev/null 2>>"$work/err"
h=$(seals "$work/hand.pdf" | sed -n 2p)
check "--page 1 --at 30,40 puts it there by hand (85.04 113.39 on page 1)" \
  python3 -c '
import sys
n, p, x, y, *_ = sys.argv[1].split()
sys.exit(0 if p == "1" and abs(float(x) - 85.04) < 0.1 and abs(float(y) - 113.39) < 0.1 else 1)' "$h"
finish
