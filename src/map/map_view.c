/* Map imagery.  Every map is drawn in the CGCS2000 3-degree Gauss-Kruger zone of its subject
 * (EPSG:4534..4554), so rasters in any CRS put the same ground point at the same place; a raster
 * already in that zone and north-up is read as is, any other through a warped VRT built once
 * per zone and cached.  The map window is read with
 * GDAL's resampling RasterIO straight into a cairo image surface; for PDF targets the same pixels
 * are encoded once as JPEG and attached as mime data so the PDF carries a DCT image. */
#include "tb_features.h"

#include "map_int.h"

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

static pthread_once_t gdal_once = PTHREAD_ONCE_INIT;
static atomic_uint jpeg_serial;

/* GDAL's block cache defaults to 5% of the machine's memory, so a long run over a big raster
 * would grow towards that; a map frame needs a few MB of blocks.  An administrator's
 * GDAL_CACHEMAX still wins. */
#define MAP_BLOCK_CACHE_BYTES (64 << 20)

static void
gdal_register(void)
{
    GDALAllRegister();
    if (CPLGetConfigOption("GDAL_CACHEMAX", NULL) == NULL)
        GDALSetCacheMax64(MAP_BLOCK_CACHE_BYTES);
}

void
map_gdal_init(void)
{
    pthread_once(&gdal_once, gdal_register);
}

const char *
map_cpl_msg(void)
{
    const char *m = CPLGetLastErrorMsg();
    return (m != NULL && m[0] != '\0') ? m : "no details from GDAL";
}

/* ---- basemap ------------------------------------------------------------------------------ */

void
map_view_release(map_view *v)
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
        map_view_release(&bm->views[i]);
    if (bm->srs != NULL)
        OSRDestroySpatialReference(bm->srs);
    if (bm->ds != NULL)
        GDALClose(bm->ds);
    free(bm->path);
    free(bm);
}

static bool
band_is_float(GDALRasterBandH band)
{
    GDALDataType t = GDALGetRasterDataType(band);
    return t == GDT_Float32 || t == GDT_Float64 || GDALDataTypeIsComplex(t);
}

/* Chooses the bands shown as R, G, B and their stretch: the office's band order and stretch
 * when given, else the colour interpretation and a min-max stretch of non-Byte bands.  A lone
 * floating-point band (a DEM, an index) is no picture without a declared stretch. */
static tb_code
basemap_pick_bands(map_basemap *bm, const map_image_source *src, tb_err *err)
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
    if (src->bands[0] != 0) {
        for (int c = 0; c < 3; c++)
            if (src->bands[c] < 1 || src->bands[c] > n)
                return tb_err_set(err, TB_EFORMAT, "imagery %s: band %d is configured but the "
                                  "raster has %d band%s", bm->path, src->bands[c], n,
                                  n == 1 ? "" : "s");
        bool grey = src->bands[0] == src->bands[1] && src->bands[1] == src->bands[2];
        bm->mode = grey ? MAP_GREY_BAND : MAP_RGB;
        memcpy(bm->bands, src->bands, sizeof bm->bands);
    } else if (r != 0 && g != 0 && b != 0) {
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
    if (bm->mode == MAP_GREY_BAND && !src->has_stretch &&
        band_is_float(GDALGetRasterBand(bm->ds, bm->bands[0])))
        return tb_err_set(err, TB_EFORMAT, "imagery %s: one %s band of measurements (an "
                          "elevation model or an index), not a picture; declare a stretch for "
                          "it in the imagery catalogue (stretch=\"low high\") to show it in grey",
                          bm->path, GDALGetDataTypeName(GDALGetRasterDataType(
                                        GDALGetRasterBand(bm->ds, bm->bands[0]))));
    for (int c = 0; c < 3; c++) {
        GDALRasterBandH band = GDALGetRasterBand(bm->ds, bm->bands[c]);
        bm->lo[c] = 0.0;
        bm->gain[c] = 1.0;
        if (src->has_stretch) {
            bm->lo[c] = src->stretch_lo;
            bm->gain[c] = 255.0 / (src->stretch_hi - src->stretch_lo);
            continue;
        }
        if (GDALGetRasterDataType(band) == GDT_Byte)
            continue;
        /* Non-Byte imagery (UInt16 satellite scenes) gets a min-max stretch (approximate:
         * from an overview when there is one). */
        double mm[2] = {0.0, 255.0};
        if (GDALComputeRasterMinMax(band, TRUE, mm) != CE_None || !(mm[1] > mm[0]))
            continue;
        bm->lo[c] = mm[0];
        bm->gain[c] = 255.0 / (mm[1] - mm[0]);
    }
    return TB_OK;
}

