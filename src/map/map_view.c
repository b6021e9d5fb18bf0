/* The patch map.  One drawing CRS per map: the basemap's own CRS when it is projected and
 * north-up, else the CGCS2000 3-degree Gauss-Kruger zone of the patch (EPSG:4534..4554), for
 * which a warped VRT over the basemap is built once and cached.  The map window is read with
 * GDAL's resampling RasterIO straight into a cairo image surface; for PDF targets the same pixels
 * are encoded once as JPEG and attached as mime data so the PDF carries a DCT image. */
#include "tb_features.h"

#include "map_view.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <gdalwarper.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <pango/pangocairo.h>

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAP_MAX_VIEWS 8
#define MAP_MAX_PIXELS (40.0 * 1000 * 1000)
#define MAP_FONT "Noto Sans CJK SC"
#define MAP_GREY 0xD9            /* background where there is no imagery */
#define MAP_JPEG_QUALITY "QUALITY=85"
#define MAP_MIN_EXTENT_M 20.0    /* a point-like patch still gets a readable map */
#define MAP_GEO_EPSG 4490        /* CGCS2000 geographic */
#define MAP_GK_EPSG_75E 4534     /* CGCS2000 / 3-degree Gauss-Kruger CM 75E; +1 per 3 degrees */

typedef enum map_mode { MAP_RGB, MAP_GREY_BAND, MAP_PALETTE } map_mode;

/* One drawing CRS: the dataset to read in it and the transforms to and from EPSG:4490. */
typedef struct map_view {
    int key;                               /* 0: the basemap's CRS; else EPSG of a GK zone */
    GDALDatasetH ds;                       /* NULL without basemap */
    bool owns_ds;                          /* true for a warped VRT */
    double gt[6];
    int nx, ny;
    OGRCoordinateTransformationH from_geo; /* EPSG:4490 -> drawing CRS */
    OGRCoordinateTransformationH to_geo;   /* drawing CRS -> EPSG:4490 */
    double unit_m;                         /* metres per drawing CRS unit */
} map_view;

struct map_basemap {
    char *path;
    GDALDatasetH ds;
    OGRSpatialReferenceH srs; /* traditional GIS axis order */
    bool projected;
    bool north_up; /* geotransform without rotation, rows going south */
    map_mode mode;
    int bands[3];  /* source bands for R, G, B (same band thrice for grey / palette) */
    int alpha;     /* source alpha band (last band only), 0 if none */
    double lo[3], gain[3]; /* linear stretch to 0..255 for non-Byte bands */
    unsigned char lut[256][3];
    map_view views[MAP_MAX_VIEWS];
    int nviews;
};

/* Where the map extent sits: drawing CRS extent and its mapping to the frame. */
typedef struct map_extent {
    double minx, miny, maxx, maxy;
    double s; /* points per CRS unit */
    double x0, y0;
} map_extent;

static pthread_once_t gdal_once = PTHREAD_ONCE_INIT;
static atomic_uint jpeg_serial;

static void
gdal_register(void)
{
    GDALAllRegister();
}

static const char *
cpl_msg(void)
{
    const char *m = CPLGetLastErrorMsg();
    return (m != NULL && m[0] != '\0') ? m : "no details from GDAL";
}

/* ---- basemap ------------------------------------------------------------------------------ */

static void
view_release(map_view *v)
{
    if (v->owns_ds && v->ds != NULL)
        GDALClose(v->ds);
    if (v->from_geo != NULL)
        OCTDestroyCoordinateTransformation(v->from_geo);
    if (v->to_geo != NULL)
        OCTDestroyCoordinateTransformation(v->to_geo);
    memset(v, 0, sizeof *v);
}

void
map_basemap_close(map_basemap *bm)
{
    if (bm == NULL)
        return;
    for (int i = 0; i < bm->nviews; i++) /* the VRTs hold references to bm->ds: close first */
        view_release(&bm->views[i]);
    if (bm->srs != NULL)
        OSRDestroySpatialReference(bm->srs);
    if (bm->ds != NULL)
        GDALClose(bm->ds);
    free(bm->path);
    free(bm);
}

static void
basemap_pick_bands(map_basemap *bm)
{
    int n = GDALGetRasterCount(bm->ds);
    int r = 0, g = 0, b = 0;
    for (int i = 1; i <= n; i++) {
        GDALColorInterp ci = GDALGetRasterColorInterpretation(GDALGetRasterBand(bm->ds, i));
        if (ci == GCI_AlphaBand && i == n && n > 1)
            bm->alpha = i;
        else if (ci == GCI_RedBand && r == 0)
            r = i;
        else if (ci == GCI_GreenBand && g == 0)
            g = i;
        else if (ci == GCI_BlueBand && b == 0)
            b = i;
    }
    int colour = n - (bm->alpha != 0);
    if (r != 0 && g != 0 && b != 0) {
        bm->mode = MAP_RGB;
        bm->bands[0] = r, bm->bands[1] = g, bm->bands[2] = b;
    } else if (colour >= 3) {
        bm->mode = MAP_RGB;
        bm->bands[0] = 1, bm->bands[1] = 2, bm->bands[2] = 3;
    } else {
        GDALRasterBandH b1 = GDALGetRasterBand(bm->ds, 1);
        GDALColorTableH ct = GDALGetRasterColorTable(b1);
        bm->mode = ct != NULL && GDALGetRasterDataType(b1) == GDT_Byte ? MAP_PALETTE
                                                                        : MAP_GREY_BAND;
        bm->bands[0] = bm->bands[1] = bm->bands[2] = 1;
        if (ct != NULL) {
            int count = GDALGetColorEntryCount(ct);
            for (int i = 0; i < 256; i++) {
                GDALColorEntry e = {MAP_GREY, MAP_GREY, MAP_GREY, 255};
                if (i < count)
                    GDALGetColorEntryAsRGB(ct, i, &e);
                bm->lut[i][0] = (unsigned char)e.c1;
                bm->lut[i][1] = (unsigned char)e.c2;
                bm->lut[i][2] = (unsigned char)e.c3;
            }
        }
    }
    /* Non-Byte imagery (UInt16 satellite scenes, DEMs) gets a min-max stretch. */
    for (int c = 0; c < 3; c++) {
        GDALRasterBandH band = GDALGetRasterBand(bm->ds, bm->bands[c]);
        bm->lo[c] = 0.0;
        bm->gain[c] = 1.0;
        if (GDALGetRasterDataType(band) == GDT_Byte)
            continue;
        double mm[2] = {0.0, 255.0};
        if (GDALComputeRasterMinMax(band, TRUE, mm) != CE_None || !(mm[1] > mm[0]))
            continue;
        bm->lo[c] = mm[0];
        bm->gain[c] = 255.0 / (mm[1] - mm[0]);
    }
}

