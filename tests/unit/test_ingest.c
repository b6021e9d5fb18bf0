/* Reading patch files: standard names, aliases, GBK via .cpg, CRS transformation, errors that
 * name file, record, patch and field. */
#include "tb_features.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "patch_source.h"

#include <geodesic.h>
#include <ogr_api.h>
#include "units.h"

#define DATA TUBAN_SOURCE_DIR

static const patch *
find(const patch_set *set, const char *id)
{
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->items[i].id, id) == 0)
            return &set->items[i];
    return NULL;
}

static void
test_sample_geopackage(void **state)
{
    (void)state;
    tb_arena *a = tb_arena_new(0);
    tb_err err = {0};
    patch_set *set = patch_set_load(DATA "/samples/patches.gpkg", NULL, a, &err);
    assert_non_null(set);
    assert_int_equal(set->count, 35);
    const patch *p = find(set, "139901SJBG24210003");
    assert_non_null(p);
    assert_string_equal(p->admin_code, "139901100");
    assert_string_equal(p->admin_name, "城关镇");
    assert_int_equal(p->legality, LEGALITY_ILLEGAL);
    assert_int_equal(p->year, 2024);
    assert_true(p->area_m2 > 4799 && p->area_m2 < 4800);
    /* geometry is CGCS2000 lon/lat near the fictional county (117.1°E, 35.2°N) */
    assert_true(p->min_lon > 117.0 && p->max_lon < 117.2);
    assert_true(p->min_lat > 35.1 && p->max_lat < 35.3);
    assert_true(p->wkb_len > 9 && p->wkb[0] == 1); /* little-endian WKB */
    tb_arena_free(a);
}

static void
test_gbk_shapefile_with_aliases(void **state)
{
    (void)state;
    tb_arena *a = tb_arena_new(0);
    tb_err err = {0};
    patch_set *gbk = patch_set_load(DATA "/tests/data/gbk_cpg/patches.shp", NULL, a, &err);
    assert_non_null(gbk);
    tb_err err2 = {0};
    patch_set *gpkg = patch_set_load(DATA "/samples/patches.gpkg", NULL, a, &err2);
    assert_non_null(gpkg);
    assert_int_equal(gbk->count, gpkg->count);
    /* TBBH/XDM/GDMJ/PDLX aliases, GBK text decoded through the .cpg, projected CRS (EPSG:4548)
     * transformed to lon/lat: every patch matches the GeoPackage's. */
    for (size_t i = 0; i < gbk->count; i++) {
        const patch *s = &gbk->items[i], *g = find(gpkg, s->id);
        assert_non_null(g);
        assert_string_equal(s->admin_name, g->admin_name);
        assert_int_equal(s->legality, g->legality);
        assert_true(s->farmland_m2 == g->farmland_m2);
        if (g->measure)
            assert_string_equal(s->measure, g->measure);
        assert_true(fabs(s->min_lon - g->min_lon) < 1e-6 && fabs(s->max_lat - g->max_lat) < 1e-6);
    }
    tb_arena_free(a);
}

static char *
write_temp(const char *name, const char *text)
{
    char *path = NULL;
    if (asprintf(&path, "%s/tuban-test-%d-%s", P_tmpdir, (int)getpid(), name) < 0)
        abort();
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

#define FEATURE(props)                                                                            \
    "{\"type\":\"Feature\",\"properties\":{" props "},\"geometry\":{\"type\":\"Polygon\","        \
    "\"coordinates\":[[[117.1,35.2],[117.101,35.2],[117.101,35.201],[117.1,35.2]]]}}"

static void
test_errors_name_file_record_field(void **state)
{
    (void)state;
    tb_arena *a = tb_arena_new(0);
    char *path = write_temp(
        "bad.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":["
        FEATURE("\"JCBH\":\"A1\",\"XZQDM\":\"139901100\",\"JCMJ\":100,\"PDJG\":\"违法\"") ","
        FEATURE("\"JCBH\":\"A2\",\"XZQDM\":\"139901100\",\"JCMJ\":\"abc\",\"PDJG\":\"违法\"")
        "]}");
    tb_err err = {0};
    assert_null(patch_set_load(path, NULL, a, &err));
    assert_int_equal(err.code, TB_EFORMAT);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "record 2"));
    assert_non_null(strstr(err.msg, "patch A2"));
    assert_non_null(strstr(err.msg, "field JCMJ"));
    unlink(path);
    free(path);

    path = write_temp("nolegal.geojson",
                      "{\"type\":\"FeatureCollection\",\"features\":["
                      FEATURE("\"JCBH\":\"A1\",\"XZQDM\":\"139901100\",\"JCMJ\":100") "]}");
    tb_err err2 = {0};
    assert_null(patch_set_load(path, NULL, a, &err2));
    assert_non_null(strstr(err2.msg, "missing required field(s) PDJG"));
    assert_non_null(strstr(err2.msg, "the file has: JCBH, XZQDM, JCMJ"));
    unlink(path);
    free(path);

    path = write_temp("badlegal.geojson",
                      "{\"type\":\"FeatureCollection\",\"features\":["
                      FEATURE("\"JCBH\":\"A9\",\"XZQDM\":\"139901100\",\"JCMJ\":1,"
                              "\"PDJG\":\"违规\"") "]}");
    tb_err err3 = {0};
    assert_null(patch_set_load(path, NULL, a, &err3));
    assert_non_null(strstr(err3.msg, "record 1 (patch A9), field PDJG: unknown legality '违规'"));
    unlink(path);
    free(path);

    tb_err err4 = {0};
    assert_null(patch_set_load("/nonexistent/p.gpkg", NULL, a, &err4));
    assert_int_equal(err4.code, TB_ENOTFOUND);
    assert_non_null(strstr(err4.msg, "/nonexistent/p.gpkg"));
    tb_arena_free(a);
}

