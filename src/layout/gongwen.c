/* DESIGN: one cursor, y (points below the text block's top), moves down the page.  Text on the
 * character grid is laid out by Pango one paragraph at a time and drawn line by line, each line
 * centred in its grid cell, so every body line sits exactly on the 22-line grid whatever the
 * font's own metrics are.  The fixed character pitch (15.79 pt for 28 characters in 156 mm) comes
 * from a negative letter spacing, as Word's 文档网格 does, never from Pango's justification.
 * Tables and figures are laid out freely and the cursor snaps back to the grid after them.
 * Pages break when the next line does not fit; page numbers are drawn as each page ends. */
#include "tb_features.h"

#include "gongwen.h"

#include "units.h"

#include <cairo-pdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GW_EPS 0.01
/* Where a CJK em box's centre sits above the baseline (ideographic em box: 0.88 up, 0.12 down). */
#define EM_CENTRE 0.38

struct gongwen {
    const typeface *tf;
    tb_buf *out;
    cairo_surface_t *surface;
    cairo_t *cr;
    int page;            /* 1-based page being drawn */
    double y;            /* cursor: points below the block's top */
    bool page_has_content;
    tb_err err;          /* sticky first error */
};

static cairo_status_t
write_to_buf(void *closure, const unsigned char *data, unsigned int length)
{
    tb_buf_append(closure, data, length);
    return CAIRO_STATUS_SUCCESS;
}

static bool
failed(const gongwen *gw)
{
    return gw->err.code != TB_OK;
}

gongwen *
gongwen_new(const typeface *tf, tb_buf *out, const gw_metadata *meta)
{
    gongwen *gw = tb_xcalloc(1, sizeof *gw);
    gw->tf = tf;
    gw->out = out;
    gw->surface = cairo_pdf_surface_create_for_stream(write_to_buf, out, GW_PAGE_W_PT,
                                                      GW_PAGE_H_PT);
    cairo_pdf_surface_restrict_to_version(gw->surface, CAIRO_PDF_VERSION_1_5);
    if (meta) {
        const struct {
            cairo_pdf_metadata_t key;
            const char *value;
        } m[] = {
            {CAIRO_PDF_METADATA_TITLE, meta->title},
            {CAIRO_PDF_METADATA_AUTHOR, meta->author},
            {CAIRO_PDF_METADATA_SUBJECT, meta->subject},
            {CAIRO_PDF_METADATA_CREATOR, "tuban"},
            {CAIRO_PDF_METADATA_CREATE_DATE, meta->create_date},
        };
        for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
            if (m[i].value)
                cairo_pdf_surface_set_metadata(gw->surface, m[i].key, m[i].value);
    }
    gw->cr = cairo_create(gw->surface);
    gw->page = 1;
    return gw;
}

int
gongwen_page_count(const gongwen *gw)
{
    return gw->page;
}

/* ---- text primitives ---------------------------------------------------------------------- */

typedef struct text_style {
    font_role role;
    double size_pt;
    double pitch_pt; /* fixed character pitch; 0 = the font's own advances */
    double r, g, b;
} text_style;

static const text_style body_style = {FONT_FANGSONG, GW_BODY_PT, GW_CHAR_PITCH_PT, 0, 0, 0};

static PangoLayout *
make_layout(const gongwen *gw, const text_style *st, const char *text, double width_pt,
            double indent_pt, PangoAlignment align)
{
    PangoLayout *l = pango_layout_new(typeface_context(gw->tf));
    PangoFontDescription *fd = typeface_describe(gw->tf, st->role, st->size_pt);
    pango_layout_set_font_description(l, fd);
    pango_font_description_free(fd);
    if (st->pitch_pt > 0) {
        PangoAttrList *attrs = pango_attr_list_new();
        pango_attr_list_insert(attrs, pango_attr_letter_spacing_new(
                                          (int)lround((st->pitch_pt - st->size_pt) * PANGO_SCALE)));
        pango_layout_set_attributes(l, attrs);
        pango_attr_list_unref(attrs);
    }
    if (width_pt > 0) {
        /* A hair over the block so rounding never pushes the 28th character to the next line. */
        pango_layout_set_width(l, (int)lround((width_pt + 1.0) * PANGO_SCALE));
        pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    }
    pango_layout_set_indent(l, (int)lround(indent_pt * PANGO_SCALE));
    pango_layout_set_alignment(l, align);
    pango_layout_set_text(l, text, -1);
    return l;
}

