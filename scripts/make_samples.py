#!/usr/bin/python3
# -*- coding: utf-8 -*-
"""Generate the tuban sample data set (developer tool; outputs are committed).

Everything here is FICTIONAL: county 示例县 (code 139901) does not exist, and
the base image is synthesised procedurally (no real imagery is used).

Outputs (relative to the repository root):
  samples/basemap.tif            RGB GeoTIFF, EPSG:4548, 1.5 m, JPEG/YCbCr, tiled, overviews
  samples/patches.gpkg           layer "patches", EPSG:4490, 35 polygons, standard field names
  tests/data/gbk_cpg/patches.shp Shapefile, EPSG:4548, GBK attributes + .cpg, alias field names
  tests/data/small.geojson       5 patches, lon/lat, standard field names

Deterministic: fixed seed (SEED below), GPKG timestamps pinned via OGR_CURRENT_DATE.
Run:  /usr/bin/python3 scripts/make_samples.py   (needs python3-gdal, python3-numpy, python3-pil)
"""
import math
import os
import random
import shutil
import sys

import numpy as np
from osgeo import gdal, ogr, osr
from PIL import Image, ImageDraw, ImageFilter

gdal.UseExceptions()
ogr.UseExceptions()
gdal.SetConfigOption("OGR_CURRENT_DATE", "2024-11-01T00:00:00Z")

SEED = 20241101
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "samples")
TESTDATA = os.path.join(ROOT, "tests", "data")

EPSG_GEO = 4490   # CGCS2000 geographic
EPSG_GK = 4548    # CGCS2000 / 3-degree Gauss-Kruger CM 117E (no zone prefix in easting)

# Image extent in EPSG:4548 (around 117.1E 35.2N) and pixel size.
X0, Y0 = 507100.0, 3895300.0
WIDTH_M, HEIGHT_M = 4050.0, 3000.0
RES = 1.5
W, H = int(WIDTH_M / RES), int(HEIGHT_M / RES)   # 2700 x 2000
X1, Y1 = X0 + WIDTH_M, Y0 + HEIGHT_M
FIELD_ANGLE = math.radians(6.0)   # orientation of the field system

COUNTY = "139901"
TOWNS = {  # name -> (code, zone test on local coords in metres from the SW corner)
    "西岭镇": "139901102",
    "城关镇": "139901100",
    "南湖街道": "139901001",
    "东河乡": "139901201",
}
SPLIT_X, SPLIT_Y = 2000.0, 1500.0


def zone_of(lx, ly):
    if ly > SPLIT_Y:
        return "西岭镇" if lx < SPLIT_X else "城关镇"
    return "南湖街道" if lx < SPLIT_X else "东河乡"


def zone_box(name):
    m = 40.0
    if name == "西岭镇":
        return (m, SPLIT_X - m, SPLIT_Y + m, HEIGHT_M - m)
    if name == "城关镇":
        return (SPLIT_X + m, WIDTH_M - m, SPLIT_Y + m, HEIGHT_M - m)
    if name == "南湖街道":
        return (m, SPLIT_X - m, m, SPLIT_Y - m)
    return (SPLIT_X + m, WIDTH_M - m, m, SPLIT_Y - m)


