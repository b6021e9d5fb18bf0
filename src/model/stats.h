/* The figures every document states, computed once (issue 9: "every figure in every document
 * comes from one computation"): the monthly progress per township and for the county, the
 * interview (约谈) rules of the office's rule pack, the classification of illegal land use, and the
 * ratios the county reports give.  Pure functions over patches as they stood at a date (the
 * caller fills legality, measure, state and deadline from the store's as-of view). */
#ifndef TB_STATS_H
#define TB_STATS_H

#include "cn_date.h"
#include "patch.h"
#include "tb_arena.h"

#include <stdbool.h>
#include <stddef.h>

/* A count of patches with their areas. */
typedef struct stats_tally {
    long count;
    double area_m2, farmland_m2, basic_farmland_m2;
} stats_tally;

/* One township's (or, with code NULL, the county's) progress at the cut-off. */
typedef struct stats_progress {
    const char *code, *name;  /* NULL, NULL for the county roll-up */
    stats_tally illegal;      /* 违法用地 patches */
    stats_tally construction; /* 新增建设用地: 合法 + 违法 */
    stats_tally rectified;    /* illegal and 已整改 / 已验收 */
    stats_tally restored_farm, restored_farm_month;   /* 拆除复耕 rectified; of which this month */
    stats_tally restored_green, restored_green_month; /* 拆除复绿 */
    stats_tally approved, approved_month;             /* 补办手续 completed */
    stats_tally mineral, mineral_month;               /* 矿产 cases handled (rectified) */
    stats_tally rectified_month;
    /* 变化图斑情况统计表: every patch of the batch (变化图斑) by 合法性判定, and the 新增农村乱占
     * 耕地建房 ones (SFNCLZGDJF) counted apart */
    stats_tally changed, legal, other, unjudged, rural_housing;
    stats_tally overdue;      /* deadline before the cut-off, not rectified */
    const patch **overdue_patches; /* overdue.count entries, by id */
    double rectified_share;   /* rectified / illegal by count; 0 when none illegal */
} stats_progress;

typedef struct stats_monthly {
    cn_date cutoff, previous_cutoff;
    stats_progress *townships; /* by township code */
    size_t township_count;
    stats_progress county;
} stats_monthly;

/* Progress as of cutoff.  now holds the patches as they stood at the cut-off, before as they
 * stood at the previous cut-off (may be empty: then everything counts as this month); patches are
 * matched by id.  Only patches with a township (admin_code) count.  Arena-owned. */
stats_monthly *stats_monthly_compute(const patch *const *now, size_t count,
                                     const patch *const *before, size_t before_count,
                                     cn_date cutoff, cn_date previous_cutoff, tb_arena *a);

/* ---- interviews (约谈) ------------------------------------------------------------------------ */

/* A township flagged by hand (虚报瞒报, 整改落实不到位: seed 001), with the reason as recorded. */
typedef struct interview_flag {
    const char *code, *reason;
} interview_flag;

/* The rule pack (DESIGN §5, seeds 000 and 001); office data (<rules>), never C. */
typedef struct interview_rules {
    double farmland_ratio;    /* 违法占用耕地 / 新增建设用地占用耕地 ≥ this (0.15) */
    double basic_case_mu;     /* one case with ≥ this much 永久基本农田 (5 亩) */
    double general_case_mu;   /* one case with ≥ this much 一般耕地 (耕地 not 基本农田, 10 亩) */
    const interview_flag *flags; /* townships flagged by hand */
    size_t flag_count;
} interview_rules;

typedef enum interview_reason {
    INTERVIEW_RATIO = 1u << 0,
    INTERVIEW_BASIC_CASE = 1u << 1,
    INTERVIEW_GENERAL_CASE = 1u << 2,
    INTERVIEW_FLAGGED = 1u << 3,
} interview_reason;

typedef struct interview_finding {
    const char *code, *name;
    unsigned reasons;           /* interview_reason bits; 0 = not selected */
    double illegal_farmland_m2, construction_farmland_m2, ratio; /* ratio 0 when no denominator */
    const patch *largest_basic;   /* the illegal case with most 永久基本农田 (NULL if none) */
    const patch *largest_general; /* the illegal case with most 一般耕地 */
    const char *flag_reason;    /* INTERVIEW_FLAGGED: the reason recorded with the flag */
    const char *explanation;    /* one sentence with the figures, for `--explain` and dossiers */
} interview_finding;

/* The rules that selected f, in words ("违法占用耕地比例达到15%、单宗占用永久基本农田5亩以上"), or
 * NULL when none did. */
const char *stats_interview_grounds(const interview_finding *f, const interview_rules *r,
                                    tb_arena *a);

/* One finding per township that has patches, and per township flagged by hand (name NULL when
 * no patch names it), by code.  Arena-owned. */
interview_finding *stats_interviews(const patch *const *patches, size_t count,
                                    const interview_rules *rules, size_t *out_count,
                                    tb_arena *a);

/* ---- classification and ratios -------------------------------------------------------------- */

typedef struct stats_class_row {
    const char *label;   /* 违法占地, 违法批地, 违法转让, 其他; 未报即用 / 边报边用 within 未批先用 */
    int depth;           /* 0 = a category, 1 = a part of the category above */
    stats_tally tally;
    double share_count, share_area; /* of all illegal (depth 0) or of the parent (depth 1) */
} stats_class_row;

typedef struct stats_classification {
    stats_class_row *rows;
    size_t row_count;
    stats_tally illegal;
    /* The ratios the county reports state (seed 004); NAN where the data does not allow. */
    double illegal_share_count;  /* 违法用地 / 新增建设用地, by count */
    double illegal_share_area;   /* … by area */
    double filing_rate;          /* 立案率: illegal patches with measure 立案查处 / illegal */
    double completion_rate;      /* 处理到位率: 立案查处 patches rectified / 立案查处 patches */
    double discovery_rate;       /* 发现率: NAN (the patch data has no field for it) */
} stats_classification;

stats_classification *stats_classify(const patch *const *patches, size_t count, tb_arena *a);

/* True when state counts as rectified (已整改, 已验收). */
bool stats_is_rectified(rectify_state s);

#endif