static void
draw_page_number(gongwen *gw)
{
    /* 4号半角宋体 "— n —": the dashes 7 mm below the block, odd pages right, even pages left,
     * each indented one character. */
    const double size = 14.0;
    const text_style st = {FONT_SONGTI, size, 0, 0, 0, 0};
    char text[32];
    snprintf(text, sizeof text, "\u2014 %d \u2014", gw->page);
    PangoLayout *l = make_layout(gw, &st, text, 0, 0, PANGO_ALIGN_LEFT);
    PangoRectangle ink, logical;
    pango_layout_get_extents(l, &ink, &logical);
    double w = logical.width / (double)PANGO_SCALE;
    double x = gw->page % 2 ? GW_LEFT_PT + GW_BLOCK_W_PT - size - w : GW_LEFT_PT + size;
    double baseline = GW_TOP_PT + GW_BLOCK_H_PT + units_mm_to_pt(7) + EM_CENTRE * size;
    cairo_set_source_rgb(gw->cr, 0, 0, 0);
    cairo_move_to(gw->cr, x, baseline);
    pango_cairo_show_layout_line(gw->cr, pango_layout_get_line_readonly(l, 0));
    g_object_unref(l);
}

static void
new_page(gongwen *gw)
{
    draw_page_number(gw);
    cairo_show_page(gw->cr);
    gw->page++;
    gw->y = 0;
    gw->page_has_content = false;
}

static void
snap_to_grid(gongwen *gw)
{
    double lines = ceil(gw->y / GW_LINE_PITCH_PT - GW_EPS);
    gw->y = lines * GW_LINE_PITCH_PT;
    if (gw->y > GW_BLOCK_H_PT - GW_EPS)
        new_page(gw);
}

/* A copy of one line of l whose letter spacing is widened so the line fills avail_pt: used for
 * every line but a paragraph's last, when the shortfall is small (under two characters, e.g. a
 * line ending before an unbreakable number).  Larger gaps stay ragged rather than spread thin
 * over the whole line.  Returns NULL when the line should be drawn as it is. */
static PangoLayout *
justified_line(const gongwen *gw, PangoLayout *l, PangoLayoutLine *line, const text_style *st,
               double avail_pt)
{
    PangoRectangle logical;
    pango_layout_line_get_extents(line, NULL, &logical);
    double slack = avail_pt - logical.width / (double)PANGO_SCALE;
    const char *text = pango_layout_get_text(l) + line->start_index;
    long chars = g_utf8_strlen(text, line->length);
    if (slack < 0.25 || slack > 2 * GW_CHAR_PITCH_PT || chars < 2)
        return NULL;
    char *sub = g_strndup(text, (gsize)line->length);
    text_style wide = *st;
    wide.pitch_pt = (st->pitch_pt > 0 ? st->pitch_pt : st->size_pt) + slack / (double)chars;
    PangoLayout *j = make_layout(gw, &wide, sub, 0, 0, PANGO_ALIGN_LEFT);
    g_free(sub);
    return j;
}

/* Draws every line of l on the grid, starting at the cursor's line, breaking pages as needed.
 * x_pt is the block-relative left edge of the layout; width_pt its width when justify is set. */
static void
draw_on_grid(gongwen *gw, PangoLayout *l, const text_style *st, double x_pt, double width_pt,
             bool justify)
{
    snap_to_grid(gw);
    PangoLayoutIter *it = pango_layout_get_iter(l);
    do {
        if (gw->y + GW_LINE_PITCH_PT > GW_BLOCK_H_PT + GW_EPS)
            new_page(gw);
        PangoRectangle logical;
        pango_layout_iter_get_line_extents(it, NULL, &logical);
        PangoLayoutLine *line = pango_layout_iter_get_line_readonly(it);
        double x = x_pt + logical.x / (double)PANGO_SCALE;
        PangoLayout *j = NULL;
        if (justify && !pango_layout_iter_at_last_line(it))
            j = justified_line(gw, l, line, st, x_pt + width_pt - x);
        double baseline = GW_TOP_PT + gw->y + GW_LINE_PITCH_PT / 2 + EM_CENTRE * st->size_pt;
        cairo_set_source_rgb(gw->cr, st->r, st->g, st->b);
        cairo_move_to(gw->cr, GW_LEFT_PT + x, baseline);
        pango_cairo_show_layout_line(gw->cr, j ? pango_layout_get_line_readonly(j, 0) : line);
        if (j)
            g_object_unref(j);
        gw->y += GW_LINE_PITCH_PT;
        gw->page_has_content = true;
    } while (pango_layout_iter_next_line(it));
    pango_layout_iter_free(it);
}