/* The raster's footprint in EPSG:4490: its outline sampled along the edges. */
static tb_code
basemap_footprint(map_basemap *bm, const double gt[6], tb_err *err)
{
    tb_code rc = TB_OK;
    OGRSpatialReferenceH geo = OSRNewSpatialReference(NULL);
    OGRCoordinateTransformationH ct = NULL;
    enum { STEPS = 16, N = 4 * STEPS };
    double xs[N], ys[N];
    int ok[N];

    if (OSRImportFromEPSG(geo, MAP_GEO_EPSG) != OGRERR_NONE) {
        rc = tb_err_set(err, TB_ELIB, "map: PROJ does not know EPSG:%d", MAP_GEO_EPSG);
        goto done;
    }
    OSRSetAxisMappingStrategy(geo, OAMS_TRADITIONAL_GIS_ORDER);
    ct = OCTNewCoordinateTransformation(bm->srs, geo);
    int nx = GDALGetRasterXSize(bm->ds), ny = GDALGetRasterYSize(bm->ds);
    for (int i = 0; i < STEPS; i++) {
        double t = (double)i / STEPS;
        double px[4] = {t * nx, nx, (1 - t) * nx, 0}, py[4] = {0, t * ny, ny, (1 - t) * ny};
        for (int k = 0; k < 4; k++) {
            xs[k * STEPS + i] = gt[0] + px[k] * gt[1] + py[k] * gt[2];
            ys[k * STEPS + i] = gt[3] + px[k] * gt[4] + py[k] * gt[5];
        }
    }
    if (ct == NULL || !OCTTransformEx(ct, N, xs, ys, NULL, ok)) {
        const char *name = OSRGetName(bm->srs);
        rc = tb_err_set(err, TB_EFORMAT, "imagery %s: its coordinate system (%s) cannot be "
                        "converted to CGCS2000 longitude and latitude, so the image cannot be "
                        "placed on the map", bm->path, name != NULL ? name : "unnamed");
        goto done;
    }
    bm->foot[0] = bm->foot[1] = INFINITY;
    bm->foot[2] = bm->foot[3] = -INFINITY;
    for (int i = 0; i < N; i++) {
        if (!ok[i] || !isfinite(xs[i]) || !isfinite(ys[i]))
            continue;
        bm->foot[0] = fmin(bm->foot[0], xs[i]), bm->foot[1] = fmin(bm->foot[1], ys[i]);
        bm->foot[2] = fmax(bm->foot[2], xs[i]), bm->foot[3] = fmax(bm->foot[3], ys[i]);
    }
    if (!(bm->foot[0] >= -180.0 && bm->foot[2] <= 180.0 && bm->foot[1] >= -90.0 &&
          bm->foot[3] <= 90.0 && bm->foot[0] < bm->foot[2] && bm->foot[1] < bm->foot[3]))
        rc = tb_err_set(err, TB_EFORMAT, "imagery %s: its georeferencing does not place it on "
                        "the earth (check its coordinate system and geotransform)", bm->path);

done:
    if (ct != NULL)
        OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(geo);
    return rc;
}

map_basemap *
map_basemap_open(const char *path, tb_err *err)
{
    map_image_source src = {.path = path};
    return map_basemap_open_source(&src, err);
}

