/* What every kind does once its template is bound: typeset with the office's fonts and maps, then
 * sign with the seal as the signature's appearance. */
#include "tb_features.h"

#include "docs_int.h"

#include "chart.h"
#include "docno.h"
#include "issue.h"
#include "typeset.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static tb_code
draw_panel(void *user, cairo_t *cr, const dt_panel *panel, double x, double y, double w,
           double h, tb_err *err)
{
    render_ctx *rc = user;
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
    tb_code code = typeset_doc(rc->tf, doc, &topt, out, &res, err);
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
