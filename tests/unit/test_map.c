/* map_view: opening basemaps, and drawing a patch map into image and PDF surfaces.  The
 * basemap is made here: 512 x 512 m at 1 m in EPSG:4548 (CGCS2000 / 3-degree GK CM 117E) around
 * 117E 30N, R = column / 2, G = row / 2, B = 200, with white grid lines every 64 pixels.
 * Set TB_MAP_SAMPLE=/tmp/map_test.pdf to keep the sample PDF. */
#include "tb_features.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

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
#include <time.h>
#include <unistd.h>

#define RASTER_N 512
#define CENTRE_E 500000.0
#define CENTRE_N 3320113.0

static char tmp_dir[64];
static char tif_path[128];
static char nocrs_path[128];
static char nogt_path[128];
static char pdf_path[128];

static GDALDatasetH
tif_create(const char *path, bool with_crs, bool with_gt)
{
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    assert_non_null(drv);
    GDALDatasetH ds = GDALCreate(drv, path, RASTER_N, RASTER_N, 3, GDT_Byte, NULL);
    assert_non_null(ds);
    if (with_gt) {
        double gt[6] = {CENTRE_E - RASTER_N / 2, 1.0, 0.0, CENTRE_N + RASTER_N / 2, 0.0, -1.0};
        assert_int_equal(GDALSetGeoTransform(ds, gt), CE_None);
    }
    if (with_crs) {
        OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
        assert_int_equal(OSRImportFromEPSG(srs, 4548), OGRERR_NONE);
        assert_int_equal(GDALSetSpatialRef(ds, srs), CE_None);
        OSRDestroySpatialReference(srs);
    }
    unsigned char *row = malloc((size_t)RASTER_N * 3);
    for (int y = 0; y < RASTER_N; y++) {
        for (int x = 0; x < RASTER_N; x++) {
            bool grid = x % 64 == 32 || y % 64 == 32;
            row[x] = grid ? 255 : (unsigned char)(x / 2);
            row[RASTER_N + x] = grid ? 255 : (unsigned char)(y / 2);
            row[2 * RASTER_N + x] = grid ? 255 : 200;
        }
        assert_int_equal(GDALDatasetRasterIO(ds, GF_Write, 0, y, RASTER_N, 1, row, RASTER_N, 1,
                                             GDT_Byte, 3, NULL, 1, 0, RASTER_N),
                         CE_None);
    }
    free(row);
    return ds;
}

static int
setup(void **state)
{
    (void)state;
    GDALAllRegister();
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/tb_map_XXXXXX");
    if (mkdtemp(tmp_dir) == NULL)
        return -1;
    snprintf(tif_path, sizeof tif_path, "%s/base.tif", tmp_dir);
    snprintf(nocrs_path, sizeof nocrs_path, "%s/nocrs.tif", tmp_dir);
    snprintf(nogt_path, sizeof nogt_path, "%s/nogt.tif", tmp_dir);
    snprintf(pdf_path, sizeof pdf_path, "%s/map.pdf", tmp_dir);
    GDALClose(tif_create(tif_path, true, true));
    GDALClose(tif_create(nocrs_path, false, true));
    GDALClose(tif_create(nogt_path, true, false));
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    const char *files[] = {tif_path, nocrs_path, nogt_path, pdf_path};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char aux[160];
        unlink(files[i]);
        snprintf(aux, sizeof aux, "%s.aux.xml", files[i]);
        unlink(aux);
    }
    rmdir(tmp_dir);
    OSRCleanup();
    GDALDestroyDriverManager();
    return 0;
}

