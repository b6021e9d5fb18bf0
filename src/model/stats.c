/* DESIGN: one pass groups the patches by township (sorted pointers), then each figure is a
 * tally over a group.  Areas stay in m²: converting to 亩 is the formatter's job. */
#include "tb_features.h"

#include "stats.h"

#include "units.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool
stats_is_rectified(rectify_state s)
{
    return s == RECTIFY_DONE || s == RECTIFY_ACCEPTED;
}

static void
tally_add(stats_tally *t, const patch *p)
{
    t->count++;
    t->area_m2 += p->area_m2;
    t->farmland_m2 += p->farmland_m2;
    t->basic_farmland_m2 += p->basic_farmland_m2;
}

static bool
eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static int
by_township_then_id(const void *x, const void *y)
{
    const patch *a = *(const patch *const *)x, *b = *(const patch *const *)y;
    int c = strcmp(a->admin_code ? a->admin_code : "", b->admin_code ? b->admin_code : "");
    return c ? c : strcmp(a->id, b->id);
}

static int
by_id(const void *x, const void *y)
{
    return strcmp((*(const patch *const *)x)->id, (*(const patch *const *)y)->id);
}

/* The patches with a township, sorted by township then id (a copy of the pointer array). */
static const patch **
sorted_by_township(const patch *const *patches, size_t count, size_t *out, tb_arena *a)
{
    const patch **s = tb_arena_array(a, count + 1, sizeof *s);
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        if (patches[i]->admin_code && patches[i]->admin_code[0])
            s[n++] = patches[i];
    qsort(s, n, sizeof *s, by_township_then_id);
    *out = n;
    return s;
}

static const patch *
find_by_id(const patch **sorted, size_t n, const char *id)
{
    patch key = {.id = id};
    const patch *kp = &key;
    const patch **hit = n ? bsearch(&kp, sorted, n, sizeof *sorted, by_id) : NULL;
    return hit ? *hit : NULL;
}

/* What a rectified illegal patch counts as in the monthly report. */
typedef enum progress_kind { PK_NONE, PK_FARM, PK_GREEN, PK_APPROVED } progress_kind;

static progress_kind
progress_kind_of(const patch *p)
{
    if (eq(p->measure, "拆除复耕"))
        return PK_FARM;
    if (eq(p->measure, "拆除复绿"))
        return PK_GREEN;
    if (eq(p->measure, "补办手续"))
        return PK_APPROVED;
    return PK_NONE;
}

static bool
is_mineral(const patch *p)
{
    return eq(p->kind, "矿产");
}

static void
progress_add(stats_progress *g, const patch *p, const patch *before, cn_date cutoff)
{
    tally_add(&g->changed, p);
    if (p->rural_housing)
        tally_add(&g->rural_housing, p);
    if (p->legality == LEGALITY_LEGAL)
        tally_add(&g->legal, p);
    else if (p->legality == LEGALITY_OTHER)
        tally_add(&g->other, p);
    else if (p->legality == LEGALITY_UNKNOWN)
        tally_add(&g->unjudged, p);
    if (p->legality == LEGALITY_LEGAL || p->legality == LEGALITY_ILLEGAL)
        tally_add(&g->construction, p);
    if (p->legality != LEGALITY_ILLEGAL)
        return;
    tally_add(&g->illegal, p);
    bool done = stats_is_rectified(p->state);
    bool done_before = before && before->legality == LEGALITY_ILLEGAL &&
                       stats_is_rectified(before->state);
    if (!done) {
        if (cn_date_valid(p->deadline) && cn_date_cmp(p->deadline, cutoff) < 0)
            tally_add(&g->overdue, p);
        return;
    }
    bool month = !done_before;
    tally_add(&g->rectified, p);
    if (month)
        tally_add(&g->rectified_month, p);
    stats_tally *all = NULL, *now = NULL;
    switch (progress_kind_of(p)) {
    case PK_FARM: all = &g->restored_farm, now = &g->restored_farm_month; break;
    case PK_GREEN: all = &g->restored_green, now = &g->restored_green_month; break;
    case PK_APPROVED: all = &g->approved, now = &g->approved_month; break;
    case PK_NONE: break;
    }
    if (all) {
        tally_add(all, p);
        if (month)
            tally_add(now, p);
    }
    if (is_mineral(p)) {
        tally_add(&g->mineral, p);
        if (month)
            tally_add(&g->mineral_month, p);
    }
}