map_basemap *
map_basemap_open(const char *path, tb_err *err)
{
    map_basemap *bm = NULL;

    if (path == NULL || path[0] == '\0') {
        tb_err_set(err, TB_EINVAL, "basemap: no path given");
        return NULL;
    }
    pthread_once(&gdal_once, gdal_register);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();

    VSIStatBufL st;
    if (VSIStatL(path, &st) != 0) {
        tb_err_set(err, TB_ENOTFOUND, "basemap %s: no such file", path);
        goto fail;
    }
    bm = tb_xcalloc(1, sizeof *bm);
    bm->path = tb_xstrdup(path);
    bm->ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (bm->ds == NULL) {
        tb_err_set(err, TB_EFORMAT, "basemap %s: not a raster GDAL can read: %s", path,
                   cpl_msg());
        goto fail;
    }
    if (GDALGetRasterCount(bm->ds) < 1) {
        tb_err_set(err, TB_EFORMAT, "basemap %s: has no raster bands", path);
        goto fail;
    }
    OGRSpatialReferenceH srs = GDALGetSpatialRef(bm->ds);
    if (srs == NULL) {
        tb_err_set(err, TB_EFORMAT, "basemap %s: has no coordinate reference system", path);
        goto fail;
    }
    bm->srs = OSRClone(srs);
    OSRSetAxisMappingStrategy(bm->srs, OAMS_TRADITIONAL_GIS_ORDER);
    bm->projected = OSRIsProjected(bm->srs) != 0;
    double gt[6];
    if (GDALGetGeoTransform(bm->ds, gt) != CE_None) {
        tb_err_set(err, TB_EFORMAT, "basemap %s: has no geotransform", path);
        goto fail;
    }
    bm->north_up = gt[2] == 0.0 && gt[4] == 0.0 && gt[1] > 0.0 && gt[5] < 0.0;
    basemap_pick_bands(bm);
    CPLPopErrorHandler();
    return bm;

fail:
    CPLPopErrorHandler();
    map_basemap_close(bm);
    return NULL;
}

/* A warped VRT of the basemap in dst, north-up, with an alpha band marking where imagery is. */
static GDALDatasetH
warped_vrt_create(map_basemap *bm, OGRSpatialReferenceH dst, tb_err *err)
{
    GDALDatasetH vrt = NULL;
    char *dst_wkt = NULL;
    char **topts = NULL;
    void *tr = NULL;
    GDALWarpOptions *wo = NULL;

    if (OSRExportToWkt(dst, &dst_wkt) != OGRERR_NONE) {
        tb_err_set(err, TB_ELIB, "basemap %s: cannot export target CRS", bm->path);
        goto done;
    }
    topts = CSLSetNameValue(topts, "DST_SRS", dst_wkt);
    tr = GDALCreateGenImgProjTransformer2(bm->ds, NULL, topts);
    if (tr == NULL) {
        tb_err_set(err, TB_ELIB, "basemap %s: cannot reproject: %s", bm->path, cpl_msg());
        goto done;
    }
    double gt[6];
    int px = 0, ln = 0;
    if (GDALSuggestedWarpOutput(bm->ds, GDALGenImgProjTransform, tr, gt, &px, &ln) != CE_None) {
        tb_err_set(err, TB_ELIB, "basemap %s: cannot reproject: %s", bm->path, cpl_msg());
        goto done;
    }
    GDALSetGenImgProjTransformerDstGeoTransform(tr, gt);

    int n = GDALGetRasterCount(bm->ds) - (bm->alpha != 0);
    wo = GDALCreateWarpOptions();
    wo->hSrcDS = bm->ds;
    wo->eResampleAlg = bm->mode == MAP_PALETTE ? GRA_NearestNeighbour : GRA_Bilinear;
    wo->nBandCount = n;
    wo->panSrcBands = CPLMalloc(sizeof(int) * (size_t)n);
    wo->panDstBands = CPLMalloc(sizeof(int) * (size_t)n);
    for (int i = 0; i < n; i++)
        wo->panSrcBands[i] = wo->panDstBands[i] = i + 1;
    wo->nSrcAlphaBand = bm->alpha;
    wo->nDstAlphaBand = n + 1;
    int has_nodata = 0;
    GDALGetRasterNoDataValue(GDALGetRasterBand(bm->ds, 1), &has_nodata);
    if (has_nodata) {
        wo->padfSrcNoDataReal = CPLMalloc(sizeof(double) * (size_t)n);
        for (int i = 0; i < n; i++)
            wo->padfSrcNoDataReal[i] =
                GDALGetRasterNoDataValue(GDALGetRasterBand(bm->ds, i + 1), NULL);
    }
    wo->pTransformerArg = GDALCreateApproxTransformer(GDALGenImgProjTransform, tr, 0.125);
    wo->pfnTransformer = GDALApproxTransform;
    GDALApproxTransformerOwnsSubtransformer(wo->pTransformerArg, TRUE);
    tr = NULL; /* owned by the approximating transformer, which the VRT will own */

    vrt = GDALCreateWarpedVRT(bm->ds, px, ln, gt, wo);
    if (vrt == NULL) {
        /* Ownership of the transformer on this path is unclear across GDAL versions: leak it
         * rather than risk a double free. */
        tb_err_set(err, TB_ELIB, "basemap %s: cannot create warped view: %s", bm->path,
                   cpl_msg());
        goto done;
    }
    GDALSetProjection(vrt, dst_wkt);

done:
    if (tr != NULL)
        GDALDestroyGenImgProjTransformer(tr);
    if (wo != NULL)
        GDALDestroyWarpOptions(wo);
    CSLDestroy(topts);
    CPLFree(dst_wkt);
    return vrt;
}

