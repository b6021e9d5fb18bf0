/* Shared by fuzz_template and fuzz_expr: a notice's data (three patches, one without a
 * deadline or 违法类型) for binding and evaluating what the fuzzer writes. */
#ifndef TB_FUZZ_NOTICE_DATA_H
#define TB_FUZZ_NOTICE_DATA_H

#include "docdata.h"

#include <string.h>

static const patch fuzz_patches[3] = {
    {.id = "139901SJBG24210019", .admin_code = "139901001", .admin_name = "城关镇",
     .area_m2 = 1240, .farmland_m2 = 980, .violation = "超占用地", .measure = "拆除复绿",
     .deadline = {2025, 3, 31}, .record = 7, .year = 2024},
    {.id = "139901SJBG24210024", .admin_code = "139901001", .area_m2 = 680, .record = 9},
    {.id = "139901SJBG24210026", .admin_code = "139901001", .admin_name = "城关镇",
     .area_m2 = 7600.5, .farmland_m2 = 6913, .basic_farmland_m2 = 3113, .violation = "违法占地",
     .deadline = {2024, 12, 31}, .record = 12, .rural_housing = true},
};

static const named_number fuzz_rules[] = {{"deadline_days", 30}, {"interview_ratio", 0.15}};

typedef struct fuzz_notice {
    const tv_type *type;
    tv_value data;
} fuzz_notice;

static inline fuzz_notice
fuzz_notice_new(tb_arena *a)
{
    office_data *o = tb_arena_alloc(a, sizeof *o);
    *o = (office_data){.name = "示例县自然资源局", .mark = "示例县自然资源局文件",
                       .docno_prefix = "示自然资发", .county = "示例县", .issuer = "办公室",
                       .rules = fuzz_rules, .rule_count = 2};
    const tv_type *ot = docdata_office_type(o, a);
    fuzz_notice f = {docdata_notice_type(ot, a), tv_null()};
    const patch *ptrs[3] = {&fuzz_patches[0], &fuzz_patches[1], &fuzz_patches[2]};
    tv_value *items = tb_arena_array(a, 3, sizeof *items);
    for (int i = 0; i < 3; i++)
        items[i] = docdata_patch(ptrs[i], a);
    patch_stats *stats = tb_arena_alloc(a, sizeof *stats);
    *stats = patch_stats_compute(ptrs, 3);
    township_ref *t = tb_arena_alloc(a, sizeof *t);
    *t = (township_ref){"139901001", "城关镇", "城关镇人民政府", "镇"};
    tv_value *fields;
    f.data = tv_record_new(f.type, NULL, NULL, &fields, a);
    const tv_value values[] = {docdata_office(ot, o, a), docdata_township(t, NULL, a),
                               tv_list(items, 3), docdata_stats(stats, a),
                               tv_date((cn_date){2024, 11, 20}), tv_str("示自然资发〔2024〕3号"),
                               tv_num(2024)};
    memcpy(fields, values, sizeof values);
    return f;
}

#endif
