/* The statistical tables (违法用地数据汇总表, 违法用地分类统计表, 变化图斑情况统计表, the
 * 新增农村乱占耕地建房 list, one 土地卫片地块核查情况登记卡 per patch): one sealed PDF on landscape
 * pages and an XLSX workbook written from the very dt_tables the PDF sets, so both state the same
 * numbers.  Figures: stats_monthly_compute at the date (counts and areas per township, by
 * 合法性判定) and stats_classify (违法类型 rows and the ratios), once per run. */
#include "tb_features.h"

#include "docs_int.h"

#include "xlsx_table.h"

#include <stdlib.h>
#include <string.h>

static const char *
plain_text(const dt_text *t, tb_arena *a)
{
    size_t n = 0;
    for (size_t i = 0; i < t->count; i++)
        n += strlen(t->runs[i].text);
    char *s = tb_arena_alloc(a, n + 1);
    for (size_t i = 0; i < t->count; i++)
        strcat(s, t->runs[i].text);
    return s;
}

/* One sheet per attachment, named by its title, with the attachment's tables one below the other
 * (the 登记卡 attachment holds one table per patch). */
static tb_code
write_workbook(const dt_doc *doc, const char *path, char **tmp, tb_arena *a, tb_err *err)
{
    xlsx_sheet *sheets = tb_arena_array(a, doc->block_count + 1, sizeof *sheets);
    const dt_table **more = tb_arena_array(a, doc->block_count + 1, sizeof *more);
    size_t n = 0, m = 0;
    const dt_block *attachment = NULL;
    xlsx_sheet *sheet = NULL; /* the current attachment's, once it has a table */
    for (size_t i = 0; i < doc->block_count; i++) {
        const dt_block *b = &doc->blocks[i];
        if (b->kind == DT_ATTACHMENT) {
            attachment = b;
            sheet = NULL;
        } else if (b->kind == DT_TABLE && attachment && sheet) {
            if (sheet->more == NULL)
                sheet->more = more + m;
            more[m++] = b->table;
            sheet->more_count++;
        } else if (b->kind == DT_TABLE && attachment) {
            const char *title = plain_text(&attachment->text, a);
            sheet = &sheets[n++];
            *sheet = (xlsx_sheet){title, title, b->table,
                                  attachment->orientation == DT_LANDSCAPE, NULL, 0};
        }
    }
    if (n == 0)
        return tb_err_set(err, TB_EINVAL, "tables template: no <table> inside an <attachment> "
                                          "(each becomes a sheet of the workbook)");
    return xlsx_write_temp(path, sheets, n, tmp, err);
}

tb_code
tables_render(render_ctx *rc, const tables_input *in, const render_options *opt, int number,
              const char *verify_code, const char *xlsx_path, char **xlsx_tmp, tb_buf *out,
              tb_err *err)
{
    const tpl_office *o = rc->office;
    tb_arena *a = tb_arena_new(0);
    tb_code code = TB_OK;
    char docno[128] = ""; /* stays empty for a 样稿 (number 0) */
    if ((code = docs_docno(o, "tables", opt->date.year, number, docno, sizeof docno, err)) !=
        TB_OK)
        goto done;
    const stats_monthly *m = in->monthly;
    tv_value *rows = tb_arena_array(a, m->township_count + 1, sizeof *rows);
    for (size_t i = 0; i < m->township_count; i++)
        rows[i] = docdata_area(&m->townships[i], in->township_classes[i], a);
    tv_value *classes = tb_arena_array(a, in->county_class->row_count + 1, sizeof *classes);
    for (size_t i = 0; i < in->county_class->row_count; i++)
        classes[i] = docdata_class(&in->county_class->rows[i], a);
    office_data *od = tb_arena_alloc(a, sizeof *od);
    *od = tpl_office_data(o, "tables");
    tv_value *cards = tb_arena_array(a, in->patch_count + 1, sizeof *cards);
    tv_value *rural = tb_arena_array(a, in->patch_count + 1, sizeof *rural);
    size_t n_rural = 0;
    for (size_t i = 0; i < in->patch_count; i++) {
        cards[i] = docdata_patch(in->patches[i], a);
        if (in->patches[i]->rural_housing)
            rural[n_rural++] = cards[i];
    }
    static const char *const order[] = {"office", "date", "docno", "year", "townships",
                                        "county", "classes", "patches", "rural_housing"};
    tv_value values[] = {
        docdata_office(rc->office_type, od, a),
        tv_date(m->cutoff),
        tv_str(docno),
        tv_num(in->year),
        tv_list(rows, m->township_count),
        docdata_area(&m->county, in->county_class, a),
        tv_list(classes, in->county_class->row_count),
        tv_list(cards, in->patch_count),
        tv_list(rural, n_rural),
    };
    tv_value data =
        docs_record(rc->tables_type, order, values, sizeof order / sizeof order[0], a);
    dt_doc doc;
    if ((code = tpl_doc_bind(rc->tables, data, &doc, a, err)) != TB_OK ||
        (code = write_workbook(&doc, xlsx_path, xlsx_tmp, a, err)) != TB_OK)
        goto done;
    const char *reason = docs_reason("统计表", docno, verify_code, a);
    code = docs_typeset_sign(rc, &doc, opt, docno, verify_code, reason, out, err);

done:
    tb_arena_free(a);
    return code;
}