/* Sets up view v for key (see map_view.key).  bm may be NULL (no imagery). */
static tb_code
view_init(map_view *v, map_basemap *bm, int key, tb_err *err)
{
    tb_code rc = TB_OK;
    OGRSpatialReferenceH geo = OSRNewSpatialReference(NULL);
    OGRSpatialReferenceH dst = NULL;

    memset(v, 0, sizeof *v);
    v->key = key;
    if (OSRImportFromEPSG(geo, MAP_GEO_EPSG) != OGRERR_NONE) {
        rc = tb_err_set(err, TB_ELIB, "map: PROJ does not know EPSG:%d: %s", MAP_GEO_EPSG,
                        cpl_msg());
        goto done;
    }
    OSRSetAxisMappingStrategy(geo, OAMS_TRADITIONAL_GIS_ORDER);
    if (key == 0) {
        TB_ASSERT(bm != NULL);
        dst = OSRClone(bm->srs);
    } else {
        dst = OSRNewSpatialReference(NULL);
        if (OSRImportFromEPSG(dst, key) != OGRERR_NONE) {
            rc = tb_err_set(err, TB_ELIB, "map: PROJ does not know EPSG:%d: %s", key,
                            cpl_msg());
            goto done;
        }
    }
    OSRSetAxisMappingStrategy(dst, OAMS_TRADITIONAL_GIS_ORDER);
    v->unit_m = OSRIsProjected(dst) ? OSRGetLinearUnits(dst, NULL) : 1.0;
    v->from_geo = OCTNewCoordinateTransformation(geo, dst);
    v->to_geo = OCTNewCoordinateTransformation(dst, geo);
    if (v->from_geo == NULL || v->to_geo == NULL) {
        rc = tb_err_set(err, TB_ELIB, "map: no transformation between EPSG:%d and %s: %s",
                        MAP_GEO_EPSG, bm != NULL ? bm->path : "the map CRS", cpl_msg());
        goto done;
    }
    if (bm != NULL) {
        if (key == 0 && bm->north_up) {
            v->ds = bm->ds;
        } else {
            v->ds = warped_vrt_create(bm, dst, err);
            if (v->ds == NULL) {
                rc = err != NULL && err->code != TB_OK ? err->code : TB_ELIB;
                goto done;
            }
            v->owns_ds = true;
        }
        GDALGetGeoTransform(v->ds, v->gt);
        v->nx = GDALGetRasterXSize(v->ds);
        v->ny = GDALGetRasterYSize(v->ds);
    }

done:
    if (rc != TB_OK)
        view_release(v);
    OSRDestroySpatialReference(geo);
    if (dst != NULL)
        OSRDestroySpatialReference(dst);
    return rc;
}

/* The cached view for key, created on first use; the oldest is dropped when the cache is full. */
static map_view *
basemap_view(map_basemap *bm, int key, tb_err *err)
{
    for (int i = 0; i < bm->nviews; i++)
        if (bm->views[i].key == key)
            return &bm->views[i];
    if (bm->nviews == MAP_MAX_VIEWS) {
        view_release(&bm->views[0]);
        memmove(&bm->views[0], &bm->views[1], sizeof bm->views[0] * (MAP_MAX_VIEWS - 1));
        bm->nviews--;
    }
    map_view *v = &bm->views[bm->nviews];
    if (view_init(v, bm, key, err) != TB_OK)
        return NULL;
    bm->nviews++;
    return v;
}

/* ---- imagery ------------------------------------------------------------------------------ */

/* Byte offsets of R, G, B inside a cairo RGB24 pixel (native-endian 0x00RRGGBB). */
static void
rgb24_offsets(int off[3])
{
    uint32_t probe = 0x00010203u; /* R = 1, G = 2, B = 3 */
    unsigned char bytes[4];
    memcpy(bytes, &probe, sizeof bytes);
    for (int i = 0; i < 4; i++)
        if (bytes[i] >= 1 && bytes[i] <= 3)
            off[bytes[i] - 1] = i;
}

typedef struct map_window {
    int xoff, yoff, xsize, ysize;  /* integer source window */
    GDALRasterIOExtraArg extra;    /* with the exact floating-point window */
    int ox, oy, ow, oh;            /* destination rectangle in the image */
} map_window;

/* Source window of extent e rendered at w x h pixels, clipped to the view's raster.  False if
 * the raster does not reach into the extent. */
