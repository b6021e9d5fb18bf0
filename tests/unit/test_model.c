/* Pure rules of the domain: 亩 conversion, 发文字号, Chinese dates, value parsing. */
#include "tb_features.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <locale.h>
#include <string.h>

#include "cn_date.h"
#include "docno.h"
#include "patch.h"
#include "units.h"

static void
test_mu_conversion(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(units_format_mu(666.67, buf, sizeof buf), "1.00");
    assert_string_equal(units_format_mu(10000.0 / 15.0, buf, sizeof buf), "1.00");
    assert_string_equal(units_format_mu(0, buf, sizeof buf), "0.00");
    assert_string_equal(units_format_mu(12599.96, buf, sizeof buf), "18.90");
    assert_string_equal(units_format_mu(3333.33, buf, sizeof buf), "5.00");
    /* 1 公顷 = 15 亩 */
    assert_string_equal(units_format_mu(10000, buf, sizeof buf), "15.00");
    /* half a hundredth rounds away from zero: 0.005 亩 = 3.3333… m²; 100/30 m² is exactly it */
    assert_string_equal(units_format_mu(100.0 / 30.0, buf, sizeof buf), "0.01");
    assert_string_equal(units_format_mu(3.3, buf, sizeof buf), "0.00");
    assert_string_equal(units_format_mu(1e9, buf, sizeof buf), "1500000.00");
    assert_string_equal(units_format_mu(-666.67, buf, sizeof buf), "-1.00");
    assert_true(units_m2_to_mu(666.6666666667) > 0.9999999 &&
                units_m2_to_mu(666.6666666667) < 1.0000001);
}

static void
test_mu_ignores_locale(void **state)
{
    (void)state;
    char buf[32];
    /* A decimal comma must never reach a PDF; fr_FR may be absent, then this is the C locale. */
    setlocale(LC_NUMERIC, "fr_FR.UTF-8");
    assert_string_equal(units_format_mu(1234.5, buf, sizeof buf), "1.85");
    setlocale(LC_NUMERIC, "C");
}

static void
test_docno(void **state)
{
    (void)state;
    char buf[64];
    assert_true(docno_format("南资规", 2022, 12, buf, sizeof buf));
    assert_string_equal(buf, "南资规〔2022〕12号");
    assert_true(docno_format("示自然资发", 2024, 1, buf, sizeof buf));
    assert_string_equal(buf, "示自然资发〔2024〕1号");
    assert_false(docno_format("南资规", 22, 12, buf, sizeof buf));   /* year in full */
    assert_false(docno_format("南资规", 2022, 0, buf, sizeof buf));  /* from 1 */
    assert_false(docno_format("", 2022, 3, buf, sizeof buf));
    assert_string_equal(buf, "");
    char tiny[8];
    assert_false(docno_format("南资规", 2022, 12, tiny, sizeof tiny));
    assert_string_equal(tiny, "");

    char prefix[32];
    int y = 0, n = 0;
    assert_true(docno_parse("荥政办〔2018〕12号", prefix, sizeof prefix, &y, &n));
    assert_string_equal(prefix, "荥政办");
    assert_int_equal(y, 2018);
    assert_int_equal(n, 12);
    assert_false(docno_parse("荥政办〔2018〕012号", prefix, sizeof prefix, &y, &n));
    assert_false(docno_parse("荥政办〔2018〕第12号", prefix, sizeof prefix, &y, &n));
    assert_false(docno_parse("荥政办[2018]12号", prefix, sizeof prefix, &y, &n));
    assert_false(docno_parse("荥政办〔18〕12号", prefix, sizeof prefix, &y, &n));
}

static void
test_cn_date(void **state)
{
    (void)state;
    char buf[32];
    cn_date d;
    assert_true(cn_date_parse("2022-11-02", &d));
    assert_string_equal(cn_date_format(d, buf, sizeof buf), "2022年11月2日");
    assert_string_equal(cn_date_format_iso(d, buf, sizeof buf), "2022-11-02");
    assert_true(cn_date_parse("2018/3/23", &d));
    assert_string_equal(cn_date_format(d, buf, sizeof buf), "2018年3月23日");
    assert_true(cn_date_parse("20240229", &d));
    assert_true(cn_date_parse("2022年1月5日", &d));
    assert_int_equal(d.month, 1);
    assert_false(cn_date_parse("2023-02-29", &d)); /* not a leap year */
    assert_false(cn_date_parse("1900-02-29", &d));
    assert_true(cn_date_parse("2000-02-29", &d));
    assert_false(cn_date_parse("2022-13-01", &d));
    assert_false(cn_date_parse("2022-11-31", &d));
    assert_false(cn_date_parse("2022-11-02x", &d));
    assert_false(cn_date_parse("", &d));
    assert_false(cn_date_parse(NULL, &d));
    cn_date invalid = {2022, 2, 30};
    assert_string_equal(cn_date_format(invalid, buf, sizeof buf), "");

    cn_date start = {2022, 12, 25};
    cn_date later = cn_date_add_days(start, 15); /* the 15-day verification window (seed 003) */
    assert_string_equal(cn_date_format_iso(later, buf, sizeof buf), "2023-01-09");
    assert_true(cn_date_cmp(later, start) > 0);
    cn_date leap = {2024, 2, 28};
    assert_string_equal(cn_date_format_iso(cn_date_add_days(leap, 1), buf, sizeof buf),
                        "2024-02-29");
    assert_string_equal(cn_date_format_iso(cn_date_add_days(leap, -59), buf, sizeof buf),
                        "2023-12-31");
}

static void
test_value_parsing(void **state)
{
    (void)state;
    legality l;
    assert_true(legality_parse("违法", &l) && l == LEGALITY_ILLEGAL);
    assert_true(legality_parse("违法用地", &l) && l == LEGALITY_ILLEGAL);
    assert_true(legality_parse("合法", &l) && l == LEGALITY_LEGAL);
    assert_true(legality_parse("其他用地", &l) && l == LEGALITY_OTHER);
    assert_false(legality_parse("违规", &l));
    assert_string_equal(legality_name(LEGALITY_OTHER), "其他用地");
    rectify_state s;
    assert_true(rectify_state_parse("销号", &s) && s == RECTIFY_ACCEPTED);
    assert_true(rectify_state_parse("", &s) && s == RECTIFY_NONE);
    assert_false(rectify_state_parse("done", &s));
    assert_string_equal(rectify_state_name(RECTIFY_CARRIED), "存违挂账");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mu_conversion), cmocka_unit_test(test_mu_ignores_locale),
        cmocka_unit_test(test_docno),         cmocka_unit_test(test_cn_date),
        cmocka_unit_test(test_value_parsing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