/* The reference: PROJ's geodesic polygon area on the CGCS2000 ellipsoid. */
static double
geodesic_area(const unsigned char *wkb, size_t len)
{
    struct geod_geodesic g;
    geod_init(&g, 6378137.0, 1 / 298.257222101);
    OGRGeometryH geom = NULL;
    assert_int_equal(OGR_G_CreateFromWkb(wkb, NULL, &geom, (int)len), OGRERR_NONE);
    double total = 0;
    int polys = wkbFlatten(OGR_G_GetGeometryType(geom)) == wkbPolygon ? 1
                                                                       : OGR_G_GetGeometryCount(geom);
    for (int p = 0; p < polys; p++) {
        OGRGeometryH poly = polys == 1 && wkbFlatten(OGR_G_GetGeometryType(geom)) == wkbPolygon
                                ? geom
                                : OGR_G_GetGeometryRef(geom, p);
        for (int r = 0; r < OGR_G_GetGeometryCount(poly); r++) {
            OGRGeometryH ring = OGR_G_GetGeometryRef(poly, r);
            int n = OGR_G_GetPointCount(ring) - 1; /* closed ring: drop the repeat */
            double lat[n], lon[n], area;
            for (int i = 0; i < n; i++)
                lon[i] = OGR_G_GetX(ring, i), lat[i] = OGR_G_GetY(ring, i);
            geod_polygonarea(&g, lat, lon, n, &area, NULL);
            total += (r == 0 ? 1 : -1) * fabs(area);
        }
    }
    OGR_G_DestroyGeometry(geom);
    return total;
}

static void
test_ellipsoid_area_matches_geodesic(void **state)
{
    (void)state;
    tb_arena *a = tb_arena_new(0);
    tb_err err = {0};
    patch_set *set = patch_set_load(DATA "/samples/patches.gpkg", NULL, a, &err);
    assert_non_null(set);
    for (size_t i = 0; i < set->count; i++) {
        const patch *p = &set->items[i];
        double ref = geodesic_area(p->wkb, p->wkb_len);
        /* GeographicLib's polygon area sums large per-edge terms, so it is itself good to
         * about 0.01 m²; that is the tolerance. */
        if (fabs(p->area_ellipsoid_m2 - ref) >= 0.01)
            print_error("%s: %.6f vs geodesic %.6f\n", p->id, p->area_ellipsoid_m2, ref);
        assert_true(fabs(p->area_ellipsoid_m2 - ref) < 0.01);
        assert_true(ingest_ellipsoid_area_m2(p->wkb, p->wkb_len) == p->area_ellipsoid_m2);
        /* and the sample's JCMJ (computed in the GK projection) agrees within 0.05 m² */
        assert_true(fabs(p->area_m2 - ref) < 0.05);
    }
    /* a 0.1° square with a hole at 35°N: large enough for edge-vs-geodesic differences */
    OGRGeometryH g = NULL;
    char *wkt = "POLYGON ((117 35,117.1 35,117.1 35.1,117 35.1,117 35),"
                "(117.02 35.02,117.02 35.05,117.05 35.05,117.05 35.02,117.02 35.02))";
    OGR_G_CreateFromWkt(&wkt, NULL, &g);
    unsigned char wkb[1024];
    size_t len = (size_t)OGR_G_WkbSize(g);
    OGR_G_ExportToWkb(g, wkbNDR, wkb);
    double ref = geodesic_area(wkb, len);
    assert_true(fabs(ingest_ellipsoid_area_m2(wkb, len) - ref) < 1e-6 * ref);
    OGR_G_DestroyGeometry(g);
    tb_arena_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_geopackage),
        cmocka_unit_test(test_gbk_shapefile_with_aliases),
        cmocka_unit_test(test_errors_name_file_record_field),
        cmocka_unit_test(test_ellipsoid_area_matches_geodesic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
