/* 整改通知书: the bureau tells a township which of its patches are illegal and what to do by
 * when.  Page 1 carries the 版头, title and body (one paragraph per patch), then the signature
 * block with the seal; 附件1 lists the patches in a table, 附件2 shows each on a map; the 版记
 * closes the last page.  The template gives the words; this file gives the structure. */
#include "tb_features.h"

#include "docs_int.h"

#include "docno.h"
#include "typeset.h"
#include "units.h"

#include <string.h>

/* What a township is called when addressed: 镇/乡 have a 人民政府, 街道 an 办事处. */
static const char *
addressee_of(const char *township, tb_arena *a)
{
    size_t n = strlen(township);
    if (n >= 6 && strcmp(township + n - 6, "街道") == 0)
        return tb_arena_printf(a, "%s办事处", township);
    return tb_arena_printf(a, "%s人民政府", township);
}

static const char *
unit_of(const char *township)
{
    size_t n = strlen(township);
    if (n >= 6 && strcmp(township + n - 6, "街道") == 0)
        return "街道";
    if (n >= 3 && strcmp(township + n - 3, "乡") == 0)
        return "乡";
    return "镇";
}

static const char *
mu(double m2, tb_arena *a)
{
    char buf[32];
    return tb_arena_strdup(a, units_format_mu(m2, buf, sizeof buf));
}

static const char *
date_text(cn_date d, tb_arena *a)
{
    char buf[32];
    return tb_arena_strdup(a, cn_date_format(d, buf, sizeof buf));
}

struct notice_vars {
    tpl_var v[12];
    size_t n;
};

static void
add_var(struct notice_vars *vs, const char *name, const char *value)
{
    TB_ASSERT(vs->n < sizeof vs->v / sizeof vs->v[0]);
    vs->v[vs->n].name = name;
    vs->v[vs->n].value = value;
    vs->n++;
}

/* The earliest deadline among the patches, or 30 days after the document's date. */
static cn_date
deadline_of(const patch *const *patches, size_t count, cn_date date)
{
    cn_date best = {0, 0, 0};
    for (size_t i = 0; i < count; i++)
        if (cn_date_valid(patches[i]->deadline) &&
            (!cn_date_valid(best) || cn_date_cmp(patches[i]->deadline, best) < 0))
            best = patches[i]->deadline;
    return cn_date_valid(best) ? best : cn_date_add_days(date, 30);
}

static const char *
or_dash(const char *s)
{
    return s && s[0] ? s : "—";
}

static const char *
patch_paragraph(const patch *p, int index, tb_arena *a)
{
    char num[16];
    docs_cn_numeral(index, num, sizeof num);
    const char *text = tb_arena_printf(
        a, "（%s）图斑%s，监测面积%s亩，其中耕地%s亩、永久基本农田%s亩", num, p->id,
        mu(p->area_m2, a), mu(p->farmland_m2, a), mu(p->basic_farmland_m2, a));
    if (p->violation)
        text = tb_arena_printf(a, "%s；违法类型：%s", text, p->violation);
    if (p->measure)
        text = tb_arena_printf(a, "%s；整改措施：%s", text, p->measure);
    if (cn_date_valid(p->deadline))
        text = tb_arena_printf(a, "%s；整改期限：%s", text, date_text(p->deadline, a));
    return tb_arena_printf(a, "%s。", text);
}

/* A text of one run. */
static dt_text
one_run(const char *s, tb_arena *a)
{
    dt_run *r = tb_arena_alloc(a, sizeof *r);
    r->text = s;
    r->flags = 0;
    return (dt_text){r, 1};
}

