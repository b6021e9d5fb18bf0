/* Working days, deadlines and the figures every document states (model/workcal, model/stats). */
#include "tb_features.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "units.h"
#include "workcal.h"

static cn_date
D(int y, int m, int d)
{
    return (cn_date){y, m, d};
}

static void
assert_date(cn_date got, int y, int m, int d)
{
    char buf[32];
    cn_date_format_iso(got, buf, sizeof buf);
    char want[32];
    snprintf(want, sizeof want, "%04d-%02d-%02d", y, m, d);
    assert_string_equal(buf, want);
}

static workcal *
load_years(void)
{
    workcal *c = workcal_new();
    for (int y = 2024; y <= 2026; y++) {
        char path[512];
        snprintf(path, sizeof path, "%s/data/holidays/%d.txt", TUBAN_SOURCE_DIR, y);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        char buf[8192];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        tb_err err = {0};
        assert_int_equal(workcal_add(c, buf, n, path, &err), TB_OK);
    }
    return c;
}

static void
test_weekday(void **state)
{
    (void)state;
    assert_int_equal(cn_date_weekday(D(1970, 1, 1)), 4); /* Thursday */
    assert_int_equal(cn_date_weekday(D(2025, 1, 26)), 0); /* Sunday */
    assert_int_equal(cn_date_weekday(D(2024, 2, 29)), 4);
    assert_int_equal(cn_date_weekday(D(2026, 12, 2)), 3); /* Wednesday */
}

static void
test_schedule(void **state)
{
    (void)state;
    workcal *c = load_years();
    assert_true(workcal_confirmed(c, 2025));
    assert_false(workcal_confirmed(c, 2027));
    assert_non_null(strstr(workcal_source(c, 2025), "国办发明电〔2024〕12号"));
    assert_true(workcal_is_workday(c, D(2025, 1, 26)));   /* Sunday, 调休上班 */
    assert_false(workcal_is_workday(c, D(2025, 1, 28)));  /* 春节 */
    assert_false(workcal_is_workday(c, D(2025, 2, 1)));   /* Saturday in 春节 */
    assert_true(workcal_is_workday(c, D(2025, 2, 5)));    /* an ordinary Wednesday */
    assert_false(workcal_is_workday(c, D(2025, 2, 9)));   /* an ordinary Sunday */

    /* 3 个工作日 from 2025-09-30: 10-01..08 off, 10-09 Thu, 10-10 Fri, 10-11 Sat (调休上班). */
    bool unconfirmed = false;
    assert_date(workcal_add_workdays(c, D(2025, 9, 30), 3, &unconfirmed), 2025, 10, 11);
    assert_false(unconfirmed);
    /* Across the 2026 new year: 12-31 Wed → 2026-01-01..03 off, 01-04 Sun works. */
    assert_date(workcal_add_workdays(c, D(2025, 12, 31), 1, &unconfirmed), 2026, 1, 4);
    assert_false(unconfirmed);

    /* 2027 is not published: weekends only, and the answer says it is unconfirmed. */
    assert_date(workcal_add_workdays(c, D(2026, 12, 30), 5, &unconfirmed), 2027, 1, 6);
    assert_true(unconfirmed);

    /* An operator's override file: 2027's new year published; entries win, the year confirms. */
    const char *override = "year 2027\nsource 运维补录\n2027-01-01 off 元旦\n2027-01-04 off 测试\n";
    tb_err err = {0};
    assert_int_equal(workcal_add(c, override, strlen(override), "override.txt", &err), TB_OK);
    unconfirmed = false;
    assert_date(workcal_add_workdays(c, D(2026, 12, 30), 5, &unconfirmed), 2027, 1, 8);
    assert_false(unconfirmed);
    /* and an override can turn a built-in holiday into a working day */
    const char *fix = "year 2025\n2025-01-28 work\n";
    assert_int_equal(workcal_add(c, fix, strlen(fix), "fix.txt", &err), TB_OK);
    assert_true(workcal_is_workday(c, D(2025, 1, 28)));
    workcal_free(c);
}

