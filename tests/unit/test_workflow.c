/* The rectification workflow (seed 000, 003): every allowed move, and forbidden ones with the
 * rule they break. */
#include "tb_features.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "workflow.h"

static const cn_date june = {2023, 6, 15};
static const cn_date december = {2023, 12, 1};

static void
expect_allowed(rectify_state from, rectify_state to, cn_date on)
{
    const char *rule = "unset";
    if (!workflow_allows(LEGALITY_ILLEGAL, from, to, on, 2023, &rule))
        fail_msg("%s → %s refused: %s", rectify_state_name(from), rectify_state_name(to), rule);
    assert_null(rule);
}

static void
expect_refused(legality l, rectify_state from, rectify_state to, cn_date on, const char *want)
{
    const char *rule = NULL;
    if (workflow_allows(l, from, to, on, 2023, &rule))
        fail_msg("%s → %s allowed", rectify_state_name(from), rectify_state_name(to));
    assert_non_null(rule);
    assert_string_equal(rule, want);
}

static void
test_allowed(void **state)
{
    (void)state;
    static const struct {
        rectify_state from, to;
    } ok[] = {
        {RECTIFY_NONE, RECTIFY_PENDING},    {RECTIFY_PENDING, RECTIFY_ONGOING},
        {RECTIFY_PENDING, RECTIFY_DONE},    {RECTIFY_PENDING, RECTIFY_CARRIED},
        {RECTIFY_ONGOING, RECTIFY_DONE},    {RECTIFY_ONGOING, RECTIFY_CARRIED},
        {RECTIFY_DONE, RECTIFY_ACCEPTED},   {RECTIFY_DONE, RECTIFY_ONGOING},
        {RECTIFY_CARRIED, RECTIFY_ONGOING}, {RECTIFY_CARRIED, RECTIFY_DONE},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        expect_allowed(ok[i].from, ok[i].to, december);
    /* everything but 存违挂账 is fine mid-year too */
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (ok[i].to != RECTIFY_CARRIED)
            expect_allowed(ok[i].from, ok[i].to, june);
    /* rule may be NULL */
    assert_true(workflow_allows(LEGALITY_ILLEGAL, RECTIFY_PENDING, RECTIFY_ONGOING, june, 2023,
                                NULL));
}

static void
test_forbidden(void **state)
{
    (void)state;
    expect_refused(LEGALITY_ILLEGAL, RECTIFY_PENDING, RECTIFY_ACCEPTED, june,
                   "未整改 goes on to 整改中, 已整改 or 存违挂账");
    expect_refused(LEGALITY_ILLEGAL, RECTIFY_PENDING, RECTIFY_NONE, june,
                   "未整改 goes on to 整改中, 已整改 or 存违挂账");
    expect_refused(LEGALITY_ILLEGAL, RECTIFY_ONGOING, RECTIFY_ACCEPTED, june,
                   "整改中 goes on to 已整改 or 存违挂账");
    expect_refused(LEGALITY_ILLEGAL, RECTIFY_ONGOING, RECTIFY_PENDING, june,
                   "整改中 goes on to 已整改 or 存违挂账");
    expect_refused(LEGALITY_ILLEGAL, RECTIFY_DONE, RECTIFY_PENDING, june,
                   "已整改 goes on to 已验收, or back to 整改中 when acceptance fails");
    expect_refused(LEGALITY_ILLEGAL, RECTIFY_DONE, RECTIFY_CARRIED, december,
                   "已整改 goes on to 已验收, or back to 整改中 when acceptance fails");
    expect_refused(LEGALITY_ILLEGAL, RECTIFY_CARRIED, RECTIFY_ACCEPTED, december,
                   "存违挂账 goes on to 整改中 or 已整改");
    expect_refused(LEGALITY_ILLEGAL, RECTIFY_CARRIED, RECTIFY_PENDING, december,
                   "存违挂账 goes on to 整改中 or 已整改");
    expect_refused(LEGALITY_ILLEGAL, RECTIFY_NONE, RECTIFY_ONGOING, june,
                   "rectification starts at 未整改");
    expect_refused(LEGALITY_ILLEGAL, RECTIFY_NONE, RECTIFY_ACCEPTED, june,
                   "rectification starts at 未整改");
    for (rectify_state to = RECTIFY_NONE; to <= RECTIFY_CARRIED; to++)
        if (to != RECTIFY_ACCEPTED)
            expect_refused(LEGALITY_ILLEGAL, RECTIFY_ACCEPTED, to, december,
                           "已验收 (销号) is final");
}

static void
test_no_change(void **state)
{
    (void)state;
    for (rectify_state s = RECTIFY_NONE; s <= RECTIFY_CARRIED; s++)
        expect_refused(LEGALITY_ILLEGAL, s, s, december, "no change");
}

static void
test_only_illegal(void **state)
{
    (void)state;
    const char *want = "only 违法用地 patches are rectified";
    expect_refused(LEGALITY_LEGAL, RECTIFY_NONE, RECTIFY_PENDING, june, want);
    expect_refused(LEGALITY_OTHER, RECTIFY_PENDING, RECTIFY_ONGOING, june, want);
    expect_refused(LEGALITY_UNKNOWN, RECTIFY_NONE, RECTIFY_PENDING, june, want);
}

static void
test_carried_at_year_end(void **state)
{
    (void)state;
    const char *want = "存违挂账 is set at year end (from 1 December of the batch year)";
    cn_date nov30 = {2023, 11, 30};
    expect_refused(LEGALITY_ILLEGAL, RECTIFY_PENDING, RECTIFY_CARRIED, nov30, want);
    expect_refused(LEGALITY_ILLEGAL, RECTIFY_ONGOING, RECTIFY_CARRIED, june, want);
    expect_allowed(RECTIFY_ONGOING, RECTIFY_CARRIED, december);
    cn_date dec31 = {2023, 12, 31}, next_year = {2024, 3, 1};
    expect_allowed(RECTIFY_PENDING, RECTIFY_CARRIED, dec31);
    expect_allowed(RECTIFY_PENDING, RECTIFY_CARRIED, next_year);
    /* the batch year decides, not the calendar year of `on` */
    const char *rule = NULL;
    assert_false(workflow_allows(LEGALITY_ILLEGAL, RECTIFY_PENDING, RECTIFY_CARRIED, december,
                                 2024, &rule));
    assert_string_equal(rule, want);
}

static void
test_bad_state(void **state)
{
    (void)state;
    const char *rule = NULL;
    assert_false(workflow_allows(LEGALITY_ILLEGAL, (rectify_state)42, RECTIFY_DONE, june, 2023,
                                 &rule));
    assert_string_equal(rule, "unknown rectification state");
    assert_false(workflow_allows(LEGALITY_ILLEGAL, RECTIFY_PENDING, (rectify_state)42, june, 2023,
                                 &rule));
    assert_string_equal(rule, "unknown rectification state");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowed),           cmocka_unit_test(test_forbidden),
        cmocka_unit_test(test_no_change),         cmocka_unit_test(test_only_illegal),
        cmocka_unit_test(test_carried_at_year_end), cmocka_unit_test(test_bad_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
