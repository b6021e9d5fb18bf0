/* Map panels, judged by their pixels.  The rasters and layers are made here around 117E 30N:
 *   base.tif   512 x 512 m at 1 m in EPSG:4548 (CGCS2000 / 3-degree GK CM 117E, the drawing
 *              CRS there): R = column / 2, G = row / 2, B = 200, white lines every 64 px;
 *   solid rasters of one colour each, dated, for the before/after choice;
 *   a UTM raster with one white square, and the same warped to EPSG:4326.
 * Set TB_MAP_KEEP=1 to keep the temporary folder (PNGs of the frames drawn are written there);
 * TB_MAP_UPDATE_REFERENCE=1 rewrites the reference PNGs in tests/data/map/. */
#include "tb_features.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pango/pangocairo.h>

#include "map_panel.h"
#include "map_view.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <cpl_conv.h>
#include <gdal.h>
#include <gdalwarper.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RASTER_N 512
#define CENTRE_E 500000.0
#define CENTRE_N 3320113.0
#define PT_PER_M_PAPER (72.0 / 0.0254)

static char tmp_dir[64];

static const char *
tmp(const char *name)
{
    static char paths[8][160];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", tmp_dir, name);
    return p;
}

static OGRSpatialReferenceH
srs_of(int epsg)
{
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
    assert_int_equal(OSRImportFromEPSG(s, epsg), OGRERR_NONE);
    OSRSetAxisMappingStrategy(s, OAMS_TRADITIONAL_GIS_ORDER);
    return s;
}

/* A 3-band Byte GeoTIFF of n x n pixels of `res` m; colour(x, y, rgb) fills it. */
static void
tif_write(const char *path, int epsg, double x0, double y1, int n, double res, bool with_crs,
          bool with_gt, void (*colour)(int x, int y, unsigned char rgb[3]))
{
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, n, n, 3, GDT_Byte, NULL);
    assert_non_null(ds);
    if (with_gt) {
        double gt[6] = {x0, res, 0.0, y1, 0.0, -res};
        assert_int_equal(GDALSetGeoTransform(ds, gt), CE_None);
    }
    if (with_crs) {
        OGRSpatialReferenceH s = srs_of(epsg);
        assert_int_equal(GDALSetSpatialRef(ds, s), CE_None);
        OSRDestroySpatialReference(s);
    }
    unsigned char *row = malloc((size_t)n * 3);
    for (int y = 0; y < n; y++) {
        for (int x = 0; x < n; x++) {
            unsigned char rgb[3];
            colour(x, y, rgb);
            row[x] = rgb[0], row[n + x] = rgb[1], row[2 * n + x] = rgb[2];
        }
        assert_int_equal(GDALDatasetRasterIO(ds, GF_Write, 0, y, n, 1, row, n, 1, GDT_Byte, 3,
                                             NULL, 1, 0, n),
                         CE_None);
    }
    free(row);
    GDALClose(ds);
}

static void
gradient(int x, int y, unsigned char rgb[3])
{
    bool grid = x % 64 == 32 || y % 64 == 32;
    rgb[0] = grid ? 255 : (unsigned char)(x / 2);
    rgb[1] = grid ? 255 : (unsigned char)(y / 2);
    rgb[2] = grid ? 255 : 200;
}

static unsigned char solid_rgb[3];
static void
solid(int x, int y, unsigned char rgb[3])
{
    (void)x, (void)y;
    memcpy(rgb, solid_rgb, 3);
}

/* UTM raster: dark, with a white 8 x 8 m square whose south-west corner is at pixel (276, 226). */
static void
spot(int x, int y, unsigned char rgb[3])
{
    bool white = x >= 276 && x < 284 && y >= 226 && y < 234;
    memset(rgb, white ? 255 : 40, 3);
}

static int
setup(void **state)
{
    (void)state;
    GDALAllRegister();
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/tb_map_XXXXXX");
    if (mkdtemp(tmp_dir) == NULL)
        return -1;
    double x0 = CENTRE_E - RASTER_N / 2, y1 = CENTRE_N + RASTER_N / 2;
    tif_write(tmp("base.tif"), 4548, x0, y1, RASTER_N, 1.0, true, true, gradient);
    tif_write(tmp("nocrs.tif"), 4548, x0, y1, RASTER_N, 1.0, false, true, gradient);
    tif_write(tmp("nogt.tif"), 4548, x0, y1, RASTER_N, 1.0, true, false, gradient);
    static const unsigned char colours[4][3] = {{200, 0, 200}, {0, 200, 0}, {0, 0, 200}, {200, 200, 0}};
    static const char *const names[4] = {"d2023a.tif", "d2023b.tif", "d2024.tif", "far.tif"};
    for (int i = 0; i < 4; i++) {
        memcpy(solid_rgb, colours[i], 3);
        double shift = i == 3 ? 5000.0 : 0.0; /* far.tif does not cover the patches */
        tif_write(tmp(names[i]), 4548, x0 + shift, y1, 256, 2.0, true, true, solid);
    }
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    if (getenv("TB_MAP_KEEP") == NULL) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmp_dir);
        assert_int_equal(system(cmd), 0);
    } else {
        printf("kept %s\n", tmp_dir);
    }
    OSRCleanup();
    GDALDestroyDriverManager();
    return 0;
}

/* ---- patches ------------------------------------------------------------------------------ */

typedef struct test_patch {
    patch p;
    unsigned char *wkb;
} test_patch;

/* A patch from WKT in `epsg`, stored as EPSG:4490 lon/lat like the ingest module does. */
static void
patch_make(test_patch *tp, const char *id, const char *wkt, int epsg)
{
    memset(tp, 0, sizeof *tp);
    OGRSpatialReferenceH from = srs_of(epsg), geo = srs_of(4490);
    char *p = (char *)wkt;
    OGRGeometryH g = NULL;
    assert_int_equal(OGR_G_CreateFromWkt(&p, from, &g), OGRERR_NONE);
    if (epsg != 4490)
        assert_int_equal(OGR_G_TransformTo(g, geo), OGRERR_NONE);
    size_t len = (size_t)OGR_G_WkbSize(g);
    tp->wkb = malloc(len);
    assert_int_equal(OGR_G_ExportToWkb(g, wkbNDR, tp->wkb), OGRERR_NONE);
    OGREnvelope env;
    OGR_G_GetEnvelope(g, &env);
    tp->p.id = id;
    tp->p.admin_code = "139901100";
    tp->p.wkb = tp->wkb;
    tp->p.wkb_len = len;
    tp->p.min_lon = env.MinX, tp->p.max_lon = env.MaxX;
    tp->p.min_lat = env.MinY, tp->p.max_lat = env.MaxY;
    OGR_G_DestroyGeometry(g);
    OSRDestroySpatialReference(from);
    OSRDestroySpatialReference(geo);
}

