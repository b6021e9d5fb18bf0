#!/usr/bin/python3
"""Writes a GeoPackage of N synthetic (fictional) 卫片执法 patches for the import benchmark.

    /usr/bin/python3 bench/import/make_patches.py out.gpkg [N] [--seed S]

Layer `patches`, EPSG:4490, the standard field names (JCBH NF JD XZQDM XZQMC JCMJ JCGDMJ
YJJBNTMJ QSX HSX TBLX PDJG HFSJYT WFLX QTSJYT PZWH ZGCS ZGZT ZGQX SFNCLZGDJF TYWZJCTBWQBH BZ),
like samples/patches.gpkg.  Polygons have 5-12 vertices and 300-15000 m², one per cell of a
250 m grid (so they never overlap) centred near 117.1°E 35.2°N; they are built in EPSG:4548
(CGCS2000 / 3-degree GK CM 117E) and JCMJ is their area there, rounded to 0.01 m² (within a few
ppm of the ellipsoidal area tuban measures).  JCGDMJ <= JCMJ, YJJBNTMJ <= JCGDMJ.  Deterministic
for a given seed.  Needs Debian's python3-gdal (run with /usr/bin/python3).
"""
import argparse
import math
import os
import random
import sys

from osgeo import ogr, osr

ogr.UseExceptions()
osr.UseExceptions()

TOWNSHIPS = [("139901100", "城关镇"), ("139901201", "东河乡"),
             ("139901102", "西岭镇"), ("139901001", "南湖街道")]
CELL = 250.0                       # m: grid pitch; the largest patch (15000 m²) fits easily
CENTRE = (117.1, 35.2)             # lon, lat
FIELDS = [("JCBH", ogr.OFTString), ("NF", ogr.OFTInteger), ("JD", ogr.OFTString),
          ("XZQDM", ogr.OFTString), ("XZQMC", ogr.OFTString), ("JCMJ", ogr.OFTReal),
          ("JCGDMJ", ogr.OFTReal), ("YJJBNTMJ", ogr.OFTReal), ("QSX", ogr.OFTString),
          ("HSX", ogr.OFTString), ("TBLX", ogr.OFTString), ("PDJG", ogr.OFTString),
          ("HFSJYT", ogr.OFTString), ("WFLX", ogr.OFTString), ("QTSJYT", ogr.OFTString),
          ("PZWH", ogr.OFTString), ("ZGCS", ogr.OFTString), ("ZGZT", ogr.OFTString),
          ("ZGQX", ogr.OFTString), ("SFNCLZGDJF", ogr.OFTString),
          ("TYWZJCTBWQBH", ogr.OFTString), ("BZ", ogr.OFTString)]
USES = ["工业用地", "住宅用地", "设施农用地", "交通运输用地", "商服用地", "坑塘水面"]
ILLEGAL_KINDS = ["未报即用", "违法占地", "未批先建", "批少占多"]
MEASURES = ["拆除复耕", "补办手续", "立案查处", "拆除复绿"]
STATES = ["未整改", "整改中", "已整改"]
NOTES = ["企业违规扩建厂房及硬化场地", "村民建房占用耕地", "物流园区项目未批先建，正在补办用地手续",
         "临时用地逾期未复垦", "设施农业用地改变用途", ""]


def srs(epsg):
    s = osr.SpatialReference()
    s.ImportFromEPSG(epsg)
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)  # x = lon / easting
    return s


def shoelace(pts):
    a = 0.0
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]):
        a += x0 * y1 - x1 * y0
    return a / 2.0


def shape(rng, area):
    """A star-shaped simple polygon (counter-clockwise) of the given area, centred on 0,0."""
    n = rng.randint(5, 12)
    step = 2 * math.pi / n
    angles = [i * step + rng.uniform(-0.3, 0.3) * step for i in range(n)]
    radii = [rng.uniform(0.65, 1.0) for _ in range(n)]
    pts = [(r * math.cos(t), r * math.sin(t)) for r, t in zip(radii, angles)]
    k = math.sqrt(area / shoelace(pts))
    return [(x * k, y * k) for x, y in pts]