static void
grid_text(gongwen *gw, const text_style *st, const char *text, double indent_pt,
          PangoAlignment align)
{
    PangoLayout *l = make_layout(gw, st, text, GW_BLOCK_W_PT, indent_pt, align);
    draw_on_grid(gw, l, st, 0, GW_BLOCK_W_PT, align == PANGO_ALIGN_LEFT);
    g_object_unref(l);
}

/* ---- 版头, title, addressee --------------------------------------------------------------- */

void
gongwen_header(gongwen *gw, const char *mark, const char *docno)
{
    if (failed(gw))
        return;
    /* 发文机关标志: red 小标宋, as large as fits (at most 42 pt), its ink top 35 mm below the
     * block's top. */
    long chars = g_utf8_strlen(mark, -1);
    double size = fmin(42.0, GW_BLOCK_W_PT * 0.92 / (double)(chars > 0 ? chars : 1));
    const text_style mark_style = {FONT_XIAOBIAOSONG, size, 0, 0.9, 0, 0};
    PangoLayout *l = make_layout(gw, &mark_style, mark, 0, 0, PANGO_ALIGN_LEFT);
    PangoRectangle ink, logical;
    pango_layout_get_extents(l, &ink, &logical);
    double ink_top = units_mm_to_pt(35), ink_h = ink.height / (double)PANGO_SCALE;
    double x = (GW_BLOCK_W_PT - logical.width / (double)PANGO_SCALE) / 2;
    cairo_set_source_rgb(gw->cr, 0.9, 0, 0);
    cairo_move_to(gw->cr, GW_LEFT_PT + x, GW_TOP_PT + ink_top - ink.y / (double)PANGO_SCALE);
    pango_cairo_show_layout(gw->cr, l);
    g_object_unref(l);

    /* 发文字号: two blank lines below the mark, centred. */
    gw->y = ink_top + ink_h;
    snap_to_grid(gw);
    gw->y += 2 * GW_LINE_PITCH_PT;
    grid_text(gw, &body_style, docno, 0, PANGO_ALIGN_CENTER);

    /* The red rule, block-wide, 4 mm below the 发文字号's characters. */
    double text_bottom = gw->y - GW_LINE_PITCH_PT / 2 + (EM_CENTRE + 0.12) * GW_BODY_PT;
    double rule_y = text_bottom + units_mm_to_pt(4);
    cairo_set_source_rgb(gw->cr, 0.9, 0, 0);
    cairo_set_line_width(gw->cr, 1.5);
    cairo_move_to(gw->cr, GW_LEFT_PT, GW_TOP_PT + rule_y);
    cairo_line_to(gw->cr, GW_LEFT_PT + GW_BLOCK_W_PT, GW_TOP_PT + rule_y);
    cairo_stroke(gw->cr);
    gw->y = rule_y;
    gw->page_has_content = true;
}

