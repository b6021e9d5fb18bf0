#!/usr/bin/python3
# -*- coding: utf-8 -*-
"""Generate the sample map layers from the sample data set (developer tool; outputs committed).

Everything is FICTIONAL (see samples/README.md).  Reads what scripts/make_samples.py wrote and adds:
  samples/basemap-2023.tif   the 前时相 image: basemap.tif (the 后时相, 2024) with every patch
                             still the field it was before the change, and a late-summer tint
  samples/townships.gpkg     layer "townships": the four townships of 示例县 (XZQDM, XZQMC), EPSG:4490
  samples/farmland.gpkg      layer "farmland": 永久基本农田 blocks, EPSG:4548

Deterministic (fixed seed, GPKG timestamps pinned).
Run:  /usr/bin/python3 scripts/make_map_samples.py   (needs python3-gdal, python3-numpy)
"""
import math
import os
import random

import numpy as np
from osgeo import gdal, ogr, osr

gdal.UseExceptions()
ogr.UseExceptions()
gdal.SetConfigOption("OGR_CURRENT_DATE", "2024-11-01T00:00:00Z")

import make_samples as ms  # noqa: E402  (extent, township split, field orientation)

SEED = 20241102
SAMPLES = ms.SAMPLES


def srs(epsg):
    s = osr.SpatialReference()
    s.ImportFromEPSG(epsg)
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return s


def patches_gk():
    """(geometry in EPSG:4548, attributes) of every sample patch."""
    ds = ogr.Open(os.path.join(SAMPLES, "patches.gpkg"))
    lyr = ds.GetLayer(0)
    ct = osr.CoordinateTransformation(srs(ms.EPSG_GEO), srs(ms.EPSG_GK))
    out = []
    for f in lyr:
        g = f.GetGeometryRef().Clone()
        g.Transform(ct)
        out.append((g, f["XZQDM"], float(f["YJJBNTMJ"] or 0)))
    return out


def wiggle(rng, a, b, amp, n=14):
    """Points from a to b (local metres) with a smooth sideways wobble of at most amp."""
    (xa, ya), (xb, yb) = a, b
    L = math.hypot(xb - xa, yb - ya)
    nx, ny = -(yb - ya) / L, (xb - xa) / L
    ph1, ph2 = rng.uniform(0, 6.3), rng.uniform(0, 6.3)
    pts = []
    for k in range(n + 1):
        t = k / n
        w = amp * math.sin(math.pi * t) * (0.6 * math.sin(3 * math.pi * t + ph1) +
                                           0.4 * math.sin(7 * math.pi * t + ph2))
        pts.append((xa + (xb - xa) * t + nx * w, ya + (yb - ya) * t + ny * w))
    return pts


def townships(rng):
    """Four townships meeting along wobbly lines near the split of make_samples.zone_of."""
    i = 30.0  # the county edge sits just inside the image
    W, H, SX, SY = ms.WIDTH_M, ms.HEIGHT_M, ms.SPLIT_X, ms.SPLIT_Y
    # shared borders: north-south at SX (top and bottom half), east-west at SY (left and right)
    ns_top = wiggle(rng, (SX, SY), (SX, H - i), 22)
    ns_bot = wiggle(rng, (SX, i), (SX, SY), 22)
    ew_left = wiggle(rng, (i, SY), (SX, SY), 22)
    ew_right = wiggle(rng, (SX, SY), (W - i, SY), 22)
    rings = {
        "西岭镇": ew_left + ns_top[1:] + [(i, H - i)],
        "城关镇": ew_right + [(W - i, H - i)] + list(reversed(ns_top))[:-1],
        "南湖街道": [(i, i)] + ns_bot + list(reversed(ew_left))[1:],
        "东河乡": ns_bot + ew_right[1:] + [(W - i, i)],
    }
    out = {}
    for name, pts in rings.items():
        ring = ogr.Geometry(ogr.wkbLinearRing)
        for x, y in pts + [pts[0]]:
            ring.AddPoint_2D(ms.X0 + x, ms.Y0 + y)
        poly = ogr.Geometry(ogr.wkbPolygon)
        poly.AddGeometry(ring)
        out[name] = poly if poly.IsValid() else poly.Buffer(0)
    return out


def farmland(rng, patches):
    """永久基本农田: field blocks along the field grid; a block holding a patch that the data
    says takes 永久基本农田 is farmland, other patches are cut out of it."""
    ca, sa = math.cos(ms.FIELD_ANGLE), math.sin(ms.FIELD_ANGLE)
    cx, cy = ms.X0 + ms.WIDTH_M / 2, ms.Y0 + ms.HEIGHT_M / 2
    bu, bv, gap = 420.0, 320.0, 12.0
    frame = ogr.CreateGeometryFromWkt("POLYGON ((%f %f, %f %f, %f %f, %f %f, %f %f))" % (
        ms.X0, ms.Y0, ms.X1, ms.Y0, ms.X1, ms.Y1, ms.X0, ms.Y1, ms.X0, ms.Y0))
    blocks = []
    for iu in range(-7, 8):
        for iv in range(-7, 8):
            u0, v0 = iu * bu, iv * bv
            corners = [(u0 + gap, v0 + gap), (u0 + bu - gap, v0 + gap),
                       (u0 + bu - gap, v0 + bv - gap), (u0 + gap, v0 + bv - gap)]
            ring = ogr.Geometry(ogr.wkbLinearRing)
            for u, v in corners + [corners[0]]:
                ring.AddPoint_2D(cx + u * ca - v * sa, cy + u * sa + v * ca)
            b = ogr.Geometry(ogr.wkbPolygon)
            b.AddGeometry(ring)
            b = b.Intersection(frame)
            if b is None or b.IsEmpty() or b.GetArea() < 20000:
                continue
            takes = any(yj > 0 and b.Intersects(g) for g, _, yj in patches)
            if takes or rng.random() < 0.4:
                for g, _, yj in patches:
                    if yj == 0 and b.Intersects(g):
                        b = b.Difference(g.Buffer(8))
                blocks.append(b)
    return blocks


