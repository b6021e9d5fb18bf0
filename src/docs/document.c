/* What every kind does once its template is bound: typeset with the office's fonts and maps, then
 * sign with the seal as the signature's appearance. */
#include "tb_features.h"

#include "docs_int.h"

#include "chart.h"
#include "docno.h"
#include "issue.h"
#include "photo.h"
#include "typeset.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static tb_code
draw_panel(void *user, cairo_t *cr, const dt_panel *panel, double x, double y, double w,
           double h, tb_err *err)
{
    render_ctx *rc = user;
    if (strcmp(panel->kind, "photo") == 0)
        return photo_draw(cr, panel->datum, x, y, w, h, err);
    if (strcmp(panel->kind, "chart") != 0)
        return map_panel_draw(rc->maps, cr, panel, x, y, w, h, err);
    /* Labels in the office's body font unless the template names one. */
    bool has_font = false;
    for (size_t i = 0; i < panel->attr_count; i++)
        has_font |= strcmp(panel->attrs[i].name, "font") == 0;
    if (has_font)
        return chart_panel_draw(cr, NULL, panel, x, y, w, h, err);
    dt_attr *attrs = tb_xcalloc(panel->attr_count + 1, sizeof *attrs);
    memcpy(attrs, panel->attrs, panel->attr_count * sizeof *attrs);
    attrs[panel->attr_count] = (dt_attr){"font", rc->office->fonts[FONT_FANGSONG].family};
    dt_panel with_font = *panel;
    with_font.attrs = attrs, with_font.attr_count = panel->attr_count + 1;
    tb_code code = chart_panel_draw(cr, NULL, &with_font, x, y, w, h, err);
    free(attrs);
    return code;
}

/* ---- place names kept whole ------------------------------------------------------------------
 * Body text breaks between any two Han characters, so a line could end in 城关| and the next
 * start 镇.  The office's place names (its townships and its county) are made unbreakable runs
 * wherever they occur in the bound text, from the template or the data alike. */

typedef struct place_names {
    const char **s;
    size_t n;
} place_names;

/* The length of the longest name starting at p, 0 if none. */
static size_t
name_at(const place_names *nm, const char *p)
{
    size_t best = 0;
    for (size_t i = 0; i < nm->n; i++) {
        size_t len = strlen(nm->s[i]);
        if (len > best && strncmp(p, nm->s[i], len) == 0)
            best = len;
    }
    return best;
}

static dt_text
keep_names(dt_text in, const place_names *nm, tb_arena *a)
{
    size_t found = 0;
    for (size_t r = 0; r < in.count; r++)
        if (in.runs[r].text && !(in.runs[r].flags & (DT_RUN_NOBREAK | DT_RUN_BREAK)))
            for (const char *p = in.runs[r].text; *p; p++)
                found += name_at(nm, p) > 0;
    if (found == 0)
        return in;
    /* Each name splits its run in at most three. */
    dt_run *out = tb_arena_array(a, in.count + 2 * found, sizeof *out);
    size_t k = 0;
    for (size_t r = 0; r < in.count; r++) {
        const dt_run *run = &in.runs[r];
        if (!run->text || (run->flags & (DT_RUN_NOBREAK | DT_RUN_BREAK))) {
            out[k++] = *run;
            continue;
        }
        const char *from = run->text, *p = run->text;
        while (*p) {
            size_t len = name_at(nm, p);
            if (len == 0) {
                p++;
                continue;
            }
            if (p > from)
                out[k++] = (dt_run){tb_arena_strndup(a, from, (size_t)(p - from)), run->flags};
            out[k++] = (dt_run){tb_arena_strndup(a, p, len), run->flags | DT_RUN_NOBREAK};
            p += len;
            from = p;
        }
        if (p > from)
            out[k++] = (dt_run){tb_arena_strndup(a, from, (size_t)(p - from)), run->flags};
    }
    return (dt_text){out, k};
}