/* A square of `side` m centred at (e, n) in EPSG:4548. */
static void
square_patch(test_patch *tp, const char *id, double e, double n, double side)
{
    char wkt[256];
    double h = side / 2;
    snprintf(wkt, sizeof wkt, "POLYGON ((%f %f, %f %f, %f %f, %f %f, %f %f))", e - h, n - h,
             e + h, n - h, e + h, n + h, e - h, n + h, e - h, n - h);
    patch_make(tp, id, wkt, 4548);
}

/* Lon/lat of a point in EPSG:epsg. */
static void
to_geo(int epsg, double *x, double *y)
{
    OGRSpatialReferenceH from = srs_of(epsg), geo = srs_of(4490);
    OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(from, geo);
    assert_true(OCTTransform(ct, 1, x, y, NULL));
    OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(from);
    OSRDestroySpatialReference(geo);
}

/* ---- drawing ------------------------------------------------------------------------------ */

typedef struct canvas {
    cairo_surface_t *s;
    cairo_t *cr;
    double px_per_pt;
} canvas;

static canvas
canvas_new(int w_pt, int h_pt, double px_per_pt)
{
    canvas c;
    c.px_per_pt = px_per_pt;
    c.s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)(w_pt * px_per_pt),
                                     (int)(h_pt * px_per_pt));
    c.cr = cairo_create(c.s);
    cairo_set_source_rgb(c.cr, 1, 1, 1);
    cairo_paint(c.cr);
    cairo_scale(c.cr, px_per_pt, px_per_pt);
    return c;
}

static void
canvas_free(canvas *c, const char *png)
{
    if (png != NULL && getenv("TB_MAP_KEEP") != NULL)
        cairo_surface_write_to_png(c->s, tmp(png));
    cairo_destroy(c->cr);
    cairo_surface_destroy(c->s);
}

/* Draws datum with attributes given as name, value, ..., NULL. */
static tb_code
draw(map_ctx *mc, canvas *c, const void *datum, double x, double y, double w, double h,
     tb_err *err, ...)
{
    dt_attr attrs[8];
    size_t n = 0;
    va_list ap;
    va_start(ap, err);
    const char *name;
    while ((name = va_arg(ap, const char *)) != NULL && n < 8) {
        attrs[n].name = name;
        attrs[n].value = va_arg(ap, const char *);
        n++;
    }
    va_end(ap);
    dt_panel panel = {.kind = "map", .attrs = attrs, .attr_count = n, .datum = datum,
                      .origin = {.where = "test.xml:7"}};
    return map_panel_draw(mc, c->cr, &panel, x, y, w, h, err);
}

static void
pixel(const canvas *c, double x_pt, double y_pt, int rgb[3])
{
    cairo_surface_flush(c->s);
    int x = (int)(x_pt * c->px_per_pt), y = (int)(y_pt * c->px_per_pt);
    const unsigned char *d = cairo_image_surface_get_data(c->s);
    uint32_t px;
    memcpy(&px, d + (size_t)y * (size_t)cairo_image_surface_get_stride(c->s) + (size_t)x * 4, 4);
    rgb[0] = (int)(px >> 16 & 0xff);
    rgb[1] = (int)(px >> 8 & 0xff);
    rgb[2] = (int)(px & 0xff);
}

static bool
is_red(const int rgb[3])
{
    return rgb[0] > 200 && rgb[1] < 70 && rgb[2] < 70;
}

static bool
near_rgb(const int rgb[3], int r, int g, int b, int tol)
{
    return abs(rgb[0] - r) <= tol && abs(rgb[1] - g) <= tol && abs(rgb[2] - b) <= tol;
}

/* Centre (in points) of the run of pixels matching `want` along a row or column, starting
 * at `from` and going `dir` (+1/-1) for up to `len` points; NAN if none. */
static double
run_centre(const canvas *c, bool along_x, double fixed, double from, double len,
           bool (*want)(const int rgb[3]))
{
    double step = 1.0 / c->px_per_pt, first = NAN, last = NAN;
    for (double t = from; t < from + len; t += step) {
        int rgb[3];
        pixel(c, along_x ? t : fixed, along_x ? fixed : t, rgb);
        if (want(rgb)) {
            if (isnan(first))
                first = t;
            last = t;
        } else if (!isnan(first)) {
            break;
        }
    }
    return isnan(first) ? NAN : (first + last) / 2 + step / 2;
}

/* ---- opening ------------------------------------------------------------------------------ */

static void
test_open_refusals(void **state)
{
    (void)state;
    tb_err err = {0};
    assert_null(map_basemap_open(tmp("missing.tif"), &err));
    assert_int_equal(err.code, TB_ENOTFOUND);
    assert_non_null(strstr(err.msg, "missing.tif"));

    FILE *fp = fopen(tmp("junk.tif"), "wb");
    fputs("this is not a raster", fp);
    fclose(fp);
    tb_err e2 = {0};
    assert_null(map_basemap_open(tmp("junk.tif"), &e2));
    assert_int_equal(e2.code, TB_EFORMAT);
    assert_non_null(strstr(e2.msg, "junk.tif"));

    tb_err e3 = {0};
    assert_null(map_basemap_open(tmp("nocrs.tif"), &e3));
    assert_int_equal(e3.code, TB_EFORMAT);
    assert_non_null(strstr(e3.msg, "no georeferencing"));
    assert_null(strstr(e3.msg, "PROJ"));
    tb_err e4 = {0};
    assert_null(map_basemap_open(tmp("nogt.tif"), &e4));
    assert_int_equal(e4.code, TB_EFORMAT);
    assert_non_null(strstr(e4.msg, "nogt.tif"));

    /* A Float32 elevation model is no picture until a stretch is declared. */
    GDALDatasetH dem = GDALCreate(GDALGetDriverByName("GTiff"), tmp("dem.tif"), 64, 64, 1,
                                  GDT_Float32, NULL);
    double gt[6] = {CENTRE_E, 1, 0, CENTRE_N, 0, -1};
    GDALSetGeoTransform(dem, gt);
    OGRSpatialReferenceH s = srs_of(4548);
    GDALSetSpatialRef(dem, s);
    OSRDestroySpatialReference(s);
    float *z = calloc(64 * 64, sizeof *z);
    for (int i = 0; i < 64 * 64; i++)
        z[i] = 100.0f + (float)(i % 64);
    assert_int_equal(GDALDatasetRasterIO(dem, GF_Write, 0, 0, 64, 64, z, 64, 64, GDT_Float32, 1,
                                         NULL, 0, 0, 0),
                     CE_None);
    free(z);
    GDALClose(dem);
    tb_err e5 = {0};
    assert_null(map_basemap_open(tmp("dem.tif"), &e5));
    assert_int_equal(e5.code, TB_EFORMAT);
    assert_non_null(strstr(e5.msg, "dem.tif"));
    assert_non_null(strstr(e5.msg, "Float32"));
    assert_non_null(strstr(e5.msg, "stretch"));
    map_image_source stretched = {.path = tmp("dem.tif"), .has_stretch = true,
                                  .stretch_lo = 100, .stretch_hi = 164};
    tb_err e6 = {0};
    map_basemap *bm = map_basemap_open_source(&stretched, &e6);
    assert_non_null(bm);
    map_basemap_close(bm);
    map_image_source bad_band = {.path = tmp("base.tif"), .bands = {3, 2, 9}};
    tb_err e7 = {0};
    assert_null(map_basemap_open_source(&bad_band, &e7));
    assert_non_null(strstr(e7.msg, "band 9"));

    /* The context refuses at open, naming the file. */
    map_image_source cat[] = {{.path = tmp("d2024.tif"), .date = {2024, 6, 1}},
                              {.path = tmp("dem.tif"), .date = {2024, 7, 1}}};
    map_sources src = {.images = cat, .image_count = 2};
    tb_err e8 = {0};
    assert_null(map_ctx_open(&src, NULL, &e8));
    assert_int_equal(e8.code, TB_EFORMAT);
    assert_non_null(strstr(e8.msg, "dem.tif"));
}