def write_layer(path, name, epsg, feats, fields):
    drv = ogr.GetDriverByName("GPKG")
    if os.path.exists(path):
        drv.DeleteDataSource(path)
    ds = drv.CreateDataSource(path)
    lyr = ds.CreateLayer(name, srs(epsg), ogr.wkbMultiPolygon)
    for fname in fields:
        lyr.CreateField(ogr.FieldDefn(fname, ogr.OFTString))
    ds.StartTransaction()
    for g, attrs in feats:
        f = ogr.Feature(lyr.GetLayerDefn())
        for k, v in attrs.items():
            f.SetField(k, v)
        f.SetGeometry(ogr.ForceToMultiPolygon(g))
        lyr.CreateFeature(f)
    ds.CommitTransaction()
    ds = None


def before_image(patches, nrng):
    """The 2024 image with each patch turned back into the field around it."""
    src = gdal.Open(os.path.join(SAMPLES, "basemap.tif"))
    arr = np.stack([src.GetRasterBand(b + 1).ReadAsArray() for b in range(3)], axis=2).astype(np.float32)
    gt = src.GetGeoTransform()
    H, W = arr.shape[:2]
    yy, xx = np.mgrid[0:H, 0:W]
    wx, wy = gt[0] + (xx + 0.5) * gt[1], gt[3] + (yy + 0.5) * gt[5]
    # stripes along the field direction: crop rows
    u = (wx - ms.X0) * math.cos(ms.FIELD_ANGLE) + (wy - ms.Y0) * math.sin(ms.FIELD_ANGLE)
    rows = 6.0 * np.sin(2 * math.pi * u / 7.5)
    mem = gdal.GetDriverByName("MEM").Create("", W, H, 1, gdal.GDT_Byte)
    mem.SetGeoTransform(gt)
    mem.SetProjection(src.GetProjection())
    for g, _, _ in patches:
        mem.GetRasterBand(1).Fill(0)
        vds = ogr.GetDriverByName("Memory").CreateDataSource("")
        lyr = vds.CreateLayer("p", srs(ms.EPSG_GK), ogr.wkbPolygon)
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetGeometry(g.Buffer(3.0))
        lyr.CreateFeature(f)
        gdal.RasterizeLayer(mem, [1], lyr, burn_values=[1])
        inner = mem.GetRasterBand(1).ReadAsArray().astype(bool)
        mem.GetRasterBand(1).Fill(0)
        f.SetGeometry(g.Buffer(18.0).Difference(g.Buffer(6.0)))
        lyr.SetFeature(f)
        gdal.RasterizeLayer(mem, [1], lyr, burn_values=[1])
        ring = mem.GetRasterBand(1).ReadAsArray().astype(bool)
        base = np.median(arr[ring], axis=0) if ring.any() else np.array([90, 112, 60], np.float32)
        n = int(inner.sum())
        fill = base[None, :] + rows[inner][:, None] + nrng.normal(0, 2.5, (n, 3))
        arr[inner] = fill
    # another season: greener, a little brighter
    arr = arr * np.array([0.96, 1.05, 0.94], np.float32) + np.array([4, 6, 0], np.float32)
    arr = np.clip(arr, 0, 255).astype(np.uint8)
    ms.write_basemap(os.path.join(SAMPLES, "basemap-2023.tif"), arr)


def main():
    rng = random.Random(SEED)
    nrng = np.random.default_rng(SEED)
    patches = patches_gk()
    before_image(patches, nrng)
    towns = townships(rng)
    ct = osr.CoordinateTransformation(srs(ms.EPSG_GK), srs(ms.EPSG_GEO))
    feats = []
    for name, g in towns.items():
        g = g.Clone()
        g.Transform(ct)
        feats.append((g, {"XZQDM": ms.TOWNS[name], "XZQMC": name}))
    write_layer(os.path.join(SAMPLES, "townships.gpkg"), "townships", ms.EPSG_GEO, feats,
                ["XZQDM", "XZQMC"])
    blocks = farmland(rng, patches)
    write_layer(os.path.join(SAMPLES, "farmland.gpkg"), "farmland", ms.EPSG_GK,
                [(b, {"DLMC": "永久基本农田"}) for b in blocks], ["DLMC"])
    for g, code, _ in patches:  # every patch inside its own township
        name = [n for n, c in ms.TOWNS.items() if c == code][0]
        assert towns[name].Contains(g.Centroid()), (code, name)
    print("basemap-2023.tif, townships.gpkg (%d), farmland.gpkg (%d blocks)" % (len(feats), len(blocks)))


if __name__ == "__main__":
    main()