static void
progress_finish(stats_progress *g, const patch **members, size_t n, cn_date cutoff, tb_arena *a)
{
    g->rectified_share = g->illegal.count ? (double)g->rectified.count / g->illegal.count : 0;
    g->overdue_patches = tb_arena_array(a, (size_t)g->overdue.count + 1,
                                        sizeof *g->overdue_patches);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const patch *p = members[i];
        if (p->legality == LEGALITY_ILLEGAL && !stats_is_rectified(p->state) &&
            cn_date_valid(p->deadline) && cn_date_cmp(p->deadline, cutoff) < 0)
            g->overdue_patches[k++] = p;
    }
    qsort(g->overdue_patches, k, sizeof *g->overdue_patches, by_id);
}

stats_monthly *
stats_monthly_compute(const patch *const *now, size_t count, const patch *const *before,
                      size_t before_count, cn_date cutoff, cn_date previous_cutoff, tb_arena *a)
{
    stats_monthly *m = tb_arena_alloc(a, sizeof *m);
    memset(m, 0, sizeof *m);
    m->cutoff = cutoff;
    m->previous_cutoff = previous_cutoff;
    size_t n, bn = 0;
    const patch **s = sorted_by_township(now, count, &n, a);
    const patch **b = tb_arena_array(a, before_count + 1, sizeof *b);
    for (size_t i = 0; i < before_count; i++)
        b[bn++] = before[i];
    qsort(b, bn, sizeof *b, by_id);

    size_t groups = 0;
    for (size_t i = 0; i < n; i++)
        groups += i == 0 || strcmp(s[i]->admin_code, s[i - 1]->admin_code) != 0;
    m->townships = tb_arena_array(a, groups + 1, sizeof *m->townships);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && strcmp(s[j]->admin_code, s[i]->admin_code) == 0)
            j++;
        stats_progress *g = &m->townships[m->township_count++];
        memset(g, 0, sizeof *g);
        g->code = s[i]->admin_code;
        for (size_t k = i; k < j && g->name == NULL; k++)
            g->name = s[k]->admin_name && s[k]->admin_name[0] ? s[k]->admin_name : NULL;
        for (size_t k = i; k < j; k++) {
            const patch *prev = find_by_id(b, bn, s[k]->id);
            progress_add(g, s[k], prev, cutoff);
            progress_add(&m->county, s[k], prev, cutoff);
        }
        progress_finish(g, s + i, j - i, cutoff, a);
        i = j;
    }
    progress_finish(&m->county, s, n, cutoff, a);
    return m;
}

/* ---- interviews ------------------------------------------------------------------------------ */

static double
general_farmland_m2(const patch *p)
{
    double g = p->farmland_m2 - p->basic_farmland_m2;
    return g > 0 ? g : 0;
}

static const interview_flag *
flagged(const interview_rules *r, const char *code)
{
    for (size_t i = 0; i < r->flag_count; i++)
        if (strcmp(r->flags[i].code, code) == 0)
            return &r->flags[i];
    return NULL;
}

const char *
stats_interview_grounds(const interview_finding *f, const interview_rules *r, tb_arena *a)
{
    if (f->reasons == 0)
        return NULL;
    const char *s = "";
    if (f->reasons & INTERVIEW_RATIO)
        s = tb_arena_printf(a, "违法占用耕地比例达到%g%%", r->farmland_ratio * 100);
    if (f->reasons & INTERVIEW_BASIC_CASE)
        s = tb_arena_printf(a, "%s%s单宗占用永久基本农田%g亩以上", s, *s ? "、" : "",
                            r->basic_case_mu);
    if (f->reasons & INTERVIEW_GENERAL_CASE)
        s = tb_arena_printf(a, "%s%s单宗占用一般耕地%g亩以上", s, *s ? "、" : "",
                            r->general_case_mu);
    if (f->reasons & INTERVIEW_FLAGGED)
        s = tb_arena_printf(a, "%s%s人工标记（%s）", s, *s ? "、" : "", f->flag_reason);
    return s;
}