/* WKB of a square of side `side` metres centred at (e, n) in EPSG:4548, in EPSG:4490 lon/lat. */
static unsigned char *
square_wkb(double e, double n, double side, size_t *len)
{
    char wkt[256];
    double h = side / 2;
    snprintf(wkt, sizeof wkt, "POLYGON ((%f %f, %f %f, %f %f, %f %f, %f %f))", e - h, n - h,
             e + h, n - h, e + h, n + h, e - h, n + h, e - h, n - h);
    OGRSpatialReferenceH gk = OSRNewSpatialReference(NULL), geo = OSRNewSpatialReference(NULL);
    assert_int_equal(OSRImportFromEPSG(gk, 4548), OGRERR_NONE);
    assert_int_equal(OSRImportFromEPSG(geo, 4490), OGRERR_NONE);
    OSRSetAxisMappingStrategy(gk, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(geo, OAMS_TRADITIONAL_GIS_ORDER);
    char *p = wkt;
    OGRGeometryH g = NULL;
    assert_int_equal(OGR_G_CreateFromWkt(&p, gk, &g), OGRERR_NONE);
    assert_int_equal(OGR_G_TransformTo(g, geo), OGRERR_NONE);
    OGREnvelope env;
    OGR_G_GetEnvelope(g, &env);
    assert_true(env.MinX > 116.9 && env.MaxX < 117.1 && env.MinY > 29.9 && env.MaxY < 30.1);
    *len = (size_t)OGR_G_WkbSize(g);
    unsigned char *wkb = malloc(*len);
    assert_int_equal(OGR_G_ExportToWkb(g, wkbNDR, wkb), OGRERR_NONE);
    OGR_G_DestroyGeometry(g);
    OSRDestroySpatialReference(gk);
    OSRDestroySpatialReference(geo);
    return wkb;
}

static unsigned char *
wkt_wkb(const char *wkt, size_t *len)
{
    char *p = (char *)wkt;
    OGRGeometryH g = NULL;
    assert_int_equal(OGR_G_CreateFromWkt(&p, NULL, &g), OGRERR_NONE);
    *len = (size_t)OGR_G_WkbSize(g);
    unsigned char *wkb = malloc(*len);
    assert_int_equal(OGR_G_ExportToWkb(g, wkbNDR, wkb), OGRERR_NONE);
    OGR_G_DestroyGeometry(g);
    return wkb;
}

static void
pixel_rgb(cairo_surface_t *s, int x, int y, int rgb[3])
{
    cairo_surface_flush(s);
    const unsigned char *d = cairo_image_surface_get_data(s);
    uint32_t px;
    memcpy(&px, d + (size_t)y * (size_t)cairo_image_surface_get_stride(s) + (size_t)x * 4, 4);
    rgb[0] = (int)(px >> 16 & 0xff);
    rgb[1] = (int)(px >> 8 & 0xff);
    rgb[2] = (int)(px & 0xff);
}

static bool
is_red(const int rgb[3])
{
    return rgb[0] > 200 && rgb[1] < 60 && rgb[2] < 60;
}

static bool
row_has_red(cairo_surface_t *s, int y)
{
    int rgb[3];
    for (int x = 0; x < cairo_image_surface_get_width(s); x++) {
        pixel_rgb(s, x, y, rgb);
        if (is_red(rgb))
            return true;
    }
    return false;
}

static void
assert_near(int got, int want, int tol)
{
    if (abs(got - want) > tol)
        fail_msg("pixel value %d, expected %d +- %d", got, want, tol);
}

static void
test_open_missing(void **state)
{
    (void)state;
    tb_err err = {0};
    map_basemap *bm = map_basemap_open("/nonexistent/basemap.tif", &err);
    assert_null(bm);
    assert_int_equal(err.code, TB_ENOTFOUND);
    assert_non_null(strstr(err.msg, "/nonexistent/basemap.tif"));
    map_basemap_close(NULL);
}

static void
test_open_not_raster(void **state)
{
    (void)state;
    char path[160];
    snprintf(path, sizeof path, "%s/junk.tif", tmp_dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("this is not a raster\n", fp);
    fclose(fp);
    tb_err err = {0};
    map_basemap *bm = map_basemap_open(path, &err);
    unlink(path);
    assert_null(bm);
    assert_int_equal(err.code, TB_EFORMAT);
    assert_non_null(strstr(err.msg, "junk.tif"));
}

static void
test_open_no_crs(void **state)
{
    (void)state;
    tb_err err = {0};
    assert_null(map_basemap_open(nocrs_path, &err));
    assert_int_equal(err.code, TB_EFORMAT);
    assert_non_null(strstr(err.msg, "coordinate reference system"));
    tb_err err2 = {0};
    assert_null(map_basemap_open(nogt_path, &err2));
    assert_int_equal(err2.code, TB_EFORMAT);
    assert_non_null(strstr(err2.msg, "geotransform"));
}

/* 400 x 400 px image surface, frame (50, 50, 300, 300) at 72 dpi: one pixel per point.  A
 * 100 m square with margin 0.35 spans 170 m, so its edges sit at 50 + 300 * 35 / 170. */
static void
test_draw_image(void **state)
{
    (void)state;
    tb_err err = {0};
    map_basemap *bm = map_basemap_open(tif_path, &err);
    assert_non_null(bm);
    size_t len;
    unsigned char *wkb = square_wkb(CENTRE_E, CENTRE_N, 100.0, &len);
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 400, 400);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    map_frame f = {50, 50, 300, 300, 72, 0.35};
    assert_int_equal(map_draw_patch(cr, bm, wkb, len, "TB-0001", &f, &err), TB_OK);

    int rgb[3];
    double edge = 50 + 300 * 35.0 / 170.0; /* 111.76 */
    pixel_rgb(s, (int)edge, 200, rgb);     /* left edge */
    assert_true(is_red(rgb));
    pixel_rgb(s, 400 - 1 - (int)edge, 200, rgb); /* right edge */
    assert_true(is_red(rgb));
    pixel_rgb(s, 200, (int)edge, rgb); /* top edge */
    assert_true(is_red(rgb));
    pixel_rgb(s, 200, 400 - 1 - (int)edge, rgb); /* bottom edge */
    assert_true(is_red(rgb));
    pixel_rgb(s, (int)edge + 8, 200, rgb); /* just inside: imagery, no fill */
    assert_false(is_red(rgb));

    /* Centre of the frame = centre of the raster: R = G = 256 / 2, B = 200. */
    pixel_rgb(s, 200, 200, rgb);
    assert_near(rgb[0], 128, 4);
    assert_near(rgb[1], 128, 4);
    assert_near(rgb[2], 200, 4);
    /* (150.5, 250.5) px -> 28.05 m west and south of the centre: column 227.95, row 284.05;
     * checks north-up and no mirroring. */
    pixel_rgb(s, 150, 250, rgb);
    assert_near(rgb[0], (int)lround((256 - 28.05 - 0.5) / 2), 3);
    assert_near(rgb[1], (int)lround((256 + 28.05 - 0.5) / 2), 3);
    /* Outside the frame is untouched; the border is black. */
    pixel_rgb(s, 20, 20, rgb);
    assert_true(rgb[0] == 255 && rgb[1] == 255 && rgb[2] == 255);
    pixel_rgb(s, 49, 200, rgb); /* the 0.6 pt border on x = 50 darkens it */
    assert_true(rgb[0] < 230 && rgb[1] < 230 && rgb[2] < 230);
    assert_int_equal(cairo_status(cr), CAIRO_STATUS_SUCCESS);

    cairo_destroy(cr);
    cairo_surface_destroy(s);
    free(wkb);
    map_basemap_close(bm);
}

static bool
file_contains(const char *path, const char *needle, long *size)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *data = malloc((size_t)n + 1);
    assert_int_equal(fread(data, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    data[n] = '\0';
    bool found = memmem(data, (size_t)n, needle, strlen(needle)) != NULL;
    free(data);
    if (size != NULL)
        *size = n;
    return found;
}

static void
test_draw_pdf_jpeg(void **state)
{
    (void)state;
    const char *path = getenv("TB_MAP_SAMPLE") != NULL ? getenv("TB_MAP_SAMPLE") : pdf_path;
    tb_err err = {0};
    map_basemap *bm = map_basemap_open(tif_path, &err);
    assert_non_null(bm);
    size_t len, len2;
    unsigned char *wkb = square_wkb(CENTRE_E + 20, CENTRE_N - 10, 120.0, &len);
    unsigned char *far = wkt_wkb("POLYGON ((117.5 30.5, 117.501 30.5, 117.501 30.501, "
                                 "117.5 30.501, 117.5 30.5))", &len2);
    cairo_surface_t *s = cairo_pdf_surface_create(path, 595, 842);
    cairo_t *cr = cairo_create(s);
    map_frame f = {60, 80, 475, 320, 200, 0};
    assert_int_equal(map_draw_patch(cr, bm, wkb, len, "图斑编号 TB-2024-0001", &f, &err), TB_OK);
    map_frame f2 = {60, 440, 300, 220, 200, 0.35};
    assert_int_equal(map_draw_patch(cr, bm, far, len2, "图斑编号 TB-2024-0002", &f2, &err),
                     TB_OK);
    cairo_destroy(cr);
    cairo_surface_finish(s);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    cairo_surface_destroy(s);

    long size = 0;
    assert_true(file_contains(path, "/DCTDecode", &size));
    assert_true(size < 1500 * 1000); /* a 1319 x 889 px map as raw RGB would be 3.5 MB */
    free(wkb);
    free(far);
    map_basemap_close(bm);
}

static void
test_draw_outside(void **state)
{
    (void)state;
    tb_err err = {0};
    map_basemap *bm = map_basemap_open(tif_path, &err);
    assert_non_null(bm);
    size_t len;
    unsigned char *wkb = wkt_wkb("MULTIPOLYGON (((117.3 30.2, 117.301 30.2, 117.301 30.201, "
                                 "117.3 30.201, 117.3 30.2)))", &len);
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 400, 400);
    cairo_t *cr = cairo_create(s);
    map_frame f = {50, 50, 300, 300, 72, 0.35};
    assert_int_equal(map_draw_patch(cr, bm, wkb, len, "TB-far", &f, &err), TB_OK);
    int rgb[3];
    pixel_rgb(s, 200, 200, rgb);
    assert_near(rgb[0], 0xD9, 2);
    assert_near(rgb[1], 0xD9, 2);
    assert_near(rgb[2], 0xD9, 2);
    assert_true(row_has_red(s, 200)); /* the outline is still there */

    /* No basemap at all: the same picture. */
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    assert_int_equal(map_draw_patch(cr, NULL, wkb, len, NULL, &f, &err), TB_OK);
    pixel_rgb(s, 200, 200, rgb);
    assert_near(rgb[0], 0xD9, 2);
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    free(wkb);
    map_basemap_close(bm);
}

static void
test_draw_bad_input(void **state)
{
    (void)state;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 100, 100);
    cairo_t *cr = cairo_create(s);
    map_frame f = {0, 0, 100, 100, 72, 0};
    size_t len;
    unsigned char *pt = wkt_wkb("POINT (117 30)", &len);
    tb_err err = {0};
    assert_int_equal(map_draw_patch(cr, NULL, pt, len, "TB-x", &f, &err), TB_EFORMAT);
    assert_non_null(strstr(err.msg, "TB-x"));
    free(pt);

    const unsigned char junk[] = {1, 3, 0, 0, 0, 9, 9, 9};
    tb_err err2 = {0};
    assert_int_equal(map_draw_patch(cr, NULL, junk, sizeof junk, "TB-y", &f, &err2),
                     TB_EFORMAT);

    unsigned char *proj = wkt_wkb("POLYGON ((500000 3320000, 500100 3320000, 500100 3320100, "
                                  "500000 3320000))", &len);
    tb_err err3 = {0};
    assert_int_equal(map_draw_patch(cr, NULL, proj, len, "TB-z", &f, &err3), TB_EFORMAT);
    assert_non_null(strstr(err3.msg, "4490"));

    map_frame bad = {0, 0, 0, 100, 72, 0};
    tb_err err4 = {0};
    assert_int_equal(map_draw_patch(cr, NULL, proj, len, "TB-z", &bad, &err4), TB_EINVAL);
    free(proj);
    cairo_destroy(cr);
    cairo_surface_destroy(s);
}