def date(rng, y0, y1):
    return "%04d-%02d-%02d" % (rng.randint(y0, y1), rng.randint(1, 12), rng.randint(1, 28))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("n", nargs="?", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=20241101)
    args = ap.parse_args()
    if args.n < 1 or args.n > 999999:
        sys.exit("make_patches.py: N must be 1..999999")
    rng = random.Random(args.seed)

    s4548, s4490 = srs(4548), srs(4490)
    to_gk = osr.CoordinateTransformation(s4490, s4548)
    to_ll = osr.CoordinateTransformation(s4548, s4490)
    cx, cy, _ = to_gk.TransformPoint(*CENTRE)
    side = math.ceil(math.sqrt(args.n))
    x0, y0 = cx - side * CELL / 2, cy - side * CELL / 2

    if os.path.exists(args.out):
        os.remove(args.out)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(args.out)
    lyr = ds.CreateLayer("patches", s4490, ogr.wkbPolygon, ["SPATIAL_INDEX=YES"])
    for name, kind in FIELDS:
        lyr.CreateField(ogr.FieldDefn(name, kind))
    defn = lyr.GetLayerDefn()

    lyr.StartTransaction()
    for i in range(args.n):
        row, col = divmod(i, side)
        area = math.exp(rng.uniform(math.log(300), math.log(15000)))
        pts = shape(rng, area)
        # Stay inside the cell (1 m margin), so patches never overlap.
        m = max(0.0, CELL / 2 - 1 - max(math.hypot(x, y) for x, y in pts))
        ox = x0 + (col + 0.5) * CELL + rng.uniform(-m, m)
        oy = y0 + (row + 0.5) * CELL + rng.uniform(-m, m)
        gk = [(ox + x, oy + y) for x, y in pts]
        ll = to_ll.TransformPoints(gk)
        ring = ogr.Geometry(ogr.wkbLinearRing)
        for lon, lat, *_ in ll + ll[:1]:
            ring.AddPoint_2D(lon, lat)
        poly = ogr.Geometry(ogr.wkbPolygon)
        poly.AddGeometry(ring)

        jcmj = round(abs(shoelace(gk)), 2)
        gd = round(jcmj * rng.choice([0.0, rng.uniform(0.2, 1.0), 1.0]), 2)
        jbnt = round(gd * rng.choice([0.0, 0.0, rng.uniform(0.0, 1.0)]), 2)
        code, tname = TOWNSHIPS[(row * 2 // side) * 2 + (col * 2 // side)]  # four quadrants
        pdjg = rng.choices(["违法用地", "合法用地", "其他用地"], [4, 3, 3])[0]
        illegal = pdjg == "违法用地"
        state = rng.choice(STATES) if illegal else ""

        f = ogr.Feature(defn)
        vals = {
            "JCBH": "139901SJBG24%06d" % (i + 1), "NF": 2024, "JD": "", "XZQDM": code,
            "XZQMC": tname, "JCMJ": jcmj, "JCGDMJ": gd, "YJJBNTMJ": jbnt,
            "QSX": date(rng, 2023, 2023), "HSX": date(rng, 2024, 2024), "TBLX": "土地",
            "PDJG": pdjg, "HFSJYT": "" if illegal else rng.choice(USES),
            "WFLX": rng.choice(ILLEGAL_KINDS) if illegal else "",
            "QTSJYT": rng.choice(USES) if pdjg == "其他用地" else "",
            "PZWH": "示政地〔2023〕%d号" % rng.randint(1, 200) if pdjg == "合法用地" else "",
            "ZGCS": rng.choice(MEASURES) if illegal else "", "ZGZT": state,
            "ZGQX": date(rng, 2025, 2025) if illegal else "",
            "SFNCLZGDJF": "是" if illegal and rng.random() < 0.1 else "否",
            "TYWZJCTBWQBH": "139901SJBG23%06d" % rng.randint(1, 999999) if rng.random() < 0.05 else "",
            "BZ": rng.choice(NOTES),
        }
        for k, v in vals.items():
            f.SetField(k, v)
        f.SetGeometryDirectly(poly)
        lyr.CreateFeature(f)
    lyr.CommitTransaction()
    ds = None
    print("%s: %d patches" % (args.out, args.n))


if __name__ == "__main__":
    main()
