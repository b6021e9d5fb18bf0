/* 月报: the bureau's monthly report of rectification progress, one per township with 违法用地
 * patches and one county roll-up.  The figures are stats_monthly_compute's (model/stats.h), made
 * once per run from the store's state at this month's and the previous month's cut-off; the
 * office's monthly template (else _base's) says every word. */
#include "tb_features.h"

#include "docs_int.h"

#include "chart_data.h"
#include "map_sources.h"

#include <string.h>

/* The bar chart by township: its illegal patches and how many of them are rectified. */
static tv_value
township_chart(const stats_monthly *m, tb_arena *a)
{
    const char **names = tb_arena_array(a, m->township_count + 1, sizeof *names);
    double *illegal = tb_arena_array(a, m->township_count + 1, sizeof *illegal);
    double *rectified = tb_arena_array(a, m->township_count + 1, sizeof *rectified);
    for (size_t i = 0; i < m->township_count; i++) {
        names[i] = m->townships[i].name ? m->townships[i].name : m->townships[i].code;
        illegal[i] = (double)m->townships[i].illegal.count;
        rectified[i] = (double)m->townships[i].rectified.count;
    }
    chart_series *series = tb_arena_array(a, 2, sizeof *series);
    series[0] = (chart_series){"违法图斑", illegal};
    series[1] = (chart_series){"已整改到位", rectified};
    chart_data *d = tb_arena_alloc(a, sizeof *d);
    *d = (chart_data){names, m->township_count, series, 2, "个", 0};
    return docdata_chart(d, "个", a);
}

tb_code
monthly_render(render_ctx *rc, const monthly_input *in, const stats_progress *subject,
               const patch *const *patches, size_t count, const render_options *opt,
               int number, const char *verify_code, tb_buf *out, tb_err *err)
{
    const tpl_office *o = rc->office;
    const stats_monthly *m = in->monthly;
    tb_arena *a = tb_arena_new(0);
    tb_code code = TB_OK;

    tv_value township = tv_null();
    if (subject != NULL) {
        TB_ASSERT(count > 0);
        township_ref t;
        const char *field, *why;
        if (!docdata_township_resolve(patches[0], o->townships, o->township_count, o->units,
                                      o->unit_count, &t, &field, &why, a)) {
            code = tb_err_set(err, TB_EINVAL, "patch %s, field %s: %s", patches[0]->id, field,
                              why);
            goto done;
        }
        map_township *overview = tb_arena_alloc(a, sizeof *overview);
        *overview = (map_township){t.code, t.name, patches, count};
        township = docdata_township(&t, overview, a);
    }
    char docno[128] = ""; /* stays empty for a 样稿 (number 0) */
    if ((code = docs_docno(o, "monthly", opt->date.year, number, docno, sizeof docno, err)) !=
        TB_OK)
        goto done;
    tv_value *rows = tb_arena_array(a, m->township_count + 1, sizeof *rows);
    for (size_t i = 0; i < m->township_count; i++)
        rows[i] = docdata_progress(&m->townships[i], a);
    office_data *od = tb_arena_alloc(a, sizeof *od);
    *od = tpl_office_data(o, "monthly");
    static const char *const order[] = {"office", "date", "docno", "year", "month_year",
                                        "month", "cutoff", "previous_cutoff", "is_county",
                                        "subject", "township", "county", "townships",
                                        "chart"};
    tv_value values[] = {
        docdata_office(rc->office_type, od, a),
        tv_date(opt->date),
        tv_str(docno),
        tv_num(in->year),
        tv_num(m->cutoff.year),
        tv_num(m->cutoff.month),
        tv_date(m->cutoff),
        tv_date(m->previous_cutoff),
        tv_boolean(subject == NULL),
        docdata_progress(subject ? subject : &m->county, a),
        township,
        docdata_progress(&m->county, a),
        tv_list(rows, m->township_count),
        township_chart(m, a),
    };
    tv_value data =
        docs_record(rc->monthly_type, order, values, sizeof order / sizeof order[0], a);
    dt_doc doc;
    if ((code = tpl_doc_bind(rc->monthly, data, &doc, a, err)) != TB_OK)
        goto done;
    docs_military_note(&doc, patches, count, a);
    const char *what = subject ? subject->name : o->county_name;
    const char *reason =
        docs_reason(tb_arena_printf(a, "月报 %s", what), docno, verify_code, a);
    code = docs_typeset_sign(rc, &doc, opt, docno, verify_code, reason, out, err);

done:
    tb_arena_free(a);
    return code;
}
