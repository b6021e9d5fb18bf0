/* 整改通知书: the bureau tells a township which of its patches are illegal and what to do by
 * when.  The office's notice template (templates/<office>/notice.xml, else _base's) says every
 * word, the structure and the policy (addressee, deadlines); this file only gathers the data
 * the template reads (model/docdata.h), binds it, typesets, and signs. */
#include "tb_features.h"

#include "docs_int.h"

#include "docno.h"

#include <string.h>

static bool
resolve_township(const render_ctx *rc, const patch *p, township_ref *out, const char **field,
                 const char **why, tb_arena *a)
{
    const tpl_office *o = rc->office;
    return docdata_township_resolve(p, o->townships, o->township_count, o->units, o->unit_count,
                                    out, field, why, a);
}

tb_code
notice_check_townships(const render_ctx *rc, const patch *const *patches, size_t count,
                       const char *file, tb_err *err)
{
    tb_arena *a = tb_arena_new(0);
    tb_code code = TB_OK;
    for (size_t i = 0; i < count && code == TB_OK; i++) {
        township_ref t;
        const char *field, *why;
        if (!resolve_township(rc, patches[i], &t, &field, &why, a))
            code = tb_err_set(err, TB_EINVAL, "%s: record %ld (patch %s), field %s: %s", file,
                              patches[i]->record, patches[i]->id, field, why);
    }
    tb_arena_free(a);
    return code;
}

/* The notice's data (docdata_notice_type): office, township, patches, stats, date, docno,
 * year. */
static tv_value
notice_data(const render_ctx *rc, const patch *const *patches, size_t count,
            const township_ref *township, const patch_stats *stats, cn_date date,
            const char *docno, tb_arena *a)
{
    tv_value *items = tb_arena_array(a, count, sizeof *items);
    for (size_t i = 0; i < count; i++)
        items[i] = docdata_patch(patches[i], a);
    office_data *od = tb_arena_alloc(a, sizeof *od);
    *od = tpl_office_data(rc->office, "notice");
    map_township *overview = tb_arena_alloc(a, sizeof *overview);
    *overview = (map_township){township->code, township->name, patches, count};
    static const char *const order[] = {"office", "township", "patches", "stats", "date",
                                        "docno", "year"};
    tv_value values[] = {
        docdata_office(rc->office_type, od, a),
        docdata_township(township, overview, a),
        tv_list(items, count),
        docdata_stats(stats, a),
        tv_date(date),
        tv_str(docno),
        tv_num(stats->latest_year ? stats->latest_year : date.year),
    };
    return docs_record(rc->notice_type, order, values, sizeof order / sizeof order[0], a);
}

tb_code
notice_render(render_ctx *rc, const patch *const *patches, size_t count,
              const render_options *opt, int number, const char *verify_code, tb_buf *out,
              tb_err *err)
{
    TB_ASSERT(count > 0);
    const tpl_office *o = rc->office;
    tb_arena *a = tb_arena_new(0);
    tb_code code = TB_OK;

    township_ref township;
    const char *field, *why;
    if (!resolve_township(rc, patches[0], &township, &field, &why, a)) {
        code = tb_err_set(err, TB_EINVAL, "record %ld (patch %s), field %s: %s",
                          patches[0]->record, patches[0]->id, field, why);
        goto done;
    }
    char docno[128] = "";
    const bool preview = number == 0; /* 样稿: no number, never registered */
    if (!preview && !docno_format(tpl_office_prefix(o, "notice"), opt->date.year, number, docno,
                                  sizeof docno)) {
        code = tb_err_set(err, TB_EINVAL, "document number %d is not valid", number);
        goto done;
    }
    patch_stats stats = patch_stats_compute(patches, count);
    tv_value data = notice_data(rc, patches, count, &township, &stats, opt->date, docno, a);
    dt_doc doc;
    if ((code = tpl_doc_bind(rc->notice, data, &doc, a, err)) != TB_OK)
        goto done;
    docs_military_note(&doc, patches, count, a);

    const char *reason = docs_reason("整改通知书", docno, verify_code, a);
    code = docs_typeset_sign(rc, &doc, opt, docno, verify_code, reason, out, err);

done:
    tb_arena_free(a);
    return code;
}