/* ---- the outline, the scale ---------------------------------------------------------------- */

/* At 1:2000 a 100 m square is 141.7 pt wide: its red outline sits where the geometry says. */
static void
test_outline_position(void **state)
{
    (void)state;
    tb_err err = {0};
    map_ctx *mc = map_ctx_open(NULL, tmp("base.tif"), &err);
    assert_non_null(mc);
    test_patch tp;
    square_patch(&tp, "TB-0001", CENTRE_E, CENTRE_N, 100.0);
    canvas c = canvas_new(400, 400, 2.0);
    assert_int_equal(draw(mc, &c, &tp.p, 50, 50, 300, 300, &err, "view", "location", "scale",
                          "1:2000", "decorations", "", NULL),
                     TB_OK);
    double half = 50.0 * PT_PER_M_PAPER / 2000.0; /* 70.87 pt */
    double left = run_centre(&c, true, 200, 100, 60, is_red);
    double right = run_centre(&c, true, 200, 240, 60, is_red);
    double top = run_centre(&c, false, 200, 100, 60, is_red);
    double bottom = run_centre(&c, false, 200, 240, 60, is_red);
    double px = 1.0 / c.px_per_pt; /* one output pixel */
    assert_true(fabs(left - (200 - half)) <= px);
    assert_true(fabs(right - (200 + half)) <= px);
    assert_true(fabs(top - (200 - half)) <= px);
    assert_true(fabs(bottom - (200 + half)) <= px);
    int rgb[3];
    pixel(&c, 200 - half + 6, 200, rgb); /* inside: imagery, no fill */
    assert_false(is_red(rgb));
    /* The centre of the frame is the centre of the raster (R = G = 128, B = 200), north up:
     * 20 m west and south of it R and G move by -10 and +10. */
    pixel(&c, 200, 200, rgb);
    assert_true(near_rgb(rgb, 128, 128, 200, 4));
    double d = 20.0 * PT_PER_M_PAPER / 2000.0;
    pixel(&c, 200 - d, 200 + d, rgb);
    assert_true(near_rgb(rgb, 118, 138, 200, 4));
    pixel(&c, 20, 20, rgb); /* outside the frame: untouched */
    assert_true(near_rgb(rgb, 255, 255, 255, 0));
    canvas_free(&c, "outline.png");

    /* fit: the next round scale that holds the square with its margin. */
    canvas f = canvas_new(400, 400, 2.0);
    assert_int_equal(draw(mc, &f, &tp.p, 50, 50, 300, 300, &err, "margin", "0.35",
                          "decorations", "", "view", "location", NULL),
                     TB_OK);
    /* 170 m in 300 pt needs 1:1606 -> 1:2000, so the same picture as above. */
    assert_true(fabs(run_centre(&f, true, 200, 100, 60, is_red) - (200 - half)) <= px);
    canvas_free(&f, NULL);
    free(tp.wkb);
    map_ctx_close(mc);
}

static bool
is_dark(const int rgb[3])
{
    return rgb[0] < 90 && rgb[1] < 90 && rgb[2] < 90;
}

static bool
is_light(const int rgb[3])
{
    return !is_dark(rgb);
}

/* The scale bar is as long as its round length at the frame's scale, within 1%. */
static void
test_scale_bar(void **state)
{
    (void)state;
    static const char *const scales[] = {"1:2000", "1:5000", "1:1200"};
    test_patch tp;
    square_patch(&tp, "TB-s", CENTRE_E, CENTRE_N, 60.0);
    tb_err err = {0};
    map_ctx *mc = map_ctx_open(NULL, NULL, &err);
    assert_non_null(mc);
    for (size_t k = 0; k < 3; k++) {
        canvas c = canvas_new(400, 400, 4.0);
        assert_int_equal(draw(mc, &c, &tp.p, 50, 50, 300, 300, &err, "scale", scales[k],
                              "layers", "", "decorations", "scale", NULL),
                         TB_OK);
        /* The bar: 3 pt high, bottom at 9 pt above the frame's bottom, from 12 pt in; black
         * half, white half, each outlined with 0.5 pt. */
        double row = 50 + 300 - 10.5;
        double start = NAN;
        for (double t = 58; t < 80 && isnan(start); t += 0.25) { /* past the box's border */
            int rgb[3];
            pixel(&c, t, row, rgb);
            if (is_dark(rgb))
                start = t;
        }
        assert_false(isnan(start));
        /* end of black half, then the white half, then its right edge */
        double t = start;
        int rgb[3];
        for (pixel(&c, t, row, rgb); is_dark(rgb); pixel(&c, t, row, rgb))
            t += 0.25;
        for (pixel(&c, t, row, rgb); is_light(rgb); pixel(&c, t, row, rgb))
            t += 0.25;
        for (pixel(&c, t, row, rgb); is_dark(rgb); pixel(&c, t, row, rgb))
            t += 0.25;
        double len_pt = t - start - 0.5; /* less the two half strokes */
        double n = strtod(scales[k] + 2, NULL);
        double len_m = len_pt / PT_PER_M_PAPER * n;
        /* It must be a round length: 1, 2 or 5 x 10^k metres, within 1%. */
        double p = pow(10.0, floor(log10(len_m * 1.01)));
        double best = INFINITY;
        for (double m = 1; m <= 10; m = m == 1 ? 2 : m == 2 ? 5 : 20)
            best = fmin(best, fabs(len_m / (m * p) - 1));
        printf("scale %s: bar %.2f pt = %.2f m\n", scales[k], len_pt, len_m);
        assert_true(best < 0.01);
        canvas_free(&c, NULL);
    }
    free(tp.wkb);
    map_ctx_close(mc);
}