void
gongwen_title(gongwen *gw, const char *title)
{
    if (failed(gw))
        return;
    /* Two blank lines below the rule (or the block's top when there is no 版头). */
    if (gw->page_has_content) {
        snap_to_grid(gw);
        gw->y += 2 * GW_LINE_PITCH_PT;
    }
    const text_style st = {FONT_XIAOBIAOSONG, 22.0, 0, 0, 0, 0};
    PangoLayout *l = make_layout(gw, &st, title, GW_BLOCK_W_PT - 2 * GW_CHAR_PITCH_PT, 0,
                                 PANGO_ALIGN_CENTER);
    /* Balance the lines: the narrowest width that keeps the same number of lines, so a
     * two-line title is two nearly equal lines rather than a full one and a stub. */
    int lines = pango_layout_get_line_count(l);
    if (lines > 1 && strchr(title, '\n') == NULL) { /* explicit breaks are the author's */
        int lo = 1, hi = pango_layout_get_width(l);
        while (hi - lo > PANGO_SCALE) {
            int mid = lo + (hi - lo) / 2;
            pango_layout_set_width(l, mid);
            if (pango_layout_get_line_count(l) > lines)
                lo = mid;
            else
                hi = mid;
        }
        pango_layout_set_width(l, hi);
    }
    double w = pango_layout_get_width(l) / (double)PANGO_SCALE;
    draw_on_grid(gw, l, &st, (GW_BLOCK_W_PT - w) / 2, w, false);
    g_object_unref(l);
}

void
gongwen_addressee(gongwen *gw, const char *text)
{
    if (failed(gw))
        return;
    gw->y += GW_LINE_PITCH_PT; /* one blank line below the title */
    grid_text(gw, &body_style, text, 0, PANGO_ALIGN_LEFT);
}

void
gongwen_paragraph(gongwen *gw, gw_style style, const char *text)
{
    if (failed(gw))
        return;
    text_style st = body_style;
    if (style == GW_HEADING1)
        st.role = FONT_HEITI;
    else if (style == GW_HEADING2)
        st.role = FONT_KAITI;
    grid_text(gw, &st, text, 2 * GW_CHAR_PITCH_PT, PANGO_ALIGN_LEFT);
}

void
gongwen_attachment_note(gongwen *gw, const char *const *titles, size_t count)
{
    if (failed(gw) || count == 0)
        return;
    snap_to_grid(gw);
    gw->y += GW_LINE_PITCH_PT; /* 正文下空一行 */
    const char *label = "附件：";
    double label_w = 3 * GW_CHAR_PITCH_PT;
    for (size_t i = 0; i < count; i++) {
        char *item = count > 1 ? g_strdup_printf("%zu. %s", i + 1, titles[i])
                               : g_strdup(titles[i]);
        /* Continuation lines align with the first character of the title: lay the item out in
         * the block minus the label column. */
        double left = 2 * GW_CHAR_PITCH_PT + label_w;
        PangoLayout *l = make_layout(gw, &body_style, item, GW_BLOCK_W_PT - left, 0,
                                     PANGO_ALIGN_LEFT);
        if (i == 0) {
            snap_to_grid(gw);
            if (gw->y + GW_LINE_PITCH_PT > GW_BLOCK_H_PT + GW_EPS)
                new_page(gw);
            PangoLayout *lab = make_layout(gw, &body_style, label, 0, 0, PANGO_ALIGN_LEFT);
            double baseline = GW_TOP_PT + gw->y + GW_LINE_PITCH_PT / 2 + EM_CENTRE * GW_BODY_PT;
            cairo_set_source_rgb(gw->cr, 0, 0, 0);
            cairo_move_to(gw->cr, GW_LEFT_PT + 2 * GW_CHAR_PITCH_PT, baseline);
            pango_cairo_show_layout_line(gw->cr, pango_layout_get_line_readonly(lab, 0));
            g_object_unref(lab);
        }
        draw_on_grid(gw, l, &body_style, left, GW_BLOCK_W_PT - left, true);
        g_object_unref(l);
        g_free(item);
    }
}

/* ---- signature block ---------------------------------------------------------------------- */

static double
text_width(const gongwen *gw, const text_style *st, const char *text)
{
    PangoLayout *l = make_layout(gw, st, text, 0, 0, PANGO_ALIGN_LEFT);
    PangoRectangle logical;
    pango_layout_get_extents(l, NULL, &logical);
    g_object_unref(l);
    return logical.width / (double)PANGO_SCALE;
}

