/* Typesetting speed: a 20-page text-and-table report (no maps) set by typeset_doc, against the
 * floor — a minimal Cairo + Pango program laying out the same text in the same fonts (one
 * PangoLayout per paragraph and per table cell, Pango's own wrapping, lines drawn on the grid,
 * page numbers).  Both run alternately in the same process and print ms per page side by side.
 * The floor lives here only; it is not linked into tuban.
 * Usage: bench_typeset [runs] */
#include "tb_features.h"

#include "tb_arena.h"
#include "typeset.h"
#include "sample_fonts.h"

#include <cairo-pdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PARAGRAPHS 50
#define ROWS 175
#define COLS 5

static const char *const phrases[] = {
    "全县共下发卫片执法图斑1268个，涉及监测面积3421.56亩，",
    "经逐宗核查，判定为违法用地的图斑213个，面积612.08亩，其中耕地287.14亩；",
    "各乡镇（街道）按照“应拆尽拆、应收尽收”的原则，落实整改责任，",
    "已拆除复耕图斑96个，完善用地手续图斑57个，立案查处图斑41个，",
    "整改到位率达到87.3%，较上年同期提高6.2个百分点。",
    "下一步，我局将会同县纪委监委、县公安局等部门，对整改不到位的乡镇开展约谈，",
    "确保在2025年3月31日前全面完成整改任务，坚决守住耕地保护红线。",
};

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct report {
    char *paragraphs[PARAGRAPHS];
    char *cells[ROWS][COLS];
} report;

static const char *const heads[COLS] = {"序号", "图斑编号", "监测面积（亩）", "违法类型", "整改措施"};
static const double widths_mm[COLS] = {12, 45, 24, 28, 0};

static void
make_report(report *r, tb_arena *a)
{
    for (int p = 0; p < PARAGRAPHS; p++) {
        char buf[2048] = "";
        for (int s = 0; s < 3 + p % 3; s++)
            strcat(buf, phrases[(p + s) % (sizeof phrases / sizeof *phrases)]);
        r->paragraphs[p] = tb_arena_strdup(a, buf);
    }
    for (int i = 0; i < ROWS; i++) {
        r->cells[i][0] = tb_arena_printf(a, "%d", i + 1);
        r->cells[i][1] = tb_arena_printf(a, "139901SJBG2421%04d", i + 1);
        r->cells[i][2] = tb_arena_printf(a, "%d.%02d", 1 + i % 23, (i * 29) % 100);
        r->cells[i][3] = tb_arena_strdup(a, i % 3 ? "未报即用" : "未批先建（边报边用）");
        r->cells[i][4] = tb_arena_strdup(a, i % 2 ? "拆除复耕" : "补办用地手续，完善审批");
    }
}

/* ---- tuban -------------------------------------------------------------------------------- */

static dt_text
one_run(const char *s, tb_arena *a)
{
    dt_run *run = tb_arena_alloc(a, sizeof *run);
    run->text = s;
    return (dt_text){run, 1};
}

static dt_doc
report_doc(const report *r, tb_arena *a)
{
    dt_block *b = tb_arena_array(a, PARAGRAPHS + 1, sizeof *b);
    for (int p = 0; p < PARAGRAPHS; p++)
        b[p] = (dt_block){.kind = DT_PARAGRAPH, .text = one_run(r->paragraphs[p], a)};
    dt_column *cols = tb_arena_array(a, COLS, sizeof *cols);
    dt_row *rows = tb_arena_array(a, ROWS + 1, sizeof *rows);
    dt_cell *head = tb_arena_array(a, COLS, sizeof *head);
    for (int c = 0; c < COLS; c++) {
        cols[c].width_mm = widths_mm[c];
        head[c].text = one_run(heads[c], a);
    }
    rows[0] = (dt_row){.cells = head, .count = COLS, .role = DT_ROW_HEAD};
    for (int i = 0; i < ROWS; i++) {
        dt_cell *cells = tb_arena_array(a, COLS, sizeof *cells);
        for (int c = 0; c < COLS; c++)
            cells[c].text = one_run(r->cells[i][c], a);
        rows[i + 1] = (dt_row){.cells = cells, .count = COLS};
    }
    dt_table *t = tb_arena_alloc(a, sizeof *t);
    *t = (dt_table){.columns = cols, .column_count = COLS, .rows = rows, .row_count = ROWS + 1};
    b[PARAGRAPHS] = (dt_block){.kind = DT_TABLE, .table = t};
    return (dt_doc){.format = DT_FORMAT_PLAIN, .blocks = b, .block_count = PARAGRAPHS + 1};
}

