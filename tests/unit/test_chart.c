/* Bar charts: bars measured in the pixels of an image surface (heights proportional to the
 * values, on a round axis), labels searchable in a PDF (pdftotext), bad input refused. */
#include "tb_features.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cairo-pdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chart.h"

static const char *const towns[] = {"南湖街道", "城关镇", "东河乡"};
static const double illegal[] = {10, 5, 0};
static const double done[] = {4, 5, 0};
static const chart_series series[] = {{"违法图斑", illegal}, {"已整改", done}};
static const chart_data data = {towns, 3, series, 2, "个", 0};

static void
test_axis_step(void **state)
{
    (void)state;
    assert_true(chart_axis_step(10, 5) == 2);
    assert_true(chart_axis_step(12, 5) == 2.5);
    assert_true(chart_axis_step(0.7, 5) == 0.2);
    assert_true(chart_axis_step(0, 5) == 1);
    assert_true(chart_axis_step(1234, 5) == 250);
}

/* Rows covered by pixels of colour (r, g, b) in column x. */
static int
column_height(cairo_surface_t *s, int x, int r, int g, int b)
{
    int h = cairo_image_surface_get_height(s), stride = cairo_image_surface_get_stride(s);
    const unsigned char *p = cairo_image_surface_get_data(s);
    int n = 0;
    for (int y = 40; y < h; y++) { /* below the legend */
        const unsigned char *px = p + y * stride + x * 4; /* BGRA */
        n += abs(px[2] - r) < 8 && abs(px[1] - g) < 8 && abs(px[0] - b) < 8;
    }
    return n;
}

static void
test_bars_in_pixels(void **state)
{
    (void)state;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 600, 400);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    dt_panel panel = {.kind = "chart", .datum = &data};
    tb_err err = {0};
    assert_int_equal(chart_panel_draw(cr, NULL, &panel, 0, 0, 600, 400, &err), TB_OK);
    cairo_surface_flush(s);
    /* The tallest red column and the tallest green one in each third of the plot. */
    int red[3] = {0}, green[3] = {0};
    for (int x = 0; x < 600; x++) {
        int third = x * 3 / 600;
        int hr = column_height(s, x, 189, 28, 28), hg = column_height(s, x, 41, 107, 51);
        red[third] = hr > red[third] ? hr : red[third];
        green[third] = hg > green[third] ? hg : green[third];
    }
    assert_true(red[0] > 100);
    /* heights in proportion to the values (10 : 5 : 0 and 4 : 5 : 0), within 2 px */
    assert_true(abs(red[0] - 2 * red[1]) <= 2);
    assert_true(abs(green[1] - red[1]) <= 2);
    assert_true(abs(5 * green[0] - 2 * red[0]) <= 6);
    assert_int_equal(red[2], 0);
    cairo_destroy(cr);
    cairo_surface_destroy(s);
}

static cairo_status_t
to_file(void *closure, const unsigned char *data_, unsigned int len)
{
    return fwrite(data_, 1, len, closure) == len ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

static void
test_labels_searchable(void **state)
{
    (void)state;
    char path[] = "/tmp/tuban-chart-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(to_file, f, 400, 300);
    cairo_t *cr = cairo_create(s);
    dt_panel panel = {.kind = "chart", .datum = &data};
    tb_err err = {0};
    assert_int_equal(chart_panel_draw(cr, NULL, &panel, 10, 10, 380, 280, &err), TB_OK);
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    fclose(f);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "pdftotext '%s' -", path);
    FILE *p = popen(cmd, "r");
    char out[4096];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    unlink(path);
    for (size_t i = 0; i < 3; i++)
        assert_non_null(strstr(out, towns[i]));
    assert_non_null(strstr(out, "违法图斑"));
    assert_non_null(strstr(out, "已整改"));
    assert_non_null(strstr(out, "10"));
}

static void
test_refusals(void **state)
{
    (void)state;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 100, 100);
    cairo_t *cr = cairo_create(s);
    tb_err err = {0};
    dt_panel none = {.kind = "chart"};
    assert_int_equal(chart_panel_draw(cr, NULL, &none, 0, 0, 100, 100, &err), TB_EFORMAT);
    assert_non_null(strstr(err.msg, "no data"));
    const dt_attr pie[] = {{"type", "pie"}};
    dt_panel p2 = {.kind = "chart", .attrs = pie, .attr_count = 1, .datum = &data};
    err = (tb_err){0};
    assert_int_equal(chart_panel_draw(cr, NULL, &p2, 0, 0, 100, 100, &err), TB_EFORMAT);
    assert_non_null(strstr(err.msg, "type=\"pie\""));
    static const double bad[] = {1, NAN, 2};
    static const chart_series bs[] = {{"x", bad}};
    static const chart_data bd = {towns, 3, bs, 1, NULL, 0};
    dt_panel p3 = {.kind = "chart", .datum = &bd};
    err = (tb_err){0};
    assert_int_equal(chart_panel_draw(cr, NULL, &p3, 0, 0, 100, 100, &err), TB_EFORMAT);
    assert_non_null(strstr(err.msg, "城关镇"));
    cairo_destroy(cr);
    cairo_surface_destroy(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_axis_step),
        cmocka_unit_test(test_bars_in_pixels),
        cmocka_unit_test(test_labels_searchable),
        cmocka_unit_test(test_refusals),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pango_cairo_font_map_set_default(NULL); /* drop the thread's default font map (LSan) */
    return rc;
}
