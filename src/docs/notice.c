/* 整改通知书: the bureau tells a township which of its patches are illegal and what to do by
 * when.  Page 1 carries the 版头, title and body (one paragraph per patch), then the signature
 * block with the seal; 附件1 lists the patches in a table, 附件2 shows each on a map; the 版记
 * closes the last page.  The template gives the words; this file gives the structure. */
#include "tb_features.h"

#include "docs_int.h"

#include "docno.h"
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

static void
patch_table(gongwen *gw, const patch *const *patches, size_t count, tb_arena *a)
{
    static const gw_column cols[] = {
        {"序号", 10, 1},         {"图斑编号", 40, 1},  {"监测面积（亩）", 17, 2},
        {"耕地（亩）", 15, 2},   {"永久基本农田（亩）", 17, 2}, {"违法类型", 18, 1},
        {"整改措施", 18, 1},     {"整改期限", 21, 1},
    };
    enum { NCOLS = sizeof cols / sizeof cols[0] };
    const char **cells = tb_arena_array(a, (count + 1) * NCOLS, sizeof *cells);
    double area = 0, farm = 0, basic = 0;
    for (size_t i = 0; i < count; i++) {
        const patch *p = patches[i];
        const char **row = cells + i * NCOLS;
        char iso[16];
        row[0] = tb_arena_printf(a, "%zu", i + 1);
        row[1] = p->id;
        row[2] = mu(p->area_m2, a);
        row[3] = mu(p->farmland_m2, a);
        row[4] = mu(p->basic_farmland_m2, a);
        row[5] = or_dash(p->violation);
        row[6] = or_dash(p->measure);
        row[7] = cn_date_valid(p->deadline)
                     ? tb_arena_strdup(a, cn_date_format_iso(p->deadline, iso, sizeof iso))
                     : "—";
        area += p->area_m2, farm += p->farmland_m2, basic += p->basic_farmland_m2;
    }
    const char **total = cells + count * NCOLS;
    total[0] = "合计";
    total[1] = tb_arena_printf(a, "%zu宗", count);
    total[2] = mu(area, a), total[3] = mu(farm, a), total[4] = mu(basic, a);
    total[5] = total[6] = total[7] = "";
    gongwen_table(gw, cols, NCOLS, cells, count + 1);
}

struct map_job {
    render_ctx *rc;
    const patch *p;
};

static tb_code
draw_map(void *user, cairo_t *cr, double x, double y, double w, double h, tb_err *err)
{
    const struct map_job *job = user;
    map_frame f = {x, y, w, h, /*dpi*/ 200, /*margin_ratio*/ 0};
    return map_draw_patch(cr, job->rc->basemap, job->p->wkb, job->p->wkb_len, job->p->id, &f,
                          err);
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
    gongwen *gw = NULL;
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
    gw_metadata meta = {plain_title, o->name, docno, created};
    gw = gongwen_new(rc->tf, out, &meta);
    gongwen_header(gw, o->mark, docno);
    gongwen_title(gw, title);
    gongwen_addressee(gw, addressee);
    for (size_t b = 0; b < t->block_count; b++) {
        const tpl_block *blk = &t->blocks[b];
        if (blk->kind == TPL_PATCH_LIST) {
            for (size_t i = 0; i < count; i++)
                gongwen_paragraph(gw, GW_BODY, patch_paragraph(patches[i], (int)i + 1, a));
            continue;
        }
        const char *text = EXPAND(blk->text, blk->line);
        if (text == NULL) {
            code = err->code;
            goto done;
        }
        gongwen_paragraph(gw, blk->kind == TPL_HEADING1   ? GW_HEADING1
                              : blk->kind == TPL_HEADING2 ? GW_HEADING2
                                                          : GW_BODY,
                          text);
    }
#undef EXPAND
    const char **att_titles = tb_arena_array(a, t->attachment_count + 1, sizeof *att_titles);
    for (size_t i = 0; i < t->attachment_count; i++)
        att_titles[i] = t->attachments[i].title;
    gongwen_attachment_note(gw, att_titles, t->attachment_count);
    gw_rect seal_rect;
    gongwen_signature(gw, o->name, date_text(opt->date, a), rc->seal, o->seal_diameter_mm,
                      &seal_rect);

    for (size_t i = 0; i < t->attachment_count; i++) {
        const tpl_attachment *att = &t->attachments[i];
        gongwen_attachment_begin(gw, tb_arena_printf(a, "附件%zu", i + 1), att->title);
        if (att->content == TPL_ATT_PATCH_TABLE) {
            patch_table(gw, patches, count, a);
            continue;
        }
        for (size_t k = 0; k < count; k++) {
            struct map_job job = {rc, patches[k]};
            const char *caption = tb_arena_printf(a, "图%zu  %s（监测面积%s亩）", k + 1,
                                                  patches[k]->id, mu(patches[k]->area_m2, a));
            gongwen_figure(gw, 95, caption, draw_map, &job);
        }
    }
    gongwen_colophon(gw, cc, o->issuer, date_text(opt->date, a));
    if ((code = gongwen_finish(gw, err)) != TB_OK)
        goto done;

    pdfsig_field field = {
        .page = seal_rect.page,
        .x_pt = seal_rect.x_pt, .y_pt = seal_rect.y_pt,
        .w_pt = seal_rect.w_pt, .h_pt = seal_rect.h_pt,
        .name = "Seal1",
        .reason = tb_arena_printf(a, "整改通知书 %s", docno),
        .location = o->county_name,
        .signing_time = opt->signing_time,
    };
    code = pdfsig_sign(out, rc->signer, &field, err);

done:
    gongwen_free(gw);
    tb_arena_free(a);
    return code;
}