/* A geographic basemap is drawn through a warped VRT in the patch's GK zone. */
static void
test_draw_geographic_basemap(void **state)
{
    (void)state;
    char path[160];
    snprintf(path, sizeof path, "%s/geo.tif", tmp_dir);
    GDALDatasetH src = GDALOpen(tif_path, GA_ReadOnly);
    assert_non_null(src);
    GDALDatasetH vrt = GDALAutoCreateWarpedVRT(src, NULL,
                                               "GEOGCS[\"China Geodetic Coordinate System 2000\","
                                               "DATUM[\"China_2000\",SPHEROID[\"CGCS2000\","
                                               "6378137,298.257222101]],PRIMEM[\"Greenwich\",0],"
                                               "UNIT[\"degree\",0.0174532925199433],"
                                               "AUTHORITY[\"EPSG\",\"4490\"]]",
                                               GRA_Bilinear, 0.125, NULL);
    assert_non_null(vrt);
    GDALDatasetH geo = GDALCreateCopy(GDALGetDriverByName("GTiff"), path, vrt, FALSE, NULL,
                                      NULL, NULL);
    assert_non_null(geo);
    GDALClose(geo);
    GDALClose(vrt);
    GDALClose(src);

    tb_err err = {0};
    map_basemap *bm = map_basemap_open(path, &err);
    assert_non_null(bm);
    size_t len;
    unsigned char *wkb = square_wkb(CENTRE_E, CENTRE_N, 100.0, &len);
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 400, 400);
    cairo_t *cr = cairo_create(s);
    map_frame f = {50, 50, 300, 300, 72, 0.35};
    for (int i = 0; i < 2; i++) /* the second call uses the cached view */
        assert_int_equal(map_draw_patch(cr, bm, wkb, len, "TB-geo", &f, &err), TB_OK);
    int rgb[3];
    pixel_rgb(s, 200, 200, rgb);
    assert_near(rgb[0], 128, 6);
    assert_near(rgb[1], 128, 6);
    assert_near(rgb[2], 200, 6);
    pixel_rgb(s, (int)(50 + 300 * 35.0 / 170.0), 200, rgb);
    assert_true(is_red(rgb));
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    free(wkb);
    map_basemap_close(bm);
    unlink(path);
}

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Not a pass/fail benchmark: prints the cost of one typical map (400 x 300 pt at 200 dpi). */
static void
test_draw_timing(void **state)
{
    (void)state;
    tb_err err = {0};
    map_basemap *bm = map_basemap_open(tif_path, &err);
    assert_non_null(bm);
    size_t len;
    unsigned char *wkb = square_wkb(CENTRE_E, CENTRE_N, 100.0, &len);
    char path[160];
    snprintf(path, sizeof path, "%s/timing.pdf", tmp_dir);
    cairo_surface_t *s = cairo_pdf_surface_create(path, 595, 842);
    cairo_t *cr = cairo_create(s);
    map_frame f = {60, 80, 400, 300, 200, 0};
    const int n = 50;
    assert_int_equal(map_draw_patch(cr, bm, wkb, len, "TB-warm", &f, &err), TB_OK);
    double t0 = now_ms();
    for (int i = 0; i < n; i++) {
        assert_int_equal(map_draw_patch(cr, bm, wkb, len, "TB-timing", &f, &err), TB_OK);
        cairo_show_page(cr);
    }
    double t1 = now_ms();
    cairo_destroy(cr);
    cairo_surface_finish(s);
    double t2 = now_ms();
    cairo_surface_destroy(s);
    printf("map_draw_patch to PDF: %.2f ms per call (+ %.2f ms per page to write the PDF)\n",
           (t1 - t0) / n, (t2 - t1) / n);
    unlink(path);
    free(wkb);
    map_basemap_close(bm);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_missing),
        cmocka_unit_test(test_open_not_raster),
        cmocka_unit_test(test_open_no_crs),
        cmocka_unit_test(test_draw_image),
        cmocka_unit_test(test_draw_pdf_jpeg),
        cmocka_unit_test(test_draw_outside),
        cmocka_unit_test(test_draw_bad_input),
        cmocka_unit_test(test_draw_geographic_basemap),
        cmocka_unit_test(test_draw_timing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
