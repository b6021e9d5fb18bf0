/* The data documents are made of, as template values (tvalue.h): the static types each
 * document kind's templates are checked against, and the builders that fill them from the
 * model.  Every figure a document states (counts, area sums) is computed here, once, so a
 * notice's paragraph, its table's 合计 row and a monthly report cannot disagree. */
#ifndef TB_DOCDATA_H
#define TB_DOCDATA_H

#include "map_sources.h"
#include "patch.h"
#include "stats.h"
#include "tvalue.h"

/* A township as an office addresses it (office.xml <townships>). */
typedef struct township_entry {
    const char *code, *name;
    const char *addressee; /* NULL: from the unit rules */
} township_entry;

/* A suffix rule (office.xml <unit>): a name ending in suffix is addressed as name + addressee
 * (城关镇 + 人民政府) and called 你 + unit in the text. */
typedef struct unit_rule {
    const char *suffix, *addressee, *unit;
} unit_rule;

/* A named number of the office's rules (deadline_days = 30, interview_ratio = 0.15). */
typedef struct named_number {
    const char *name;
    double value;
} named_number;

/* What documents say about the office (the values; tpl_office reads them from office.xml). */
typedef struct office_data {
    const char *name, *short_name, *mark, *docno_prefix, *county, *county_code, *issuer;
    const char *signer, *contact, *addressee, *cc;
    const named_number *rules;
    size_t rule_count;
} office_data;

/* Sums over a set of patches: the one computation behind every count and total. */
typedef struct patch_stats {
    size_t count;                 /* 图斑 (a 宗 may hold several) */
    double area_m2, farmland_m2, basic_farmland_m2;
    cn_date earliest_deadline, latest_deadline; /* year 0 when none has one */
    int latest_year;              /* 0 when none has NF */
} patch_stats;

patch_stats patch_stats_compute(const patch *const *patches, size_t count);

/* ---- types ---- */
extern const tv_type docdata_patch_type, docdata_township_type, docdata_stats_type;

/* The office's type: its rules are the office's own named numbers. */
const tv_type *docdata_office_type(const office_data *o, tb_arena *a);

/* The notice's data: office, township, patches (list of patch), stats, date (成文日期),
 * docno (发文字号), year (the batch's year). */
const tv_type *docdata_notice_type(const tv_type *office_type, tb_arena *a);

/* The monthly report's data (月报): office, date, docno, year (the batch's), month_year and month (1-12), cutoff and
 * previous_cutoff (dates), is_county, subject (the progress the report is about: a township's or
 * the county's), township (the township addressed; absent in the county roll-up), county (the
 * county's progress), townships (list of progress, by code), chart (the bar chart by township: 违法图斑 and 已整改
 * counts).  Every figure is a stats_monthly_compute value. */
extern const tv_type docdata_tally_type, docdata_progress_type, docdata_chart_type;
const tv_type *docdata_monthly_type(const tv_type *office_type, tb_arena *a);

/* The statistical tables' data (违法用地数据汇总表, 违法用地分类统计表, 变化图斑情况统计表,
 * 新增农村乱占耕地建房图斑清单, 土地卫片地块核查情况登记卡): office, date, docno, year, townships
 * (list of area: code, name, progress, ratios), county (area), classes (the county's 违法类型
 * rows, 未批先用 split), patches (every patch, for the cards), rural_housing (the SFNCLZGDJF
 * patches).  Ratios are stats_classify's; absent where the data does not
 * allow (no 新增建设用地, no 立案查处 case). */
extern const tv_type docdata_ratios_type, docdata_area_type, docdata_class_type;
const tv_type *docdata_tables_type(const tv_type *office_type, tb_arena *a);
tv_value docdata_area(const stats_progress *p, const stats_classification *c, tb_arena *a);
tv_value docdata_class(const stats_class_row *r, tb_arena *a);

/* The acceptance form's data (验收意见书 / 验收表): office, township (the one addressed), items
 * (one verdict per patch, by id), patches (the same patches, for the patch fragments), stats
 * (sums over them), passed and failed (counts of 合格 and 不合格), per_township (one form
 * listing the township's patches, else one patch per form), date, docno, year.  A verdict has
 * patch, passed, conclusion, opinion and photos (name, taken (text), date, has_time, has_place,
 * lon, lat, place (text), inside, outside). */