# --------------------------------------------------------------------------
# Patch specification (30 patches; EXTRA_SPEC below adds 5).  Areas are targets; JCMJ is measured.
# kind: illegal / legal / other; render: what the after-image shows.
# --------------------------------------------------------------------------
# fields: town, PDJG, detail(WFLX|HFSJYT|QTSJYT), area, f_gd, f_yj, ZGCS, ZGZT, ZGQX,
#         SFNCLZGDJF, TBLX, render, BZ, PZWH, earlier id
SPEC = [
    # ---- 违法用地 (12): 城关镇 5, 东河乡 4, 南湖街道 3, 西岭镇 0
    ("城关镇", "违法用地", "违法占地", 4800, 0.97, 0.78, "拆除复耕", "未整改", "2025-03-31", "否", "土地", "factory",
     "企业违规扩建厂房及硬化场地", "", "139901SJBG23210012"),
    ("城关镇", "违法用地", "未报即用", 12600, 0.65, 0.0, "补办手续", "整改中", "2025-06-30", "否", "土地", "yard",
     "物流园区项目未批先建，正在补办用地手续", "", ""),
    ("城关镇", "违法用地", "违法占地", 420, 1.0, 0.0, "拆除复耕", "已整改", "2024-12-31", "是", "土地", "house",
     "村民占用耕地建房，已拆除", "", ""),
    ("城关镇", "违法用地", "边报边用", 2650, 0.68, 0.0, "补办手续", "已验收", "2024-12-31", "否", "土地", "road",
     "县道改扩建工程边报边用，已取得批复", "", ""),
    ("城关镇", "违法用地", "超占用地", 960, 0.32, 0.0, "拆除复绿", "整改中", "2025-03-31", "否", "土地", "bare",
     "超出批准范围堆放建材", "", ""),
    ("东河乡", "违法用地", "违法占地", 5400, 0.95, 0.72, "拆除复耕", "未整改", "2025-03-31", "否", "土地", "farm",
     "养殖场违规扩建圈舍", "", ""),
    ("东河乡", "违法用地", "违法占地", 310, 1.0, 0.0, "拆除复耕", "已验收", "2024-12-31", "是", "土地", "house",
     "村民占用耕地建房，已拆除复耕", "", ""),
    ("东河乡", "违法用地", "违法占地", 3600, 0.33, 0.0, "立案查处", "未整改", "2025-06-30", "否", "矿产", "pit",
     "河道旁无证采砂，已移交立案", "", ""),
    ("东河乡", "违法用地", "未报即用", 1850, 0.88, 0.0, "立案查处", "整改中", "2025-03-31", "否", "土地", "factory",
     "光伏配套升压站未批先建", "", ""),
    ("南湖街道", "违法用地", "违法占地", 680, 0.96, 0.0, "拆除复耕", "已整改", "2024-12-31", "是", "土地", "house",
     "占用耕地建设停车场及管理房", "", ""),
    ("南湖街道", "违法用地", "超占用地", 1240, 0.79, 0.0, "拆除复绿", "未整改", "2025-03-31", "否", "土地", "bare",
     "学校扩建超出批准范围", "", ""),
    ("南湖街道", "违法用地", "违法占地", 7600, 0.91, 0.41, "立案查处", "未整改", "2025-06-30", "否", "土地", "factory",
     "砖厂违法占地，已立案查处", "", "139901SJBG22210031"),
    # ---- 合法用地 (10)
    ("西岭镇", "合法用地", "建设用地审批", 15000, 0.82, 0.0, "", "", "", "否", "土地", "construction",
     "工业园区标准厂房项目", "冀政转征函〔2023〕117号", ""),
    ("西岭镇", "合法用地", "建设用地审批", 3500, 0.60, 0.0, "", "", "", "否", "土地", "construction",
     "镇卫生院迁建项目", "冀政转征函〔2024〕23号", ""),
    ("西岭镇", "合法用地", "城乡建设用地增减挂钩", 2100, 0.0, 0.0, "", "", "", "否", "土地", "bare",
     "增减挂钩拆旧区复垦", "示自然资字〔2024〕8号", ""),
    ("城关镇", "合法用地", "建设用地审批", 9800, 0.74, 0.0, "", "", "", "否", "土地", "construction",
     "城关镇安置小区项目", "冀政转征函〔2023〕89号", ""),
    ("城关镇", "合法用地", "先行用地", 6200, 0.55, 0.0, "", "", "", "否", "土地", "road",
     "省道改建工程先行用地", "自然资用地〔2024〕35号", ""),
    ("城关镇", "合法用地", "建设用地审批", 1400, 0.40, 0.0, "", "", "", "否", "土地", "construction",
     "污水处理站扩建", "冀政转征函〔2024〕41号", ""),
    ("东河乡", "合法用地", "建设用地审批", 8800, 0.86, 0.0, "", "", "", "否", "土地", "construction",
     "农产品冷链物流中心", "冀政转征函〔2023〕152号", ""),
    ("东河乡", "合法用地", "建设用地审批", 2700, 0.50, 0.0, "", "", "", "否", "土地", "construction",
     "乡综合文化站", "冀政转征函〔2024〕17号", ""),
    ("南湖街道", "合法用地", "建设用地审批", 4300, 0.63, 0.0, "", "", "", "否", "土地", "construction",
     "南湖小学扩建", "冀政转征函〔2023〕131号", ""),
    ("南湖街道", "合法用地", "先行用地", 1100, 0.20, 0.0, "", "", "", "否", "土地", "road",
     "防洪堤加固工程先行用地", "自然资用地〔2024〕12号", ""),
    # ---- 其他用地 (8)
    ("西岭镇", "其他用地", "实地未变化", 3200, 1.0, 0.85, "", "", "", "否", "土地", "field",
     "实地仍为耕地，影像色调差异", "", "139901SJBG23210005"),
    ("西岭镇", "其他用地", "设施农用地", 5800, 0.97, 0.0, "", "", "", "否", "土地", "greenhouse",
     "蔬菜大棚，已备案", "", ""),
    ("西岭镇", "其他用地", "农业结构调整", 2400, 0.90, 0.0, "", "", "", "否", "土地", "orchard",
     "耕地改种果树", "", ""),
    ("城关镇", "其他用地", "临时用地", 880, 0.45, 0.0, "", "", "", "否", "土地", "bare",
     "道路施工临时用地，期满将复垦", "", ""),
    ("东河乡", "其他用地", "伪变化", 1600, 1.0, 0.60, "", "", "", "否", "土地", "field",
     "作物收割造成的伪变化", "", ""),
    ("东河乡", "其他用地", "农业结构调整", 350, 0.80, 0.0, "", "", "", "否", "土地", "pond",
     "坑塘养殖", "", ""),
    ("南湖街道", "其他用地", "设施农用地", 4100, 0.93, 0.0, "", "", "", "否", "土地", "greenhouse",
     "食用菌种植大棚", "", ""),
    ("南湖街道", "其他用地", "临时用地", 1900, 0.70, 0.0, "", "", "", "否", "土地", "bare",
     "输变电工程临时施工场地", "", ""),
]

