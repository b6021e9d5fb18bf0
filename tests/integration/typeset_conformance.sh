#!/usr/bin/env bash
# GB/T 9704 conformance of the typesetter, judged by independent tools: typeset_samples sets
# sample doctrees through typeset_doc, then qpdf, pdffonts, pdftotext -bbox-layout and pdftoppm
# measure the PDFs.  Prints the measured figures.
# With the tuban binary as well, the sample notices are rendered and measured too.
# Usage: typeset_conformance.sh <typeset_samples> <source dir> [<tuban>]
set -uo pipefail
samples=${1:?typeset_samples binary}
src=${2:?source dir}
tuban=${3:-}
. "$src/tests/integration/lib.sh"

out=$work/out
mkdir -p "$out"
"$samples" "$out" >"$work/log" 2>&1
check "typeset_samples sets every sample (and refuses the over-limit ones)" test $? -eq 0
cat "$work/log"
for pdf in "$out"/*.pdf; do
  name=$(basename "$pdf")
  check "$name: qpdf --check" qpdf --check "$pdf"
  check "$name: every font embedded and subset" \
    bash -c "pdffonts '$pdf' | awk 'NR>2 && (\$(NF-4)!=\"yes\" || \$(NF-3)!=\"yes\" || \$(NF-2)!=\"yes\") {exit 1}'"
  pdftotext -bbox-layout "$pdf" "$work/${name%.pdf}.html"
  pdftoppm -r 60 "$pdf" "$work/${name%.pdf}"
  qpdf --json --json-key=outlines "$pdf" >"$work/${name%.pdf}.outlines.json" 2>/dev/null
done

if [ -n "$tuban" ]; then
  sample_office "$work/office"
  bash "$src/scripts/make-sample-keys.sh" "$work/office" 2>/dev/null
  SOURCE_DATE_EPOCH=1732060800 "$tuban" render notice --office "$work/office" --date 2024-11-20 \
    --imagery "$src/samples/basemap.tif" --patches "$src/samples/patches.gpkg" --out "$work/notices" \
    >/dev/null 2>"$work/notices.err"
  check "the sample notices render" test $? -eq 0
  for pdf in "$work"/notices/*.pdf; do
    pdftotext -bbox-layout "$pdf" "$work/$(basename "${pdf%.pdf}").html"
  done
  # Place names at line ends: a paragraph whose first line would end in 城| 关镇 and whose second
  # would end in 示例| 县 (25 characters after the indent, then the township's name; 22 + 1
  # characters after it, then the county's).
  sample_office "$work/placenames"
  cp -r "$work/office/keys" "$work/placenames/"
  sed -i 's|  <h1>违法用地图斑情况</h1>|  <p>本段用于检验地名在行末不被拆开的排版效果看看一二三{township.name}和本段用于检验地名在行末不被拆开的排版效果再看一{office.county}的情况。</p>\n&|' \
    "$work/placenames/notice.xml"
  SOURCE_DATE_EPOCH=1732060800 "$tuban" render notice --office "$work/placenames" --date 2024-11-20 \
    --imagery "$src/samples/basemap.tif" --patches "$src/samples/patches.gpkg" --township 139901100 \
    --out "$work/placenames/out" >/dev/null 2>"$work/placenames.err"
  check "the place-name notice renders" test $? -eq 0
  pdftotext -bbox-layout "$work/placenames/out/notice-139901100.pdf" "$work/placenames.html"
fi

# One Python judge over all documents: each check prints "ok: ..." or "FAIL: ..." and figures.
python3 - "$work" "$out/summary.txt" "${tuban:+$work/notices}" >"$work/judge" 2>&1 <<'PY'
import glob, html, os, re, sys
work, summary_path, notices = sys.argv[1], sys.argv[2], sys.argv[3]
L, T, BW, BH, PAGE_H = 79.3701, 104.8819, 442.2047, 637.7953, 841.8898
PITCH, CELL, MM = BH / 22, BW / 28, 72 / 25.4
CLOSING = set("，。、；：！？）》」』】〕〗”’．")

summary = {}
for line in open(summary_path, encoding="utf-8"):
    name, rest = line.split(" ", 1)
    summary[name] = dict(re.findall(r"(\w+)=(\S+)", rest)) if "refused" not in rest else {"refused": rest}

def pages(name):
    doc = open(f"{work}/{name}.html", encoding="utf-8").read()
    out = []
    for page in re.findall(r"<page[^>]*>(.*?)</page>", doc, re.S):
        lines = []
        for x0, y0, x1, y1, body in re.findall(
                r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</line>', page, re.S):
            text = "".join(html.unescape(w) for w in re.findall(r"<word[^>]*>(.*?)</word>", body))
            lines.append(dict(x0=float(x0), y0=float(y0), x1=float(x1), y1=float(y1), text=text))
        # pdftotext cuts a line where glyph boxes overlap (punctuation compressed to half width
        # keeps its full-width box): one baseline is one line.
        merged = []
        for l in sorted(lines, key=lambda l: (round(l["y0"], 1), l["x0"])):
            m = merged[-1] if merged else None
            if m and abs(m["y0"] - l["y0"]) < 0.5 and abs(m["y1"] - l["y1"]) < 0.5:
                m["overlap"] = m["overlap"] or l["x0"] < m["x1"] - 0.5
                m["x1"], m["text"] = max(m["x1"], l["x1"]), m["text"] + l["text"]
            else:
                merged.append(dict(l, overlap=False))
        out.append(merged)
    return out

failures = 0
def check(what, ok, figures=""):
    global failures
    print(("ok: " if ok else "FAIL: ") + what + (f"  [{figures}]" if figures else ""))
    failures += 0 if ok else 1

def is_number(l):
    return re.fullmatch(r"—\s*\d+\s*—", l["text"]) is not None

def body_lines(page, size=16):
    """3号 lines inside the text block (page numbers excluded)."""
    heights = (size, size * 1.448)  # Fandol's box is the em; Noto CJK's is 1.448 em
    return [l for l in page if min(abs(l["y1"] - l["y0"] - h) for h in heights) < 0.3
            and T - 1 < l["y0"] < T + BH and not is_number(l)]

def han_only(s):
    return all(ord(c) > 0x2E80 for c in s)

def check_numbers(name, pgs, unnumbered=()):
    bad = []
    for i, page in enumerate(pgs, 1):
        nums = [l for l in page if is_number(l)]
        if i in unnumbered:
            if nums:
                bad.append(f"p{i} has a number")
            continue
        if len(nums) != 1 or int(re.sub(r"\D", "", nums[0]["text"])) != i:
            bad.append(f"p{i} number {[n['text'] for n in nums]}")
            continue
        n = nums[0]
        centre = (n["y0"] + n["y1"]) / 2 - (T + BH)
        if abs(centre - 7 * MM) > 2:
            bad.append(f"p{i} {centre / MM:.1f} mm below the block")
        if i % 2 and abs(n["x1"] - (L + BW - 14)) > 1.5:
            bad.append(f"p{i} right edge {n['x1']:.1f}")
        if i % 2 == 0 and abs(n["x0"] - (L + 14)) > 1.5:
            bad.append(f"p{i} left edge {n['x0']:.1f}")
    check(f"{name}: page numbers '— n —' 7 mm below the block, odd right / even left one character in"
          + (f", none on pages {sorted(unnumbered)}" if unnumbered else ""), not bad, "; ".join(bad))

def no_closing_at_start(name, pgs):
    starts = [(i, l["text"]) for i, p in enumerate(pgs, 1) for l in p if l["text"] and l["text"][0] in CLOSING]
    check(f"{name}: no line starts with closing punctuation", not starts, str(starts[:3]))

def red_in(name, page, rect_pdf):
    """Red pixels inside a PDF-space rectangle of a page rendered at 60 dpi (pdftoppm PPM)."""
    files = sorted(glob.glob(f"{work}/{name}-*.ppm"))
    data = open(files[page - 1], "rb").read()
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", data)
    w, h = int(m.group(1)), int(m.group(2))
    px = data[m.end():]
    s = 60 / 72
    x, y, rw, rh = rect_pdf
    red = 0
    for py in range(int((PAGE_H - y - rh) * s), int((PAGE_H - y) * s)):
        for qx in range(int(x * s), int((x + rw) * s)):
            r, g, b = px[3 * (py * w + qx): 3 * (py * w + qx) + 3]
            red += r > 180 and g < 120 and b < 120
    return red

# --- conformance: a multi-page 文件格式 notice ----------------------------------------------------
pgs = pages("conformance")
seal_page = int(summary["conformance"]["seal_page"])
text_pages = [i for i, p in enumerate(pgs, 1) if len(body_lines(p)) > 2 and i <= seal_page]
lefts = [l["x0"] - L for i in text_pages for l in body_lines(pgs[i - 1]) if l["x0"] < L + CELL / 2]
check("conformance: body left edge 28 ± 0.5 mm on every unindented line", lefts and max(abs(d) for d in lefts) < 0.5 * MM,
      f"{len(lefts)} lines, left edge {28 + min(lefts) / MM:.3f}..{28 + max(lefts) / MM:.3f} mm")
OPENING = set("（《「『【〔〖“‘")
full, pushed_in, pushed_out = [], [], []
for i in text_pages:
    lines = body_lines(pgs[i - 1])
    for k, l in enumerate(lines):
        if not (han_only(l["text"]) and l["x1"] > L + BW - CELL / 2):
            continue
        n = len(l["text"]) + round((l["x0"] - L) / CELL)
        nxt = lines[k + 1]["text"] if k + 1 < len(lines) else ""
        if l["overlap"]:
            pushed_in.append(n)   # closing punctuation compressed to take one more mark
        elif nxt and (nxt[0] in OPENING or nxt[0].isascii()):
            pushed_out.append(n)  # an opening mark, or a number or id that is never broken, moved on
        else:
            full.append(n)
            if n != 28:
                print("  line of", n, "characters:", l["text"], "| next:", nxt)
check("conformance: 28 characters (indent included) on every full line of CJK text",
      full and all(n == 28 for n in full),
      f"{len(full)} full lines with {sorted(set(full))} characters; pushed in {pushed_in}, pushed out {pushed_out}")
check("conformance: lines pushed in hold 29–30 characters, pushed out fewer than 28 (justified)",
      all(28 < n <= 30 for n in pushed_in) and all(n < 28 for n in pushed_out))
run_off = [i for i in text_pages if i + 1 in text_pages and i > 1]
per_page = {i: len(body_lines(pgs[i - 1])) for i in run_off}
check("conformance: 22 lines on every page the text runs off", run_off and all(n == 22 for n in per_page.values()),
      f"lines per page {per_page}")
steps = []
for i in run_off:  # 仿宋 lines only: other fonts' boxes sit differently on the same grid
    ys = sorted(l["y0"] for l in body_lines(pgs[i - 1]) if abs(l["y1"] - l["y0"] - 16) < 0.3)
    steps += [b - a for a, b in zip(ys, ys[1:])]
check("conformance: lines on the 28.99 pt grid (225 mm / 22)",
      steps and all(abs(s / PITCH - round(s / PITCH)) * PITCH < 0.05 for s in steps),
      f"{len(steps)} steps, smallest {min(steps):.3f} pt")
seal_top = PAGE_H - float(summary["conformance"]["seal_y"]) - float(summary["conformance"]["seal_w"])
above = [l for l in body_lines(pgs[seal_page - 1]) if l["y1"] <= seal_top + 1]
check("conformance: the seal page carries body text", len(above) >= 2, f"page {seal_page}: {len(above)} lines above the seal")
gap = seal_top - max(l["y1"] for l in above)
check("conformance: the seal's top within one line of the text above", 0 <= gap <= PITCH, f"{gap:.1f} pt")
no_closing_at_start("conformance", pgs)
check_numbers("conformance", pgs)
heads = [i for i, p in enumerate(pgs, 1) if any("图斑编号" in l["text"] for l in p)]
check("conformance: the table's head row repeated on every page it runs over", len(heads) >= 2, f"pages {heads}")

# --- headkeep: a table's head row never alone at a page foot -------------------------------------
pgs = pages("headkeep")
orphans, moved = [], 0
for i, p in enumerate(pgs, 1):
    head = [l for l in p if "图斑编号" in l["text"]]
    rows = [l for l in p if re.search(r"139901SJBG", l["text"])]
    if head and not [r for r in rows if r["y0"] > head[0]["y0"]]:
        orphans.append(i)
    if head and not [l for l in body_lines(p) if l["y1"] < head[0]["y0"]]:
        moved += 1
check("headkeep: every head row has a body row below it on its page; some moved to a page of their own",
      not orphans and moved >= 1, f"{len(pgs)} pages, orphaned heads on pages {orphans}, {moved} heads moved")

# --- the page before the seal page: never short (GB/T 9704 7.2.4, docs/typesetting.md) -----------
def foot_gap(page):
    """How far the centre of a page's last 3号 line sits above the centre of the grid's last line."""
    lines = body_lines(page)
    return (T + BH - PITCH / 2) - max((l["y0"] + l["y1"]) / 2 for l in lines) if lines else None

def pages_full(name, pgs, seal_page):
    gaps = {i: foot_gap(pgs[i - 1]) for i in range(1, seal_page)}
    check(f"{name}: every page before the seal page ends on the block's last line (not short)",
          all(g is not None and abs(g) < PITCH / 4 for g in gaps.values()),
          ", ".join(f"p{i} {g:.1f} pt" if g is not None else f"p{i} empty" for i, g in gaps.items()) or "seal on page 1")

def steps_of(page):
    ys = sorted(l["y0"] for l in body_lines(page) if abs(l["y1"] - l["y0"] - body_lines(page)[0]["y1"] + body_lines(page)[0]["y0"]) < 0.3)
    return [b - a for a, b in zip(ys, ys[1:])]

def chars_of_full_lines(pgs, upto):
    """(characters, indent included) of every CJK line set across the whole measure."""
    return [len(l["text"]) + round((l["x0"] - L) / CELL) for p in pgs[:upto] for l in body_lines(p)
            if han_only(l["text"]) and l["x1"] > L + BW - CELL / 2]

for name in ("conformance", "upward", "extras"):
    pages_full(name, pages(name), int(summary[name]["seal_page"]))

# --- exact: one-line paragraphs end on the last line of page 2 ------------------------------------
pgs = pages("exact")
s = summary["exact"]
n = [len(body_lines(p)) for p in pgs]
check("exact: the block needs more than tightening gives (pitch ≥ 80 %), so the seal page carries two "
      "body lines taken over from page 2",
      n[0] == 22 and n[1] == 20 and int(s["seal_page"]) == len(pgs) == 3 and n[-1] == 2 + 2, f"lines per page {n}")
pages_full("exact", pgs, 3)
st = steps_of(pgs[1])
check("exact: no paragraph can take a line more, so page 2's 20 lines are spaced evenly over the block (BH / 20)",
      st and all(abs(x - BH / 20) < 0.05 for x in st), f"steps {min(st):.2f}..{max(st):.2f} pt, grid {PITCH:.2f}")

# --- exactpara: paragraphs of several lines end on the last line of page 2 ------------------------
pgs = pages("exactpara")
n = [len(body_lines(p)) for p in pgs]
check("exactpara: pages 1 and 2 keep 22 lines; two lines run on to the seal page with the block",
      n == [22, 22, 4] and int(summary["exactpara"]["seal_page"]) == 3, f"lines per page {n}")
pages_full("exactpara", pgs, 3)
st = steps_of(pgs[1])
check("exactpara: page 2's lines stay on the 28.99 pt grid", st and all(abs(x - PITCH) < 0.05 for x in st),
      f"{len(st)} steps")
full = chars_of_full_lines(pgs, 2)
loose = [c for c in full if c != 28]
check("exactpara: two paragraphs loosened by a line each (26–27 characters across the measure), the other lines 28",
      8 <= len(loose) <= 10 and all(26 <= c <= 27 for c in loose), f"{len(full)} full lines, loosened {loose}")

# --- exactnote: the 附件说明 ends on the last line of page 2, a 附注 follows --------------------------
pgs = pages("exactnote")
last = pgs[-1]
texts = [l["text"] for l in sorted(body_lines(last), key=lambda l: l["y0"])]
check("exactnote: the 附件说明 goes over whole, with two body lines above it, onto the seal page",
      int(summary["exactnote"]["seal_page"]) == len(pgs) == 3 and len(texts) >= 8
      and texts[2].startswith("附件：1.") and texts[3].startswith("2.") and texts[0].startswith("本段")
      and any(t.startswith("（联系人") for t in texts[-3:]), " | ".join(texts))
pages_full("exactnote", pgs, 3)
n2 = len(body_lines(pgs[1]))
st = steps_of(pgs[1])
loose = [c for c in chars_of_full_lines(pgs[1:2], 1) if c != 28]
check("exactnote: on page 2 three paragraphs take a line more each, and the line spacing opens by the two "
      "lines left (20 lines, BH / 20)", n2 == 20 and loose and all(26 <= c <= 27 for c in loose)
      and st and all(abs(x - BH / 20) < 0.05 for x in st), f"{n2} lines, loosened {loose}, steps {min(st):.2f} pt")

# --- endline21: the body ends one line before the foot of page 2 -----------------------------------
pgs = pages("endline21")
st = steps_of(pgs[1])
pitch = sorted(st)[len(st) // 2]
check("endline21: the block fits on page 2 once its line pitch is tightened (≥ 80 % of the grid)",
      len(pgs) == 2 and int(summary["endline21"]["seal_page"]) == 2 and 0.8 * PITCH - 0.05 <= pitch < PITCH - 1,
      f"pitch {pitch:.2f} pt")

# --- short1: the signature block lacks one line: the page is tightened, not broken -------------
pgs = pages("short1")
lines = body_lines(pgs[0])
ys = sorted(l["y0"] for l in lines)
pitch = sorted(b - a for a, b in zip(ys, ys[1:]))[len(ys) // 2]
check("short1: one page, 18 body lines with 署名 and date, all inside the block",
      len(pgs) == 1 and len(lines) == 20 and max(l["y1"] for l in pgs[0] if not is_number(l)) <= T + BH,
      f"{len(lines)} lines, pitch {pitch:.2f} pt (grid 28.99)")
check("short1: line pitch tightened by one line (225 mm / 23), not more", abs(pitch - BH / 23) < 0.05, f"{pitch:.2f} pt")
check("short1: seal drawn (red) at the returned rectangle",
      red_in("short1", 1, [float(summary["short1"][k]) for k in ("seal_x", "seal_y", "seal_w", "seal_w")]) > 50)

# --- cc3: a three-line 抄送 -----------------------------------------------------------------------
pgs = pages("cc3")
last = pgs[-1]
small = sorted([l for l in last if abs(l["y1"] - l["y0"] - 14) < 0.3 and not is_number(l)], key=lambda l: (l["y0"], l["x0"]))
cc = [l for l in small if "印发" not in l["text"] and "办公室" in l["text"] or l["text"].endswith("。")]
first = [l for l in small if l["text"].startswith("抄送：")]
printed = [l for l in small if "印发" in l["text"]]
ok = len(first) == 1 and printed
if ok:
    top = first[0]["y0"]
    cc_lines = [l for l in small if top - 1 <= l["y0"] < printed[0]["y0"] - 1]
    name_x = first[0]["x0"] + 3 * 14
    cont = cc_lines[1:]
    check("cc3: 抄送 wraps onto three lines, ended with 。", len(cc_lines) == 3 and cc_lines[-1]["text"].endswith("。"),
          f"{len(cc_lines)} lines")
    check("cc3: continuation lines aligned after 抄送：", cont and all(abs(l["x0"] - name_x) < 1 for l in cont),
          ", ".join(f"{l['x0']:.1f}" for l in cont) + f" vs {name_x:.1f}")
    check("cc3: the 印发 row below the last 抄送 line, on the block's bottom line",
          printed[0]["y0"] - cc_lines[-1]["y1"] > 5 and T + BH - PITCH < printed[0]["y1"] <= T + BH)
    check("cc3: 抄送 indented one character (4号)", abs(first[0]["x0"] - (L + 14)) < 1, f"{first[0]['x0'] - L:.1f} pt")
else:
    check("cc3: 抄送 and 印发 rows found", False)
check_numbers("cc3", pgs)
name = [l for p in pgs for l in p if l["text"] == "示例县自然资源局"]
date = [l for p in pgs for l in p if l["text"] == "2024年11月20日"]
check("cc3 (no seal): 署名 right-indented two characters, the date below it two characters further right",
      name and date and abs(name[0]["x1"] - (L + BW - 2 * CELL)) < 1 and abs(date[0]["x0"] - (name[0]["x0"] + 2 * CELL)) < 1
      and abs(date[0]["y0"] - name[0]["y0"] - PITCH) < 0.1 and summary["cc3"]["seal_page"] == "0",
      f"署名 ends {name[0]['x1'] - L:.1f} pt, date starts {date[0]['x0'] - name[0]['x0']:.1f} pt right of it" if name and date else "")

# --- tallcell: a cell longer than a page is split over pages, finitely ------------------------
pgs = pages("tallcell")
heads = [i for i, p in enumerate(pgs, 1) if any("图斑编号" in l["text"] for l in p)]
check("tallcell: the long cell runs over several pages, each with the head row repeated",
      len(pgs) > 3 and heads == list(range(1, len(pgs) + 1)), f"{len(pgs)} pages, heads on {len(heads)}")
inside = all(l["y1"] <= T + BH + 0.5 for p in pgs for l in p if not is_number(l))
check("tallcell: every line inside the block", inside)

# --- rowspan: a group of rows tied by a spanning cell runs over pages -------------------------
def words(name):
    doc = open(f"{work}/{name}.html", encoding="utf-8").read()
    return [[dict(x0=float(a), y0=float(b), x1=float(c), y1=float(d), text=html.unescape(w))
             for a, b, c, d, w in re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', page)]
            for page in re.findall(r"<page[^>]*>(.*?)</page>", doc, re.S)]
wp = words("rowspan")
def column(page, x0_mm, x1_mm):
    """Words starting in a column, inside the block (punctuation compressed at a line end keeps
    its full-width box in pdftotext, so a word's right edge may pass the column's by half a
    character)."""
    return [w for w in page if L + x0_mm * MM - 1 < w["x0"] < L + x1_mm * MM and w["y1"] < T + BH + 1]
ids = [[int(w["text"][-4:]) for w in p if re.fullmatch(r"139901SJBG2421\d{4}", w["text"])] for p in wp]
town_pages = [i for i, p in enumerate(wp, 1) if any(w["text"] == "城关镇" for w in column(p, 0, 22))]
cg_pages = [i for i, p in enumerate(ids, 1) if any(n <= 50 for n in p)]
beside = all(any(w["text"] == "城关镇" and min(v["y0"] for v in p if v["text"].startswith("139901")) < w["y0"]
                 < max(v["y1"] for v in p if v["text"].startswith("139901")) for w in column(p, 0, 22))
             for i, p in enumerate(wp, 1) if i in cg_pages)
check("rowspan: 城关镇 (50 rows over pages) is named beside its rows on every page they are on",
      len(cg_pages) >= 2 and town_pages == cg_pages and beside, f"rows on pages {cg_pages}, name on {town_pages}")
note = next(l.split(" ", 1)[1].strip() for l in open(summary_path, encoding="utf-8") if l.startswith("rowspan_note "))
note_pages = [i for i, p in enumerate(wp, 1) if column(p, 99, 156) and any(w["text"] != "备注" and w["text"] != "—" for w in column(p, 99, 156))]
got = "".join(w["text"] for p in wp for w in sorted(column(p, 99, 156), key=lambda w: (round(w["y0"]), w["x0"]))
              if w["text"] not in ("备注", "—"))
check("rowspan: the spanning 备注 continues over the pages, every character once, in order",
      got == note.replace(" ", "") and len(note_pages) >= 2, f"{len(got)} of {len(note)} characters, on pages {note_pages}")
inside = all(w["y1"] <= T + BH + 0.5 for p in wp for w in p if not re.fullmatch(r"—|\d+", w["text"]))
check("rowspan: every cell's text inside the block", inside)
check("rowspan: every row once, in order", sum(ids, []) == list(range(1, 55)), f"{len(sum(ids, []))} rows")

# --- 附注 beside the seal: on the line below the date, never under the seal -------------------
for name in ("conformance", "exactnote"):
    sm = summary[name]
    sp, sx, sw = int(sm["seal_page"]), float(sm["seal_x"]), float(sm["seal_w"])
    top, bottom = PAGE_H - float(sm["seal_y"]) - sw, PAGE_H - float(sm["seal_y"])
    page = words(name)[sp - 1]
    date = [w for w in page if w["text"] == "2024年11月20日"]
    note = [w for w in page if date and w["y0"] > date[0]["y0"] + 1 and w["y1"] < T + BH + 1]
    under = [w["text"] for w in note if w["x0"] < sx + sw and w["x1"] > sx and w["y0"] < bottom and w["y1"] > top]
    first = min((w["y0"] for w in note), default=0)
    check(f"{name}: the 附注 starts on the line below the date and no word of it lies under the seal",
          date and note and note[0]["text"].startswith("（") and 0.7 * PITCH < first - date[0]["y0"] < 1.1 * PITCH
          and not under, f"{len(note)} words, {first - date[0]['y0']:.1f} pt below the date, under the seal: {under}" if date else "no date")

# --- limits: refusals that name the record and field -----------------------------------------
for name in ("limit", "hugecell"):
    r = summary.get(name, {}).get("refused", "")
    check(f"{name}: refused with TB_ELIMIT naming record and field", "code=3" in r and "record" in r and "WFLX" in r, r.strip())

# --- extras: 信函格式, duplex, 目录, landscape, figures, watermark ----------------------------------
pgs = pages("extras")
cc_page = [i for i, p in enumerate(pgs, 1) if any(l["text"].startswith("抄送") for l in p)]
blank = [i for i, p in enumerate(pgs, 1) if not [l for l in p if l["text"] not in ("样", "稿")]]
lone = [i for i in cc_page if not body_lines(pgs[i - 1])]
check("extras (duplex): the 版记 falls on an even page", cc_page and cc_page[0] % 2 == 0, f"page {cc_page}, blank {blank}")
check_numbers("extras (信函格式)", pgs, unnumbered={1, *blank, *lone})
toc = [l["text"] for l in pgs[0] if re.search(r"(工作开展情况|图斑核查|下一步工作)\d+$", l["text"])]
heading = min(i for i, p in enumerate(pgs, 1) for l in p if l["text"] == "一、工作开展情况")
check("extras: 目录 lines carry page numbers (the first one's heading is on its page)",
      len(toc) == 3 and toc[0].endswith(str(heading)), f"{toc}, heading on page {heading}")
first_line = min((l for l in pgs[0] if "示自然资函" in l["text"]), key=lambda l: l["y0"], default=None)
check("extras: 发文字号 flush right under the double rule", first_line is not None and abs(first_line["x1"] - (L + BW)) < 1.5)
import json
outl = json.load(open(f"{work}/extras.outlines.json"))["outlines"]
shape = [(o["title"], o["destpageposfrom1"], [(k["title"], k["destpageposfrom1"]) for k in o["kids"]]) for o in outl]
check("extras: PDF outline from the sections, nested by level, pages as in the 目录",
      [t for t, _, _ in shape] == ["一、工作开展情况", "二、下一步工作"] and shape[0][2] and shape[0][2][0][0] == "（一）图斑核查"
      and [str(p) for _, p, _ in shape] == [re.sub(r"\D", "", t) for t in (toc[0], toc[2])], str(shape))
both = [i for i, p in enumerate(pgs, 1) if {"2", "3"} <= {m.group(1) for l in p for m in [re.match(r"图(\d)139901SJBG", l["text"])] if m}]
check("extras: two 95 mm figures (with panel captions) on one page", both, f"pages {both}")
check("extras: watermark on every page", all({"样", "稿"} <= {l["text"] for l in p} for p in pgs))
no_closing_at_start("extras", pgs)

# --- the sample notices: the seal page carries body text, no page before it ends short ------------
for pdf in sorted(glob.glob(f"{notices}/*.pdf")) if notices else []:
    name = os.path.basename(pdf)[:-4]
    pgs = pages(name)
    dated = [i for i, p in enumerate(pgs, 1) for l in body_lines(p)
             if l["text"] == "2024年11月20日" and l["x0"] > L + BW / 2]
    if not dated:
        check(f"{name}: the 成文日期 found", False)
        continue
    seal_page = dated[0]
    date_y = min(l["y0"] for l in body_lines(pgs[seal_page - 1]) if l["text"] == "2024年11月20日")
    above = [l for l in body_lines(pgs[seal_page - 1]) if l["y1"] < date_y - 3 * PITCH]
    pages_full(name, pgs, seal_page)
    st = steps_of(pgs[seal_page - 1])
    check(f"{name}: the seal page (p{seal_page}) carries body text, its pitch at least 75 % of the grid",
          len(above) >= 2 and st and min(st) >= 0.75 * PITCH - 0.05,
          f"{len(above)} lines above the block, pitch {min(st):.2f}..{max(st):.2f} pt")

# --- place names: the office's townships and county never split at a line end ------------------
if notices and os.path.exists(f"{work}/placenames.html"):
    names = ["南湖街道", "城关镇", "西岭镇", "东河乡", "示例县"]
    lines = [l["text"] for p in pages("placenames") for l in sorted(p, key=lambda l: l["y0"]) if not is_number(l)]
    split = [(a, b) for a, b in zip(lines, lines[1:]) for n in names for k in range(1, len(n))
             if a.endswith(n[:k]) and b.startswith(n[k:])]
    starts = [l for l in lines if l.startswith("城关镇和") or l.startswith("示例县的")]
    check("placenames: 城关镇 and 示例县, set where a line would end inside them, start the next line whole",
          not split and len(starts) == 2, f"split: {split}, lines starting with them: {starts}")

# --- upward: 上行文 with 签发人 ---------------------------------------------------------------------
pgs = pages("upward")
docno = [l for l in pgs[0] if "示自然资报" in l["text"]]
signer = [l for l in pgs[0] if "李四" in l["text"]]
check("upward: 发文字号 left (one character in), 签发人 right on the same line",
      docno and signer and abs(docno[0]["x0"] - (L + CELL)) < 1 and abs(docno[0]["y0"] - signer[0]["y0"]) < 1
      and abs(signer[0]["x1"] - (L + BW - CELL)) < 1.5)
cc_page = [i for i, p in enumerate(pgs, 1) if any(l["text"].startswith("抄送") for l in p)]
check("upward (duplex): the 版记 falls on an even page", cc_page and cc_page[0] % 2 == 0, f"page {cc_page} of {len(pgs)}")
sys.exit(1 if failures else 0)
PY
rc=$?
cat "$work/judge"
passed=$((passed + $(grep -c '^ok:' "$work/judge")))
failed=$((failed + $(grep -c '^FAIL:' "$work/judge")))
[ $rc -eq 0 ] || [ "$failed" -gt 0 ] || fail "the judge itself failed"
finish
