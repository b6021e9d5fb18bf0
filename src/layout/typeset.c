/* DESIGN: for now a thin walk over the doctree that calls the streaming gongwen_* functions in
 * reading order.  The GB/T 9704 paginator (signature rules, 版记 placement, spans) replaces the
 * body of this file; the interface in typeset.h stays. */
#include "tb_features.h"

#include "typeset.h"

#include "tb_arena.h"

#include <string.h>

/* The plain text of t (bold dropped; a forced break becomes "\n"). */
static const char *
flat(const dt_text *t, tb_arena *a)
{
    tb_buf b = TB_BUF_INIT;
    for (size_t i = 0; i < t->count; i++) {
        if (t->runs[i].flags & DT_RUN_BREAK)
            tb_buf_append(&b, "\n", 1);
        else if (t->runs[i].text)
            tb_buf_append_str(&b, t->runs[i].text);
    }
    const char *s = tb_arena_strndup(a, b.len ? (const char *)b.data : "", b.len);
    tb_buf_release(&b);
    return s;
}

struct panel_job {
    const typeset_options *opt;
    const dt_figure *fig;
};

static tb_code
draw_panels(void *user, cairo_t *cr, double x, double y, double w, double h, tb_err *err)
{
    const struct panel_job *job = user;
    size_t n = job->fig->panel_count;
    if (job->opt->draw == NULL || n == 0)
        return TB_OK;
    const double gap = 6.0;
    double pw = (w - gap * (double)(n - 1)) / (double)n;
    for (size_t i = 0; i < n; i++) {
        cairo_save(cr);
        tb_code rc = job->opt->draw(job->opt->draw_user, cr, &job->fig->panels[i],
                                    x + (double)i * (pw + gap), y, pw, h, err);
        cairo_restore(cr);
        if (rc != TB_OK)
            return rc;
    }
    return TB_OK;
}

static void
table(gongwen *gw, const dt_table *t, tb_arena *a)
{
    gw_column *cols = tb_arena_array(a, t->column_count + 1, sizeof *cols);
    size_t body = 0;
    for (size_t r = 0; r < t->row_count; r++)
        body += t->rows[r].role != DT_ROW_HEAD;
    const char **cells = tb_arena_array(a, (body + 1) * t->column_count, sizeof *cells);
    for (size_t c = 0; c < t->column_count; c++) {
        cols[c].width_mm = t->columns[c].width_mm;
        cols[c].align = t->columns[c].align == DT_ALIGN_RIGHT    ? 2
                        : t->columns[c].align == DT_ALIGN_CENTER ? 1
                                                                 : 0;
        cols[c].heading = "";
    }
    size_t out = 0;
    for (size_t r = 0; r < t->row_count; r++) {
        const dt_row *row = &t->rows[r];
        size_t c = 0;
        for (size_t k = 0; k < row->count && c < t->column_count; k++) {
            const char *s = flat(&row->cells[k].text, a);
            if (row->role == DT_ROW_HEAD)
                cols[c].heading = s;
            else
                cells[out * t->column_count + c] = s;
            c += row->cells[k].colspan > 1 ? (size_t)row->cells[k].colspan : 1;
        }
        out += row->role != DT_ROW_HEAD;
    }
    gongwen_table(gw, cols, t->column_count, cells, body);
}

tb_code
typeset_doc(const typeface *tf, const dt_doc *doc, const typeset_options *opt, tb_buf *out,
            typeset_result *res, tb_err *err)
{
    tb_arena *a = tb_arena_new(0);
    gw_metadata meta = {doc->title, doc->author, doc->subject, doc->create_date};
    gongwen *gw = gongwen_new(tf, out, &meta);
    gw_rect seal = {0, 0, 0, 0, 0};
    if (doc->format != DT_FORMAT_PLAIN)
        gongwen_header(gw, doc->head.mark ? doc->head.mark : "",
                       doc->head.docno ? doc->head.docno : "");
    for (size_t i = 0; i < doc->block_count; i++) {
        const dt_block *b = &doc->blocks[i];
        switch (b->kind) {
        case DT_TITLE: gongwen_title(gw, flat(&b->text, a)); break;
        case DT_ADDRESSEE: gongwen_addressee(gw, flat(&b->text, a)); break;
        case DT_PARAGRAPH:
        case DT_NOTE: gongwen_paragraph(gw, GW_BODY, flat(&b->text, a)); break;
        case DT_HEADING:
            gongwen_paragraph(gw, b->level == 1 ? GW_HEADING1 : b->level == 2 ? GW_HEADING2
                                                                              : GW_BODY,
                              flat(&b->text, a));
            break;
        case DT_ATTACHMENT_NOTE: {
            const char **titles = tb_arena_array(a, b->item_count + 1, sizeof *titles);
            for (size_t k = 0; k < b->item_count; k++)
                titles[k] = flat(&b->items[k], a);
            gongwen_attachment_note(gw, titles, b->item_count);
            break;
        }
        case DT_SIGNATURE:
            gongwen_signature(gw, b->label ? b->label : "", b->date ? b->date : "",
                              opt->seal, opt->seal_diameter_mm, &seal);
            break;
        case DT_ATTACHMENT:
            gongwen_attachment_begin(gw, b->label ? b->label : "附件", flat(&b->text, a));
            break;
        case DT_TABLE: table(gw, b->table, a); break;
        case DT_FIGURE: {
            struct panel_job job = {opt, b->figure};
            double h = b->figure->height_mm > 0 ? b->figure->height_mm : 95;
            const char *cap = b->figure->caption.count ? flat(&b->figure->caption, a) : NULL;
            gongwen_figure(gw, h, cap, draw_panels, &job);
            break;
        }
        case DT_SPACE:
        case DT_PAGE_BREAK:
        case DT_SECTION:
        case DT_CONTENTS: break;
        }
    }
    if (doc->colophon)
        gongwen_colophon(gw, doc->colophon->cc, doc->colophon->issuer ? doc->colophon->issuer : "",
                         doc->colophon->print_date ? doc->colophon->print_date : "");
    tb_code code = gongwen_finish(gw, err);
    if (res) {
        res->page_count = gongwen_page_count(gw);
        res->seal = seal;
    }
    gongwen_free(gw);
    tb_arena_free(a);
    return code;
}