# Approved projects (合法用地) of 东河乡 reported later (ids 31-35, after the scan-ordered 30): with
# them 东河乡's 违法占用耕地 is below 15 % of its 新增建设用地占用耕地, so it qualifies for an
# interview (约谈) only through its single 5.83 亩 永久基本农田 case, while 南湖街道 qualifies only
# through the ratio.  Placed and drawn with their own random stream, so the first 30 patches and
# the rest of the image are as before.
EXTRA_SPEC = [
    ("东河乡", "合法用地", "建设用地审批", 11500, 0.92, 0.0, "", "", "", "否", "土地", "construction",
     "东河乡农产品加工园区一期", "冀政转征函〔2024〕56号", ""),
    ("东河乡", "合法用地", "建设用地审批", 10500, 0.90, 0.0, "", "", "", "否", "土地", "construction",
     "东河乡中心小学迁建", "冀政转征函〔2024〕61号", ""),
    ("东河乡", "合法用地", "先行用地", 9800, 0.88, 0.0, "", "", "", "否", "土地", "road",
     "东河大桥及连接线先行用地", "自然资用地〔2024〕44号", ""),
    ("东河乡", "合法用地", "建设用地审批", 11000, 0.94, 0.0, "", "", "", "否", "土地", "construction",
     "东河乡养老服务中心", "冀政转征函〔2024〕72号", ""),
    ("东河乡", "合法用地", "建设用地审批", 10000, 0.91, 0.0, "", "", "", "否", "土地", "construction",
     "东河乡污水处理厂", "冀政转征函〔2024〕80号", ""),
]
EXTRA_SEED = SEED + 7

# Scene landmarks, local metres (from SW corner of the image).
VILLAGES = [  # cx, cy, w, h, kind
    (2650, 2250, 560, 380, "town"),
    (850, 2350, 320, 240, "village"),
    (950, 780, 360, 250, "village"),
    (2850, 650, 300, 230, "village"),
    (1550, 260, 160, 120, "village"),
    (3750, 2650, 170, 130, "village"),
    (400, 1650, 150, 120, "village"),
]
MAIN_ROADS = [  # polylines, width m
    ([(0, 1620), (900, 1640), (2000, 1600), (3000, 1580), (4050, 1560)], 9.0),
    ([(1920, 0), (1900, 900), (1960, 1600), (1990, 2300), (2040, 3000)], 8.0),
    ([(2000, 1600), (2600, 1250), (2850, 650), (3200, 0)], 6.0),
    ([(0, 2500), (850, 2350), (1960, 2150), (2650, 2250)], 6.0),
]
RIVER = ([(3420, 3000), (3330, 2550), (3480, 2100), (3360, 1650), (3500, 1150),
          (3380, 650), (3460, 0)], 32.0)
LAKE = (420, 420, 190, 120)   # 南湖: cx, cy, rx, ry


def to_world(lx, ly):
    return X0 + lx, Y0 + ly


def to_px(lx, ly):
    return lx / RES, (HEIGHT_M - ly) / RES


def smooth_line(pts, n=12):
    """Catmull-Rom through points -> dense polyline."""
    out = []
    P = [pts[0]] + list(pts) + [pts[-1]]
    for i in range(1, len(P) - 2):
        p0, p1, p2, p3 = P[i - 1], P[i], P[i + 1], P[i + 2]
        for k in range(n):
            t = k / n
            t2, t3 = t * t, t * t * t
            out.append(tuple(0.5 * ((2 * p1[j]) + (-p0[j] + p2[j]) * t +
                                    (2 * p0[j] - 5 * p1[j] + 4 * p2[j] - p3[j]) * t2 +
                                    (-p0[j] + 3 * p1[j] - 3 * p2[j] + p3[j]) * t3) for j in range(2)))
    out.append(pts[-1])
    return out


def line_geom(pts):
    g = ogr.Geometry(ogr.wkbLineString)
    for x, y in pts:
        g.AddPoint_2D(x, y)
    return g


def poly_geom(pts):
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for x, y in pts:
        ring.AddPoint_2D(x, y)
    ring.AddPoint_2D(*pts[0])
    g = ogr.Geometry(ogr.wkbPolygon)
    g.AddGeometry(ring)
    return g


def rot(x, y, a):
    c, s = math.cos(a), math.sin(a)
    return x * c - y * s, x * s + y * c


def village_poly(v, rng):
    cx, cy, w, h, _ = v
    pts = []
    for k in range(10):
        a = 2 * math.pi * k / 10
        r = 1.0 + rng.uniform(-0.12, 0.12)
        px_ = max(-1, min(1, 1.25 * math.cos(a))) * w / 2 * r
        py_ = max(-1, min(1, 1.25 * math.sin(a))) * h / 2 * r
        pts.append((cx + px_, cy + py_))
    return pts


# --------------------------------------------------------------------------
# Patch geometry generation (local metres)
# --------------------------------------------------------------------------
def patch_shape(area, rng):
    ang = FIELD_ANGLE + math.radians(rng.uniform(-3, 3))
    r = rng.uniform(1.0, 2.4)
    kind = rng.random()
    if kind < 0.3 and area > 800:     # L-shape
        fx, fy = rng.uniform(0.3, 0.45), rng.uniform(0.3, 0.5)
        frac = 1 - fx * fy
        w = math.sqrt(area / frac * r)
        h = area / frac / w
        pts = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2 - fy * h),
               (w / 2 - fx * w, h / 2 - fy * h), (w / 2 - fx * w, h / 2), (-w / 2, h / 2)]
    elif kind < 0.45:                 # pentagon: cut corner
        w = math.sqrt(area / 0.92 * r)
        h = area / 0.92 / w
        c = rng.uniform(0.25, 0.4)
        pts = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2 - c * h),
               (w / 2 - c * w, h / 2), (-w / 2, h / 2)]
    else:                             # irregular quadrilateral
        w = math.sqrt(area * r)
        h = area / w
        j = 0.08
        pts = [(-w / 2 + rng.uniform(-j, j) * w, -h / 2 + rng.uniform(-j, j) * h),
               (w / 2 + rng.uniform(-j, j) * w, -h / 2 + rng.uniform(-j, j) * h),
               (w / 2 + rng.uniform(-j, j) * w, h / 2 + rng.uniform(-j, j) * h),
               (-w / 2 + rng.uniform(-j, j) * w, h / 2 + rng.uniform(-j, j) * h)]
    if rng.random() < 0.5:
        pts = [(-x, y) for x, y in pts][::-1]
    pts = [rot(x, y, ang) for x, y in pts]
    g = poly_geom(pts)
    s = math.sqrt(area / g.GetArea())
    return [(x * s, y * s) for x, y in pts]


