/* libFuzzer target: arbitrary text runs through the line breaker (textline.c) and the GB/T 9704
 * typesetter (typeset.c).  The text a clerk's data and an office's template put on a page is
 * untrusted: any bytes, any widths the typesetter may ask for, must break into lines that cover
 * the text exactly once, and a document built from them must set or be refused, never hang.
 *
 * Input: a 4-byte header, then runs separated by NUL bytes; a run's first byte is its flags
 * (bits 0-2 DT_RUN_*, bit 3: its table cell spans two rows).
 *   h[0]  bits 0-2: font role; bit 3: grid pitch off; bit 4: justify; bit 5: also typeset a
 *         document; bit 6: duplex; bit 7: 信函格式
 *   h[1]  first line width, h[2] other lines' width (in quarter characters, 0..63.75 chars)
 *   h[3]  rebreak narrowing (quarter characters) and the balanced title width */
#include "tb_features.h"

#include "sample_fonts.h"
#include "tb_arena.h"
#include "tb_buf.h"
#include "textline.h"
#include "typeset.h"

#include <cairo.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CELL 15.79 /* 3号 on the 28-character grid, as the body is set */

/* The fonts are loaded once for the run, as the daemon does, and freed at exit, so that
 * LeakSanitizer's check at exit sees Pango's font caches released and anything of ours left
 * over.  fontconfig keeps its patterns' element arrays as offsets, which LSan cannot follow
 * while the font map holds them: libFuzzer's own checks between inputs would report those, so
 * this target runs with -detect_leaks=0 (tests/fuzz/CMakeLists.txt) and leaks are found at exit. */
static typeface *loaded;

static void
fonts_free(void)
{
    typeface_free(loaded);
    loaded = NULL;
}

static const typeface *
fonts(void)
{
    if (!loaded) {
        tb_err err = {0};
        loaded = sample_typeface(&err);
        if (!loaded) {
            fprintf(stderr, "fuzz_typeset: %s\n", err.msg);
            abort();
        }
        atexit(fonts_free);
    }
    return loaded;
}

/* Every line lies inside the paragraph's text, in order, without overlap. */
static void
check_lines(const tl_para *p, const char *label)
{
    size_t n = tl_para_line_count(p);
    if (n < 1) {
        fprintf(stderr, "fuzz_typeset: %s: no lines\n", label);
        abort();
    }
    const char *prev_end = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *s = NULL;
        size_t len = tl_para_line_text(p, i, &s);
        if (!s && len) {
            fprintf(stderr, "fuzz_typeset: %s: line %zu has length but no text\n", label, i);
            abort();
        }
        if (s && prev_end && s < prev_end) {
            fprintf(stderr, "fuzz_typeset: %s: line %zu overlaps the one before\n", label, i);
            abort();
        }
        if (s)
            prev_end = s + len;
        (void)tl_para_line_width(p, i);
        (void)tl_para_line_chars(p, i);
        (void)tl_para_line_measure(p, i);
        (void)tl_para_line_justified(p, i);
    }
}

static void
draw_all(const tl_para *p, cairo_t *cr)
{
    for (size_t i = 0; i < tl_para_line_count(p); i++)
        tl_para_draw_line(p, i, cr, 0, 20.0 * (double)(i + 1));
}

/* A small 公文 built from the runs: title, paragraphs, a table whose cells are the runs, a 附注,
 * the signature and a 抄送.  A low page limit keeps each input fast; a refusal is fine. */