/* Draws one line of text on the grid line `line` (block-relative index) at block-relative x. */
static void
draw_line_at(gongwen *gw, const text_style *st, const char *text, double x_pt, double line_y)
{
    PangoLayout *l = make_layout(gw, st, text, 0, 0, PANGO_ALIGN_LEFT);
    double baseline = GW_TOP_PT + line_y + GW_LINE_PITCH_PT / 2 + EM_CENTRE * st->size_pt;
    cairo_set_source_rgb(gw->cr, st->r, st->g, st->b);
    cairo_move_to(gw->cr, GW_LEFT_PT + x_pt, baseline);
    pango_cairo_show_layout_line(gw->cr, pango_layout_get_line_readonly(l, 0));
    g_object_unref(l);
}

void
gongwen_signature(gongwen *gw, const char *signer, const char *date_text,
                  cairo_surface_t *seal, double seal_diameter_mm, gw_rect *seal_out)
{
    if (failed(gw))
        return;
    snap_to_grid(gw);
    double d = units_mm_to_pt(seal_diameter_mm);
    /* The seal's top sits a third of a line below the text above (within one line, as the
     * standard asks); 署名 and date take the two lines whose centres lie just below the seal's
     * centre, so both are "居印章中心偏下". */
    double seal_top = gw->y + GW_LINE_PITCH_PT / 3;
    double seal_centre = seal_top + d / 2;
    double name_line = ceil((seal_centre - GW_LINE_PITCH_PT / 2) / GW_LINE_PITCH_PT - GW_EPS) *
                       GW_LINE_PITCH_PT;
    double block_end = fmax(name_line + 2 * GW_LINE_PITCH_PT, seal_top + d);
    if (block_end > GW_BLOCK_H_PT + GW_EPS) {
        /* TODO(GB/T 9704 §7.3.5.1): tighten spacing on the page instead of moving on. */
        new_page(gw);
        gongwen_signature(gw, signer, date_text, seal, seal_diameter_mm, seal_out);
        return;
    }
    double date_w = text_width(gw, &body_style, date_text);
    double date_x = GW_BLOCK_W_PT - 4 * GW_CHAR_PITCH_PT - date_w; /* 右空四字 */
    double name_w = text_width(gw, &body_style, signer);
    double name_x = date_x + date_w / 2 - name_w / 2; /* centred over the date */
    draw_line_at(gw, &body_style, signer, name_x, name_line);
    draw_line_at(gw, &body_style, date_text, date_x, name_line + GW_LINE_PITCH_PT);

    /* The seal over both, red multiplied onto the black text as ink on paper would be. */
    double cx = date_x + date_w / 2;
    int sw = cairo_image_surface_get_width(seal), sh = cairo_image_surface_get_height(seal);
    if (sw > 0 && sh > 0) {
        cairo_save(gw->cr);
        cairo_translate(gw->cr, GW_LEFT_PT + cx - d / 2, GW_TOP_PT + seal_top);
        cairo_scale(gw->cr, d / sw, d / sh);
        cairo_set_source_surface(gw->cr, seal, 0, 0);
        cairo_set_operator(gw->cr, CAIRO_OPERATOR_MULTIPLY);
        cairo_paint(gw->cr);
        cairo_restore(gw->cr);
    }
    if (seal_out) {
        seal_out->page = gw->page;
        seal_out->x_pt = GW_LEFT_PT + cx - d / 2;
        seal_out->y_pt = GW_PAGE_H_PT - (GW_TOP_PT + seal_top + d);
        seal_out->w_pt = d;
        seal_out->h_pt = d;
    }
    gw->y = block_end;
    gw->page_has_content = true;
}

/* ---- attachments: tables and figures ------------------------------------------------------ */

void
gongwen_attachment_begin(gongwen *gw, const char *label, const char *title)
{
    if (failed(gw))
        return;
    if (gw->page_has_content || gw->y > 0)
        new_page(gw);
    const text_style label_style = {FONT_HEITI, GW_BODY_PT, GW_CHAR_PITCH_PT, 0, 0, 0};
    grid_text(gw, &label_style, label, 0, PANGO_ALIGN_LEFT); /* 版心左上角第一行 */
    gw->y += GW_LINE_PITCH_PT;                               /* title on the third line */
    gw->page_has_content = false; /* so gongwen_title adds no blank lines */
    gongwen_title(gw, title);
    gw->y += GW_LINE_PITCH_PT;
}

enum { TABLE_PAD_X = 3, TABLE_PAD_Y = 4 };