def place_patches(rng, obstacles, attract, spec=SPEC, occupied=None):
    placed = []
    occupied = [] if occupied is None else occupied
    for i, sp in enumerate(spec):
        town, pdjg, area, render = sp[0], sp[1], sp[3], sp[11]
        x0, x1, y0, y1 = zone_box(town)
        for attempt in range(20000):
            shape = patch_shape(area, rng)
            cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
            pts = [(x + cx, y + cy) for x, y in shape]
            if not all(x0 <= x <= x1 and y0 <= y <= y1 for x, y in pts):
                continue
            g = poly_geom(pts)
            buf = g.Buffer(25.0)
            if any(buf.Intersects(o) for o in obstacles if not (render == "pit" and o is obstacles[0])):
                continue
            if any(buf.Intersects(o) for o in occupied):
                continue
            d = min(g.Distance(a) for a in attract)
            if render == "pit":
                if g.Distance(obstacles[0]) > 40:
                    continue
            elif pdjg == "违法用地" and d > 220:
                continue
            elif pdjg == "合法用地" and d > 350:
                continue
            break
        else:
            sys.exit("could not place patch %d" % i)
        placed.append(pts)
        occupied.append(g.Buffer(30.0))
    return placed


# --------------------------------------------------------------------------
# Rendering of the synthetic image
# --------------------------------------------------------------------------
def noise_field(nrng, scale_px, amp):
    """Smooth random field, values about +-amp."""
    sw, sh = max(2, int(W / scale_px) + 2), max(2, int(H / scale_px) + 2)
    small = nrng.normal(0, 1, (sh, sw)).astype(np.float32)
    im = Image.fromarray(small, mode="F").resize((int(sw * scale_px), int(sh * scale_px)), Image.BICUBIC)
    a = np.asarray(im)[:H, :W]
    return a * amp


def draw_polyline_px(draw, pts, width_m, fill):
    p = [to_px(x, y) for x, y in pts]
    wpx = max(1, int(round(width_m / RES)))
    draw.line(p, fill=fill, width=wpx, joint="curve")


