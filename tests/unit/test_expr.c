/* Expressions and formatters: parsing with line:column, types checked before evaluation,
 * numbers formatted by integer arithmetic (no locale: the machine has only C locales to
 * prove it with, so the digits are asserted exactly instead). */
#include "tb_features.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "tpl_expr.h"

/* Scope: n (number), s (string), d (date), none (absent string), xs (list of numbers), ds
 * (list of dates with a gap). */
typedef struct env {
    tb_arena *a;
    tpl_tscope ts[6];
    tpl_vscope vs[6];
} env;

static tv_value xs_items[3], ds_items[3];

static env *
env_new(void)
{
    env *e = calloc(1, sizeof *e);
    e->a = tb_arena_new(0);
    static tv_type number_list = {.kind = TV_LIST, .item = &tv_number_type};
    static tv_type date_list = {.kind = TV_LIST, .item = &tv_date_type};
    xs_items[0] = tv_num(3), xs_items[1] = tv_num(1.5), xs_items[2] = tv_num(3);
    ds_items[0] = tv_date((cn_date){2025, 3, 31}), ds_items[1] = tv_null();
    ds_items[2] = tv_date((cn_date){2024, 12, 31});
    const char *names[6] = {"n", "s", "d", "none", "xs", "ds"};
    const tv_type *types[6] = {&tv_number_type, &tv_string_type, &tv_date_type,
                               &tv_string_type, &number_list, &date_list};
    tv_value values[6] = {tv_num(8235.5), tv_str("城关镇"), tv_date((cn_date){2022, 11, 2}),
                          tv_null(), tv_list(xs_items, 3), tv_list(ds_items, 3)};
    for (int i = 0; i < 6; i++) {
        e->ts[i] = (tpl_tscope){names[i], types[i], i ? &e->ts[i - 1] : NULL};
        e->vs[i] = (tpl_vscope){names[i], values[i], i ? &e->vs[i - 1] : NULL};
    }
    return e;
}

static void
env_free(env *e)
{
    tb_arena_free(e->a);
    free(e);
}

/* The text of src evaluated, or the error message. */
static const char *
run(env *e, const char *src)
{
    tb_err err = {0};
    tpl_expr *x = tpl_expr_parse(src, strlen(src), (tpl_loc){"t.xml", 4, 10}, e->a, &err);
    if (x == NULL || !tpl_expr_check(x, &e->ts[5], e->a, &err))
        return tb_arena_strdup(e->a, err.msg);
    tv_value v;
    if (tpl_expr_eval(x, &e->vs[5], &v, e->a, &err) != TB_OK)
        return tb_arena_strdup(e->a, err.msg);
    return tpl_value_text(v, e->a);
}

#define EXPECT(src, want) assert_string_equal(run(e, src), want)

static void
test_formatters(void **state)
{
    (void)state;
    env *e = env_new();
    EXPECT("n|mu", "12.35");               /* 8235.5 m² = 12.353 亩 */
    EXPECT("n|mu(4)", "12.3533");
    EXPECT("n|ha", "0.82");
    EXPECT("n|ha(4)", "0.8236");
    EXPECT("n|fixed(1)", "8235.5");
    EXPECT("n * 1.5|thousands", "12,353.25");
    EXPECT("1234567|thousands(0)", "1,234,567");
    EXPECT("-1234.5|thousands(1)", "-1,234.5");
    EXPECT("0.1234|percent(1)", "12.3%");
    EXPECT("2.675|fixed(2)", "2.68");      /* as written, not as the binary double */
    EXPECT("d|date", "2022年11月2日");
    EXPECT("d|date('iso')", "2022-11-02");
    EXPECT("12|cn", "十二");
    EXPECT("105|cn", "一百零五");
    EXPECT("20000|cn", "二万");
    EXPECT("1|ordinal(1)", "一、");
    EXPECT("2|ordinal(2)", "（二）");
    EXPECT("3|ordinal(3)", "3.");
    EXPECT("4|ordinal(4)", "（4）");
    EXPECT("none|default('—')", "—");
    EXPECT("s|default('—')", "城关镇");
    EXPECT("n", "8235.5");
    EXPECT("7", "7");
    EXPECT("d", "2022年11月2日");
    env_free(e);
}

static void
test_functions_and_operators(void **state)
{
    (void)state;
    env *e = env_new();
    EXPECT("count(xs)", "3");
    EXPECT("count(ds)", "2"); /* absent values are not counted */
    EXPECT("sum(xs)", "7.5");
    EXPECT("max(xs)", "3");
    EXPECT("min(ds)|date", "2024年12月31日");
    EXPECT("count(distinct(xs))", "2");
    EXPECT("d + 30|date", "2022年12月2日");
    EXPECT("(1 + 2) * 3 - 4 / 2", "7");
    EXPECT("s + '人民政府'", "城关镇人民政府");
    EXPECT("n > 100 and not (s == '东河乡')", "是");
    EXPECT("none or n < 0", "否");
    EXPECT("none == s", "否");
    env_free(e);
}

static void
test_errors_name_line_and_column(void **state)
{
    (void)state;
    env *e = env_new();
    /* the expression starts at t.xml:4:10 */
    EXPECT("n|mu2", "t.xml:4:12: unknown filter 'mu2' (did you mean 'mu'?)");
    EXPECT("nn + 1", "t.xml:4:10: unknown name 'nn' (did you mean 'n'?)");
    EXPECT("s.name", "t.xml:4:12: 'name' has no fields: string is not a record");
    EXPECT("s|mu", "t.xml:4:12: filter 'mu' takes a number, not string");
    EXPECT("n + s", "t.xml:4:12: cannot apply '+' to number and string");
    EXPECT("n = 1", "t.xml:4:12: '=' is not an operator: write '==' to compare");
    EXPECT("'abc", "t.xml:4:10: unclosed string (a ' without its closing ')");
    EXPECT("sum(ds)", "t.xml:4:14: sum() takes a list of numbers, not list of date");
    EXPECT("1|ordinal(5)", "t.xml:4:20: ordinal(level): level is 1 (一、), 2 (（一）), 3 (1.) or 4 (（1）)");
    EXPECT("n / 0", "t.xml:4:12: division by zero");
    EXPECT("", "t.xml:4:10: empty expression");
    EXPECT("n n", "t.xml:4:12: unexpected 'n' after the expression");
    EXPECT("城关镇", "t.xml:4:10: unexpected character (text goes outside the braces, or in quotes: '…')");
    char deep[200];
    memset(deep, '(', 100);
    deep[100] = '1';
    memset(deep + 101, ')', 98);
    deep[199] = '\0';
    assert_non_null(strstr(run(e, deep), "nested deeper than 32"));
    char *longest = tb_arena_alloc(e->a, 1200);
    memset(longest, '1', 1100);
    assert_non_null(strstr(run(e, longest), "longer than 1000 bytes"));
    env_free(e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formatters),
        cmocka_unit_test(test_functions_and_operators),
        cmocka_unit_test(test_errors_name_line_and_column),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
