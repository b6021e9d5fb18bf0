#!/usr/bin/python3
# -*- coding: utf-8 -*-
"""Draw the SPECIMEN seal of a fictional office (default 示例县自然资源局).

Output: templates/sample-office/seal.png (or the given office's folder) — RGBA, transparent background,
42 mm diameter at 600 dpi (992 x 992 px), red ring, five-pointed star,
office name along the upper arc and the word 样章 ("specimen") below the star.
This is not a real seal; the office does not exist.

Deterministic; needs python3-cairo (and python3-pil for PNG optimisation).
Font: Noto Serif CJK SC Bold via fontconfig (fonts-noto-cjk), fallback FandolSong.
Run:  /usr/bin/python3 scripts/make_seal.py [office-folder office-name]
      e.g. scripts/make_seal.py sample-gov-office 示例县人民政府办公室
"""
import io
import math
import os
import sys

import cairo
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDER, NAME = (sys.argv[1], sys.argv[2]) if len(sys.argv) == 3 else ("sample-office", "示例县自然资源局")
OUT = os.path.join(ROOT, "templates", FOLDER, "seal.png")

DPI = 600
DIAM_MM = 42.0
MM = DPI / 25.4                     # px per mm
SIZE = int(round(DIAM_MM * MM))     # 992
C = SIZE / 2.0
RED = (0xE6 / 255.0, 0.0, 0.0)
ALPHA = 0.92

BOTTOM = "样章"
FONT = "Noto Serif CJK SC"

R_OUT = (DIAM_MM / 2 - 0.25) * MM   # outer edge of the ring (small margin for antialiasing)
RING = 1.2 * MM                     # ring thickness
STAR_R = 7.0 * MM                   # star circumradius (14 mm star for a 42 mm seal)
ARC_SPAN = math.radians(225.0)      # span of the office name (centre of first to last char + 1 char)
CHAR_H = 6.3 * MM                   # glyph height of the arc text
CHAR_XSCALE = 0.76                  # seal characters are condensed
GAP_TO_RING = 1.0 * MM
BOTTOM_H = 4.8 * MM
STROKE_BOOST = 0.10 * MM          # outline added to glyphs
BOTTOM_Y = 11.2 * MM                # centre of 样章 below the seal centre


def glyph(ctx, ch, height, xscale):
    """Add the path of one character centred on (0,0) (ink box); a full-height
    reference glyph (国) gets ink height `height`."""
    ctx.save()
    ctx.select_font_face(FONT, cairo.FONT_SLANT_NORMAL, cairo.FONT_WEIGHT_BOLD)
    ctx.set_font_size(100.0)
    ref_h = ctx.text_extents("国")[3]
    ctx.set_font_size(100.0 * height / ref_h)
    xb, yb, w, h, _, _ = ctx.text_extents(ch)
    ctx.scale(xscale, 1.0)
    ctx.move_to(-(xb + w / 2), -(yb + h / 2))
    ctx.text_path(ch)
    ctx.restore()


def main():
    surf = cairo.ImageSurface(cairo.FORMAT_ARGB32, SIZE, SIZE)
    ctx = cairo.Context(surf)
    ctx.set_antialias(cairo.ANTIALIAS_BEST)
    ctx.set_source_rgb(*RED)
    ctx.push_group()
    ctx.set_source_rgb(*RED)

    # ring
    ctx.set_line_width(RING)
    ctx.arc(C, C, R_OUT - RING / 2, 0, 2 * math.pi)
    ctx.stroke()

    # five-pointed star, one point up
    pts = []
    for k in range(10):
        r = STAR_R if k % 2 == 0 else STAR_R * 0.382
        a = -math.pi / 2 + k * math.pi / 5
        pts.append((C + r * math.cos(a), C + r * math.sin(a)))
    ctx.move_to(*pts[0])
    for p in pts[1:]:
        ctx.line_to(*p)
    ctx.close_path()
    ctx.fill()

    # office name along the upper arc, characters upright relative to the arc
    n = len(NAME)
    step = ARC_SPAN / n
    r_text = R_OUT - RING - GAP_TO_RING - CHAR_H / 2
    for i, ch in enumerate(NAME):
        a = -math.pi / 2 + (i - (n - 1) / 2) * step
        ctx.save()
        ctx.translate(C + r_text * math.cos(a), C + r_text * math.sin(a))
        ctx.rotate(a + math.pi / 2)
        glyph(ctx, ch, CHAR_H, CHAR_XSCALE)
        ctx.fill_preserve()
        ctx.set_line_width(STROKE_BOOST)   # thicken hairlines: seal strokes are more uniform
        ctx.stroke()
        ctx.restore()

    # 样章 below the star, horizontal
    adv = BOTTOM_H * 1.35
    for i, ch in enumerate(BOTTOM):
        ctx.save()
        ctx.translate(C + (i - (len(BOTTOM) - 1) / 2) * adv, C + BOTTOM_Y)
        glyph(ctx, ch, BOTTOM_H, 0.95)
        ctx.fill_preserve()
        ctx.set_line_width(STROKE_BOOST)
        ctx.stroke()
        ctx.restore()

    ctx.pop_group_to_source()
    ctx.paint_with_alpha(ALPHA)

    buf = io.BytesIO()
    surf.write_to_png(buf)
    buf.seek(0)
    im = Image.open(buf).convert("RGBA")
    # quantise to a small palette (red with alpha levels) for a compact PNG
    im = im.quantize(colors=64, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    im.save(OUT, optimize=True, dpi=(DPI, DPI))
    print(OUT, SIZE, "px,", os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