def render(rng, nrng, village_polys, patches, extra_patches=(), xrng=None):
    # ---- field parcels: label image, rotated block grid with strips
    lab = Image.new("I", (W, H), 0)
    dl = ImageDraw.Draw(lab)
    palette = [(0, 0, 0)]
    crops = [  # base colours of field types (late-September image)
        (62, 92, 48), (74, 104, 52), (88, 116, 58), (104, 122, 66), (122, 128, 76),
        (136, 124, 98), (148, 136, 108), (112, 106, 84), (70, 96, 60), (96, 110, 62),
    ]
    crop_w = [10, 10, 9, 7, 5, 5, 4, 4, 6, 6]
    stripe_dir = [0.0]
    ca, sa = math.cos(FIELD_ANGLE), math.sin(FIELD_ANGLE)
    cxm, cym = WIDTH_M / 2, HEIGHT_M / 2
    ext = 2800
    bu = 420.0   # block size along u (east-west)
    bv = 320.0   # block size along v (north-south)
    track = 4.0
    u = -ext
    while u < ext:
        v = -ext
        bw = bu * rng.uniform(0.8, 1.2)
        while v < ext:
            bh = bv * rng.uniform(0.8, 1.2)
            # strips inside the block, oriented N-S (long in v) or E-W
            ns = rng.random() < 0.7
            pos = 0.0
            span = bw if ns else bh
            while pos < span - track:
                sw_ = rng.uniform(18, 75)
                a0, a1 = pos + track / 2, min(span, pos + sw_) - 0.6
                if ns:
                    corners = [(u + a0, v + track / 2), (u + a1, v + track / 2),
                               (u + a1, v + bh - track / 2), (u + a0, v + bh - track / 2)]
                else:
                    corners = [(u + track / 2, v + a0), (u + bw - track / 2, v + a0),
                               (u + bw - track / 2, v + a1), (u + track / 2, v + a1)]
                wpts = [(cxm + x * ca - y * sa, cym + x * sa + y * ca) for x, y in corners]
                ppts = [to_px(x, y) for x, y in wpts]
                palette.append(rng.choices(crops, crop_w)[0])
                stripe_dir.append(FIELD_ANGLE + (0 if ns else math.pi / 2))
                dl.polygon(ppts, fill=len(palette) - 1)
                pos += sw_
            v += bh
        u += bw
    L = np.asarray(lab)
    pal = np.array(palette, np.float32)
    img = pal[L]
    track_mask = L == 0
    img[track_mask] = (150, 140, 116)
    # within-field variation and row texture
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    sd = np.array(stripe_dir, np.float32)[L]
    rows = np.sin((xx * np.cos(sd) - yy * np.sin(sd)) * (2 * math.pi / 2.6))
    img += (noise_field(nrng, 60, 7) + noise_field(nrng, 12, 4))[..., None]
    img += (rows * 3.0)[..., None] * (~track_mask)[..., None]
    img = np.clip(img, 0, 255)

    im = Image.fromarray(img.astype(np.uint8), "RGB")
    d = ImageDraw.Draw(im)

    # ---- lake 南湖 and river 东河
    lx, ly, rx, ry = LAKE
    lake_pts = []
    for k in range(36):
        a = 2 * math.pi * k / 36
        r = 1 + 0.12 * math.sin(3 * a + 0.7) + 0.06 * math.cos(5 * a)
        lake_pts.append(to_px(lx + rx * r * math.cos(a), ly + ry * r * math.sin(a)))
    d.polygon(lake_pts, fill=(96, 112, 80))
    river_line = smooth_line(RIVER[0])
    draw_polyline_px(d, river_line, RIVER[1] + 26, (118, 120, 96))   # banks / reeds
    draw_polyline_px(d, river_line, RIVER[1] + 12, (150, 146, 118))  # sand
    draw_polyline_px(d, river_line, RIVER[1], (48, 72, 68))
    shrink = [(to_px(lx + 0.85 * (x - lx), ly + 0.85 * (y - ly))) for x, y in
              [(lx + rx * (1 + 0.12 * math.sin(3 * a + 0.7) + 0.06 * math.cos(5 * a)) * math.cos(a),
                ly + ry * (1 + 0.12 * math.sin(3 * a + 0.7) + 0.06 * math.cos(5 * a)) * math.sin(a))
               for a in [2 * math.pi * k / 36 for k in range(36)]]]
    d.polygon(shrink, fill=(44, 70, 70))

    # ---- villages
    for v, vp in zip(VILLAGES, village_polys):
        d.polygon([to_px(*p) for p in vp], fill=(128, 124, 108))
    for v, vp in zip(VILLAGES, village_polys):
        draw_village(d, v, poly_geom(vp), rng)

    # ---- patches (after-image content)
    for sp, pts in zip(SPEC, patches):
        draw_patch(d, sp[11], pts, rng)
    for sp, pts in zip(EXTRA_SPEC, extra_patches):
        draw_patch(d, sp[11], pts, xrng)

    # ---- roads with tree rows
    for pts, wid in MAIN_ROADS:
        sl = smooth_line(pts)
        draw_polyline_px(d, sl, wid + 7, (72, 86, 58))
        draw_polyline_px(d, sl, wid, (132, 132, 128))
        draw_polyline_px(d, sl, 0.8, (170, 170, 162))
    # trees along roads / river (dark blobs)
    for pts, wid in MAIN_ROADS + [RIVER]:
        sl = smooth_line(pts, 40)
        for i in range(0, len(sl) - 1):
            (xa, ya), (xb, yb) = sl[i], sl[i + 1]
            seg = math.hypot(xb - xa, yb - ya)
            nx, ny = -(yb - ya) / (seg + 1e-9), (xb - xa) / (seg + 1e-9)
            n = int(seg / 6)
            for k in range(n):
                t = k / max(1, n)
                for side in (-1, 1):
                    if rng.random() < 0.55:
                        off = side * (wid / 2 + 4.5 + rng.uniform(-1, 1))
                        x, y = xa + (xb - xa) * t + nx * off, ya + (yb - ya) * t + ny * off
                        px, py = to_px(x, y)
                        r = rng.uniform(1.3, 2.4)
                        g = rng.randint(-8, 8)
                        d.ellipse([px - r, py - r, px + r, py + r], fill=(44 + g, 64 + g, 38 + g))

    a = np.asarray(im).astype(np.float32)
    a += nrng.normal(0, 2.2, a.shape).astype(np.float32)   # sensor noise
    im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")
    im = im.filter(ImageFilter.GaussianBlur(0.45))
    return np.asarray(im)


def draw_village(d, v, vg, rng):
    cx, cy, w, h, kind = v
    # houses in E-W rows (courtyards facing south), alleys N-S
    hw = 16 if kind == "village" else 22
    hh = 11 if kind == "village" else 16
    y = cy - h / 2 - 20
    while y < cy + h / 2 + 20:
        x = cx - w / 2 - 20 + rng.uniform(0, 6)
        while x < cx + w / 2 + 20:
            bw = hw * rng.uniform(0.8, 1.6) if kind == "town" and rng.random() < 0.3 else hw * rng.uniform(0.85, 1.15)
            p = ogr.Geometry(ogr.wkbPoint)
            p.AddPoint_2D(x + bw / 2, y + hh / 2)
            if vg.Contains(p) and rng.random() < 0.9:
                # courtyard (ground), then house on north side
                yard = [to_px(x, y), to_px(x + bw, y + hh + 6)]
                d.rectangle([yard[0][0], yard[1][1], yard[1][0], yard[0][1]], fill=(150, 146, 132))
                r = rng.random()
                if r < 0.45:
                    col = (156 + rng.randint(-12, 12), 84 + rng.randint(-10, 10), 64 + rng.randint(-8, 8))
                elif r < 0.88:
                    g = 150 + rng.randint(-25, 40)
                    col = (g, g, g - 4)
                elif r < 0.93:
                    col = (92, 124, 168)
                else:
                    col = (200, 200, 194)
                a0 = to_px(x + 1, y + hh + 5)
                a1 = to_px(x + bw - 1, y + hh * 0.45 + 5)
                d.rectangle([a0[0], a0[1], a1[0], a1[1]], fill=col)
                # shadow line on the north-west side is skipped; tree in yard sometimes
                for _t in range(2 if rng.random() < 0.6 else 0):
                    tp = to_px(x + rng.uniform(2, bw - 2), y + rng.uniform(1, 4))
                    rr = rng.uniform(1.8, 3.5)
                    d.ellipse([tp[0] - rr, tp[1] - rr, tp[0] + rr, tp[1] + rr], fill=(46, 66, 40))
            x += bw + rng.choice([0, 0, 0, 1.5, 5])
        y += hh + 6 + rng.choice([3, 3, 4, 8])
    # main street
    a, b = to_px(cx - w / 2 - 30, cy + 3), to_px(cx + w / 2 + 30, cy - 3)
    d.rectangle([a[0], a[1], b[0], b[1]], fill=(138, 136, 130))