static bool
window_compute(const map_view *v, const map_extent *e, int w, int h, bool nearest,
               map_window *win)
{
    const double *gt = v->gt;
    double c0 = (e->minx - gt[0]) / gt[1];
    double c1 = (e->maxx - gt[0]) / gt[1];
    double r0 = (e->maxy - gt[3]) / gt[5];
    double r1 = (e->miny - gt[3]) / gt[5];
    double sx = (c1 - c0) / w, sy = (r1 - r0) / h; /* source pixels per image pixel */
    if (!(sx > 0.0) || !(sy > 0.0))
        return false;
    double fx0 = fmax(0.0, ceil(-c0 / sx - 1e-6)), fx1 = fmin(w, floor((v->nx - c0) / sx + 1e-6));
    double fy0 = fmax(0.0, ceil(-r0 / sy - 1e-6)), fy1 = fmin(h, floor((v->ny - r0) / sy + 1e-6));
    if (fx1 - fx0 < 1.0 || fy1 - fy0 < 1.0)
        return false;
    win->ox = (int)fx0, win->ow = (int)(fx1 - fx0);
    win->oy = (int)fy0, win->oh = (int)(fy1 - fy0);

    double sx0 = fmax(0.0, c0 + fx0 * sx), sx1 = fmin(v->nx, c0 + fx1 * sx);
    double sy0 = fmax(0.0, r0 + fy0 * sy), sy1 = fmin(v->ny, r0 + fy1 * sy);
    win->xoff = (int)floor(sx0);
    win->yoff = (int)floor(sy0);
    win->xsize = (int)ceil(sx1) - win->xoff;
    win->ysize = (int)ceil(sy1) - win->yoff;
    if (win->xsize < 1)
        win->xsize = 1;
    if (win->ysize < 1)
        win->ysize = 1;
    if (win->xoff + win->xsize > v->nx)
        win->xoff = v->nx - win->xsize;
    if (win->yoff + win->ysize > v->ny)
        win->yoff = v->ny - win->ysize;
    INIT_RASTERIO_EXTRA_ARG(win->extra);
    win->extra.eResampleAlg = nearest ? GRIORA_NearestNeighbour : GRIORA_Bilinear;
    win->extra.bFloatingPointWindowValidity = TRUE;
    win->extra.dfXOff = sx0;
    win->extra.dfYOff = sy0;
    win->extra.dfXSize = fmax(sx1 - sx0, 1e-9);
    win->extra.dfYSize = fmax(sy1 - sy0, 1e-9);
    return true;
}

/* Reads one band of the window into channel byte offset `off` of the image (stride bytes per
 * row), stretching non-Byte data with lo/gain. */
static tb_code
band_read(map_basemap *bm, GDALRasterBandH band, map_window *win, unsigned char *img,
          int stride, int off, double lo, double gain, tb_err *err)
{
    tb_code rc = TB_OK;
    float *tmp = NULL;
    unsigned char *dst = img + (size_t)win->oy * (size_t)stride + (size_t)win->ox * 4 + off;

    if (GDALGetRasterDataType(band) == GDT_Byte) {
        if (GDALRasterIOEx(band, GF_Read, win->xoff, win->yoff, win->xsize, win->ysize, dst,
                           win->ow, win->oh, GDT_Byte, 4, stride, &win->extra) != CE_None)
            rc = tb_err_set(err, TB_ELIB, "basemap %s: read failed: %s", bm->path, cpl_msg());
        goto done;
    }
    tmp = tb_xmalloc_array((size_t)win->ow * (size_t)win->oh, sizeof *tmp);
    if (GDALRasterIOEx(band, GF_Read, win->xoff, win->yoff, win->xsize, win->ysize, tmp,
                       win->ow, win->oh, GDT_Float32, 0, 0, &win->extra) != CE_None) {
        rc = tb_err_set(err, TB_ELIB, "basemap %s: read failed: %s", bm->path, cpl_msg());
        goto done;
    }
    for (int y = 0; y < win->oh; y++) {
        for (int x = 0; x < win->ow; x++) {
            double val = ((double)tmp[(size_t)y * (size_t)win->ow + (size_t)x] - lo) * gain;
            val = val < 0.0 ? 0.0 : val > 255.0 ? 255.0 : val;
            dst[(size_t)y * (size_t)stride + (size_t)x * 4] = (unsigned char)lrint(val);
        }
    }

done:
    free(tmp);
    return rc;
}

/* Fills the image (RGB24, w x h, pre-filled grey) with the basemap over extent e.  *covered is
 * set when any imagery falls inside. */