/* ---- the floor ---------------------------------------------------------------------------- */

static cairo_status_t
to_buf(void *closure, const unsigned char *data, unsigned int length)
{
    tb_buf_append(closure, data, length);
    return CAIRO_STATUS_SUCCESS;
}

typedef struct floor_page {
    cairo_t *cr;
    const typeface *tf;
    int page;
    double y;
} floor_page;

static PangoLayout *
floor_layout(const floor_page *f, font_role role, double size, double pitch, const char *text,
             double width, double indent)
{
    PangoLayout *l = pango_layout_new(typeface_context(f->tf));
    PangoFontDescription *fd = typeface_describe(f->tf, role, size);
    pango_layout_set_font_description(l, fd);
    pango_font_description_free(fd);
    if (pitch > 0) {
        PangoAttrList *attrs = pango_attr_list_new();
        pango_attr_list_insert(attrs, pango_attr_letter_spacing_new(
                                          (int)lround((pitch - size) * PANGO_SCALE)));
        pango_layout_set_attributes(l, attrs);
        pango_attr_list_unref(attrs);
    }
    pango_layout_set_width(l, (int)lround(width * PANGO_SCALE));
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_indent(l, (int)lround(indent * PANGO_SCALE));
    pango_layout_set_text(l, text, -1);
    return l;
}

static void
floor_new_page(floor_page *f)
{
    char num[32];
    snprintf(num, sizeof num, "\u2014 %d \u2014", f->page);
    PangoLayout *l = floor_layout(f, FONT_SONGTI, 14, 0, num, 200, 0);
    cairo_move_to(f->cr, f->page % 2 ? GW_LEFT_PT + GW_BLOCK_W_PT - 80 : GW_LEFT_PT + 14,
                  GW_TOP_PT + GW_BLOCK_H_PT + 20);
    pango_cairo_show_layout(f->cr, l);
    g_object_unref(l);
    cairo_show_page(f->cr);
    f->page++;
    f->y = 0;
}

static int
floor_render(const typeface *tf, const report *r, tb_buf *out)
{
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(to_buf, out, GW_PAGE_W_PT, GW_PAGE_H_PT);
    floor_page f = {cairo_create(s), tf, 1, 0};
    for (int p = 0; p < PARAGRAPHS; p++) {
        PangoLayout *l = floor_layout(&f, FONT_FANGSONG, 16, GW_CHAR_PITCH_PT, r->paragraphs[p],
                                      GW_BLOCK_W_PT + 1, 2 * GW_CHAR_PITCH_PT);
        PangoLayoutIter *it = pango_layout_get_iter(l);
        do {
            if (f.y + GW_LINE_PITCH_PT > GW_BLOCK_H_PT + 0.01)
                floor_new_page(&f);
            PangoRectangle logical;
            pango_layout_iter_get_line_extents(it, NULL, &logical);
            cairo_move_to(f.cr, GW_LEFT_PT + logical.x / (double)PANGO_SCALE,
                          GW_TOP_PT + f.y + GW_LINE_PITCH_PT / 2 + 0.38 * 16);
            pango_cairo_show_layout_line(f.cr, pango_layout_iter_get_line_readonly(it));
            f.y += GW_LINE_PITCH_PT;
        } while (pango_layout_iter_next_line(it));
        pango_layout_iter_free(it);
        g_object_unref(l);
    }
    double w[COLS], fixed = 0;
    for (int c = 0; c < COLS; c++)
        fixed += w[c] = widths_mm[c] * 72 / 25.4;
    w[COLS - 1] = GW_BLOCK_W_PT - fixed;
    for (int i = -1; i < ROWS; i++) {
        PangoLayout *cell[COLS];
        double h = 0;
        for (int c = 0; c < COLS; c++) {
            cell[c] = floor_layout(&f, i < 0 ? FONT_HEITI : FONT_FANGSONG, 10.5, 0,
                                   i < 0 ? heads[c] : r->cells[i][c], w[c] - 6, 0);
            int lh;
            pango_layout_get_size(cell[c], NULL, &lh);
            h = fmax(h, lh / (double)PANGO_SCALE + 6);
        }
        if (f.y + h > GW_BLOCK_H_PT)
            floor_new_page(&f);
        double x = GW_LEFT_PT;
        for (int c = 0; c < COLS; c++) {
            cairo_rectangle(f.cr, x, GW_TOP_PT + f.y, w[c], h);
            cairo_stroke(f.cr);
            cairo_move_to(f.cr, x + 3, GW_TOP_PT + f.y + 3);
            pango_cairo_show_layout(f.cr, cell[c]);
            g_object_unref(cell[c]);
            x += w[c];
        }
        f.y += h;
    }
    floor_new_page(&f);
    cairo_destroy(f.cr);
    cairo_surface_finish(s);
    cairo_surface_destroy(s);
    return f.page - 1;
}