/* ---- the same ground in any CRS ------------------------------------------------------------ */

static bool
is_white(const int rgb[3])
{
    return rgb[0] > 200 && rgb[1] > 200 && rgb[2] > 200;
}

/* Centroid (points) of the white pixels inside the rectangle. */
static void
white_centroid(const canvas *c, double x, double y, double w, double h, double *cx, double *cy)
{
    double sx = 0, sy = 0, n = 0, step = 1.0 / c->px_per_pt;
    for (double py = y; py < y + h; py += step)
        for (double px = x; px < x + w; px += step) {
            int rgb[3];
            pixel(c, px, py, rgb);
            if (is_white(rgb))
                sx += px + step / 2, sy += py + step / 2, n++;
        }
    assert_true(n > 10);
    *cx = sx / n, *cy = sy / n;
}

static void
test_same_ground_any_crs(void **state)
{
    (void)state;
    /* A UTM 50N raster (WGS 84, CM 117E) near 117.2E 30N, and the same warped to EPSG:4326. */
    double ue = 519000.0, un = 3319000.0;
    tif_write(tmp("utm.tif"), 32650, ue - 256, un + 256, RASTER_N, 1.0, true, true, spot);
    GDALDatasetH src = GDALOpen(tmp("utm.tif"), GA_ReadOnly);
    char *wkt = NULL;
    OGRSpatialReferenceH wgs = srs_of(4326);
    OSRExportToWkt(wgs, &wkt);
    GDALDatasetH vrt = GDALAutoCreateWarpedVRT(src, NULL, wkt, GRA_Bilinear, 0.125, NULL);
    assert_non_null(vrt);
    GDALClose(GDALCreateCopy(GDALGetDriverByName("GTiff"), tmp("geo.tif"), vrt, FALSE, NULL,
                             NULL, NULL));
    GDALClose(vrt);
    GDALClose(src);
    CPLFree(wkt);
    OSRDestroySpatialReference(wgs);

    /* The patch: a 60 m square centred on the raster's centre; the white square's centre is
     * 24 m east and 26 m north of it. */
    char poly[256];
    snprintf(poly, sizeof poly, "POLYGON ((%f %f, %f %f, %f %f, %f %f, %f %f))", ue - 30, un - 30,
             ue + 30, un - 30, ue + 30, un + 30, ue - 30, un + 30, ue - 30, un - 30);
    test_patch tp;
    patch_make(&tp, "TB-utm", poly, 32650);
    double pos[2][2];
    const char *files[2] = {"utm.tif", "geo.tif"};
    for (int i = 0; i < 2; i++) {
        tb_err err = {0};
        map_ctx *mc = map_ctx_open(NULL, tmp(files[i]), &err);
        assert_non_null(mc);
        canvas c = canvas_new(400, 400, 3.0);
        assert_int_equal(draw(mc, &c, &tp.p, 50, 50, 300, 300, &err, "view", "location",
                              "scale", "1:1000", "layers", "imagery", "decorations", "",
                              "dpi", "216", NULL),
                         TB_OK);
        white_centroid(&c, 50, 50, 300, 300, &pos[i][0], &pos[i][1]);
        canvas_free(&c, i == 0 ? "crs-utm.png" : "crs-geo.png");
        map_ctx_close(mc);
    }
    /* Where the geometry says: the frame's centre is the centre of the patch's box in the GK
     * zone; the white square's centre, projected the same way, is (dx, dy) metres from it. */
    double wx = ue + 24, wy = un + 26;
    to_geo(32650, &wx, &wy);
    OGRSpatialReferenceH geo = srs_of(4490), gk = srs_of(4548);
    OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(geo, gk);
    double bx[2] = {tp.p.min_lon, tp.p.max_lon}, by[2] = {tp.p.min_lat, tp.p.max_lat};
    double cx[4] = {bx[0], bx[1], bx[0], bx[1]}, cy[4] = {by[0], by[0], by[1], by[1]};
    assert_true(OCTTransform(ct, 4, cx, cy, NULL));
    assert_true(OCTTransform(ct, 1, &wx, &wy, NULL));
    double mx = (fmin(cx[0], cx[2]) + fmax(cx[1], cx[3])) / 2;
    double my = (fmin(cy[0], cy[1]) + fmax(cy[2], cy[3])) / 2;
    double s = PT_PER_M_PAPER / 1000.0;
    double ex = 200 + (wx - mx) * s, ey = 200 - (wy - my) * s;
    OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(geo);
    OSRDestroySpatialReference(gk);
    printf("white square: UTM raster (%.2f, %.2f), EPSG:4326 raster (%.2f, %.2f), geometry "
           "(%.2f, %.2f) pt\n", pos[0][0], pos[0][1], pos[1][0], pos[1][1], ex, ey);
    /* The two rasters agree within one output pixel of the imagery; both lie within two of
     * the geometry (resampling 1 m source pixels up to 0.12 m moves a blob's centroid by a
     * fraction of a source pixel). */
    double px = 72.0 / 216.0;
    assert_true(hypot(pos[0][0] - pos[1][0], pos[0][1] - pos[1][1]) <= px);
    assert_true(hypot(pos[0][0] - ex, pos[0][1] - ey) <= 2 * px);
    assert_true(hypot(pos[1][0] - ex, pos[1][1] - ey) <= 2 * px);
    free(tp.wkb);
}

/* ---- other raster formats, nodata --------------------------------------------------------- */

static void
half_nodata(int x, int y, unsigned char rgb[3])
{
    gradient(x, y, rgb);
    if (x < RASTER_N / 2)
        memset(rgb, 0, 3);
}

/* GeoPackage tiles and MBTiles (web mercator) show the same ground as the GeoTIFF; nodata is
 * neutral grey. */