/* 附件1: the patches in a table, with a 合计 row. */
static const dt_table *
patch_table(const patch *const *patches, size_t count, tb_arena *a)
{
    static const struct { const char *heading; double width_mm; dt_align align; } cols[] = {
        {"序号", 10, DT_ALIGN_CENTER},        {"图斑编号", 40, DT_ALIGN_CENTER},
        {"监测面积（亩）", 17, DT_ALIGN_RIGHT}, {"耕地（亩）", 15, DT_ALIGN_RIGHT},
        {"永久基本农田（亩）", 17, DT_ALIGN_RIGHT}, {"违法类型", 18, DT_ALIGN_CENTER},
        {"整改措施", 18, DT_ALIGN_CENTER},    {"整改期限", 21, DT_ALIGN_CENTER},
    };
    enum { NCOLS = sizeof cols / sizeof cols[0] };
    dt_table *t = tb_arena_alloc(a, sizeof *t);
    dt_column *columns = tb_arena_array(a, NCOLS, sizeof *columns);
    dt_row *rows = tb_arena_array(a, count + 2, sizeof *rows);
    for (size_t c = 0; c < NCOLS; c++)
        columns[c] = (dt_column){cols[c].width_mm, cols[c].align};
    dt_cell *head = tb_arena_array(a, NCOLS, sizeof *head);
    for (size_t c = 0; c < NCOLS; c++)
        head[c].text = one_run(cols[c].heading, a);
    rows[0] = (dt_row){.cells = head, .count = NCOLS, .role = DT_ROW_HEAD};
    double area = 0, farm = 0, basic = 0;
    for (size_t i = 0; i < count; i++) {
        const patch *p = patches[i];
        dt_cell *cells = tb_arena_array(a, NCOLS, sizeof *cells);
        char iso[16];
        const char *text[NCOLS] = {
            tb_arena_printf(a, "%zu", i + 1), p->id, mu(p->area_m2, a), mu(p->farmland_m2, a),
            mu(p->basic_farmland_m2, a), or_dash(p->violation), or_dash(p->measure),
            cn_date_valid(p->deadline)
                ? tb_arena_strdup(a, cn_date_format_iso(p->deadline, iso, sizeof iso))
                : "—",
        };
        for (size_t c = 0; c < NCOLS; c++)
            cells[c].text = one_run(text[c], a);
        rows[i + 1] = (dt_row){.cells = cells, .count = NCOLS, .role = DT_ROW_BODY};
        area += p->area_m2, farm += p->farmland_m2, basic += p->basic_farmland_m2;
    }
    dt_cell *total = tb_arena_array(a, NCOLS, sizeof *total);
    const char *ttext[NCOLS] = {"合计", tb_arena_printf(a, "%zu个", count), mu(area, a),
                                mu(farm, a), mu(basic, a), "", "", ""};
    for (size_t c = 0; c < NCOLS; c++)
        total[c].text = one_run(ttext[c], a);
    rows[count + 1] = (dt_row){.cells = total, .count = NCOLS, .role = DT_ROW_TOTAL};
    *t = (dt_table){.columns = columns, .column_count = NCOLS, .rows = rows,
                    .row_count = count + 2};
    return t;
}

static tb_code
draw_map(void *user, cairo_t *cr, const dt_panel *panel, double x, double y, double w, double h,
         tb_err *err)
{
    render_ctx *rc = user;
    return map_panel_draw(rc->maps, cr, panel, x, y, w, h, err);
}

/* A growing list of blocks. */
typedef struct block_list {
    dt_block *items;
    size_t count, cap;
    tb_arena *a;
} block_list;

static dt_block *
block_add(block_list *l, dt_block_kind kind)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        dt_block *items = tb_arena_array(l->a, cap, sizeof *items);
        if (l->count)
            memcpy(items, l->items, l->count * sizeof *items);
        l->items = items, l->cap = cap;
    }
    dt_block *b = &l->items[l->count++];
    memset(b, 0, sizeof *b);
    b->kind = kind;
    return b;
}

