/* 验收意见书 / 验收表: the bureau's acceptance of rectified patches, one form per patch or one per
 * township listing its patches.  Which patches may be accepted (rectified ones only) and their
 * verdicts are decided when the run is planned (render.c); this file gathers the form's data
 * (model/docdata.h), binds the office's acceptance template (else _base's), typesets and signs.
 * The township countersigns later with `tuban sign` (docs/countersign.h). */
#include "tb_features.h"

#include "docs_int.h"

tb_code
acceptance_render(render_ctx *rc, const acceptance_verdict *verdicts, size_t count,
                  bool per_township, const render_options *opt, int number,
                  const char *verify_code, tb_buf *out, tb_err *err)
{
    TB_ASSERT(count > 0);
    const tpl_office *o = rc->office;
    tb_arena *a = tb_arena_new(0);
    tb_code code = TB_OK;

    const patch **patches = tb_arena_array(a, count, sizeof *patches);
    tv_value *items = tb_arena_array(a, count, sizeof *items);
    tv_value *patch_values = tb_arena_array(a, count, sizeof *patch_values);
    size_t passed = 0;
    for (size_t i = 0; i < count; i++) {
        patches[i] = verdicts[i].patch;
        items[i] = docdata_verdict(&verdicts[i], a);
        patch_values[i] = docdata_patch(verdicts[i].patch, a);
        passed += verdicts[i].passed;
    }
    township_ref t;
    const char *field, *why;
    if (!docdata_township_resolve(patches[0], o->townships, o->township_count, o->units,
                                  o->unit_count, &t, &field, &why, a)) {
        code = tb_err_set(err, TB_EINVAL, "record %ld (patch %s), field %s: %s",
                          patches[0]->record, patches[0]->id, field, why);
        goto done;
    }
    char docno[128] = ""; /* stays empty for a 样稿 (number 0) */
    if ((code = docs_docno(o, "acceptance", opt->date.year, number, docno, sizeof docno,
                           err)) != TB_OK)
        goto done;
    patch_stats stats = patch_stats_compute(patches, count);
    map_township *overview = tb_arena_alloc(a, sizeof *overview);
    *overview = (map_township){t.code, t.name, patches, count};
    office_data *od = tb_arena_alloc(a, sizeof *od);
    *od = tpl_office_data(o, "acceptance");
    static const char *const order[] = {"office", "township", "items", "patches", "stats",
                                        "passed", "failed", "per_township", "date", "docno",
                                        "year"};
    tv_value values[] = {
        docdata_office(rc->office_type, od, a),
        docdata_township(&t, overview, a),
        tv_list(items, count),
        tv_list(patch_values, count),
        docdata_stats(&stats, a),
        tv_num((double)passed),
        tv_num((double)(count - passed)),
        tv_boolean(per_township),
        tv_date(opt->date),
        tv_str(docno),
        tv_num(stats.latest_year ? stats.latest_year : opt->date.year),
    };
    tv_value data =
        docs_record(rc->acceptance_type, order, values, sizeof order / sizeof order[0], a);
    dt_doc doc;
    if ((code = tpl_doc_bind(rc->acceptance, data, &doc, a, err)) != TB_OK)
        goto done;
    docs_military_note(&doc, patches, count, a);
    const char *what = per_township ? tb_arena_printf(a, "验收意见书 %s", t.name)
                                    : tb_arena_printf(a, "验收意见书 %s", patches[0]->id);
    code = docs_typeset_sign(rc, &doc, opt, docno, verify_code,
                             docs_reason(what, docno, verify_code, a), out, err);

done:
    tb_arena_free(a);
    return code;
}