static void
test_formats_and_nodata(void **state)
{
    (void)state;
    GDALDatasetH src = GDALOpen(tmp("base.tif"), GA_ReadOnly);
    char *png[] = {"TILE_FORMAT=PNG", NULL};
    GDALDatasetH gpkg = GDALCreateCopy(GDALGetDriverByName("GPKG"), tmp("base.gpkg"), src, FALSE,
                                       png, NULL, NULL);
    assert_non_null(gpkg);
    GDALClose(gpkg);
    GDALDatasetH mbt = GDALCreateCopy(GDALGetDriverByName("MBTiles"), tmp("base.mbtiles"), src,
                                      FALSE, png, NULL, NULL);
    assert_non_null(mbt);
    GDALClose(mbt);
    GDALClose(src);
    test_patch tp;
    square_patch(&tp, "TB-fmt", CENTRE_E, CENTRE_N, 100.0);
    const char *files[] = {"base.gpkg", "base.mbtiles"};
    for (int i = 0; i < 2; i++) {
        tb_err err = {0};
        map_ctx *mc = map_ctx_open(NULL, tmp(files[i]), &err);
        if (mc == NULL)
            fail_msg("%s: %s", files[i], err.msg);
        canvas c = canvas_new(400, 400, 1.0);
        assert_int_equal(draw(mc, &c, &tp.p, 50, 50, 300, 300, &err, "view", "location",
                              "scale", "1:2000", "decorations", "", NULL),
                         TB_OK);
        int rgb[3];
        pixel(&c, 200, 200, rgb); /* the raster's centre */
        if (!near_rgb(rgb, 128, 128, 200, 8))
            fail_msg("%s: centre %d %d %d", files[i], rgb[0], rgb[1], rgb[2]);
        double d = 40.0 * PT_PER_M_PAPER / 2000.0; /* 40 m west and south */
        pixel(&c, 200 - d + 0.5, 200 + d + 0.5, rgb);
        if (!near_rgb(rgb, 108, 148, 200, 8))
            fail_msg("%s: off-centre %d %d %d", files[i], rgb[0], rgb[1], rgb[2]);
        canvas_free(&c, i == 0 ? "gpkg.png" : "mbtiles.png");
        map_ctx_close(mc);
    }

    /* The office's band order: blue, green, red shown as red, green, blue; and a stretch. */
    map_image_source swapped[] = {{.path = tmp("base.tif"), .date = {2024, 1, 1},
                                   .bands = {3, 2, 1}, .has_stretch = true, .stretch_lo = 0,
                                   .stretch_hi = 200}};
    map_sources ssrc = {.images = swapped, .image_count = 1};
    tb_err serr = {0};
    map_ctx *smc = map_ctx_open(&ssrc, NULL, &serr);
    assert_non_null(smc);
    canvas sc = canvas_new(400, 400, 1.0);
    assert_int_equal(draw(smc, &sc, &tp.p, 50, 50, 300, 300, &serr, "view", "location",
                          "scale", "1:2000", "decorations", "", NULL),
                     TB_OK);
    int srgb[3];
    pixel(&sc, 200, 200, srgb); /* (R, G, B) = (128, 128, 200) -> (200, 128, 128) * 255 / 200 */
    if (!near_rgb(srgb, 255, 163, 163, 5))
        fail_msg("band order: %d %d %d", srgb[0], srgb[1], srgb[2]);
    canvas_free(&sc, NULL);
    map_ctx_close(smc);

    double x0 = CENTRE_E - RASTER_N / 2, y1 = CENTRE_N + RASTER_N / 2;
    tif_write(tmp("nodata.tif"), 4548, x0, y1, RASTER_N, 1.0, true, true, half_nodata);
    GDALDatasetH nd = GDALOpen(tmp("nodata.tif"), GA_Update);
    for (int b = 1; b <= 3; b++)
        GDALSetRasterNoDataValue(GDALGetRasterBand(nd, b), 0);
    GDALClose(nd);
    tb_err err = {0};
    map_ctx *mc = map_ctx_open(NULL, tmp("nodata.tif"), &err);
    assert_non_null(mc);
    canvas c = canvas_new(400, 400, 1.0);
    assert_int_equal(draw(mc, &c, &tp.p, 50, 50, 300, 300, &err, "view", "location", "scale",
                          "1:2000", "layers", "imagery", "decorations", "", NULL),
                     TB_OK);
    int rgb[3];
    pixel(&c, 150, 200, rgb); /* west of the centre: nodata */
    assert_true(near_rgb(rgb, 0xD9, 0xD9, 0xD9, 3));
    pixel(&c, 250, 200, rgb); /* east: imagery */
    assert_true(near_rgb(rgb, 128 + 18, 128, 200, 6));
    canvas_free(&c, "nodata.png");
    map_ctx_close(mc);
    free(tp.wkb);
}

/* ---- before / after ------------------------------------------------------------------------ */

static map_ctx *
catalogue_open(void)
{
    static map_image_source cat[4];
    cat[0] = (map_image_source){.path = tmp("d2023a.tif"), .date = {2023, 1, 10}};
    cat[1] = (map_image_source){.path = tmp("d2023b.tif"), .date = {2023, 6, 1}};
    cat[2] = (map_image_source){.path = tmp("d2024.tif"), .date = {2024, 6, 1}};
    cat[3] = (map_image_source){.path = tmp("far.tif"), .date = {2024, 6, 20}};
    map_sources src = {.images = cat, .image_count = 4};
    tb_err err = {0};
    map_ctx *mc = map_ctx_open(&src, NULL, &err);
    assert_non_null(mc);
    assert_true(map_ctx_has_dates(mc));
    return mc;
}

static void
test_before_after(void **state)
{
    (void)state;
    map_ctx *mc = catalogue_open();
    test_patch tp;
    square_patch(&tp, "TB-ba", CENTRE_E, CENTRE_N, 60.0);
    tp.p.image_before = (cn_date){2023, 7, 1};
    tp.p.image_after = (cn_date){2024, 7, 1};
    /* No attributes: a pair side by side; left the latest image on or before QSX (2023-06-01,
     * green), right on or before HSX (2024-06-01, blue: the 2024-06-20 one does not cover). */
    canvas c = canvas_new(500, 300, 1.0);
    tb_err err = {0};
    assert_int_equal(draw(mc, &c, &tp.p, 10, 10, 480, 280, &err, NULL), TB_OK);
    int rgb[3];
    double fw = (480 - 6) / 2.0;
    pixel(&c, 10 + fw / 2, 10 + 100, rgb);
    assert_true(near_rgb(rgb, 0, 200, 0, 6));
    pixel(&c, 10 + fw + 6 + fw / 2, 10 + 100, rgb);
    assert_true(near_rgb(rgb, 0, 0, 200, 6));
    canvas_free(&c, "pair.png");

    /* view="before" alone, and a QSX before every image: the grey of no coverage. */
    tp.p.image_before = (cn_date){2022, 12, 1};
    canvas b = canvas_new(300, 300, 1.0);
    assert_int_equal(draw(mc, &b, &tp.p, 10, 10, 280, 280, &err, "view", "before",
                          "decorations", "caption", NULL),
                     TB_OK);
    pixel(&b, 150, 100, rgb);
    assert_true(near_rgb(rgb, 0xD9, 0xD9, 0xD9, 2));
    /* 无影像覆盖 is written across the middle of the frame (dark text on a white box). */
    int dark = 0;
    for (double x = 100; x < 200; x += 1)
        for (double y = 10 + 280 * 0.62; y < 10 + 280 * 0.62 + 14; y += 1) {
            pixel(&b, x, y, rgb);
            dark += rgb[0] < 120;
        }
    assert_true(dark > 20);
    canvas_free(&b, "before-none.png");

    /* Without QSX / HSX: the earliest and the latest covering images. */
    tp.p.image_before = (cn_date){0, 0, 0};
    tp.p.image_after = (cn_date){0, 0, 0};
    canvas p2 = canvas_new(500, 300, 1.0);
    assert_int_equal(draw(mc, &p2, &tp.p, 10, 10, 480, 280, &err, "decorations", "", NULL),
                     TB_OK);
    pixel(&p2, 10 + fw / 2, 110, rgb);
    assert_true(near_rgb(rgb, 200, 0, 200, 6));
    pixel(&p2, 10 + fw + 6 + fw / 2, 110, rgb);
    assert_true(near_rgb(rgb, 0, 0, 200, 6));
    canvas_free(&p2, NULL);
    free(tp.wkb);
    map_ctx_close(mc);
}