static const dt_table *
keep_names_table(const dt_table *t, const place_names *nm, tb_arena *a)
{
    dt_table *c = tb_arena_alloc(a, sizeof *c);
    *c = *t;
    dt_row *rows = tb_arena_array(a, t->row_count ? t->row_count : 1, sizeof *rows);
    for (size_t r = 0; r < t->row_count; r++) {
        rows[r] = t->rows[r];
        dt_cell *cells = tb_arena_array(a, t->rows[r].count ? t->rows[r].count : 1, sizeof *cells);
        for (size_t i = 0; i < t->rows[r].count; i++) {
            cells[i] = t->rows[r].cells[i];
            cells[i].text = keep_names(cells[i].text, nm, a);
        }
        rows[r].cells = cells;
    }
    c->rows = rows;
    return c;
}

static const dt_figure *
keep_names_figure(const dt_figure *f, const place_names *nm, tb_arena *a)
{
    dt_figure *c = tb_arena_alloc(a, sizeof *c);
    *c = *f;
    dt_panel *panels = tb_arena_array(a, f->panel_count ? f->panel_count : 1, sizeof *panels);
    for (size_t i = 0; i < f->panel_count; i++) {
        panels[i] = f->panels[i];
        panels[i].caption = keep_names(panels[i].caption, nm, a);
    }
    c->panels = panels;
    c->caption = keep_names(f->caption, nm, a);
    return c;
}

/* More than one character: a one-character name would only pin single characters. */
static bool
several_chars(const char *s)
{
    size_t chars = 0;
    for (; s && *s; s++)
        chars += ((unsigned char)*s & 0xC0) != 0x80;
    return chars > 1;
}

/* Rewrites doc's blocks (copies in a) with the office's place names unbreakable. */
static void
keep_place_names(dt_doc *doc, const tpl_office *o, tb_arena *a)
{
    place_names nm = {tb_arena_array(a, o->township_count + 1, sizeof *nm.s), 0};
    for (size_t i = 0; i < o->township_count; i++)
        if (several_chars(o->townships[i].name))
            nm.s[nm.n++] = o->townships[i].name;
    if (several_chars(o->county_name))
        nm.s[nm.n++] = o->county_name;
    if (nm.n == 0)
        return;
    dt_block *blocks = tb_arena_array(a, doc->block_count ? doc->block_count : 1, sizeof *blocks);
    for (size_t i = 0; i < doc->block_count; i++) {
        dt_block *b = &blocks[i];
        *b = doc->blocks[i];
        b->text = keep_names(b->text, &nm, a);
        if (b->item_count) {
            dt_text *items = tb_arena_array(a, b->item_count, sizeof *items);
            for (size_t k = 0; k < b->item_count; k++)
                items[k] = keep_names(b->items[k], &nm, a);
            b->items = items;
        }
        if (b->table)
            b->table = keep_names_table(b->table, &nm, a);
        if (b->figure)
            b->figure = keep_names_figure(b->figure, &nm, a);
    }
    doc->blocks = blocks;
}