static void
test_schedule_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"2025-01-01 off\n", "f.txt:1: 2025-01-01 is not in year 0"},
        {"year 2025\n2025-02-30 off\n", "f.txt:2: expected"},
        {"year 2025\n2025-02-03 holiday\n", "f.txt:2: expected"},
        {"year 12\n", "f.txt:1: expected 'year YYYY'"},
        {"# only a comment\n", "no 'year' line"},
        {"source x\n", "f.txt:1: 'source' before 'year'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        workcal *c = workcal_new();
        tb_err err = {0};
        assert_int_equal(workcal_add(c, bad[i].text, strlen(bad[i].text), "f.txt", &err),
                         TB_EFORMAT);
        if (strstr(err.msg, bad[i].want) == NULL)
            fail_msg("%s: got '%s', want '%s'", bad[i].text, err.msg, bad[i].want);
        /* nothing of a refused file is kept */
        assert_false(workcal_confirmed(c, 2025));
        workcal_free(c);
    }
}

static void
test_deadlines(void **state)
{
    (void)state;
    workcal *c = load_years();
    deadline_spec s;
    bool unc = false;
    assert_true(deadline_parse("2025-03-31", &s));
    assert_date(deadline_resolve(&s, D(2025, 1, 1), c, &unc), 2025, 3, 31);
    assert_true(deadline_parse("2025年3月31日", &s));
    assert_int_equal(s.kind, DEADLINE_DATE);
    assert_true(deadline_parse("30日", &s));
    assert_date(deadline_resolve(&s, D(2025, 1, 20), c, &unc), 2025, 2, 19);
    assert_true(deadline_parse("15个工作日", &s));
    assert_int_equal(s.kind, DEADLINE_WORKDAYS);
    assert_int_equal(s.n, 15);
    /* From 2025-01-20 (Mon): 21,22,23,24 (4), 26 Sun 调休 (5), 27 (6), 28..02-04 off,
     * 02-05 (7), 06 (8), 07 (9), 08 Sat 调休 (10), 10..14 (15) */
    assert_date(deadline_resolve(&s, D(2025, 1, 20), c, &unc), 2025, 2, 14);
    assert_false(unc);
    assert_false(deadline_parse("十五个工作日", &s));
    assert_false(deadline_parse("0日", &s));
    assert_false(deadline_parse("15个月", &s));
    assert_false(deadline_parse("", &s));
    workcal_free(c);
}

/* ---- stats -------------------------------------------------------------------------------- */

static patch
P(const char *id, const char *code, const char *name, legality l, const char *measure,
  rectify_state st, double farm_mu, double basic_mu)
{
    patch p = {0};
    p.id = id;
    p.admin_code = code;
    p.admin_name = name;
    p.legality = l;
    p.measure = measure;
    p.state = st;
    p.kind = "土地";
    p.farmland_m2 = farm_mu * TB_M2_PER_MU;
    p.basic_farmland_m2 = basic_mu * TB_M2_PER_MU;
    p.area_m2 = p.farmland_m2 + 100;
    return p;
}