static void
test_bad_attributes(void **state)
{
    (void)state;
    map_ctx *mc = catalogue_open();
    test_patch tp;
    square_patch(&tp, "TB-attr", CENTRE_E, CENTRE_N, 60.0);
    canvas c = canvas_new(200, 200, 1.0);
    static const char *const cases[][3] = {
        {"view", "sideways", "view=\"sideways\""},
        {"scale", "1:abc", "scale=\"1:abc\""},
        {"scale", "2000", "scale=\"2000\""},
        {"margin", "-1", "margin"},
        {"dpi", "5000", "dpi"},
        {"layers", "imagery roads", "'roads'"},
        {"decorations", "scale compass", "'compass'"},
        {"colour", "red", "colour"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tb_err err = {0};
        assert_int_equal(draw(mc, &c, &tp.p, 0, 0, 200, 200, &err, cases[i][0], cases[i][1],
                              NULL),
                         TB_EFORMAT);
        assert_non_null(strstr(err.msg, cases[i][2]));
        assert_non_null(strstr(err.msg, "test.xml:7"));
    }
    /* A bad geometry names the patch. */
    static const unsigned char junk[] = {1, 3, 0, 0, 0, 9, 9, 9};
    patch bad = {.id = "TB-junk", .wkb = junk, .wkb_len = sizeof junk};
    tb_err err = {0};
    assert_int_equal(draw(mc, &c, &bad, 0, 0, 200, 200, &err, NULL), TB_EFORMAT);
    assert_non_null(strstr(err.msg, "TB-junk"));
    tb_err e2 = {0};
    assert_int_equal(draw(mc, &c, &tp.p, 0, 0, 5, 200, &e2, "view", "location", NULL), TB_EINVAL);
    canvas_free(&c, NULL);
    free(tp.wkb);
    map_ctx_close(mc);
}

/* ---- layers -------------------------------------------------------------------------------- */

static void
vector_write(const char *path, const char *layer, int epsg, const char *const *wkts,
             const char *const *codes, size_t n)
{
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GPKG"), path, 0, 0, 0, GDT_Unknown, NULL);
    assert_non_null(ds);
    OGRSpatialReferenceH s = srs_of(epsg);
    OGRLayerH l = GDALDatasetCreateLayer(ds, layer, s, wkbPolygon, NULL);
    OGRFieldDefnH fd = OGR_Fld_Create("XZQDM", OFTString);
    OGR_L_CreateField(l, fd, TRUE);
    OGR_Fld_Destroy(fd);
    for (size_t i = 0; i < n; i++) {
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(l));
        char *p = (char *)wkts[i];
        OGRGeometryH g = NULL;
        assert_int_equal(OGR_G_CreateFromWkt(&p, s, &g), OGRERR_NONE);
        OGR_F_SetGeometryDirectly(f, g);
        if (codes != NULL)
            OGR_F_SetFieldString(f, 0, codes[i]);
        assert_int_equal(OGR_L_CreateFeature(l, f), OGRERR_NONE);
        OGR_F_Destroy(f);
    }
    OSRDestroySpatialReference(s);
    GDALClose(ds);
}

static bool
is_green(const int rgb[3])
{
    return rgb[1] > 120 && rgb[0] < 90 && rgb[2] < 120;
}

static bool
is_purple(const int rgb[3])
{
    return rgb[0] > 90 && rgb[2] > 110 && rgb[1] < 60;
}