static tb_code
image_read(map_basemap *bm, const map_view *v, const map_extent *e, cairo_surface_t *surf,
           bool *covered, tb_err *err)
{
    tb_code rc = TB_OK;
    unsigned char *tmp = NULL;
    int w = cairo_image_surface_get_width(surf), h = cairo_image_surface_get_height(surf);
    int stride = cairo_image_surface_get_stride(surf);
    unsigned char *img = cairo_image_surface_get_data(surf);
    int off[3] = {2, 1, 0};
    map_window win;

    *covered = false;
    if (!window_compute(v, e, w, h, bm->mode == MAP_PALETTE, &win))
        goto done;
    *covered = true;
    rgb24_offsets(off);

    if (bm->mode == MAP_RGB) {
        for (int c = 0; c < 3 && rc == TB_OK; c++)
            rc = band_read(bm, GDALGetRasterBand(v->ds, bm->bands[c]), &win, img, stride,
                           off[c], bm->lo[c], bm->gain[c], err);
    } else {
        rc = band_read(bm, GDALGetRasterBand(v->ds, bm->bands[0]), &win, img, stride, off[0],
                       bm->lo[0], bm->gain[0], err);
        for (int y = 0; y < win.oh && rc == TB_OK; y++) {
            unsigned char *p = img + (size_t)(win.oy + y) * (size_t)stride + (size_t)win.ox * 4;
            for (int x = 0; x < win.ow; x++, p += 4) {
                unsigned char i = p[off[0]];
                if (bm->mode == MAP_PALETTE) {
                    p[off[0]] = bm->lut[i][0], p[off[1]] = bm->lut[i][1];
                    p[off[2]] = bm->lut[i][2];
                } else {
                    p[off[1]] = p[off[2]] = i;
                }
            }
        }
    }
    if (rc != TB_OK)
        goto done;

    /* Alpha / nodata: blend towards the grey background. */
    GDALRasterBandH b0 = GDALGetRasterBand(v->ds, bm->bands[0]);
    if ((GDALGetMaskFlags(b0) & GMF_ALL_VALID) != 0)
        goto done;
    tmp = tb_xmalloc_array((size_t)win.ow, (size_t)win.oh);
    if (GDALRasterIOEx(GDALGetMaskBand(b0), GF_Read, win.xoff, win.yoff, win.xsize, win.ysize,
                       tmp, win.ow, win.oh, GDT_Byte, 0, 0, &win.extra) != CE_None) {
        rc = tb_err_set(err, TB_ELIB, "basemap %s: mask read failed: %s", bm->path, cpl_msg());
        goto done;
    }
    for (int y = 0; y < win.oh; y++) {
        unsigned char *p = img + (size_t)(win.oy + y) * (size_t)stride + (size_t)win.ox * 4;
        const unsigned char *m = tmp + (size_t)y * (size_t)win.ow;
        for (int x = 0; x < win.ow; x++, p += 4) {
            unsigned a = m[x];
            if (a == 255)
                continue;
            for (int c = 0; c < 3; c++)
                p[off[c]] = (unsigned char)((p[off[c]] * a + MAP_GREY * (255u - a) + 127) / 255);
        }
    }

done:
    free(tmp);
    return rc;
}

/* Encodes the RGB24 surface as JPEG and attaches it as the surface's JPEG mime data. */
static tb_code
image_attach_jpeg(cairo_surface_t *surf, tb_err *err)
{
    tb_code rc = TB_OK;
    GDALDatasetH mem = NULL, jpg = NULL;
    GByte *data = NULL;
    char name[64], aux[80];
    char *opts[] = {MAP_JPEG_QUALITY, NULL};
    int w = cairo_image_surface_get_width(surf), h = cairo_image_surface_get_height(surf);
    int stride = cairo_image_surface_get_stride(surf);
    unsigned char *img = cairo_image_surface_get_data(surf);
    int off[3] = {2, 1, 0};

    rgb24_offsets(off);
    snprintf(name, sizeof name, "/vsimem/tb_map_%u.jpg", atomic_fetch_add(&jpeg_serial, 1u));
    snprintf(aux, sizeof aux, "%s.aux.xml", name);
    GDALDriverH mem_drv = GDALGetDriverByName("MEM"), jpg_drv = GDALGetDriverByName("JPEG");
    if (mem_drv == NULL || jpg_drv == NULL) {
        rc = tb_err_set(err, TB_ELIB, "map: GDAL lacks the MEM or JPEG driver");
        goto done;
    }
    mem = GDALCreate(mem_drv, "", w, h, 3, GDT_Byte, NULL);
    if (mem == NULL) {
        rc = tb_err_set(err, TB_ELIB, "map: cannot create image buffer: %s", cpl_msg());
        goto done;
    }
    /* Band c of the MEM dataset gets byte off[c] of every pixel. */
    int lowest = off[0] < off[1] ? (off[0] < off[2] ? 0 : 2) : (off[1] < off[2] ? 1 : 2);
    int band_map[3];
    for (int c = 0; c < 3; c++)
        band_map[off[c] - off[lowest]] = c + 1;
    if (GDALDatasetRasterIO(mem, GF_Write, 0, 0, w, h, img + off[lowest], w, h, GDT_Byte, 3,
                            band_map, 4, stride, 1) != CE_None) {
        rc = tb_err_set(err, TB_ELIB, "map: cannot fill image buffer: %s", cpl_msg());
        goto done;
    }
    jpg = GDALCreateCopy(jpg_drv, name, mem, FALSE, opts, NULL, NULL);
    if (jpg == NULL) {
        rc = tb_err_set(err, TB_ELIB, "map: JPEG encoding failed: %s", cpl_msg());
        goto done;
    }
    GDALClose(jpg);
    jpg = NULL;
    vsi_l_offset len = 0;
    data = VSIGetMemFileBuffer(name, &len, TRUE);
    if (data == NULL || len == 0) {
        rc = tb_err_set(err, TB_ELIB, "map: JPEG encoding produced nothing");
        goto done;
    }
    if (cairo_surface_set_mime_data(surf, CAIRO_MIME_TYPE_JPEG, data, (unsigned long)len,
                                    VSIFree, data) != CAIRO_STATUS_SUCCESS) {
        rc = tb_err_set(err, TB_ELIB, "map: cairo refused the JPEG data");
        goto done;
    }
    data = NULL; /* owned by the surface */

done:
    VSIFree(data);
    if (jpg != NULL)
        GDALClose(jpg);
    if (mem != NULL)
        GDALClose(mem);
    VSIUnlink(name);
    VSIUnlink(aux);
    return rc;
}

/* ---- drawing ------------------------------------------------------------------------------ */