map_basemap *
map_basemap_open_source(const map_image_source *src, tb_err *err)
{
    map_basemap *bm = NULL;
    const char *path = src->path;

    if (path == NULL || path[0] == '\0') {
        tb_err_set(err, TB_EINVAL, "imagery: no path given");
        return NULL;
    }
    if (src->has_stretch && !(src->stretch_hi > src->stretch_lo)) {
        tb_err_set(err, TB_EFORMAT, "imagery %s: stretch %g..%g is empty (the high value must "
                   "be above the low one)", path, src->stretch_lo, src->stretch_hi);
        return NULL;
    }
    map_gdal_init();
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();

    VSIStatBufL st;
    if (VSIStatL(path, &st) != 0) {
        tb_err_set(err, TB_ENOTFOUND, "imagery %s: no such file", path);
        goto fail;
    }
    bm = tb_xcalloc(1, sizeof *bm);
    bm->path = tb_xstrdup(path);
    bm->ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (bm->ds == NULL) {
        tb_err_set(err, TB_EFORMAT, "imagery %s: not an image GDAL can read (unreadable or not "
                   "a raster)", path);
        goto fail;
    }
    if (GDALGetRasterCount(bm->ds) < 1) {
        tb_err_set(err, TB_EFORMAT, "imagery %s: has no raster bands", path);
        goto fail;
    }
    OGRSpatialReferenceH srs = GDALGetSpatialRef(bm->ds);
    double gt[6];
    if (srs == NULL || GDALGetGeoTransform(bm->ds, gt) != CE_None) {
        tb_err_set(err, TB_EFORMAT, "imagery %s: has no georeferencing (%s), so tuban cannot "
                   "tell where on the ground it lies", path,
                   srs == NULL ? "no coordinate system" : "no geotransform");
        goto fail;
    }
    bm->srs = OSRClone(srs);
    OSRSetAxisMappingStrategy(bm->srs, OAMS_TRADITIONAL_GIS_ORDER);
    bm->north_up = gt[2] == 0.0 && gt[4] == 0.0 && gt[1] > 0.0 && gt[5] < 0.0;
    if (basemap_pick_bands(bm, src, err) != TB_OK || basemap_footprint(bm, gt, err) != TB_OK)
        goto fail;
    if (src->has_footprint) {
        bm->foot[0] = src->min_lon, bm->foot[1] = src->min_lat;
        bm->foot[2] = src->max_lon, bm->foot[3] = src->max_lat;
    }
    CPLPopErrorHandler();
    return bm;

fail:
    CPLPopErrorHandler();
    map_basemap_close(bm);
    return NULL;
}

bool
map_basemap_covers(const map_basemap *bm, double min_lon, double min_lat, double max_lon,
                   double max_lat)
{
    return bm->foot[0] <= min_lon && bm->foot[1] <= min_lat && bm->foot[2] >= max_lon &&
           bm->foot[3] >= max_lat;
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
        tb_err_set(err, TB_ELIB, "basemap %s: cannot reproject: %s", bm->path, map_cpl_msg());
        goto done;
    }
    double gt[6];
    int px = 0, ln = 0;
    if (GDALSuggestedWarpOutput(bm->ds, GDALGenImgProjTransform, tr, gt, &px, &ln) != CE_None) {
        tb_err_set(err, TB_ELIB, "basemap %s: cannot reproject: %s", bm->path, map_cpl_msg());
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
                   map_cpl_msg());
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