/* ---- timing ------------------------------------------------------------------------------- */

static int
cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 15;
    if (runs < 1)
        runs = 1;
    tb_err err = {0};
    typeface *tf = sample_typeface(&err);
    if (tf == NULL) {
        fprintf(stderr, "bench_typeset: %s\n", err.msg);
        return 1;
    }
    tb_arena *a = tb_arena_new(0);
    report r;
    make_report(&r, a);
    dt_doc doc = report_doc(&r, a);
    double *ours = calloc((size_t)runs, sizeof *ours), *floor_ms = calloc((size_t)runs, sizeof *floor_ms);
    int our_pages = 0, floor_pages = 0;
    size_t our_bytes = 0, floor_bytes = 0;
    for (int i = -1; i < runs; i++) { /* run -1 warms the font caches for both */
        tb_buf out = TB_BUF_INIT;
        double t0 = now_ms();
        floor_pages = floor_render(tf, &r, &out);
        double t1 = now_ms();
        floor_bytes = out.len;
        tb_buf_release(&out);
        typeset_result res;
        double t2 = now_ms();
        if (typeset_doc(tf, &doc, NULL, &out, &res, &err) != TB_OK) {
            fprintf(stderr, "bench_typeset: %s\n", err.msg);
            return 1;
        }
        double t3 = now_ms();
        our_pages = res.page_count;
        our_bytes = out.len;
        tb_buf_release(&out);
        if (i >= 0)
            floor_ms[i] = t1 - t0, ours[i] = t3 - t2;
    }
    qsort(ours, (size_t)runs, sizeof *ours, cmp);
    qsort(floor_ms, (size_t)runs, sizeof *floor_ms, cmp);
    double o = ours[runs / 2], f = floor_ms[runs / 2];
    printf("report: %d paragraphs + a %d-row table, %d runs each, medians\n", PARAGRAPHS, ROWS, runs);
    printf("floor  (Cairo+Pango, Pango wrapping): %2d pages %6.1f ms  %5.2f ms/page  %zu KB\n",
           floor_pages, f, f / floor_pages, floor_bytes / 1024);
    printf("tuban  (typeset_doc):                 %2d pages %6.1f ms  %5.2f ms/page  %zu KB\n",
           our_pages, o, o / our_pages, our_bytes / 1024);
    printf("ratio tuban / floor: %.2f per page, %.2f for the same text (tuban's table rows are "
           "taller: 1.5 lines)\n", (o / our_pages) / (f / floor_pages), o / f);
    free(ours);
    free(floor_ms);
    tb_arena_free(a);
    typeface_free(tf);
    return 0;
}
