/* libFuzzer target: one expression (untrusted template text) through tpl_expr_parse, the type
 * checker against the notice's data (with a loop variable p and index i in scope, as inside
 * <for each="p in patches" index="i">), and, when it checks, evaluation for each patch and as
 * document text. */
#include "tb_features.h"

#include "fuzz_notice_data.h"
#include "tpl_expr.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tb_arena *a = tb_arena_new(0);
    fuzz_notice n = fuzz_notice_new(a);
    const tv_type *t = n.type;
    tpl_tscope *ts = NULL;
    tpl_vscope *vs = NULL;
    for (size_t i = t->field_count; i-- > 0;) {
        tpl_tscope *s = tb_arena_alloc(a, sizeof *s);
        *s = (tpl_tscope){t->fields[i].name, t->fields[i].type, ts};
        ts = s;
        tpl_vscope *v = tb_arena_alloc(a, sizeof *v);
        *v = (tpl_vscope){t->fields[i].name, n.data.u.rec->fields[i], vs};
        vs = v;
    }
    const tpl_tscope loop_t = {"p", &docdata_patch_type, ts};
    const tpl_tscope index_t = {"i", &tv_number_type, &loop_t};
    tb_err err = {0};
    tpl_expr *e = tpl_expr_parse((const char *)data, size, (tpl_loc){"fuzz", 1, 1}, a, &err);
    if (e && tpl_expr_check(e, &index_t, a, &err)) {
        tv_value patches = n.data.u.rec->fields[2];
        for (size_t k = 0; k < patches.u.list.count; k++) {
            tpl_vscope loop_v = {"p", patches.u.list.items[k], vs};
            tpl_vscope index_v = {"i", tv_num((double)k + 1), &loop_v};
            tv_value out;
            tb_err err2 = {0};
            if (tpl_expr_eval(e, &index_v, &out, a, &err2) == TB_OK)
                (void)strlen(tpl_value_text(out, a));
        }
    }
    tb_arena_free(a);
    return 0;
}