static double
table_row_height(gongwen *gw, const text_style *st, const gw_column *cols, size_t ncols,
                 const char *const *texts, bool heading, PangoLayout **layouts)
{
    double h = 0;
    for (size_t c = 0; c < ncols; c++) {
        double w = units_mm_to_pt(cols[c].width_mm) - 2 * TABLE_PAD_X;
        PangoAlignment al = heading || cols[c].align == 1 ? PANGO_ALIGN_CENTER
                            : cols[c].align == 2 ? PANGO_ALIGN_RIGHT
                                                 : PANGO_ALIGN_LEFT;
        layouts[c] = make_layout(gw, st, texts[c] ? texts[c] : "", w - 1.0, 0, al);
        pango_layout_set_wrap(layouts[c], PANGO_WRAP_WORD); /* never inside an id or number */
        PangoRectangle logical;
        pango_layout_get_extents(layouts[c], NULL, &logical);
        h = fmax(h, logical.height / (double)PANGO_SCALE);
    }
    return h + 2 * TABLE_PAD_Y;
}

static void
table_draw_row(gongwen *gw, const gw_column *cols, size_t ncols, PangoLayout **layouts, double h)
{
    double x = GW_LEFT_PT, y = GW_TOP_PT + gw->y;
    cairo_set_source_rgb(gw->cr, 0, 0, 0);
    cairo_set_line_width(gw->cr, 0.5);
    for (size_t c = 0; c < ncols; c++) {
        double w = units_mm_to_pt(cols[c].width_mm);
        cairo_rectangle(gw->cr, x, y, w, h);
        cairo_stroke(gw->cr);
        PangoRectangle logical;
        pango_layout_get_extents(layouts[c], NULL, &logical);
        double th = logical.height / (double)PANGO_SCALE;
        cairo_move_to(gw->cr, x + TABLE_PAD_X, y + (h - th) / 2); /* vertically centred */
        pango_cairo_show_layout(gw->cr, layouts[c]);
        x += w;
        g_object_unref(layouts[c]);
    }
    gw->y += h;
    gw->page_has_content = true;
}

void
gongwen_table(gongwen *gw, const gw_column *cols, size_t ncols, const char *const *cells,
              size_t nrows)
{
    if (failed(gw) || ncols == 0)
        return;
    const text_style head = {FONT_HEITI, 10.5, 0, 0, 0, 0}; /* 5号 */
    const text_style cell = {FONT_FANGSONG, 10.5, 0, 0, 0, 0};
    const char **headings = g_new0(const char *, ncols);
    PangoLayout **layouts = g_new0(PangoLayout *, ncols);
    for (size_t c = 0; c < ncols; c++)
        headings[c] = cols[c].heading;
    /* Centre the table in the block when its columns are narrower. */
    bool need_head = true;
    for (size_t r = 0; r < nrows; r++) {
        if (need_head) {
            double hh = table_row_height(gw, &head, cols, ncols, headings, true, layouts);
            table_draw_row(gw, cols, ncols, layouts, hh);
            need_head = false;
        }
        double h = table_row_height(gw, &cell, cols, ncols, cells + r * ncols, false, layouts);
        if (gw->y + h > GW_BLOCK_H_PT + GW_EPS) {
            for (size_t c = 0; c < ncols; c++)
                g_object_unref(layouts[c]);
            new_page(gw); /* continue the table with its heading row repeated */
            need_head = true;
            r--;
            continue;
        }
        table_draw_row(gw, cols, ncols, layouts, h);
    }
    g_free(layouts);
    g_free(headings);
    snap_to_grid(gw);
}

void
gongwen_figure(gongwen *gw, double height_mm, const char *caption, gw_draw_fn *draw, void *user)
{
    if (failed(gw))
        return;
    const text_style cap = {FONT_FANGSONG, 14.0, 0, 0, 0, 0}; /* 4号 */
    double h = units_mm_to_pt(height_mm), cap_h = 24.0;
    if (gw->y + h + cap_h > GW_BLOCK_H_PT + GW_EPS && gw->page_has_content)
        new_page(gw);
    cairo_save(gw->cr);
    tb_code rc = draw(user, gw->cr, GW_LEFT_PT, GW_TOP_PT + gw->y, GW_BLOCK_W_PT, h, &gw->err);
    cairo_restore(gw->cr);
    if (rc != TB_OK)
        return;
    gw->y += h;
    if (caption) {
        PangoLayout *l = make_layout(gw, &cap, caption, GW_BLOCK_W_PT, 0, PANGO_ALIGN_CENTER);
        cairo_set_source_rgb(gw->cr, 0, 0, 0);
        cairo_move_to(gw->cr, GW_LEFT_PT, GW_TOP_PT + gw->y + 5);
        pango_cairo_show_layout(gw->cr, l);
        g_object_unref(l);
    }
    gw->y += cap_h;
    gw->page_has_content = true;
}

