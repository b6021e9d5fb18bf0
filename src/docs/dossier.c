/* 约谈问责卷宗: the interview / accountability dossier of one township the office's rules select
 * (render.c plans one per selected township, --db only: it needs the status history and the
 * registry).  The figures are stats_interviews' (model/stats.h), made once per run; the office's
 * dossier template (else _base's) says every word; the typesetter numbers the pages through the
 * whole volume and makes the 卷内目录 and the PDF bookmarks from its <section>s. */
#include "tb_features.h"

#include "docs_int.h"

#include <string.h>

tb_code
dossier_render(render_ctx *rc, const dossier_input *in, const patch *const *patches,
               size_t count, const render_options *opt, int number, const char *verify_code,
               tb_buf *out, tb_err *err)
{
    const tpl_office *o = rc->office;
    tb_arena *a = tb_arena_new(0);
    tb_code code = TB_OK;
    TB_ASSERT(count > 0 && count == in->case_count);
    township_ref t;
    const char *field, *why;
    if (!docdata_township_resolve(patches[0], o->townships, o->township_count, o->units,
                                  o->unit_count, &t, &field, &why, a)) {
        code = tb_err_set(err, TB_EINVAL, "patch %s, field %s: %s", patches[0]->id, field, why);
        goto done;
    }
    char docno[128] = ""; /* stays empty for a 样稿 (number 0) */
    if ((code = docs_docno(o, "dossier", opt->date.year, number, docno, sizeof docno, err)) !=
        TB_OK)
        goto done;
    double years = 0;
    for (size_t i = 0; i < o->rule_count; i++)
        if (strcmp(o->rules[i].name, "dossier_retention_years") == 0)
            years = o->rules[i].value;
    /* 卷号: year and number of the issue, so it is unique as the 发文字号 is. */
    const char *volume_no = number ? tb_arena_printf(a, "%d-约谈-%03d", opt->date.year, number)
                                   : "（样稿，未编号）";
    const char *retention = years > 0 ? tb_arena_printf(a, "%g年", years) : "永久";
    patch_stats st = patch_stats_compute(patches, count);
    tv_value *ps = tb_arena_array(a, count + 1, sizeof *ps);
    tv_value *cases = tb_arena_array(a, count + 1, sizeof *cases);
    for (size_t i = 0; i < count; i++) {
        ps[i] = docdata_patch(patches[i], a);
        cases[i] = docdata_case(&in->cases[i], a);
    }
    office_data *od = tb_arena_alloc(a, sizeof *od);
    *od = tpl_office_data(o, "dossier");
    map_township *overview = tb_arena_alloc(a, sizeof *overview);
    *overview = (map_township){t.code, t.name, patches, count};
    static const char *const order[] = {"office", "date", "docno", "year", "township",
                                        "volume", "finding", "stats", "patches", "cases"};
    tv_value values[] = {
        docdata_office(rc->office_type, od, a),
        tv_date(opt->date),
        tv_str(docno),
        tv_num(in->year),
        docdata_township(&t, overview, a),
        docdata_volume(volume_no, in->start, opt->date, retention, a),
        docdata_finding(in->finding, in->rules, in->grounds, a),
        docdata_stats(&st, a),
        tv_list(ps, count),
        tv_list(cases, count),
    };
    tv_value data =
        docs_record(rc->dossier_type, order, values, sizeof order / sizeof order[0], a);
    dt_doc doc;
    if ((code = tpl_doc_bind(rc->dossier, data, &doc, a, err)) != TB_OK)
        goto done;
    docs_military_note(&doc, patches, count, a);
    doc.title = tb_arena_printf(a, "%s约谈问责卷宗", t.name);
    const char *reason =
        docs_reason(tb_arena_printf(a, "约谈问责卷宗 %s", t.name), docno, verify_code, a);
    code = docs_typeset_sign(rc, &doc, opt, docno, verify_code, reason, out, err);

done:
    tb_arena_free(a);
    return code;
}