def draw_patch(d, render, pts, rng):
    P = [to_px(x, y) for x, y in pts]
    g = poly_geom(pts)
    env = g.GetEnvelope()
    cx = sum(p[0] for p in pts) / len(pts)
    cy = sum(p[1] for p in pts) / len(pts)

    def inside_rects(n, wmin, wmax, hmin, hmax, colours, margin=4):
        for _ in range(n * 30):
            if n <= 0:
                break
            bw, bh = rng.uniform(wmin, wmax), rng.uniform(hmin, hmax)
            x = rng.uniform(env[0], env[1] - bw)
            y = rng.uniform(env[2], env[3] - bh)
            corners = [rot(dx, dy, FIELD_ANGLE) for dx, dy in
                       [(0, 0), (bw, 0), (bw, bh), (0, bh)]]
            rp = [(x + dx, y + dy) for dx, dy in corners]
            rg = poly_geom(rp)
            if g.Buffer(-margin).Contains(rg):
                d.polygon([to_px(*p) for p in rp], fill=rng.choice(colours))
                n -= 1

    soil = (176 + rng.randint(-10, 10), 160 + rng.randint(-10, 8), 128 + rng.randint(-8, 8))
    if render in ("factory", "yard", "construction", "bare", "road", "pit", "farm", "house"):
        d.polygon(P, fill=soil)
    if render == "factory":
        inside_rects(max(1, int(g.GetArea() / 1500)), 25, 60, 14, 30,
                     [(88, 128, 176), (96, 136, 182), (205, 205, 200)])
    elif render == "yard":
        inside_rects(max(2, int(g.GetArea() / 1200)), 12, 40, 8, 20,
                     [(196, 196, 190), (90, 130, 175), (160, 150, 130)])
        inside_rects(6, 6, 12, 2.5, 3.5, [(180, 60, 50), (60, 90, 150), (200, 160, 60)])  # containers
    elif render == "construction":
        d.polygon([to_px(*rot_about(p, (cx, cy), 0.85)) for p in pts], fill=(196, 186, 160))
        inside_rects(max(1, int(g.GetArea() / 2500)), 18, 45, 12, 24,
                     [(168, 168, 162), (120, 120, 118), (214, 214, 206)])
    elif render == "house":
        inside_rects(1, 9, 14, 7, 10, [(158, 84, 62), (200, 200, 196)], margin=2)
    elif render == "bare":
        inside_rects(max(1, int(g.GetArea() / 400)), 4, 9, 4, 9,
                     [(130, 118, 98), (200, 194, 178), (110, 100, 86)], margin=2)
    elif render == "road":
        a = to_px(env[0], cy + 4)
        b = to_px(env[1], cy - 4)
        d.line([a, b], fill=(104, 104, 102), width=int(7 / RES))
    elif render == "pit":
        d.polygon([to_px(*rot_about(p, (cx, cy), 0.7)) for p in pts], fill=(96, 104, 88))
        d.polygon([to_px(*rot_about(p, (cx, cy), 0.45)) for p in pts], fill=(60, 80, 76))
    elif render == "farm":
        inside_rects(max(3, int(g.GetArea() / 700)), 40, 60, 7, 10,
                     [(210, 210, 204), (96, 134, 178)], margin=3)
    elif render == "greenhouse":
        x = env[0]
        while x < env[1]:
            strip = poly_geom([(x, env[2] - 50), (x + 7, env[2] - 50),
                               (x + 7, env[3] + 50), (x, env[3] + 50)])
            strip = strip.Intersection(g.Buffer(-2))
            if strip is not None and not strip.IsEmpty() and strip.GetGeometryType() == ogr.wkbPolygon:
                ring = strip.GetGeometryRef(0)
                d.polygon([to_px(*ring.GetPoint_2D(k)) for k in range(ring.GetPointCount())],
                          fill=(226, 228, 226))
            x += 10
    elif render == "orchard":
        d.polygon(P, fill=(118, 112, 84))
        yv = env[2]
        while yv < env[3]:
            xv = env[0]
            while xv < env[1]:
                p = ogr.Geometry(ogr.wkbPoint)
                p.AddPoint_2D(xv, yv)
                if g.Buffer(-2).Contains(p):
                    q = to_px(xv, yv)
                    d.ellipse([q[0] - 1.6, q[1] - 1.6, q[0] + 1.6, q[1] + 1.6], fill=(48, 74, 40))
                xv += 5
            yv += 5
    elif render == "pond":
        d.polygon(P, fill=(120, 130, 104))
        d.polygon([to_px(*rot_about(p, (cx, cy), 0.75)) for p in pts], fill=(50, 76, 74))
    elif render == "field":
        d.polygon(P, fill=(128, 126, 90))   # harvested / different tone