static void
test_layers_and_overview(void **state)
{
    (void)state;
    /* Farmland: the east half of the frame's ground; townships meet on a line 30 m west of the
     * centre (EPSG:4548). */
    char farm[256], west[256], east[256];
    double e = CENTRE_E, n = CENTRE_N;
    snprintf(farm, sizeof farm, "POLYGON ((%f %f, %f %f, %f %f, %f %f, %f %f))", e, n - 400,
             e + 400, n - 400, e + 400, n + 400, e, n + 400, e, n - 400);
    snprintf(west, sizeof west, "POLYGON ((%f %f, %f %f, %f %f, %f %f, %f %f))", e - 900,
             n - 900, e - 30, n - 900, e - 30, n + 900, e - 900, n + 900, e - 900, n - 900);
    snprintf(east, sizeof east, "POLYGON ((%f %f, %f %f, %f %f, %f %f, %f %f))", e - 30, n - 900,
             e + 900, n - 900, e + 900, n + 900, e - 30, n + 900, e - 30, n - 900);
    const char *farms[] = {farm}, *towns[] = {west, east}, *codes[] = {"139901102", "139901100"};
    vector_write(tmp("farm.gpkg"), "farmland", 4548, farms, NULL, 1);
    vector_write(tmp("towns.gpkg"), "townships", 4548, towns, codes, 2);
    map_layer_source layers[] = {
        {.role = MAP_LAYER_FARMLAND, .name = "farmland", .title = "永久基本农田", .path = tmp("farm.gpkg")},
        {.role = MAP_LAYER_TOWNSHIP, .name = "township", .title = "乡镇界", .path = tmp("towns.gpkg")},
    };
    map_sources src = {.layers = layers, .layer_count = 2};
    tb_err err = {0};
    map_ctx *mc = map_ctx_open(&src, NULL, &err);
    assert_non_null(mc);

    test_patch a, b;
    square_patch(&a, "TB-a", e + 10, n, 40.0);
    square_patch(&b, "TB-b", e + 120, n + 60, 30.0);
    canvas c = canvas_new(400, 400, 2.0);
    assert_int_equal(draw(mc, &c, &a.p, 50, 50, 300, 300, &err, "view", "location", "scale",
                          "1:2000", "layers", "farmland township", "decorations", "", NULL),
                     TB_OK);
    /* Hatching east of the centre only. */
    int green_east = 0, green_west = 0, rgb[3];
    for (double y = 60; y < 340; y += 2)
        for (double x = 60; x < 340; x += 2) {
            pixel(&c, x, y, rgb);
            double edge = 200 - 10 * PT_PER_M_PAPER / 2000.0; /* the farmland's west edge */
            if (is_green(rgb) && fabs(x - edge) > 1.5)
                *(x > edge ? &green_east : &green_west) += 1;
        }
    assert_true(green_east > 200);
    assert_int_equal(green_west, 0);
    /* The township line 30 m west of the centre: 42.5 pt left of the frame's centre. */
    double line_x = 200 + (-30 - 10) * PT_PER_M_PAPER / 2000.0;
    int purple = 0;
    for (double y = 60; y < 340; y += 1) {
        pixel(&c, line_x, y, rgb);
        purple += is_purple(rgb);
    }
    assert_true(purple > 100); /* dashed */
    canvas_free(&c, "layers.png");

    /* Overview: the township's patches filled by 整改状态. */
    a.p.state = RECTIFY_PENDING;
    b.p.state = RECTIFY_ACCEPTED;
    const patch *ps[] = {&a.p, &b.p};
    map_township town = {"139901100", "城关镇", ps, 2};
    canvas o = canvas_new(400, 400, 2.0);
    assert_int_equal(draw(mc, &o, &town, 50, 50, 300, 300, &err, "view", "overview", NULL),
                     TB_OK);
    canvas_free(&o, "overview.png");
    /* Same again at a known scale to find the patches. */
    canvas k = canvas_new(400, 400, 2.0);
    assert_int_equal(draw(mc, &k, &town, 50, 50, 300, 300, &err, "view", "overview", "scale",
                          "1:20000", "layers", "outline", "decorations", "", NULL),
                     TB_OK);
    /* The frame's centre is the centre of the township (east of the line: x from e - 30 to
     * e + 900), so TB-a lies 425 m west of it, TB-b 315 m west and 60 m north. */
    double s20k = PT_PER_M_PAPER / 20000.0;
    pixel(&k, 200 - 425 * s20k, 200, rgb);
    assert_true(near_rgb(rgb, 0xE0, 0x00, 0x00, 8)); /* 未整改 */
    pixel(&k, 200 - 315 * s20k, 200 - 60 * s20k, rgb);
    assert_true(near_rgb(rgb, 0x00, 0xA0, 0x40, 8)); /* 已验收 */
    canvas_free(&k, NULL);
    free(a.wkb);
    free(b.wkb);
    map_ctx_close(mc);
}

/* Coordinate ticks in Gauss-Krüger metres fall on round eastings; an office layer is drawn in
 * its colour only when a panel asks for it. */
static void
test_grid_metres_and_office_layer(void **state)
{
    (void)state;
    char road[256];
    snprintf(road, sizeof road, "POLYGON ((%f %f, %f %f, %f %f, %f %f, %f %f))", CENTRE_E - 300,
             CENTRE_N + 30, CENTRE_E + 300, CENTRE_N + 30, CENTRE_E + 300, CENTRE_N + 40,
             CENTRE_E - 300, CENTRE_N + 40, CENTRE_E - 300, CENTRE_N + 30);
    const char *roads[] = {road};
    vector_write(tmp("roads.gpkg"), "roads", 4548, roads, NULL, 1);
    map_layer_source layers[] = {{.role = MAP_LAYER_OTHER, .name = "roads", .title = "道路",
                                  .path = tmp("roads.gpkg"), .colour = 0x0000FF}};
    map_sources src = {.layers = layers, .layer_count = 1, .grid = MAP_GRID_METRES};
    tb_err err = {0};
    map_ctx *mc = map_ctx_open(&src, NULL, &err);
    assert_non_null(mc);
    test_patch tp;
    square_patch(&tp, "TB-grid", CENTRE_E, CENTRE_N, 40.0);
    canvas c = canvas_new(400, 400, 2.0);
    assert_int_equal(draw(mc, &c, &tp.p, 50, 50, 300, 300, &err, "view", "location", "scale",
                          "1:2000", "layers", "roads", "decorations", "grid", NULL),
                     TB_OK);
    /* 300 pt at 1:2000 is 211.7 m: a 50 m step, ticks at easting 500000 (the centre) and
     * every 50 m (70.87 pt) either side, 5 pt long from the top edge. */
    double step = 50.0 * PT_PER_M_PAPER / 2000.0;
    int rgb[3];
    for (int k = -2; k <= 2; k++) {
        double x = 200 + k * step;
        pixel(&c, x, 52.5, rgb);
        if (!is_dark(rgb))
            fail_msg("no tick at easting %d: %d %d %d", 500000 + 50 * k, rgb[0], rgb[1], rgb[2]);
        pixel(&c, x + step / 2, 52.5, rgb);
        assert_false(is_dark(rgb));
    }
    /* The road: 30 to 40 m north of the centre, blue outline. */
    int blue = 0;
    for (double y = 200 - 40 * PT_PER_M_PAPER / 2000 - 2; y < 200 - 30 * PT_PER_M_PAPER / 2000 + 2; y += 0.5) {
        pixel(&c, 150, y, rgb);
        blue += rgb[2] > 180 && rgb[0] < 80 && rgb[1] < 80;
    }
    assert_true(blue >= 2);
    canvas_free(&c, "grid-metres.png");
    canvas d = canvas_new(400, 400, 2.0);
    assert_int_equal(draw(mc, &d, &tp.p, 50, 50, 300, 300, &err, "view", "location", "scale",
                          "1:2000", "layers", "outline", "decorations", "", NULL),
                     TB_OK);
    blue = 0;
    for (double y = 150; y < 200; y += 0.5) {
        pixel(&d, 150, y, rgb);
        blue += rgb[2] > 180 && rgb[0] < 80 && rgb[1] < 80;
    }
    assert_int_equal(blue, 0);
    canvas_free(&d, NULL);
    free(tp.wkb);
    map_ctx_close(mc);
}

/* ---- PDF ----------------------------------------------------------------------------------- */