/* Sets up view v for the drawing CRS EPSG:key.  bm may be NULL (no imagery). */
tb_code
map_view_init(map_view *v, map_basemap *bm, int key, tb_err *err)
{
    tb_code rc = TB_OK;
    OGRSpatialReferenceH geo = OSRNewSpatialReference(NULL);
    OGRSpatialReferenceH dst = NULL;

    memset(v, 0, sizeof *v);
    v->key = key;
    if (OSRImportFromEPSG(geo, MAP_GEO_EPSG) != OGRERR_NONE) {
        rc = tb_err_set(err, TB_ELIB, "map: PROJ does not know EPSG:%d: %s", MAP_GEO_EPSG,
                        map_cpl_msg());
        goto done;
    }
    OSRSetAxisMappingStrategy(geo, OAMS_TRADITIONAL_GIS_ORDER);
    dst = OSRNewSpatialReference(NULL);
    if (OSRImportFromEPSG(dst, key) != OGRERR_NONE) {
        rc = tb_err_set(err, TB_ELIB, "map: PROJ does not know EPSG:%d: %s", key, map_cpl_msg());
        goto done;
    }
    OSRSetAxisMappingStrategy(dst, OAMS_TRADITIONAL_GIS_ORDER);
    v->unit_m = OSRIsProjected(dst) ? OSRGetLinearUnits(dst, NULL) : 1.0;
    v->from_geo = OCTNewCoordinateTransformation(geo, dst);
    v->to_geo = OCTNewCoordinateTransformation(dst, geo);
    if (v->from_geo == NULL || v->to_geo == NULL) {
        rc = tb_err_set(err, TB_ELIB, "map: no transformation between EPSG:%d and %s: %s",
                        MAP_GEO_EPSG, bm != NULL ? bm->path : "the map CRS", map_cpl_msg());
        goto done;
    }
    if (bm != NULL) {
        if (bm->north_up && OSRIsSame(bm->srs, dst)) { /* read as is: no warping */
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
        map_view_release(v);
    OSRDestroySpatialReference(geo);
    if (dst != NULL)
        OSRDestroySpatialReference(dst);
    return rc;
}

/* The cached view for key, created on first use; the oldest is dropped when the cache is full. */
map_view *
map_basemap_view(map_basemap *bm, int key, tb_err *err)
{
    for (int i = 0; i < bm->nviews; i++)
        if (bm->views[i].key == key)
            return &bm->views[i];
    if (bm->nviews == MAP_MAX_VIEWS) {
        map_view_release(&bm->views[0]);
        memmove(&bm->views[0], &bm->views[1], sizeof bm->views[0] * (MAP_MAX_VIEWS - 1));
        bm->nviews--;
    }
    map_view *v = &bm->views[bm->nviews];
    if (map_view_init(v, bm, key, err) != TB_OK)
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

    if (GDALGetRasterDataType(band) == GDT_Byte && lo == 0.0 && gain == 1.0) { /* as is */
        if (GDALRasterIOEx(band, GF_Read, win->xoff, win->yoff, win->xsize, win->ysize, dst,
                           win->ow, win->oh, GDT_Byte, 4, stride, &win->extra) != CE_None)
            rc = tb_err_set(err, TB_ELIB, "basemap %s: read failed: %s", bm->path, map_cpl_msg());
        goto done;
    }
    tmp = tb_xmalloc_array((size_t)win->ow * (size_t)win->oh, sizeof *tmp);
    if (GDALRasterIOEx(band, GF_Read, win->xoff, win->yoff, win->xsize, win->ysize, tmp,
                       win->ow, win->oh, GDT_Float32, 0, 0, &win->extra) != CE_None) {
        rc = tb_err_set(err, TB_ELIB, "basemap %s: read failed: %s", bm->path, map_cpl_msg());
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
tb_code
map_image_read(map_basemap *bm, const map_view *v, const map_extent *e, cairo_surface_t *surf,
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
        rc = tb_err_set(err, TB_ELIB, "basemap %s: mask read failed: %s", bm->path, map_cpl_msg());
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
tb_code
map_image_attach_jpeg(cairo_surface_t *surf, tb_err *err)
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
        rc = tb_err_set(err, TB_ELIB, "map: cannot create image buffer: %s", map_cpl_msg());
        goto done;
    }
    /* Band c of the MEM dataset gets byte off[c] of every pixel. */
    int lowest = off[0] < off[1] ? (off[0] < off[2] ? 0 : 2) : (off[1] < off[2] ? 1 : 2);
    int band_map[3];
    for (int c = 0; c < 3; c++)
        band_map[off[c] - off[lowest]] = c + 1;
    if (GDALDatasetRasterIO(mem, GF_Write, 0, 0, w, h, img + off[lowest], w, h, GDT_Byte, 3,
                            band_map, 4, stride, 1) != CE_None) {
        rc = tb_err_set(err, TB_ELIB, "map: cannot fill image buffer: %s", map_cpl_msg());
        goto done;
    }
    jpg = GDALCreateCopy(jpg_drv, name, mem, FALSE, opts, NULL, NULL);
    if (jpg == NULL) {
        rc = tb_err_set(err, TB_ELIB, "map: JPEG encoding failed: %s", map_cpl_msg());
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