static void
typeset_runs(const typeface *tf, const dt_text *t, const bool *spans, uint8_t h0, tb_arena *a)
{
    size_t n = t->count;
    dt_column *cols = tb_arena_array(a, 3, sizeof *cols);
    cols[0] = (dt_column){20, DT_ALIGN_CENTER};
    cols[1] = (dt_column){0, DT_ALIGN_LEFT};
    cols[2] = (dt_column){0, DT_ALIGN_DEFAULT};
    size_t nrows = 1 + n;
    dt_row *rows = tb_arena_array(a, nrows, sizeof *rows);
    dt_cell *head = tb_arena_array(a, 3, sizeof *head);
    static const dt_run hr[] = {{"序号", 0}, {"内容", 0}, {"备注", 0}};
    for (int c = 0; c < 3; c++)
        head[c] = (dt_cell){.text = {&hr[c], 1}};
    rows[0] = (dt_row){head, 3, DT_ROW_HEAD, {0}};
    bool covered = false; /* column 1 of this row is taken by the cell above */
    for (size_t r = 0; r < n; r++) {
        /* Some cells span two rows, so the span bookkeeping meets odd text too. */
        bool span_rows = !covered && spans[r] && r + 1 < n;
        dt_cell *c = tb_arena_array(a, 3, sizeof *c);
        size_t count = 0;
        c[count++] = (dt_cell){.text = {&hr[0], 1}};
        if (!covered)
            c[count++] = (dt_cell){.text = {&t->runs[r], 1}, .rowspan = span_rows ? 2 : 1};
        c[count++] = (dt_cell){.text = *t};
        rows[1 + r] = (dt_row){c, count, (r + 1 == n && n > 1) ? DT_ROW_TOTAL : DT_ROW_BODY, {0}};
        covered = span_rows;
    }
    dt_table table = {cols, 3, rows, nrows, 0, false};

    dt_block b[8];
    memset(b, 0, sizeof b);
    b[0] = (dt_block){.kind = DT_TITLE, .text = *t};
    b[1] = (dt_block){.kind = DT_ADDRESSEE, .text = t->count ? (dt_text){t->runs, 1} : *t};
    b[2] = (dt_block){.kind = DT_PARAGRAPH, .text = *t};
    b[3] = (dt_block){.kind = DT_HEADING, .text = *t, .level = 1 + (h0 & 3)};
    b[4] = (dt_block){.kind = DT_TABLE, .table = &table};
    b[5] = (dt_block){.kind = DT_SIGNATURE, .label = "示例县自然资源局", .date = "2024年11月20日",
                      .seal = true};
    b[6] = (dt_block){.kind = DT_NOTE, .text = *t};
    b[7] = (dt_block){.kind = DT_PARAGRAPH, .text = *t, .align = DT_ALIGN_CENTER};
    /* The cc line is the first run's text (NUL-free by construction). */
    dt_colophon colo = {t->count ? t->runs[0].text : NULL, "示例县自然资源局办公室", "2024年11月20日"};
    dt_doc doc = {
        .format = (h0 & 0x80) ? DT_FORMAT_LETTER : DT_FORMAT_FILE,
        .duplex = (h0 & 0x40) != 0,
        .head = {.mark = "示例县自然资源局文件", .docno = "示自然资发〔2024〕3号"},
        .blocks = b,
        .block_count = 8,
        .colophon = &colo,
        .page_limit = 6,
        .title = "fuzz",
    };
    tb_buf out = {0};
    tb_err err = {0};
    typeset_result res;
    tb_code rc = typeset_doc(tf, &doc, &(typeset_options){.seal_diameter_mm = 42}, &out, &res, &err);
    if (rc == TB_OK && (out.len < 5 || memcmp(out.data, "%PDF-", 5) != 0)) {
        fprintf(stderr, "fuzz_typeset: typeset_doc succeeded without a PDF\n");
        abort();
    }
    /* To look at what an input sets: FUZZ_TYPESET_PDF=/tmp/x.pdf replay_typeset input */
    const char *keep = getenv("FUZZ_TYPESET_PDF");
    if (keep) {
        FILE *f = fopen(keep, "wb");
        if (f) {
            fwrite(out.data, 1, out.len, f);
            fclose(f);
        }
        fprintf(stderr, "fuzz_typeset: %s, %d pages%s%s\n", rc == TB_OK ? "set" : "refused",
                rc == TB_OK ? res.page_count : 0, rc == TB_OK ? "" : ": ", rc == TB_OK ? "" : err.msg);
    }
    tb_buf_release(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4 || size > 8192)
        return 0;
    const uint8_t *h = data;
    data += 4;
    size -= 4;
    tb_arena *a = tb_arena_new(0);
    /* Split into runs at NULs; each run's first byte gives its flags. */
    size_t cap = 1;
    for (size_t i = 0; i < size; i++)
        cap += data[i] == 0;
    dt_run *runs = tb_arena_array(a, cap, sizeof *runs);
    bool *spans = tb_arena_array(a, cap, sizeof *spans);
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i])
            continue;
        if (i > start) {
            size_t len = i - start - 1;
            char *s = tb_arena_alloc(a, len + 1);
            memcpy(s, data + start + 1, len);
            s[len] = 0;
            runs[n] = (dt_run){s, data[start] & (DT_RUN_BOLD | DT_RUN_BREAK | DT_RUN_NOBREAK)};
            spans[n++] = (data[start] & 8) != 0;
        }
        start = i + 1;
    }
    dt_text t = {runs, n};

    tl_style st = {(font_role)((h[0] & 7) % FONT_ROLE_COUNT), 16, (h[0] & 8) ? 0 : CELL};
    double first_w = h[1] * CELL / 4, rest_w = h[2] * CELL / 4;
    bool justify = (h[0] & 0x10) != 0;

    cairo_surface_t *surf = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, NULL);
    cairo_t *cr = cairo_create(surf);

    const typeface *tf = fonts();
    tl_para *p = tl_para_new(tf, &st, &t);
    tl_para_break(p, first_w, rest_w, justify);
    check_lines(p, "break");
    draw_all(p, cr);
    tl_para_rebreak(p, (h[3] & 0x0f) * CELL / 4);
    check_lines(p, "rebreak");
    draw_all(p, cr);
    tl_para_rebreak(p, 0);
    check_lines(p, "rebreak 0");
    tl_para_break_balanced(p, (8 + (h[3] >> 4)) * CELL * 22 / 16);
    check_lines(p, "balanced");
    draw_all(p, cr);
    double above, below;
    tl_para_ink(p, &above, &below);
    (void)tl_para_natural_width(p);
    tl_para_free(p);

    cairo_destroy(cr);
    cairo_surface_destroy(surf);

    if (h[0] & 0x20)
        typeset_runs(tf, &t, spans, h[0], a);
    tb_arena_free(a);
    return 0;
}