static const char *
explain(const interview_finding *f, const interview_rules *r, tb_arena *a)
{
    char ill[32], con[32], b[32], g[32];
    units_format_mu(f->illegal_farmland_m2, ill, sizeof ill);
    units_format_mu(f->construction_farmland_m2, con, sizeof con);
    units_format_mu(f->largest_basic ? f->largest_basic->basic_farmland_m2 : 0, b, sizeof b);
    units_format_mu(f->largest_general ? general_farmland_m2(f->largest_general) : 0, g,
                    sizeof g);
    const char *ratio = f->construction_farmland_m2 > 0
                            ? tb_arena_printf(a, "%.1f%%", f->ratio * 100)
                            : "—（无新增建设用地占用耕地）";
    const char *text = tb_arena_printf(
        a, "违法占用耕地%s亩，新增建设用地占用耕地%s亩，比例%s（约谈线%.0f%%）%s；"
           "单宗最大占用永久基本农田%s亩%s%s（约谈线%g亩）%s；单宗最大占用一般耕地%s亩%s%s（约谈线%g亩）%s",
        ill, con, ratio, r->farmland_ratio * 100, f->reasons & INTERVIEW_RATIO ? "，达到" : "",
        b, f->largest_basic ? "（" : "", f->largest_basic ? tb_arena_printf(a, "%s）",
                                                                            f->largest_basic->id)
                                                          : "",
        r->basic_case_mu, f->reasons & INTERVIEW_BASIC_CASE ? "，达到" : "", g,
        f->largest_general ? "（" : "",
        f->largest_general ? tb_arena_printf(a, "%s）", f->largest_general->id) : "",
        r->general_case_mu, f->reasons & INTERVIEW_GENERAL_CASE ? "，达到" : "");
    if (f->reasons & INTERVIEW_FLAGGED)
        text = tb_arena_printf(a, "%s；人工标记：%s", text, f->flag_reason);
    return tb_arena_printf(a, "%s。%s", text, f->reasons ? "应予约谈" : "未达到约谈条件");
}

static int
finding_by_code(const void *x, const void *y)
{
    return strcmp(((const interview_finding *)x)->code, ((const interview_finding *)y)->code);
}

interview_finding *
stats_interviews(const patch *const *patches, size_t count, const interview_rules *rules,
                 size_t *out_count, tb_arena *a)
{
    size_t n;
    const patch **s = sorted_by_township(patches, count, &n, a);
    size_t groups = 0;
    for (size_t i = 0; i < n; i++)
        groups += i == 0 || strcmp(s[i]->admin_code, s[i - 1]->admin_code) != 0;
    interview_finding *out = tb_arena_array(a, groups + rules->flag_count + 1, sizeof *out);
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && strcmp(s[j]->admin_code, s[i]->admin_code) == 0)
            j++;
        interview_finding *f = &out[k++];
        memset(f, 0, sizeof *f);
        f->code = s[i]->admin_code;
        for (size_t q = i; q < j; q++) {
            const patch *p = s[q];
            if (f->name == NULL && p->admin_name && p->admin_name[0])
                f->name = p->admin_name;
            if (p->legality == LEGALITY_LEGAL || p->legality == LEGALITY_ILLEGAL)
                f->construction_farmland_m2 += p->farmland_m2;
            if (p->legality != LEGALITY_ILLEGAL)
                continue;
            f->illegal_farmland_m2 += p->farmland_m2;
            if (p->basic_farmland_m2 > 0 &&
                (!f->largest_basic || p->basic_farmland_m2 > f->largest_basic->basic_farmland_m2))
                f->largest_basic = p;
            if (general_farmland_m2(p) > 0 &&
                (!f->largest_general ||
                 general_farmland_m2(p) > general_farmland_m2(f->largest_general)))
                f->largest_general = p;
        }
        f->ratio = f->construction_farmland_m2 > 0
                       ? f->illegal_farmland_m2 / f->construction_farmland_m2
                       : 0;
        /* Compare in 亩 as printed (2 decimals), so the document and the rule agree. */
        double basic_mu = f->largest_basic ? units_m2_to_mu(f->largest_basic->basic_farmland_m2)
                                           : 0;
        double general_mu = f->largest_general
                                ? units_m2_to_mu(general_farmland_m2(f->largest_general))
                                : 0;
        if (f->construction_farmland_m2 > 0 && f->ratio + 1e-12 >= rules->farmland_ratio)
            f->reasons |= INTERVIEW_RATIO;
        if (rules->basic_case_mu > 0 && round(basic_mu * 100) >= round(rules->basic_case_mu * 100))
            f->reasons |= INTERVIEW_BASIC_CASE;
        if (rules->general_case_mu > 0 &&
            round(general_mu * 100) >= round(rules->general_case_mu * 100))
            f->reasons |= INTERVIEW_GENERAL_CASE;
        const interview_flag *flag = flagged(rules, f->code);
        if (flag) {
            f->reasons |= INTERVIEW_FLAGGED;
            f->flag_reason = flag->reason;
        }
        f->explanation = explain(f, rules, a);
        i = j;
    }
    /* A township flagged by hand is found even when the batch has no patch of it. */
    for (size_t q = 0; q < rules->flag_count; q++) {
        bool seen = false;
        for (size_t i = 0; i < k && !seen; i++)
            seen = strcmp(out[i].code, rules->flags[q].code) == 0;
        if (seen)
            continue;
        interview_finding *f = &out[k++];
        memset(f, 0, sizeof *f);
        f->code = rules->flags[q].code;
        f->reasons = INTERVIEW_FLAGGED;
        f->flag_reason = rules->flags[q].reason;
        f->explanation = explain(f, rules, a);
    }
    qsort(out, k, sizeof *out, finding_by_code);
    *out_count = k;
    return out;
}