tb_code
notice_render(render_ctx *rc, const patch *const *patches, size_t count,
              const render_options *opt, int number, tb_buf *out, tb_err *err)
{
    TB_ASSERT(count > 0);
    const tpl_office *o = rc->office;
    const tpl_notice *t = rc->notice;
    const patch *first = patches[0];
    tb_arena *a = tb_arena_new(0);
    tb_code code = TB_OK;

    /* Variables the template may use (docs/templates.md lists them). */
    const char *township = first->admin_name ? first->admin_name : first->admin_code;
    double area = 0, farm = 0, basic = 0;
    int year = 0;
    for (size_t i = 0; i < count; i++) {
        area += patches[i]->area_m2, farm += patches[i]->farmland_m2;
        basic += patches[i]->basic_farmland_m2;
        year = patches[i]->year > year ? patches[i]->year : year;
    }
    if (year == 0)
        year = opt->date.year;
    char docno[128];
    if (!docno_format(o->docno_prefix, opt->date.year, number, docno, sizeof docno)) {
        code = tb_err_set(err, TB_EINVAL, "document number %d is not valid", number);
        goto done;
    }
    struct notice_vars vs = {.n = 0};
    add_var(&vs, "year", tb_arena_printf(a, "%d", year));
    add_var(&vs, "county", o->county_name);
    add_var(&vs, "office", o->name);
    add_var(&vs, "township", township);
    add_var(&vs, "addressee", addressee_of(township, a));
    add_var(&vs, "unit", unit_of(township));
    add_var(&vs, "count", tb_arena_printf(a, "%zu", count));
    add_var(&vs, "area_mu", mu(area, a));
    add_var(&vs, "farmland_mu", mu(farm, a));
    add_var(&vs, "basic_farmland_mu", mu(basic, a));
    add_var(&vs, "deadline", date_text(deadline_of(patches, count, opt->date), a));
    add_var(&vs, "date", date_text(opt->date, a));
#define EXPAND(text, line) tpl_expand((text), vs.v, vs.n, t->path, (line), a, err)
    const char *title = EXPAND(t->title, t->title_line);
    const char *addressee = title ? EXPAND(t->addressee, t->addressee_line) : NULL;
    const char *cc = addressee && t->cc ? EXPAND(t->cc, t->cc_line) : NULL;
    if (addressee == NULL || (t->cc && cc == NULL)) {
        code = err->code;
        goto done;
    }

    char created[32];
    struct tm tm;
    time_t when = opt->signing_time ? opt->signing_time : time(NULL);
    gmtime_r(&when, &tm);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%S", &tm);
    char *plain_title = tb_arena_strdup(a, title); /* the title's line breaks are layout only */
    for (char *c = plain_title; (c = strchr(c, '\n')) != NULL;)
        memmove(c, c + 1, strlen(c));
    /* The document tree: the template's words around the patches' data. */
    block_list bl = {NULL, 0, 0, a};
    block_add(&bl, DT_TITLE)->text = one_run(title, a);
    block_add(&bl, DT_ADDRESSEE)->text = one_run(addressee, a);
    for (size_t b = 0; b < t->block_count; b++) {
        const tpl_block *blk = &t->blocks[b];
        if (blk->kind == TPL_PATCH_LIST) {
            for (size_t i = 0; i < count; i++)
                block_add(&bl, DT_PARAGRAPH)->text =
                    one_run(patch_paragraph(patches[i], (int)i + 1, a), a);
            continue;
        }
        const char *text = EXPAND(blk->text, blk->line);
        if (text == NULL) {
            code = err->code;
            goto done;
        }
        dt_block *db = block_add(&bl, blk->kind == TPL_PARAGRAPH ? DT_PARAGRAPH : DT_HEADING);
        db->level = blk->kind == TPL_HEADING1 ? 1 : 2;
        db->text = one_run(text, a);
    }
#undef EXPAND
    if (t->attachment_count) {
        dt_text *titles = tb_arena_array(a, t->attachment_count, sizeof *titles);
        for (size_t i = 0; i < t->attachment_count; i++)
            titles[i] = one_run(t->attachments[i].title, a);
        dt_block *note = block_add(&bl, DT_ATTACHMENT_NOTE);
        note->items = titles;
        note->item_count = t->attachment_count;
    }
    dt_block *sig = block_add(&bl, DT_SIGNATURE);
    sig->label = o->name;
    sig->date = date_text(opt->date, a);
    sig->seal = true;
    for (size_t i = 0; i < t->attachment_count; i++) {
        const tpl_attachment *att = &t->attachments[i];
        dt_block *ab = block_add(&bl, DT_ATTACHMENT);
        ab->label = tb_arena_printf(a, "附件%zu", i + 1);
        ab->text = one_run(att->title, a);
        if (att->content == TPL_ATT_PATCH_TABLE) {
            block_add(&bl, DT_TABLE)->table = patch_table(patches, count, a);
            continue;
        }
        for (size_t k = 0; k < count; k++) {
            dt_panel *panel = tb_arena_alloc(a, sizeof *panel);
            panel->kind = "map";
            panel->datum = patches[k];
            dt_figure *fig = tb_arena_alloc(a, sizeof *fig);
            fig->panels = panel;
            fig->panel_count = 1;
            fig->height_mm = 95;
            fig->caption = one_run(tb_arena_printf(a, "图%zu  %s（监测面积%s亩）", k + 1,
                                                   patches[k]->id, mu(patches[k]->area_m2, a)),
                                   a);
            block_add(&bl, DT_FIGURE)->figure = fig;
        }
    }
    dt_colophon colophon = {cc, o->issuer, date_text(opt->date, a)};
    dt_doc doc = {
        .format = DT_FORMAT_FILE,
        .head = {.mark = o->mark, .docno = docno},
        .blocks = bl.items,
        .block_count = bl.count,
        .colophon = &colophon,
        .title = plain_title,
        .author = o->name,
        .subject = docno,
        .create_date = created,
    };
    /* No seal in the page content: it is the signature's appearance (pdfsig_field below). */
    typeset_options topt = {draw_map, rc, NULL, o->seal_diameter_mm};
    typeset_result res;
    if ((code = typeset_doc(rc->tf, &doc, &topt, out, &res, err)) != TB_OK)
        goto done;
    gw_rect seal_rect = res.seal;

    pdfsig_field field = {
        .page = seal_rect.page,
        .x_pt = seal_rect.x_pt, .y_pt = seal_rect.y_pt,
        .w_pt = seal_rect.w_pt, .h_pt = seal_rect.h_pt,
        .name = "Seal1",
        .reason = tb_arena_printf(a, "整改通知书 %s", docno),
        .location = o->county_name,
        .signing_time = opt->signing_time,
        .appearance = rc->seal_image,
        .certify = o->certify,
    };
    code = pdfsig_sign(out, rc->signer, &field, err);

done:
    tb_arena_free(a);
    return code;
}