def rot_about(p, c, s):
    return (c[0] + (p[0] - c[0]) * s, c[1] + (p[1] - c[1]) * s)


# --------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------
def srs(epsg):
    s = osr.SpatialReference()
    s.ImportFromEPSG(epsg)
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return s


FIELDS = [
    ("JCBH", ogr.OFTString, 32), ("NF", ogr.OFTInteger, 4), ("JD", ogr.OFTString, 8),
    ("XZQDM", ogr.OFTString, 12), ("XZQMC", ogr.OFTString, 40), ("JCMJ", ogr.OFTReal, 0),
    ("JCGDMJ", ogr.OFTReal, 0), ("YJJBNTMJ", ogr.OFTReal, 0), ("QSX", ogr.OFTString, 10),
    ("HSX", ogr.OFTString, 10), ("TBLX", ogr.OFTString, 8), ("PDJG", ogr.OFTString, 16),
    ("HFSJYT", ogr.OFTString, 40), ("WFLX", ogr.OFTString, 16), ("QTSJYT", ogr.OFTString, 16),
    ("PZWH", ogr.OFTString, 60), ("ZGCS", ogr.OFTString, 16), ("ZGZT", ogr.OFTString, 8),
    ("ZGQX", ogr.OFTString, 10), ("SFNCLZGDJF", ogr.OFTString, 2),
    ("TYWZJCTBWQBH", ogr.OFTString, 32), ("BZ", ogr.OFTString, 254),
]
SHP_ALIAS = {"JCBH": "TBBH", "XZQDM": "XDM", "JCGDMJ": "GDMJ", "PDJG": "PDLX"}
SHP_VALUE = {"违法用地": "违法", "合法用地": "合法", "其他用地": "其他"}