/* ---- 版记 ----------------------------------------------------------------------------------- */

static void
rule(gongwen *gw, double y, double width_mm)
{
    cairo_set_source_rgb(gw->cr, 0, 0, 0);
    cairo_set_line_width(gw->cr, units_mm_to_pt(width_mm));
    cairo_move_to(gw->cr, GW_LEFT_PT, GW_TOP_PT + y);
    cairo_line_to(gw->cr, GW_LEFT_PT + GW_BLOCK_W_PT, GW_TOP_PT + y);
    cairo_stroke(gw->cr);
}

void
gongwen_colophon(gongwen *gw, const char *cc, const char *issuer, const char *print_date)
{
    if (failed(gw))
        return;
    const text_style st = {FONT_FANGSONG, 14.0, 0, 0, 0, 0}; /* 4号 */
    const double row = GW_LINE_PITCH_PT, one_char = 14.0;
    int rows = cc ? 2 : 1;
    double top = GW_BLOCK_H_PT - rows * row;
    if (gw->y > top + GW_EPS)
        new_page(gw);
    rule(gw, top, 0.35);
    double y = top;
    if (cc) {
        /* 抄送：A，B。 — names keep the template's separators; a final 。 is added if missing. */
        size_t n = strlen(cc);
        bool ends = n >= 3 && strcmp(cc + n - 3, "。") == 0;
        char *text = g_strdup_printf("抄送：%s%s", cc, ends ? "" : "。");
        PangoLayout *l = make_layout(gw, &st, text, GW_BLOCK_W_PT - 2 * one_char, 0,
                                     PANGO_ALIGN_LEFT);
        /* TODO: a 抄送 list longer than a line needs more rows above the 印发 row. */
        draw_on_grid(gw, l, &st, one_char, GW_BLOCK_W_PT - 2 * one_char, false);
        g_object_unref(l);
        g_free(text);
        gw->y = y + row;
        rule(gw, gw->y, 0.25);
        y += row;
    }
    char *printed = g_strdup_printf("%s印发", print_date);
    gw->y = y;
    draw_line_at(gw, &st, issuer, one_char, y);
    draw_line_at(gw, &st, printed, GW_BLOCK_W_PT - one_char - text_width(gw, &st, printed), y);
    g_free(printed);
    rule(gw, GW_BLOCK_H_PT, 0.35);
    gw->y = GW_BLOCK_H_PT;
    gw->page_has_content = true;
}

/* ---- finishing ---------------------------------------------------------------------------- */

tb_code
gongwen_finish(gongwen *gw, tb_err *err)
{
    if (!failed(gw)) {
        draw_page_number(gw);
        cairo_show_page(gw->cr);
    }
    cairo_surface_finish(gw->surface);
    if (!failed(gw) && cairo_status(gw->cr) != CAIRO_STATUS_SUCCESS)
        tb_err_set(&gw->err, TB_ELIB, "cairo: %s", cairo_status_to_string(cairo_status(gw->cr)));
    if (!failed(gw) && cairo_surface_status(gw->surface) != CAIRO_STATUS_SUCCESS)
        tb_err_set(&gw->err, TB_ELIB, "cairo: %s",
                   cairo_status_to_string(cairo_surface_status(gw->surface)));
    if (failed(gw))
        return tb_err_set(err, gw->err.code, "%s", gw->err.msg);
    return TB_OK;
}

void
gongwen_free(gongwen *gw)
{
    if (gw == NULL)
        return;
    cairo_destroy(gw->cr);
    cairo_surface_destroy(gw->surface);
    free(gw);
}