/* An on-site photo as a form states it (src/photo reads it): native is what <photo of> draws. */
typedef struct acceptance_photo {
    const void *native;
    const char *name;      /* the file's name */
    bool has_time;         /* EXIF DateTimeOriginal */
    cn_date date;
    int hour, minute;
    bool has_place;        /* EXIF GPS */
    double lon, lat;
    bool inside;           /* the place lies in the patch's polygon */
} acceptance_photo;

typedef struct acceptance_verdict {
    const patch *patch;
    bool passed;         /* 合格; false: 不合格 */
    const char *opinion; /* the inspectors' words; NULL: the template's */
    const acceptance_photo *photos; /* by file name */
    size_t photo_count;
} acceptance_verdict;
extern const tv_type docdata_verdict_type, docdata_photo_type;
const tv_type *docdata_acceptance_type(const tv_type *office_type, tb_arena *a);
tv_value docdata_verdict(const acceptance_verdict *v, tb_arena *a);

/* The 约谈问责卷宗 (dossier) of one township.  What the store says of each of its illegal patches:
 * the status history and the documents the registry holds for it. */
typedef struct dossier_event {
    const char *field;          /* "legality", "measure", "state", "deadline", "missing" */
    const char *from, *to;      /* NULL: none */
    const char *at;             /* "YYYY-MM-DDThh:mm:ss" */
    const char *by, *note;      /* note may be NULL */
} dossier_event;

typedef struct dossier_issued {
    const char *kind;           /* "notice", "acceptance" */
    const char *docno, *issued_at; /* issued_at ISO 8601 UTC */
} dossier_issued;

typedef struct dossier_case {
    const patch *patch;
    const dossier_event *events; /* oldest first */
    size_t event_count;
    const dossier_issued *issued; /* in registry order */
    size_t issued_count;
} dossier_case;

/* The dossier's data: office, date, docno, year, township, volume (卷号 volume_no, start and end
 * dates, retention 保管期限), finding (the 约谈 figures and the rules that selected the township),
 * stats (sums over its illegal patches), patches (those patches, by id: for patch-table.xml),
 * cases (the same patches, each with its history, documents and acceptance). */
extern const tv_type docdata_finding_type, docdata_case_type, docdata_event_type,
    docdata_issued_type, docdata_volume_type;
const tv_type *docdata_dossier_type(const tv_type *office_type, tb_arena *a);
/* grounds: stats_interview_grounds' words (NULL when not selected). */
tv_value docdata_finding(const interview_finding *f, const interview_rules *r,
                         const char *grounds, tb_arena *a);
tv_value docdata_case(const dossier_case *c, tb_arena *a);
/* start, end: 起止日期; retention: 保管期限 as written (永久, 30年). */
tv_value docdata_volume(const char *volume_no, cn_date start, cn_date end, const char *retention,
                        tb_arena *a);

/* ---- values ---- */
tv_value docdata_patch(const patch *p, tb_arena *a);
tv_value docdata_stats(const patch_stats *s, tb_arena *a);
tv_value docdata_progress(const stats_progress *p, tb_arena *a);
/* A chart's record: native is the chart_data (model/chart_data.h) it draws. */
tv_value docdata_chart(const void *chart_data, const char *unit, tb_arena *a);
tv_value docdata_office(const tv_type *office_type, const office_data *o, tb_arena *a);

/* The township a patch belongs to: the office's entry for its code, else its XZQMC with the
 * unit rules.  False, with the field at fault (XZQDM, XZQMC) and why, when neither names it or
 * when the code is a county's: a document is never addressed to a code. */
typedef struct township_ref {
    const char *code, *name, *addressee, *unit;
} township_ref;
bool docdata_township_resolve(const patch *p, const township_entry *entries, size_t n,
                              const unit_rule *rules, size_t rule_count, township_ref *out,
                              const char **field, const char **why, tb_arena *a);
/* overview is the township as maps see it (view="overview"): the record's native object. */
tv_value docdata_township(const township_ref *t, const map_township *overview, tb_arena *a);

#endif