static void
test_monthly(void **state)
{
    (void)state;
    patch now[] = {
        P("A1", "001", "甲镇", LEGALITY_ILLEGAL, "拆除复耕", RECTIFY_DONE, 2, 0),
        P("A2", "001", "甲镇", LEGALITY_ILLEGAL, "拆除复耕", RECTIFY_ACCEPTED, 3, 1),
        P("A3", "001", "甲镇", LEGALITY_ILLEGAL, "补办手续", RECTIFY_ONGOING, 4, 0),
        P("A4", "001", "甲镇", LEGALITY_LEGAL, NULL, RECTIFY_NONE, 10, 0),
        P("B1", "002", "乙乡", LEGALITY_ILLEGAL, "拆除复绿", RECTIFY_DONE, 1, 0),
        P("B2", "002", "乙乡", LEGALITY_ILLEGAL, "补办手续", RECTIFY_DONE, 5, 0),
        P("B3", "002", "乙乡", LEGALITY_OTHER, NULL, RECTIFY_NONE, 7, 0),
        P("C1", "003", "丙街道", LEGALITY_ILLEGAL, "立案查处", RECTIFY_DONE, 0.5, 0),
    };
    now[2].deadline = D(2025, 3, 1); /* overdue at the 2025-03-20 cut-off */
    now[7].kind = "矿产";
    patch before[] = {
        P("A1", "001", "甲镇", LEGALITY_ILLEGAL, "拆除复耕", RECTIFY_DONE, 2, 0),
        P("A2", "001", "甲镇", LEGALITY_ILLEGAL, "拆除复耕", RECTIFY_ONGOING, 3, 1),
        P("B2", "002", "乙乡", LEGALITY_ILLEGAL, "补办手续", RECTIFY_ONGOING, 5, 0),
    };
    const patch *np[8], *bp[3];
    for (int i = 0; i < 8; i++)
        np[i] = &now[i];
    for (int i = 0; i < 3; i++)
        bp[i] = &before[i];
    tb_arena *a = tb_arena_new(0);
    stats_monthly *m = stats_monthly_compute(np, 8, bp, 3, D(2025, 3, 20), D(2025, 2, 20), a);
    assert_int_equal(m->township_count, 3);
    const stats_progress *t1 = &m->townships[0], *t2 = &m->townships[1], *c = &m->county;
    assert_string_equal(t1->name, "甲镇");
    assert_int_equal(t1->illegal.count, 3);
    assert_int_equal(t1->construction.count, 4);
    assert_int_equal(t1->restored_farm.count, 2);
    assert_int_equal(t1->restored_farm_month.count, 1); /* A2 changed this month, A1 before */
    assert_true(fabs(units_m2_to_mu(t1->restored_farm.farmland_m2) - 5) < 1e-9);
    assert_int_equal(t1->approved.count, 0);
    assert_int_equal(t1->overdue.count, 1);
    assert_string_equal(t1->overdue_patches[0]->id, "A3");
    assert_true(fabs(t1->rectified_share - 2.0 / 3.0) < 1e-12);
    assert_int_equal(t2->restored_green.count, 1);
    assert_int_equal(t2->restored_green_month.count, 1); /* B1 absent before: new this month */
    assert_int_equal(t2->approved.count, 1);
    assert_int_equal(t2->approved_month.count, 1);
    assert_int_equal(t2->construction.count, 2); /* 其他用地 is not construction */
    assert_int_equal(c->illegal.count, 6);
    assert_int_equal(c->rectified.count, 5);
    assert_int_equal(c->rectified_month.count, 4);
    assert_int_equal(c->mineral.count, 1);
    assert_int_equal(c->overdue.count, 1);
    tb_arena_free(a);
}

static void
test_interviews(void **state)
{
    (void)state;
    patch ps[] = {
        /* 甲: ratio 3/(3+10) = 23% ≥ 15% */
        P("A1", "001", "甲镇", LEGALITY_ILLEGAL, "拆除复耕", RECTIFY_PENDING, 3, 0),
        P("A2", "001", "甲镇", LEGALITY_LEGAL, NULL, RECTIFY_NONE, 10, 0),
        /* 乙: ratio 5.2/(5.2+100) < 15%, but one case with exactly 5.00 亩 基本农田 */
        P("B1", "002", "乙乡", LEGALITY_ILLEGAL, "立案查处", RECTIFY_PENDING, 5.2, 5.0),
        P("B2", "002", "乙乡", LEGALITY_LEGAL, NULL, RECTIFY_NONE, 100, 0),
        /* 丙: 4.99 亩 基本农田, 9.99 亩 一般耕地: below every line, 1.6% */
        P("C1", "003", "丙镇", LEGALITY_ILLEGAL, "拆除复耕", RECTIFY_PENDING, 4.99, 4.99),
        P("C2", "003", "丙镇", LEGALITY_ILLEGAL, "拆除复耕", RECTIFY_PENDING, 9.99, 0),
        P("C3", "003", "丙镇", LEGALITY_LEGAL, NULL, RECTIFY_NONE, 900, 0),
        /* 丁: flagged by hand only */
        P("D1", "004", "丁镇", LEGALITY_LEGAL, NULL, RECTIFY_NONE, 1, 0),
    };
    const patch *pp[8];
    for (int i = 0; i < 8; i++)
        pp[i] = &ps[i];
    const interview_flag flags[] = {{"004", "上报数据虚报瞒报"}};
    interview_rules r = {0.15, 5, 10, flags, 1};
    tb_arena *a = tb_arena_new(0);
    size_t n;
    interview_finding *f = stats_interviews(pp, 8, &r, &n, a);
    assert_int_equal(n, 4);
    assert_int_equal(f[0].reasons, INTERVIEW_RATIO);
    assert_true(fabs(f[0].ratio - 3.0 / 13.0) < 1e-12);
    assert_non_null(strstr(f[0].explanation, "比例23.1%"));
    assert_int_equal(f[1].reasons, INTERVIEW_BASIC_CASE);
    assert_string_equal(f[1].largest_basic->id, "B1");
    assert_int_equal(f[2].reasons, 0);
    assert_non_null(strstr(f[2].explanation, "未达到约谈条件"));
    assert_non_null(strstr(f[2].explanation, "4.99亩"));
    assert_string_equal(f[2].largest_general->id, "C2");
    assert_int_equal(f[3].reasons, INTERVIEW_FLAGGED);
    assert_non_null(strstr(f[3].explanation, "上报数据虚报瞒报"));
    assert_null(stats_interview_grounds(&f[2], &r, a));
    assert_string_equal(stats_interview_grounds(&f[0], &r, a), "违法占用耕地比例达到15%");
    assert_string_equal(stats_interview_grounds(&f[3], &r, a), "人工标记（上报数据虚报瞒报）");
    tb_arena_free(a);
}