static void
extent_to_frame(const map_extent *e, double x, double y, double *px, double *py)
{
    *px = e->x0 + (x - e->minx) * e->s;
    *py = e->y0 + (e->maxy - y) * e->s;
}

static void
outline_add_ring(cairo_t *cr, const map_extent *e, OGRGeometryH ring)
{
    int n = OGR_G_GetPointCount(ring);
    for (int i = 0; i < n; i++) {
        double px, py;
        extent_to_frame(e, OGR_G_GetX(ring, i), OGR_G_GetY(ring, i), &px, &py);
        if (i == 0)
            cairo_move_to(cr, px, py);
        else
            cairo_line_to(cr, px, py);
    }
    if (n > 0)
        cairo_close_path(cr);
}

static void
outline_draw(cairo_t *cr, const map_extent *e, OGRGeometryH g)
{
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    cairo_new_path(cr);
    if (t == wkbPolygon) {
        for (int r = 0; r < OGR_G_GetGeometryCount(g); r++)
            outline_add_ring(cr, e, OGR_G_GetGeometryRef(g, r));
    } else {
        for (int p = 0; p < OGR_G_GetGeometryCount(g); p++) {
            OGRGeometryH poly = OGR_G_GetGeometryRef(g, p);
            for (int r = 0; r < OGR_G_GetGeometryCount(poly); r++)
                outline_add_ring(cr, e, OGR_G_GetGeometryRef(poly, r));
        }
    }
    cairo_set_source_rgb(cr, 1.0, 0.0, 0.0);
    cairo_set_line_width(cr, 2.0);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_stroke(cr);
}

/* Sets the layout's text and size (user units); returns its logical box in *tw, *th. */
static void
text_set(PangoLayout *lay, const char *text, double size, double *tw, double *th)
{
    PangoFontDescription *fd = pango_font_description_from_string(MAP_FONT);
    pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
    pango_layout_set_font_description(lay, fd);
    pango_font_description_free(fd);
    pango_layout_set_text(lay, text, -1);
    PangoRectangle log;
    pango_layout_get_extents(lay, NULL, &log);
    if (tw != NULL)
        *tw = (double)log.width / PANGO_SCALE;
    if (th != NULL)
        *th = (double)log.height / PANGO_SCALE;
}

/* Draws text so that point (ax, ay) of its box (0..1 each) is at (x, y). */
static void
text_draw(cairo_t *cr, PangoLayout *lay, const char *text, double size, double x, double y,
          double ax, double ay)
{
    double w, h;
    text_set(lay, text, size, &w, &h);
    cairo_move_to(cr, x - ax * w, y - ay * h);
    pango_cairo_show_layout(cr, lay);
}

static void
box_draw(cairo_t *cr, double x, double y, double w, double h)
{
    cairo_rectangle(cr, x, y, w, h);
    cairo_set_source_rgba(cr, 1.0, 1.0, 1.0, 0.85);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    cairo_set_line_width(cr, 0.4);
    cairo_stroke(cr);
}

static void
label_draw(cairo_t *cr, PangoLayout *lay, const map_frame *f, const char *label)
{
    if (label == NULL || label[0] == '\0')
        return;
    const double pad = 2.5, inset = 6.0, size = 7.5;
    double tw, th;
    text_set(lay, label, size, &tw, &th);
    double maxw = f->w_pt * 0.6;
    if (tw > maxw) { /* one line, ellipsized */
        pango_layout_set_width(lay, (int)(maxw * PANGO_SCALE));
        pango_layout_set_ellipsize(lay, PANGO_ELLIPSIZE_END);
        tw = maxw;
    }
    box_draw(cr, f->x_pt + inset, f->y_pt + inset, tw + 2 * pad, th + 2 * pad);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, f->x_pt + inset + pad, f->y_pt + inset + pad);
    pango_cairo_show_layout(cr, lay);
    pango_layout_set_width(lay, -1);
    pango_layout_set_ellipsize(lay, PANGO_ELLIPSIZE_NONE);
}

/* A round bar length (1, 2 or 5 x 10^n) near a quarter of the frame width. */
static double
scale_nice_length(double frame_m)
{
    double target = 0.25 * frame_m;
    double p = pow(10.0, floor(log10(target)));
    static const double steps[] = {1, 2, 5, 10};
    double best = p, best_d = INFINITY;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        double d = fabs(steps[i] * p / frame_m - 0.25);
        if (d < best_d)
            best = steps[i] * p, best_d = d;
    }
    return best;
}

static void
scalebar_draw(cairo_t *cr, PangoLayout *lay, const map_frame *f, double m_per_pt)
{
    double len_m = scale_nice_length(f->w_pt * m_per_pt);
    double len = len_m / m_per_pt;
    bool km = len_m >= 10000.0;
    double div = km ? 1000.0 : 1.0;
    const double inset = 6.0, bar_h = 3.0, size = 7.0, pad = 3.0;
    char l1[32], l2[32];
    snprintf(l1, sizeof l1, "%g", len_m / 2 / div);
    snprintf(l2, sizeof l2, "%g", len_m / div);
    const char *unit = km ? "km" : "m";

    double tw2, th, tu;
    text_set(lay, l2, size, &tw2, &th);
    text_set(lay, unit, size, &tu, NULL);
    double bx = f->x_pt + inset + pad + 3.0;
    double by = f->y_pt + f->h_pt - inset - pad - bar_h;
    double right = bx + len + tw2 / 2 + 2.0 + tu; /* the unit follows the last number */
    double box_h = th + bar_h + 1.0 + 2 * pad;
    box_draw(cr, f->x_pt + inset, by + bar_h + pad - box_h, right + pad - (f->x_pt + inset),
             box_h);

    cairo_set_line_width(cr, 0.5);
    cairo_rectangle(cr, bx, by, len / 2, bar_h);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_fill_preserve(cr);
    cairo_stroke(cr);
    cairo_rectangle(cr, bx + len / 2, by, len / 2, bar_h);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_stroke(cr);

    double ty = by - 1.0;
    text_draw(cr, lay, "0", size, bx, ty, 0.5, 1.0);
    text_draw(cr, lay, l1, size, bx + len / 2, ty, 0.5, 1.0);
    text_draw(cr, lay, l2, size, bx + len, ty, 0.5, 1.0);
    text_draw(cr, lay, unit, size, bx + len + tw2 / 2 + 2.0, ty, 0.0, 1.0);
}

