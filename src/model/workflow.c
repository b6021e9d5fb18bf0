/* The rectification workflow as data (STYLE R3): one row per state says where it may go next and
 * which rule a refused move breaks.  Rules that do not depend on the state the patch is in (only
 * 违法用地 is rectified, no-op changes, 存违挂账 only at year end) are checked around the table. */
#include "tb_features.h"

#include "workflow.h"

#define BIT(s) (1u << (s))

static const struct {
    rectify_state from;
    unsigned to;      /* BIT() of every state reachable from `from` */
    const char *rule; /* what a move not in `to` breaks */
} moves[] = {
    {RECTIFY_NONE, BIT(RECTIFY_PENDING), "rectification starts at 未整改"},
    {RECTIFY_PENDING, BIT(RECTIFY_ONGOING) | BIT(RECTIFY_DONE) | BIT(RECTIFY_CARRIED),
     "未整改 goes on to 整改中, 已整改 or 存违挂账"},
    {RECTIFY_ONGOING, BIT(RECTIFY_DONE) | BIT(RECTIFY_CARRIED),
     "整改中 goes on to 已整改 or 存违挂账"},
    {RECTIFY_DONE, BIT(RECTIFY_ACCEPTED) | BIT(RECTIFY_ONGOING),
     "已整改 goes on to 已验收, or back to 整改中 when acceptance fails"},
    {RECTIFY_ACCEPTED, 0, "已验收 (销号) is final"},
    {RECTIFY_CARRIED, BIT(RECTIFY_ONGOING) | BIT(RECTIFY_DONE),
     "存违挂账 goes on to 整改中 or 已整改"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool
refuse(const char **rule, const char *why)
{
    if (rule)
        *rule = why;
    return false;
}

bool
workflow_allows(legality l, rectify_state from, rectify_state to, cn_date on, int batch_year,
                const char **rule)
{
    if (l != LEGALITY_ILLEGAL)
        return refuse(rule, "only 违法用地 patches are rectified");
    if (from == to)
        return refuse(rule, "no change");
    size_t i = 0;
    while (i < COUNT(moves) && moves[i].from != from)
        i++;
    if (i == COUNT(moves) || (unsigned)to > RECTIFY_CARRIED)
        return refuse(rule, "unknown rectification state");
    if ((moves[i].to & BIT(to)) == 0)
        return refuse(rule, moves[i].rule);
    /* Carrying a violation over is a year-end decision (seed 003).  batch_year 0 = not known. */
    cn_date year_end = {batch_year, 12, 1};
    if (to == RECTIFY_CARRIED && batch_year > 0 && cn_date_cmp(on, year_end) < 0)
        return refuse(rule, "存违挂账 is set at year end (from 1 December of the batch year)");
    if (rule)
        *rule = NULL;
    return true;
}