/* ---- classification ----------------------------------------------------------------------- */

enum { CL_OCCUPY, CL_UNAPPROVED, CL_UNREPORTED, CL_DURING, CL_APPROVE, CL_TRANSFER, CL_OTHER,
       CL_COUNT };

static const struct {
    const char *label;
    int depth, parent;
} classes[CL_COUNT] = {
    [CL_OCCUPY] = {"违法占地", 0, -1},     [CL_UNAPPROVED] = {"其中：未批先用", 1, CL_OCCUPY},
    [CL_UNREPORTED] = {"未报即用", 2, CL_UNAPPROVED}, [CL_DURING] = {"边报边用", 2, CL_UNAPPROVED},
    [CL_APPROVE] = {"违法批地", 0, -1},    [CL_TRANSFER] = {"违法转让", 0, -1},
    [CL_OTHER] = {"其他", 0, -1},
};

/* The most specific class of a 违法类型 value; older tables flag the kind of 未批先用. */
static int
class_of(const char *v)
{
    if (v == NULL || v[0] == '\0')
        return CL_OTHER;
    if (strstr(v, "未报即用"))
        return CL_UNREPORTED;
    if (strstr(v, "边报边用"))
        return CL_DURING;
    if (strstr(v, "未批先用"))
        return CL_UNAPPROVED;
    if (strstr(v, "批地"))
        return CL_APPROVE;
    if (strstr(v, "转让"))
        return CL_TRANSFER;
    if (strstr(v, "占地") || strstr(v, "超占") || strstr(v, "多占"))
        return CL_OCCUPY;
    return CL_OTHER;
}

static double
share(double part, double whole)
{
    return whole > 0 ? part / whole : 0;
}

stats_classification *
stats_classify(const patch *const *patches, size_t count, tb_arena *a)
{
    stats_classification *c = tb_arena_alloc(a, sizeof *c);
    memset(c, 0, sizeof *c);
    c->rows = tb_arena_array(a, CL_COUNT, sizeof *c->rows);
    c->row_count = CL_COUNT;
    for (int k = 0; k < CL_COUNT; k++) {
        memset(&c->rows[k], 0, sizeof c->rows[k]);
        c->rows[k].label = classes[k].label;
        c->rows[k].depth = classes[k].depth;
    }
    stats_tally construction = {0}, filed = {0}, filed_done = {0};
    for (size_t i = 0; i < count; i++) {
        const patch *p = patches[i];
        if (p->legality == LEGALITY_LEGAL || p->legality == LEGALITY_ILLEGAL)
            tally_add(&construction, p);
        if (p->legality != LEGALITY_ILLEGAL)
            continue;
        tally_add(&c->illegal, p);
        for (int k = class_of(p->violation); k >= 0; k = classes[k].parent)
            tally_add(&c->rows[k].tally, p);
        if (eq(p->measure, "立案查处")) {
            tally_add(&filed, p);
            if (stats_is_rectified(p->state))
                tally_add(&filed_done, p);
        }
    }
    for (int k = 0; k < CL_COUNT; k++) {
        const stats_tally *whole = classes[k].parent < 0 ? &c->illegal
                                                         : &c->rows[classes[k].parent].tally;
        c->rows[k].share_count = share((double)c->rows[k].tally.count, (double)whole->count);
        c->rows[k].share_area = share(c->rows[k].tally.area_m2, whole->area_m2);
    }
    c->illegal_share_count = construction.count ? share((double)c->illegal.count,
                                                        (double)construction.count)
                                                : NAN;
    c->illegal_share_area = construction.area_m2 > 0 ? share(c->illegal.area_m2,
                                                             construction.area_m2)
                                                     : NAN;
    c->filing_rate = c->illegal.count ? share((double)filed.count, (double)c->illegal.count) : NAN;
    c->completion_rate = filed.count ? share((double)filed_done.count, (double)filed.count) : NAN;
    c->discovery_rate = NAN;
    return c;
}