tb_code
docs_typeset_sign(render_ctx *rc, dt_doc *doc, const render_options *opt, const char *docno,
                  const char *verify_code, const char *reason, tb_buf *out, tb_err *err)
{
    const tpl_office *o = rc->office;
    const bool preview = docno == NULL || docno[0] == '\0';
    char created[32];
    struct tm tm;
    time_t when = opt->signing_time ? opt->signing_time : time(NULL);
    gmtime_r(&when, &tm);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%S", &tm);
    doc->author = o->name;
    doc->subject = preview ? "样稿" : docno;
    doc->create_date = created;
    char qr[ISSUE_QR_LEN + 1];
    if (preview) {
        doc->head.docno = NULL;
        doc->watermark = "样稿";
    } else if (verify_code != NULL) {
        issue_qr_payload(verify_code, qr);
        doc->verify_code = verify_code;
        doc->verify_qr = qr;
    }
    /* No seal in the page content: it is the signature's appearance (pdfsig_field below). */
    typeset_options topt = {draw_panel, rc, NULL, o->seal_diameter_mm};
    typeset_result res;
    tb_arena *names = tb_arena_new(0);
    const dt_block *bound = doc->blocks;
    keep_place_names(doc, o, names);
    tb_code code = typeset_doc(rc->tf, doc, &topt, out, &res, err);
    doc->blocks = bound; /* the copies go with their arena */
    tb_arena_free(names);
    if (code != TB_OK)
        return code;
    pdfsig_field sig = {
        .page = res.seal.page,
        .x_pt = res.seal.x_pt, .y_pt = res.seal.y_pt,
        .w_pt = res.seal.w_pt, .h_pt = res.seal.h_pt,
        .name = "Seal1",
        .reason = reason,
        .location = o->county_name,
        .signing_time = opt->signing_time,
        .appearance = rc->seal_image,
        .certify = o->certify,
        .tsa_url = preview ? NULL : o->tsa_url, /* a 样稿 proves nothing: no time stamp */
    };
    return pdfsig_sign(out, rc->signer, &sig, err);
}

tv_value
docs_record(const tv_type *type, const char *const *names, const tv_value *values, size_t count,
            tb_arena *a)
{
    tv_value *f;
    tv_value data = tv_record_new(type, NULL, NULL, &f, a);
    for (size_t i = 0; i < count; i++) {
        int k = tv_type_field(type, names[i], strlen(names[i]));
        TB_ASSERT(k >= 0);
        f[k] = values[i];
    }
    return data;
}

const char *
docs_reason(const char *what, const char *docno, const char *verify_code, tb_arena *a)
{
    if (docno == NULL || docno[0] == '\0')
        return tb_arena_printf(a, "%s 样稿（未编号，未登记）", what);
    return verify_code ? tb_arena_printf(a, "%s %s 验证码 %s", what, docno, verify_code)
                       : tb_arena_printf(a, "%s %s", what, docno);
}

tb_code
docs_docno(const tpl_office *o, const char *kind, int year, int number, char *docno, size_t size,
           tb_err *err)
{
    docno[0] = '\0';
    if (number != 0 && !docno_format(tpl_office_prefix(o, kind), year, number, docno, size))
        return tb_err_set(err, TB_EINVAL, "document number %d is not valid", number);
    return TB_OK;
}

size_t
docs_military_note(dt_doc *doc, const patch *const *patches, size_t count, tb_arena *a)
{
    size_t n = 0;
    tb_buf ids = TB_BUF_INIT;
    for (size_t i = 0; i < count; i++)
        if (patches[i]->military)
            tb_buf_printf(&ids, "%s%s", n++ ? "、" : "", patches[i]->id);
    if (n == 0) {
        tb_buf_release(&ids);
        return 0;
    }
    dt_run *runs = tb_arena_array(a, 3, sizeof *runs);
    runs[0] = (dt_run){"本件涉及军用土地图斑", 0};
    runs[1] = (dt_run){tb_arena_strdup(a, (const char *)ids.data), DT_RUN_NOBREAK};
    runs[2] = (dt_run){"，以机要件单独报送，不得通过网络传输。", 0};
    tb_buf_release(&ids);
    /* After the signature and any 附注 the template wrote there. */
    size_t at = doc->block_count;
    for (size_t i = 0; i < doc->block_count; i++)
        if (doc->blocks[i].kind == DT_SIGNATURE) {
            at = i + 1;
            while (at < doc->block_count && doc->blocks[at].kind == DT_NOTE)
                at++;
            break;
        }
    dt_block *blocks = tb_arena_array(a, doc->block_count + 1, sizeof *blocks);
    memcpy(blocks, doc->blocks, at * sizeof *blocks);
    blocks[at] = (dt_block){.kind = DT_NOTE, .text = {runs, 3}};
    memcpy(blocks + at + 1, doc->blocks + at, (doc->block_count - at) * sizeof *blocks);
    doc->blocks = blocks;
    doc->block_count++;
    return n;
}