static long
count_in_file(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *data = malloc((size_t)n + 1);
    assert_int_equal(fread(data, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    long count = 0;
    for (char *p = data; (p = memmem(p, (size_t)(data + n - p), needle, strlen(needle)));
         p += strlen(needle))
        count++;
    free(data);
    return count;
}

/* In a PDF the imagery is JPEG (DCT) at the panel's resolution, never a raw bitmap. */
static void
test_pdf_jpeg(void **state)
{
    (void)state;
    map_ctx *mc = catalogue_open();
    test_patch tp;
    square_patch(&tp, "TB-pdf", CENTRE_E, CENTRE_N, 60.0);
    tp.p.image_before = (cn_date){2023, 7, 1};
    tp.p.image_after = (cn_date){2024, 7, 1};
    cairo_surface_t *s = cairo_pdf_surface_create(tmp("pair.pdf"), 595, 842);
    cairo_t *cr = cairo_create(s);
    dt_attr attrs[] = {{"dpi", "150"}};
    dt_panel panel = {.kind = "map", .attrs = attrs, .attr_count = 1, .datum = &tp.p};
    tb_err err = {0};
    assert_int_equal(map_panel_draw(mc, cr, &panel, 60, 80, 440, 280, &err), TB_OK);
    cairo_destroy(cr);
    cairo_surface_finish(s);
    cairo_surface_destroy(s);
    assert_int_equal(count_in_file(tmp("pair.pdf"), "/Subtype /Image"), 2);
    assert_int_equal(count_in_file(tmp("pair.pdf"), "/DCTDecode"), 2);
    /* each frame is (440 - 6) / 2 x 280 pt at 150 dpi: 452 x 583 pixels */
    assert_int_equal(count_in_file(tmp("pair.pdf"), "/Width 452"), 2);
    assert_int_equal(count_in_file(tmp("pair.pdf"), "/Height 583"), 2);
    free(tp.wkb);
    map_ctx_close(mc);
}

/* ---- reference image ----------------------------------------------------------------------- */

static void reference_compare(canvas *cv, const char *name);

/* A before/after pair of a sample patch over the sample imagery and layers, compared with
 * tests/data/map/sample-pair.png and sample-location.png: small differences (anti-aliasing, JPEG decoding) pass, a moved
 * outline, a missing layer or decoration does not. */
static void
test_reference_pair(void **state)
{
    (void)state;
    char paths[5][512];
    const char *names[] = {"basemap-2023.tif", "basemap.tif", "townships.gpkg", "farmland.gpkg",
                           "patches.gpkg"};
    for (int i = 0; i < 5; i++)
        snprintf(paths[i], sizeof paths[i], "%s/samples/%s", TUBAN_SOURCE_DIR, names[i]);
    map_image_source cat[] = {{.path = paths[0], .date = {2023, 9, 20}},
                              {.path = paths[1], .date = {2024, 9, 15}}};
    map_layer_source layers[] = {
        {.role = MAP_LAYER_TOWNSHIP, .name = "township", .title = "乡镇界", .path = paths[2],
         .key_field = "XZQDM"},
        {.role = MAP_LAYER_FARMLAND, .name = "farmland", .title = "永久基本农田", .path = paths[3]},
    };
    map_sources src = {cat, 2, layers, 2, MAP_GRID_DEGREES};
    tb_err err = {0};
    map_ctx *mc = map_ctx_open(&src, NULL, &err);
    assert_non_null(mc);

    /* The sample patch 139901SJBG24210003 (城关镇, on 永久基本农田). */
    GDALDatasetH ds = GDALOpenEx(paths[4], GDAL_OF_VECTOR, NULL, NULL, NULL);
    assert_non_null(ds);
    OGRLayerH l = GDALDatasetGetLayer(ds, 0);
    OGR_L_SetAttributeFilter(l, "JCBH = '139901SJBG24210003'");
    OGRFeatureH f = OGR_L_GetNextFeature(l);
    assert_non_null(f);
    char *wkt = NULL;
    OGR_G_ExportToWkt(OGR_F_GetGeometryRef(f), &wkt);
    test_patch tp;
    patch_make(&tp, "139901SJBG24210003", wkt, 4490);
    CPLFree(wkt);
    tp.p.image_before = (cn_date){2023, 11, 3};
    tp.p.image_after = (cn_date){2024, 10, 6};
    OGR_F_Destroy(f);
    GDALClose(ds);

    for (int v = 0; v < 2; v++) {
        /* the default pair, and a location frame with its locator */
        canvas c = canvas_new(440, 270, 1.5);
        if (v == 0)
            assert_int_equal(draw(mc, &c, &tp.p, 0, 0, 440, 270, &err, NULL), TB_OK);
        else
            assert_int_equal(draw(mc, &c, &tp.p, 0, 0, 440, 270, &err, "view", "location",
                                  "scale", "1:4000", NULL),
                             TB_OK);
        reference_compare(&c, v == 0 ? "sample-pair.png" : "sample-location.png");
    }
    free(tp.wkb);
    map_ctx_close(mc);
}

/* Compares the canvas with tests/data/map/<name> (or rewrites it). */
static void
reference_compare(canvas *cv, const char *name)
{
    canvas c = *cv;
    cairo_surface_flush(c.s);
    char ref[512];
    snprintf(ref, sizeof ref, "%s/tests/data/map/%s", TUBAN_SOURCE_DIR, name);
    if (getenv("TB_MAP_UPDATE_REFERENCE") != NULL)
        assert_int_equal(cairo_surface_write_to_png(c.s, ref), CAIRO_STATUS_SUCCESS);
    cairo_surface_t *r = cairo_image_surface_create_from_png(ref);
    assert_int_equal(cairo_surface_status(r), CAIRO_STATUS_SUCCESS);
    int w = cairo_image_surface_get_width(c.s), h = cairo_image_surface_get_height(c.s);
    assert_int_equal(cairo_image_surface_get_width(r), w);
    assert_int_equal(cairo_image_surface_get_height(r), h);
    const unsigned char *a = cairo_image_surface_get_data(c.s), *b = cairo_image_surface_get_data(r);
    int sa = cairo_image_surface_get_stride(c.s), sb = cairo_image_surface_get_stride(r);
    double sum = 0;
    long off = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < 3; k++) {
                int d = abs(a[y * sa + x * 4 + k] - b[y * sb + x * 4 + k]);
                sum += d;
                off += d > 80;
            }
    double mean = sum / ((double)w * h * 3);
    printf("reference %s: mean difference %.3f, %ld channel values off by > 80\n", name, mean,
           off);
    assert_true(mean < 2.0);
    assert_true(off < (long)w * h * 3 / 200); /* 0.5% */
    cairo_surface_destroy(r);
    canvas_free(cv, name);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_refusals),
        cmocka_unit_test(test_outline_position),
        cmocka_unit_test(test_scale_bar),
        cmocka_unit_test(test_same_ground_any_crs),
        cmocka_unit_test(test_formats_and_nodata),
        cmocka_unit_test(test_before_after),
        cmocka_unit_test(test_bad_attributes),
        cmocka_unit_test(test_layers_and_overview),
        cmocka_unit_test(test_grid_metres_and_office_layer),
        cmocka_unit_test(test_pdf_jpeg),
        cmocka_unit_test(test_reference_pair),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    pango_cairo_font_map_set_default(NULL); /* drop the thread's default font map (LSan) */
    return rc;
}