def build_records(patches_local, spec=SPEC, first=1):
    geo, gk = srs(EPSG_GEO), srs(EPSG_GK)
    to_geo = osr.CoordinateTransformation(gk, geo)
    to_gk = osr.CoordinateTransformation(geo, gk)
    recs = []
    for sp, pts in zip(spec, patches_local):
        g_gk = poly_geom([to_world(x, y) for x, y in pts])
        g_geo = g_gk.Clone()
        g_geo.Transform(to_geo)
        # round lon/lat to 1e-8 deg (~1 mm) so every format stores the same coordinates
        ring = g_geo.GetGeometryRef(0)
        for k in range(ring.GetPointCount()):
            x, y = ring.GetPoint_2D(k)
            ring.SetPoint_2D(k, round(x, 8), round(y, 8))
        back = g_geo.Clone()
        back.Transform(to_gk)
        jcmj = round(back.GetArea(), 2)
        recs.append(dict(sp=sp, geo=g_geo, gk=back, jcmj=jcmj, cy=back.Centroid().GetY(),
                         cx=back.Centroid().GetX()))
    # national-style ids: scan order north -> south, west -> east (100 m bands)
    recs.sort(key=lambda r: (-int(r["cy"] // 100), r["cx"]))
    for i, r in enumerate(recs, first):
        sp = r["sp"]
        town, pdjg, detail, _, f_gd, f_yj, zgcs, zgzt, zgqx, sf, tblx, _, bz, pzwh, earlier = sp
        east = r["cx"] > X0 + 2000
        gd = round(r["jcmj"] * f_gd, 2)
        yj = round(gd * (f_yj / f_gd if f_gd else 0), 2)
        r["attrs"] = {
            "JCBH": "%sSJBG24%02d%04d" % (COUNTY, 21, i), "NF": 2024, "JD": "",
            "XZQDM": TOWNS[town], "XZQMC": town, "JCMJ": r["jcmj"], "JCGDMJ": gd, "YJJBNTMJ": yj,
            "QSX": "2023-11-03" if east else "2023-10-12",
            "HSX": "2024-10-06" if east else "2024-09-18",
            "TBLX": tblx, "PDJG": pdjg,
            "HFSJYT": detail if pdjg == "合法用地" else "",
            "WFLX": detail if pdjg == "违法用地" else "",
            "QTSJYT": detail if pdjg == "其他用地" else "",
            "PZWH": pzwh, "ZGCS": zgcs, "ZGZT": zgzt, "ZGQX": zgqx, "SFNCLZGDJF": sf,
            "TYWZJCTBWQBH": earlier, "BZ": bz,
        }
    return recs


def write_vector(path, driver, recs, epsg, geom_key, layer="patches", lco=None, alias=False,
                 only=None):
    drv = ogr.GetDriverByName(driver)
    if os.path.exists(path):
        drv.DeleteDataSource(path)
    ds = drv.CreateDataSource(path)
    lyr = ds.CreateLayer(layer, srs(epsg), ogr.wkbPolygon, options=lco or [])
    for name, t, wid in FIELDS:
        fd = ogr.FieldDefn(SHP_ALIAS.get(name, name) if alias else name, t)
        if t == ogr.OFTReal and driver == "ESRI Shapefile":
            fd.SetWidth(18)
            fd.SetPrecision(2)
        elif wid and driver == "ESRI Shapefile":
            fd.SetWidth(wid if t != ogr.OFTString else min(254, max(wid, 2) * 2))
        lyr.CreateField(fd)
    if driver == "GPKG":
        ds.StartTransaction()
    for r in recs:
        if only and r["attrs"]["JCBH"] not in only:
            continue
        f = ogr.Feature(lyr.GetLayerDefn())
        for k in range(f.GetFieldCount()):
            name = FIELDS[k][0]
            val = r["attrs"][name]
            if alias and name == "PDJG":
                val = SHP_VALUE[val]
            f.SetField(k, val)
        f.SetGeometry(r[geom_key])
        lyr.CreateFeature(f)
    if driver == "GPKG":
        ds.CommitTransaction()
    ds = None


def write_basemap(path, arr):
    mem = gdal.GetDriverByName("MEM").Create("", W, H, 3, gdal.GDT_Byte)
    mem.SetGeoTransform((X0, RES, 0.0, Y1, 0.0, -RES))
    mem.SetProjection(srs(EPSG_GK).ExportToWkt())
    for b in range(3):
        mem.GetRasterBand(b + 1).WriteArray(arr[:, :, b])
        mem.GetRasterBand(b + 1).SetColorInterpretation(gdal.GCI_RedBand + b)
    tmp = path + ".tmp.tif"
    for p in (path, tmp):
        if os.path.exists(p):
            os.remove(p)
    gdal.SetConfigOption("COMPRESS_OVERVIEW", "JPEG")
    gdal.SetConfigOption("PHOTOMETRIC_OVERVIEW", "YCBCR")
    gdal.SetConfigOption("INTERLEAVE_OVERVIEW", "PIXEL")
    gdal.SetConfigOption("JPEG_QUALITY_OVERVIEW", "70")
    gdal.Translate(tmp, mem, format="GTiff",
                   creationOptions=["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "COMPRESS=JPEG",
                                    "PHOTOMETRIC=YCBCR", "JPEG_QUALITY=80"])
    ds = gdal.Open(tmp, gdal.GA_Update)
    ds.BuildOverviews("AVERAGE", [2, 4, 8, 16])
    ds = None
    # copy so that overviews are internal and laid out before the full-resolution data
    gdal.Translate(path, tmp, format="GTiff",
                   creationOptions=["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "COMPRESS=JPEG",
                                    "PHOTOMETRIC=YCBCR", "JPEG_QUALITY=80", "COPY_SRC_OVERVIEWS=YES"])
    os.remove(tmp)


def main():
    rng = random.Random(SEED)
    nrng = np.random.default_rng(SEED)
    os.makedirs(SAMPLES, exist_ok=True)
    os.makedirs(os.path.join(TESTDATA, "gbk_cpg"), exist_ok=True)

    village_polys = [village_poly(v, rng) for v in VILLAGES]
    river_g = line_geom(smooth_line(RIVER[0])).Buffer(RIVER[1] / 2 + 14)
    lx, ly, rx, ry = LAKE
    lake_g = poly_geom([(lx + 1.25 * rx * math.cos(a), ly + 1.25 * ry * math.sin(a))
                        for a in [2 * math.pi * k / 36 for k in range(36)]])
    roads = [line_geom(smooth_line(p)).Buffer(w / 2 + 6) for p, w in MAIN_ROADS]
    vgs = [poly_geom(vp).Buffer(12) for vp in village_polys]
    obstacles = [river_g, lake_g] + roads + vgs
    attract = [line_geom(smooth_line(p)) for p, _ in MAIN_ROADS] + [poly_geom(vp) for vp in village_polys]
    occupied = []
    patches = place_patches(rng, obstacles, attract, occupied=occupied)
    xrng = random.Random(EXTRA_SEED)
    extra = place_patches(xrng, obstacles, attract, EXTRA_SPEC, occupied)

    arr = render(rng, nrng, village_polys, patches, extra, xrng)
    write_basemap(os.path.join(SAMPLES, "basemap.tif"), arr)

    recs = build_records(patches) + build_records(extra, EXTRA_SPEC, len(SPEC) + 1)
    write_vector(os.path.join(SAMPLES, "patches.gpkg"), "GPKG", recs, EPSG_GEO, "geo")
    write_vector(os.path.join(TESTDATA, "gbk_cpg", "patches.shp"), "ESRI Shapefile", recs, EPSG_GK, "gk",
                 lco=["ENCODING=GBK", "DBF_DATE_LAST_UPDATE=2024-11-01"], alias=True)
    # small.geojson: 3 illegal patches of 城关镇 + 1 legal + 1 other, same ids/attributes
    ill = [r["attrs"]["JCBH"] for r in recs if r["attrs"]["XZQMC"] == "城关镇" and r["attrs"]["PDJG"] == "违法用地"][:3]
    leg = [r["attrs"]["JCBH"] for r in recs if r["attrs"]["XZQMC"] == "城关镇" and r["attrs"]["PDJG"] == "合法用地"][:1]
    oth = [r["attrs"]["JCBH"] for r in recs if r["attrs"]["XZQMC"] == "城关镇" and r["attrs"]["PDJG"] == "其他用地"][:1]
    write_vector(os.path.join(TESTDATA, "small.geojson"), "GeoJSON", recs, EPSG_GEO, "geo",
                 lco=["RFC7946=YES", "WRITE_NAME=NO", "COORDINATE_PRECISION=8"], only=set(ill + leg + oth))

    for r in recs:
        a = r["attrs"]
        print(a["JCBH"], a["XZQMC"], a["PDJG"], a["WFLX"] or a["HFSJYT"] or a["QTSJYT"], a["ZGZT"],
              a["JCMJ"], a["JCGDMJ"], a["YJJBNTMJ"])


if __name__ == "__main__":
    main()