static void
north_draw(cairo_t *cr, PangoLayout *lay, const map_frame *f)
{
    const double inset = 6.0, w = 14.0, h = 26.0;
    double x = f->x_pt + f->w_pt - inset - w, y = f->y_pt + inset;
    box_draw(cr, x, y, w, h);
    double cx = x + w / 2, top = y + 11.0, bot = y + h - 2.5, half = 4.0;
    /* Classic half-filled arrow. */
    cairo_set_line_width(cr, 0.5);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
    cairo_move_to(cr, cx, top);
    cairo_line_to(cr, cx - half, bot);
    cairo_line_to(cr, cx, bot - 3.0);
    cairo_close_path(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_fill_preserve(cr);
    cairo_stroke(cr);
    cairo_move_to(cr, cx, top);
    cairo_line_to(cr, cx + half, bot);
    cairo_line_to(cr, cx, bot - 3.0);
    cairo_close_path(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_stroke(cr);
    text_draw(cr, lay, "N", 7.5, cx, y + 0.5, 0.5, 0.0);
}

static void
no_image_draw(cairo_t *cr, PangoLayout *lay, const map_frame *f)
{
    double tw, th;
    text_set(lay, "无影像", 8.0, &tw, &th);
    double x = f->x_pt + (f->w_pt - tw) / 2, y = f->y_pt + 6.0;
    box_draw(cr, x - 3.0, y, tw + 6.0, th + 4.0);
    cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
    cairo_move_to(cr, x, y + 2.0);
    pango_cairo_show_layout(cr, lay);
}

/* Metres per drawing CRS unit along x at the map centre: geodesic (GRS80) when the CRS can be
 * taken back to lon/lat, else the CRS's linear unit. */
static double
metres_per_unit(const map_view *v, const map_extent *e)
{
    double cx = (e->minx + e->maxx) / 2, cy = (e->miny + e->maxy) / 2;
    double d = (e->maxx - e->minx) / 4;
    double xs[2] = {cx - d, cx + d}, ys[2] = {cy, cy};
    if (!OCTTransform(v->to_geo, 2, xs, ys, NULL))
        return v->unit_m;
    const double a = 6378137.0, f = 1 / 298.257222101, e2 = f * (2 - f);
    double phi = (ys[0] + ys[1]) / 2 * M_PI / 180;
    double w = sqrt(1 - e2 * sin(phi) * sin(phi));
    double m_rad = a * (1 - e2) / (w * w * w), n_rad = a / w;
    double dphi = (ys[1] - ys[0]) * M_PI / 180, dlam = (xs[1] - xs[0]) * M_PI / 180;
    double dist = hypot(m_rad * dphi, n_rad * cos(phi) * dlam);
    return dist > 0 ? dist / (2 * d) : v->unit_m;
}

static bool
frame_valid(const map_frame *f)
{
    return f != NULL && isfinite(f->x_pt) && isfinite(f->y_pt) && isfinite(f->w_pt) &&
           isfinite(f->h_pt) && f->w_pt >= 20.0 && f->h_pt >= 20.0 && isfinite(f->dpi) &&
           f->dpi >= 0.0 && f->dpi <= 2400.0 && isfinite(f->margin_ratio) &&
           f->margin_ratio >= 0.0 && f->margin_ratio <= 10.0;
}

tb_code
map_draw_patch(cairo_t *cr, map_basemap *bm, const unsigned char *wkb, size_t wkb_len,
               const char *label_utf8, const map_frame *f, tb_err *err)
{
    tb_code rc = TB_OK;
    OGRGeometryH g = NULL;
    map_view tmp_view = {0};
    map_view *v = NULL;
    cairo_surface_t *img = NULL;
    PangoLayout *lay = NULL;
    const char *who = label_utf8 != NULL && label_utf8[0] != '\0' ? label_utf8 : "(no label)";

    if (cr == NULL || wkb == NULL || !frame_valid(f))
        return tb_err_set(err, TB_EINVAL, "map for patch %s: bad frame or arguments", who);
    pthread_once(&gdal_once, gdal_register);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    cairo_save(cr);

    /* The patch, in lon/lat. */
    if (wkb_len > INT32_MAX ||
        OGR_G_CreateFromWkbEx(wkb, NULL, &g, wkb_len) != OGRERR_NONE || g == NULL) {
        rc = tb_err_set(err, TB_EFORMAT, "map for patch %s: geometry is not valid WKB (%zu "
                        "bytes)", who, wkb_len);
        goto done;
    }
    OGRwkbGeometryType type = wkbFlatten(OGR_G_GetGeometryType(g));
    if ((type != wkbPolygon && type != wkbMultiPolygon) || OGR_G_IsEmpty(g)) {
        rc = tb_err_set(err, TB_EFORMAT, "map for patch %s: geometry is a %s, not a non-empty "
                        "polygon", who, OGRGeometryTypeToName(type));
        goto done;
    }
    OGREnvelope env;
    OGR_G_GetEnvelope(g, &env);
    if (!(env.MinX >= -180.0 && env.MaxX <= 180.0 && env.MinY >= -90.0 && env.MaxY <= 90.0)) {
        rc = tb_err_set(err, TB_EFORMAT, "map for patch %s: coordinates (%.3f, %.3f) are not "
                        "EPSG:4490 longitude/latitude", who, env.MinX, env.MinY);
        goto done;
    }

    /* The drawing CRS. */
    int key = 0;
    if (bm == NULL || !bm->projected) {
        double cm = 3.0 * round((env.MinX + env.MaxX) / 2 / 3.0);
        cm = cm < 75.0 ? 75.0 : cm > 135.0 ? 135.0 : cm;
        key = MAP_GK_EPSG_75E + (int)((cm - 75.0) / 3.0);
    }
    if (bm != NULL) {
        v = basemap_view(bm, key, err);
    } else if (view_init(&tmp_view, NULL, key, err) == TB_OK) {
        v = &tmp_view;
    }
    if (v == NULL) {
        rc = err != NULL && err->code != TB_OK ? err->code : TB_ELIB;
        goto done;
    }
    if (OGR_G_Transform(g, v->from_geo) != OGRERR_NONE) {
        rc = tb_err_set(err, TB_EFORMAT, "map for patch %s: cannot project the patch: %s", who,
                        cpl_msg());
        goto done;
    }

    /* The extent: the patch bbox plus margins, grown to the frame's aspect. */
    OGR_G_GetEnvelope(g, &env);
    double margin = f->margin_ratio > 0.0 ? f->margin_ratio : 0.35;
    double dpi = f->dpi > 0.0 ? f->dpi : 200.0;
    double min_ext = MAP_MIN_EXTENT_M / (v->unit_m > 0 ? v->unit_m : 1.0);
    double bw = fmax(env.MaxX - env.MinX, min_ext), bh = fmax(env.MaxY - env.MinY, min_ext);
    map_extent e;
    e.s = fmin(f->w_pt / (bw * (1 + 2 * margin)), f->h_pt / (bh * (1 + 2 * margin)));
    double cx = (env.MinX + env.MaxX) / 2, cy = (env.MinY + env.MaxY) / 2;
    e.minx = cx - f->w_pt / e.s / 2, e.maxx = cx + f->w_pt / e.s / 2;
    e.miny = cy - f->h_pt / e.s / 2, e.maxy = cy + f->h_pt / e.s / 2;
    e.x0 = f->x_pt, e.y0 = f->y_pt;

    /* The imagery. */
    double pw = fmax(1.0, round(f->w_pt / 72.0 * dpi)), ph = fmax(1.0, round(f->h_pt / 72.0 * dpi));
    if (pw * ph > MAP_MAX_PIXELS) {
        rc = tb_err_set(err, TB_ELIMIT, "map for patch %s: image of %.0f x %.0f pixels is over "
                        "the limit; lower the dpi", who, pw, ph);
        goto done;
    }
    img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)pw, (int)ph);
    if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
        rc = tb_err_set(err, TB_ELIB, "map for patch %s: cairo: %s", who,
                        cairo_status_to_string(cairo_surface_status(img)));
        goto done;
    }
    cairo_surface_flush(img);
    memset(cairo_image_surface_get_data(img), MAP_GREY,
           (size_t)cairo_image_surface_get_stride(img) * (size_t)ph);
    bool covered = false;
    if (bm != NULL && (rc = image_read(bm, v, &e, img, &covered, err)) != TB_OK)
        goto done;
    cairo_surface_mark_dirty(img);
    if (covered && cairo_surface_supports_mime_type(cairo_get_target(cr), CAIRO_MIME_TYPE_JPEG) &&
        (rc = image_attach_jpeg(img, err)) != TB_OK)
        goto done;

    cairo_save(cr); /* clip to the frame for everything but the border */
    cairo_rectangle(cr, f->x_pt, f->y_pt, f->w_pt, f->h_pt);
    cairo_clip(cr);
    if (covered) {
        cairo_save(cr);
        cairo_translate(cr, f->x_pt, f->y_pt);
        cairo_scale(cr, f->w_pt / pw, f->h_pt / ph);
        cairo_set_source_surface(cr, img, 0, 0);
        cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
        cairo_paint(cr);
        cairo_restore(cr);
    } else {
        cairo_set_source_rgb(cr, MAP_GREY / 255.0, MAP_GREY / 255.0, MAP_GREY / 255.0);
        cairo_paint(cr);
    }

    /* Overlays. */
    outline_draw(cr, &e, g);
    lay = pango_cairo_create_layout(cr);
    double m_per_pt = metres_per_unit(v, &e) / e.s;
    scalebar_draw(cr, lay, f, m_per_pt);
    north_draw(cr, lay, f);
    label_draw(cr, lay, f, label_utf8);
    if (!covered)
        no_image_draw(cr, lay, f);
    cairo_restore(cr);
    cairo_rectangle(cr, f->x_pt, f->y_pt, f->w_pt, f->h_pt);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 0.6);
    cairo_stroke(cr);

    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
        rc = tb_err_set(err, TB_ELIB, "map for patch %s: cairo: %s", who,
                        cairo_status_to_string(cairo_status(cr)));

done:
    cairo_restore(cr);
    if (lay != NULL)
        g_object_unref(lay);
    if (img != NULL)
        cairo_surface_destroy(img);
    if (g != NULL)
        OGR_G_DestroyGeometry(g);
    view_release(&tmp_view);
    CPLPopErrorHandler();
    return rc;
}