static void
test_classification(void **state)
{
    (void)state;
    patch ps[] = {
        P("1", "001", "甲镇", LEGALITY_ILLEGAL, "立案查处", RECTIFY_DONE, 1, 0),
        P("2", "001", "甲镇", LEGALITY_ILLEGAL, "立案查处", RECTIFY_PENDING, 1, 0),
        P("3", "001", "甲镇", LEGALITY_ILLEGAL, "拆除复耕", RECTIFY_PENDING, 1, 0),
        P("4", "001", "甲镇", LEGALITY_ILLEGAL, "拆除复耕", RECTIFY_PENDING, 1, 0),
        P("5", "001", "甲镇", LEGALITY_LEGAL, NULL, RECTIFY_NONE, 1, 0),
        P("6", "001", "甲镇", LEGALITY_LEGAL, NULL, RECTIFY_NONE, 1, 0),
        P("7", "001", "甲镇", LEGALITY_LEGAL, NULL, RECTIFY_NONE, 1, 0),
        P("8", "001", "甲镇", LEGALITY_LEGAL, NULL, RECTIFY_NONE, 1, 0),
    };
    ps[0].violation = "未报即用";
    ps[1].violation = "边报边用";
    ps[2].violation = "未批先用";
    ps[3].violation = "违法批地";
    const patch *pp[8];
    for (int i = 0; i < 8; i++)
        pp[i] = &ps[i];
    tb_arena *a = tb_arena_new(0);
    stats_classification *c = stats_classify(pp, 8, a);
    assert_int_equal(c->illegal.count, 4);
    assert_string_equal(c->rows[0].label, "违法占地");
    assert_int_equal(c->rows[0].tally.count, 3);
    assert_int_equal(c->rows[1].tally.count, 3); /* 未批先用 */
    assert_int_equal(c->rows[2].tally.count, 1); /* 未报即用 */
    assert_true(fabs(c->rows[2].share_count - 1.0 / 3.0) < 1e-12);
    assert_int_equal(c->rows[4].tally.count, 1); /* 违法批地 */
    assert_true(fabs(c->illegal_share_count - 0.5) < 1e-12);
    assert_true(fabs(c->filing_rate - 0.5) < 1e-12);
    assert_true(fabs(c->completion_rate - 0.5) < 1e-12);
    assert_true(isnan(c->discovery_rate));
    tb_arena_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weekday),     cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_schedule_errors), cmocka_unit_test(test_deadlines),
        cmocka_unit_test(test_monthly),     cmocka_unit_test(test_interviews),
        cmocka_unit_test(test_classification),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
