/* One 120 x 90 mm map frame at 200 dpi (945 x 709 px of imagery), drawn again and again from a
 * large raster into a PDF page: median and spread of the ms per frame, and the peak RSS.
 * Side by side, in the same process and run: GDALTranslate (the library behind gdal_translate)
 * making the same window as a 945 x 709 JPEG (-projwin -outsize -r bilinear).  Prints, for every
 * frame, the window it showed (projwin) so bench/map.sh can also time the gdal_translate
 * command (process start-up included) on exactly the same windows.
 * Usage: bench_map <raster in EPSG:4548> <frames> */
#include "tb_features.h"

#include "map_panel.h"

#include <cairo-pdf.h>
#include <cpl_string.h>
#include <gdal.h>
#include <gdal_utils.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define FRAME_W_PT (120 / 25.4 * 72)
#define FRAME_H_PT (90 / 25.4 * 72)
#define SCALE 2000.0

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static cairo_status_t
discard(void *closure, const unsigned char *data, unsigned int length)
{
    (void)data;
    *(size_t *)closure += length;
    return CAIRO_STATUS_SUCCESS;
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_map <raster in EPSG:4548> <frames>\n");
        return 2;
    }
    int frames = atoi(argv[2]);
    GDALAllRegister();
    GDALDatasetH ds = GDALOpen(argv[1], GA_ReadOnly);
    if (ds == NULL)
        return 1;
    double gt[6];
    GDALGetGeoTransform(ds, gt);
    int nx = GDALGetRasterXSize(ds), ny = GDALGetRasterYSize(ds);
    GDALClose(ds);

    tb_err err = {0};
    map_ctx *mc = map_ctx_open(NULL, argv[1], &err);
    if (mc == NULL) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    OGRSpatialReferenceH gk = OSRNewSpatialReference(NULL), geo = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(gk, 4548);
    OSRImportFromEPSG(geo, 4490);
    OSRSetAxisMappingStrategy(gk, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(geo, OAMS_TRADITIONAL_GIS_ORDER);
    OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(gk, geo);

    size_t bytes = 0;
    cairo_surface_t *pdf = cairo_pdf_surface_create_for_stream(discard, &bytes, 595, 842);
    cairo_t *cr = cairo_create(pdf);
    dt_attr attrs[] = {{"view", "location"}, {"scale", "1:2000"}, {"dpi", "200"}};
    double *ms = calloc((size_t)frames, sizeof *ms);
    double *ref = calloc((size_t)frames, sizeof *ref);
    GDALDatasetH src = GDALOpen(argv[1], GA_ReadOnly);
    double ground_w = FRAME_W_PT / (72 / 0.0254) * SCALE;
    double ground_h = FRAME_H_PT / (72 / 0.0254) * SCALE;
    unsigned seed = 7;
    for (int i = 0; i <= frames; i++) { /* frame 0 warms the caches up and is not counted */
        /* A 40 m square patch somewhere inside the raster, the whole frame on it. */
        seed = seed * 1103515245u + 12345u;
        double fx = (seed >> 8) % 10000 / 10000.0;
        seed = seed * 1103515245u + 12345u;
        double fy = (seed >> 8) % 10000 / 10000.0;
        double w = nx * gt[1], h = -ny * gt[5];
        double cx = gt[0] + ground_w / 2 + fx * (w - ground_w);
        double cy = gt[3] - ground_h / 2 - fy * (h - ground_h);
        OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
        double px[5] = {cx - 20, cx + 20, cx + 20, cx - 20, cx - 20};
        double py[5] = {cy - 20, cy - 20, cy + 20, cy + 20, cy - 20};
        OCTTransform(ct, 5, px, py, NULL);
        for (int k = 0; k < 5; k++)
            OGR_G_AddPoint_2D(ring, px[k], py[k]);
        OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
        OGR_G_AddGeometryDirectly(poly, ring);
        unsigned char wkb[256];
        OGR_G_ExportToWkb(poly, wkbNDR, wkb);
        OGREnvelope env;
        OGR_G_GetEnvelope(poly, &env);
        patch p = {.id = "BENCH", .wkb = wkb, .wkb_len = (size_t)OGR_G_WkbSize(poly),
                   .min_lon = env.MinX, .max_lon = env.MaxX, .min_lat = env.MinY,
                   .max_lat = env.MaxY};
        dt_panel panel = {.kind = "map", .attrs = attrs, .attr_count = 3, .datum = &p};
        double t0 = now_ms();
        if (map_panel_draw(mc, cr, &panel, 60, 80, FRAME_W_PT, FRAME_H_PT, &err) != TB_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        cairo_show_page(cr); /* the page with its JPEG goes out */
        double t1 = now_ms();
        char ulx[32], uly[32], lrx[32], lry[32];
        snprintf(ulx, sizeof ulx, "%.3f", cx - ground_w / 2);
        snprintf(uly, sizeof uly, "%.3f", cy + ground_h / 2);
        snprintf(lrx, sizeof lrx, "%.3f", cx + ground_w / 2);
        snprintf(lry, sizeof lry, "%.3f", cy - ground_h / 2);
        char *args[] = {"-of", "JPEG", "-co", "QUALITY=85", "-projwin", ulx, uly, lrx, lry,
                        "-outsize", "945", "709", "-r", "bilinear", NULL};
        GDALTranslateOptions *to = GDALTranslateOptionsNew(args, NULL);
        double t2 = now_ms();
        GDALDatasetH jpg = GDALTranslate("/vsimem/bench_window.jpg", src, to, NULL);
        if (jpg != NULL)
            GDALClose(jpg);
        double t3 = now_ms();
        GDALTranslateOptionsFree(to);
        VSIUnlink("/vsimem/bench_window.jpg");
        if (i > 0) {
            ms[i - 1] = t1 - t0;
            ref[i - 1] = t3 - t2;
            printf("projwin %.3f %.3f %.3f %.3f\n", cx - ground_w / 2, cy + ground_h / 2,
                   cx + ground_w / 2, cy - ground_h / 2);
        }
        OGR_G_DestroyGeometry(poly);
    }
    cairo_destroy(cr);
    cairo_surface_destroy(pdf);
    GDALClose(src);
    qsort(ms, (size_t)frames, sizeof *ms, cmp_double);
    qsort(ref, (size_t)frames, sizeof *ref, cmp_double);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("tuban: %d frames of 945 x 709 px from %d x %d px: median %.1f ms, p10 %.1f, p90 %.1f; "
           "%.0f KB of PDF per frame; peak RSS %ld MB\n",
           frames, nx, ny, ms[frames / 2], ms[frames / 10], ms[frames * 9 / 10],
           (double)bytes / 1024 / frames, ru.ru_maxrss / 1024);
    printf("GDALTranslate in process, same windows to a 945 x 709 JPEG: median %.1f ms, p10 "
           "%.1f, p90 %.1f; tuban / GDALTranslate = %.2f\n",
           ref[frames / 2], ref[frames / 10], ref[frames * 9 / 10], ms[frames / 2] / ref[frames / 2]);
    free(ms);
    free(ref);
    OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(gk);
    OSRDestroySpatialReference(geo);
    map_ctx_close(mc);
    return 0;
}
