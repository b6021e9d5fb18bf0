#include "tb_features.h"

#include "docdata.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

patch_stats
patch_stats_compute(const patch *const *patches, size_t count)
{
    patch_stats s = {.count = count};
    for (size_t i = 0; i < count; i++) {
        const patch *p = patches[i];
        s.area_m2 += p->area_m2;
        s.farmland_m2 += p->farmland_m2;
        s.basic_farmland_m2 += p->basic_farmland_m2;
        if (cn_date_valid(p->deadline)) {
            if (!cn_date_valid(s.earliest_deadline) ||
                cn_date_cmp(p->deadline, s.earliest_deadline) < 0)
                s.earliest_deadline = p->deadline;
            if (!cn_date_valid(s.latest_deadline) ||
                cn_date_cmp(p->deadline, s.latest_deadline) > 0)
                s.latest_deadline = p->deadline;
        }
        if (p->year > s.latest_year)
            s.latest_year = p->year;
    }
    return s;
}

/* ---- types ---------------------------------------------------------------------------- */

#define S &tv_string_type
#define N &tv_number_type
#define D &tv_date_type
#define B &tv_bool_type

enum {
    PF_ID, PF_XZQDM, PF_XZQMC, PF_NF, PF_JD, PF_JCMJ, PF_AREA_COMPUTED, PF_JCGDMJ, PF_YJJBNTMJ,
    PF_TBLX, PF_PDJG, PF_WFLX, PF_PZWH, PF_ZGCS, PF_ZGZT, PF_DEADLINE, PF_QSX, PF_HSX,
    PF_SFNCLZGDJF, PF_TYWZJCTBWQBH, PF_SFJYTD, PF_RECORD, PF_COUNT
};
static const tv_field patch_fields[PF_COUNT] = {
    [PF_ID] = {"id", S, "监测编号 JCBH"},
    [PF_XZQDM] = {"xzqdm", S, "行政区代码 XZQDM"},
    [PF_XZQMC] = {"xzqmc", S, "行政区名称 XZQMC (may be absent)"},
    [PF_NF] = {"nf", N, "年份 NF (may be absent)"},
    [PF_JD] = {"jd", S, "季度 JD (absent for 年度 batches)"},
    [PF_JCMJ] = {"jcmj", N, "监测面积 JCMJ, m²"},
    [PF_AREA_COMPUTED] = {"area_computed", N, "area computed on the CGCS2000 ellipsoid, m²"},
    [PF_JCGDMJ] = {"jcgdmj", N, "监测耕地面积 JCGDMJ, m²"},
    [PF_YJJBNTMJ] = {"yjjbntmj", N, "永久基本农田面积 YJJBNTMJ, m²"},
    [PF_TBLX] = {"tblx", S, "图斑类型 TBLX"},
    [PF_PDJG] = {"pdjg", S, "合法性判定 PDJG (合法用地 / 违法用地 / 其他用地)"},
    [PF_WFLX] = {"wflx", S, "违法类型 WFLX"},
    [PF_PZWH] = {"pzwh", S, "批准文号 PZWH"},
    [PF_ZGCS] = {"zgcs", S, "整改措施 ZGCS"},
    [PF_ZGZT] = {"zgzt", S, "整改状态 ZGZT"},
    [PF_DEADLINE] = {"deadline", D, "整改期限 ZGQX (may be absent)"},
    [PF_QSX] = {"qsx", D, "前时相 QSX"},
    [PF_HSX] = {"hsx", D, "后时相 HSX"},
    [PF_SFNCLZGDJF] = {"sfnclzgdjf", B, "新增农村乱占耕地建房"},
    [PF_TYWZJCTBWQBH] = {"tywzjctbwqbh", S, "同一位置往期图斑编号"},
    [PF_SFJYTD] = {"sfjytd", B, "军用土地 SFJYTD (the document goes by 机要 channel)"},
    [PF_RECORD] = {"record", N, "record number in the patch file"},
};
const tv_type docdata_patch_type = {TV_RECORD, "patch", patch_fields, PF_COUNT, NULL};

enum { TF_CODE, TF_NAME, TF_ADDRESSEE, TF_UNIT, TF_COUNT };
static const tv_field township_fields[TF_COUNT] = {
    [TF_CODE] = {"code", S, "9-digit township code"},
    [TF_NAME] = {"name", S, "城关镇"},
    [TF_ADDRESSEE] = {"addressee", S, "城关镇人民政府 (office <townships>/<unit> rules)"},
    [TF_UNIT] = {"unit", S, "镇 / 乡 / 街道, as in 你镇"},
};
const tv_type docdata_township_type = {TV_RECORD, "township", township_fields, TF_COUNT, NULL};

enum { SF_COUNT, SF_AREA, SF_FARM, SF_BASIC, SF_EARLIEST, SF_LATEST, SF_NFIELDS };
static const tv_field stats_fields[SF_NFIELDS] = {
    [SF_COUNT] = {"count", N, "number of 图斑"},
    [SF_AREA] = {"area_m2", N, "sum of JCMJ, m²"},
    [SF_FARM] = {"farmland_m2", N, "sum of JCGDMJ, m²"},
    [SF_BASIC] = {"basic_farmland_m2", N, "sum of YJJBNTMJ, m²"},
    [SF_EARLIEST] = {"earliest_deadline", D, "earliest ZGQX (absent when none)"},
    [SF_LATEST] = {"latest_deadline", D, "latest ZGQX (absent when none)"},
};
const tv_type docdata_stats_type = {TV_RECORD, "stats", stats_fields, SF_NFIELDS, NULL};

enum {
    OF_NAME, OF_SHORT, OF_MARK, OF_PREFIX, OF_COUNTY, OF_COUNTY_CODE, OF_ISSUER, OF_SIGNER,
    OF_CONTACT, OF_ADDRESSEE, OF_CC, OF_RULES, OF_COUNT
};
static const tv_field office_fields[OF_COUNT] = {
    [OF_NAME] = {"name", S, "发文机关署名 示例县自然资源局"},
    [OF_SHORT] = {"short_name", S, "short name 县自然资源局"},
    [OF_MARK] = {"mark", S, "发文机关标志"},
    [OF_PREFIX] = {"docno_prefix", S, "机关代字"},
    [OF_COUNTY] = {"county", S, "示例县"},
    [OF_COUNTY_CODE] = {"county_code", S, "139901"},
    [OF_ISSUER] = {"issuer", S, "印发机关"},
    [OF_SIGNER] = {"signer", S, "签发人 (may be absent)"},
    [OF_CONTACT] = {"contact", S, "contact line for 附注 (may be absent)"},
    [OF_ADDRESSEE] = {"addressee", S, "default 主送 (may be absent)"},
    [OF_CC] = {"cc", S, "default 抄送 (may be absent)"},
    [OF_RULES] = {"rules", NULL, "the office's named numbers (<rules>)"},
};

const tv_type *
docdata_office_type(const office_data *o, tb_arena *a)
{
    tv_field *rules = tb_arena_array(a, o->rule_count + 1, sizeof *rules);
    for (size_t i = 0; i < o->rule_count; i++)
        rules[i] = (tv_field){o->rules[i].name, N, "office rule"};
    tv_type *rt = tb_arena_alloc(a, sizeof *rt);
    *rt = (tv_type){TV_RECORD, "rules", rules, o->rule_count, NULL};
    tv_field *fields = tb_arena_array(a, OF_COUNT, sizeof *fields);
    memcpy(fields, office_fields, sizeof office_fields);
    fields[OF_RULES].type = rt;
    tv_type *t = tb_arena_alloc(a, sizeof *t);
    *t = (tv_type){TV_RECORD, "office", fields, OF_COUNT, NULL};
    return t;
}

enum { NF_OFFICE, NF_TOWNSHIP, NF_PATCHES, NF_STATS, NF_DATE, NF_DOCNO, NF_YEAR, NF_COUNT };

const tv_type *
docdata_notice_type(const tv_type *office_type, tb_arena *a)
{
    tv_type *list = tb_arena_alloc(a, sizeof *list);
    *list = (tv_type){.kind = TV_LIST, .item = &docdata_patch_type};
    tv_field *f = tb_arena_array(a, NF_COUNT, sizeof *f);
    f[NF_OFFICE] = (tv_field){"office", office_type, "the issuing office"};
    f[NF_TOWNSHIP] = (tv_field){"township", &docdata_township_type, "the addressed township"};
    f[NF_PATCHES] = (tv_field){"patches", list, "its illegal patches, by id"};
    f[NF_STATS] = (tv_field){"stats", &docdata_stats_type, "sums over patches"};
    f[NF_DATE] = (tv_field){"date", D, "成文日期"};
    f[NF_DOCNO] = (tv_field){"docno", S, "发文字号"};
    f[NF_YEAR] = (tv_field){"year", N, "the batch's year (NF; else the date's)"};
    tv_type *t = tb_arena_alloc(a, sizeof *t);
    *t = (tv_type){TV_RECORD, "notice", f, NF_COUNT, NULL};
    return t;
}

/* ---- the monthly report -------------------------------------------------------------- */

enum { YF_COUNT, YF_AREA, YF_FARM, YF_BASIC, YF_NFIELDS };
static const tv_field tally_fields[YF_NFIELDS] = {
    [YF_COUNT] = {"count", N, "number of 图斑"},
    [YF_AREA] = {"area_m2", N, "监测面积, m²"},
    [YF_FARM] = {"farmland_m2", N, "耕地, m²"},
    [YF_BASIC] = {"basic_farmland_m2", N, "永久基本农田, m²"},
};
const tv_type docdata_tally_type = {TV_RECORD, "tally", tally_fields, YF_NFIELDS, NULL};

#define T &docdata_tally_type
static const tv_type overdue_list_type = {.kind = TV_LIST, .item = &docdata_patch_type};
enum {
    GF_CODE, GF_NAME, GF_ILLEGAL, GF_CONSTRUCTION, GF_RECTIFIED, GF_RECTIFIED_MONTH, GF_FARM,
    GF_FARM_MONTH, GF_GREEN, GF_GREEN_MONTH, GF_APPROVED, GF_APPROVED_MONTH, GF_MINERAL,
    GF_MINERAL_MONTH, GF_CHANGED, GF_LEGAL, GF_OTHER, GF_UNJUDGED, GF_RURAL, GF_OVERDUE,
    GF_OVERDUE_PATCHES, GF_SHARE, GF_NFIELDS
};
static const tv_field progress_fields[GF_NFIELDS] = {
    [GF_CODE] = {"code", S, "township code (absent for the county)"},
    [GF_NAME] = {"name", S, "township name (absent for the county)"},
    [GF_ILLEGAL] = {"illegal", T, "违法用地 patches"},
    [GF_CONSTRUCTION] = {"construction", T, "新增建设用地 (合法 + 违法)"},
    [GF_RECTIFIED] = {"rectified", T, "illegal and 已整改 / 已验收 at the cut-off"},
    [GF_RECTIFIED_MONTH] = {"rectified_month", T, "of which since the previous cut-off"},
    [GF_FARM] = {"restored_farm", T, "拆除复耕 rectified"},
    [GF_FARM_MONTH] = {"restored_farm_month", T, "拆除复耕 this month"},
    [GF_GREEN] = {"restored_green", T, "拆除复绿 rectified"},
    [GF_GREEN_MONTH] = {"restored_green_month", T, "拆除复绿 this month"},
    [GF_APPROVED] = {"approved", T, "补办手续 completed"},
    [GF_APPROVED_MONTH] = {"approved_month", T, "补办手续 this month"},
    [GF_MINERAL] = {"mineral", T, "矿产 cases handled"},
    [GF_MINERAL_MONTH] = {"mineral_month", T, "矿产 cases this month"},
    [GF_CHANGED] = {"changed", T, "every patch (变化图斑), whatever its 合法性判定"},
    [GF_LEGAL] = {"legal", T, "合法用地 patches"},
    [GF_OTHER] = {"other", T, "其他用地 patches"},
    [GF_UNJUDGED] = {"unjudged", T, "patches not yet judged (no PDJG)"},
    [GF_RURAL] = {"rural_housing", T, "新增农村乱占耕地建房 patches (SFNCLZGDJF)"},
    [GF_OVERDUE] = {"overdue", T, "deadline passed, not rectified"},
    [GF_OVERDUE_PATCHES] = {"overdue_patches", &overdue_list_type, "those patches, by id"},
    [GF_SHARE] = {"rectified_share", N, "rectified / illegal by count (0 when none)"},
};
#undef T
const tv_type docdata_progress_type = {TV_RECORD, "progress", progress_fields, GF_NFIELDS,
                                       NULL};

/* ---- the statistical tables ---------------------------------------------------------- */

enum { RF_SHARE_COUNT, RF_SHARE_AREA, RF_FILING, RF_COMPLETION, RF_NFIELDS };
static const tv_field ratios_fields[RF_NFIELDS] = {
    [RF_SHARE_COUNT] = {"illegal_share_count", N, "违法用地 / 新增建设用地, by count"},
    [RF_SHARE_AREA] = {"illegal_share_area", N, "违法用地 / 新增建设用地, by area"},
    [RF_FILING] = {"filing_rate", N, "立案率: 立案查处 / 违法用地"},
    [RF_COMPLETION] = {"completion_rate", N, "处理到位率: 立案查处 rectified / 立案查处"},
};
const tv_type docdata_ratios_type = {TV_RECORD, "ratios", ratios_fields, RF_NFIELDS, NULL};

enum { AF_CODE, AF_NAME, AF_PROGRESS, AF_RATIOS, AF_NFIELDS };
static const tv_field area_fields[AF_NFIELDS] = {
    [AF_CODE] = {"code", S, "township code (absent for the county)"},
    [AF_NAME] = {"name", S, "township name (absent for the county)"},
    [AF_PROGRESS] = {"progress", &docdata_progress_type, "counts and areas at the date"},
    [AF_RATIOS] = {"ratios", &docdata_ratios_type, "the ratios the county reports state"},
};
const tv_type docdata_area_type = {TV_RECORD, "area", area_fields, AF_NFIELDS, NULL};

enum { CF_LABEL, CF_DEPTH, CF_TALLY, CF_SHARE_COUNT, CF_SHARE_AREA, CF_NFIELDS };
static const tv_field class_fields[CF_NFIELDS] = {
    [CF_LABEL] = {"label", S, "违法占地, 其中：未批先用, 未报即用, 边报边用, 违法批地 …"},
    [CF_DEPTH] = {"depth", N, "0 a category, 1 a part of it, 2 a part of that"},
    [CF_TALLY] = {"tally", &docdata_tally_type, "its illegal patches"},
    [CF_SHARE_COUNT] = {"share_count", N, "of all illegal (depth 0) or of the parent, by count"},
    [CF_SHARE_AREA] = {"share_area", N, "… by area"},
};
const tv_type docdata_class_type = {TV_RECORD, "class", class_fields, CF_NFIELDS, NULL};

const tv_type *
docdata_tables_type(const tv_type *office_type, tb_arena *a)
{
    static const tv_type area_list = {.kind = TV_LIST, .item = &docdata_area_type};
    static const tv_type class_list = {.kind = TV_LIST, .item = &docdata_class_type};
    tv_field *f = tb_arena_array(a, 9, sizeof *f);
    f[0] = (tv_field){"office", office_type, "the issuing office"};
    f[1] = (tv_field){"date", D, "the tables' date (the state of the patches at its end)"};
    f[2] = (tv_field){"docno", S, "发文字号 (empty for a 样稿)"};
    f[3] = (tv_field){"year", N, "the batch's year"};
    f[4] = (tv_field){"townships", &area_list, "every township, by code"};
    f[5] = (tv_field){"county", &docdata_area_type, "the county"};
    f[6] = (tv_field){"classes", &class_list, "the county's 违法类型 rows"};
    f[7] = (tv_field){"patches", &overdue_list_type, "every patch, by township and id (登记卡)"};
    f[8] = (tv_field){"rural_housing", &overdue_list_type,
                      "the 新增农村乱占耕地建房 patches (SFNCLZGDJF), by township and id"};
    tv_type *t = tb_arena_alloc(a, sizeof *t);
    *t = (tv_type){TV_RECORD, "tables", f, 9, NULL};
    return t;
}

static const tv_field chart_fields[] = {{"unit", S, "the value axis' unit (个, 亩)"}};
const tv_type docdata_chart_type = {TV_RECORD, "chart", chart_fields, 1, NULL};

const tv_type *
docdata_monthly_type(const tv_type *office_type, tb_arena *a)
{
    static const tv_type progress_list = {.kind = TV_LIST, .item = &docdata_progress_type};
    static const char *const names[] = {"office", "date", "docno", "year", "month_year",
                                        "month", "cutoff", "previous_cutoff", "is_county",
                                        "subject", "township", "county", "townships", "chart"};
    const tv_type *types[] = {office_type, D, S, N, N, N, D, D, B, &docdata_progress_type,
                              &docdata_township_type, &docdata_progress_type, &progress_list,
                              &docdata_chart_type};
    static const char *const docs[] = {
        "the issuing office", "成文日期", "发文字号", "the batch's year", "the report's year",
        "the report's month (1-12)", "截至日期 (the cut-off)", "the previous month's cut-off",
        "true in the county roll-up", "the progress this report is about",
        "the township, its overview map's datum (absent in the roll-up)",
        "the county's progress", "every township's progress, by code",
        "bar chart by township: 违法图斑 and 已整改 counts"};
    size_t n = sizeof names / sizeof names[0];
    tv_field *f = tb_arena_array(a, n, sizeof *f);
    for (size_t i = 0; i < n; i++)
        f[i] = (tv_field){names[i], types[i], docs[i]};
    tv_type *t = tb_arena_alloc(a, sizeof *t);
    *t = (tv_type){TV_RECORD, "monthly", f, n, NULL};
    return t;
}

/* ---- the acceptance form ------------------------------------------------------------ */

static const tv_type patch_list_type = {.kind = TV_LIST, .item = &docdata_patch_type};

enum { HF_NAME, HF_TAKEN, HF_DATE, HF_HAS_TIME, HF_HAS_PLACE, HF_LON, HF_LAT, HF_PLACE,
       HF_INSIDE, HF_OUTSIDE, HF_NFIELDS };
static const tv_field photo_fields[HF_NFIELDS] = {
    [HF_NAME] = {"name", S, "the photo's file name"},
    [HF_TAKEN] = {"taken", S, "拍摄时间 from EXIF, 2025-03-20 10:15 (absent without EXIF time)"},
    [HF_DATE] = {"date", D, "its date (absent without EXIF time)"},
    [HF_HAS_TIME] = {"has_time", B, "EXIF DateTimeOriginal was readable"},
    [HF_HAS_PLACE] = {"has_place", B, "EXIF GPS latitude and longitude were readable"},
    [HF_LON] = {"lon", N, "east longitude, degrees (absent without GPS)"},
    [HF_LAT] = {"lat", N, "north latitude, degrees (absent without GPS)"},
    [HF_PLACE] = {"place", S, "拍摄位置 东经117.112533° 北纬35.205963° (absent without GPS)"},
    [HF_INSIDE] = {"inside", B, "taken inside the patch's polygon"},
    [HF_OUTSIDE] = {"outside", B, "has a place, and it lies outside the patch"},
};
const tv_type docdata_photo_type = {TV_RECORD, "photo", photo_fields, HF_NFIELDS, NULL};
static const tv_type photo_list_type = {.kind = TV_LIST, .item = &docdata_photo_type};

enum { VF_PATCH, VF_PASSED, VF_CONCLUSION, VF_OPINION, VF_PHOTOS, VF_NFIELDS };
static const tv_field verdict_fields[VF_NFIELDS] = {
    [VF_PATCH] = {"patch", &docdata_patch_type, "the patch inspected"},
    [VF_PASSED] = {"passed", B, "true: 合格; false: 不合格"},
    [VF_CONCLUSION] = {"conclusion", S, "验收结论: 合格 / 不合格"},
    [VF_OPINION] = {"opinion", S, "验收意见 given at the run (--reject ID:意见); may be absent"},
    [VF_PHOTOS] = {"photos", &photo_list_type, "its on-site photos (--photos), by file name"},
};
const tv_type docdata_verdict_type = {TV_RECORD, "verdict", verdict_fields, VF_NFIELDS, NULL};

const tv_type *
docdata_acceptance_type(const tv_type *office_type, tb_arena *a)
{
    static const tv_type verdict_list = {.kind = TV_LIST, .item = &docdata_verdict_type};
    static const char *const names[] = {"office", "township", "items", "patches", "stats",
                                        "passed", "failed", "per_township", "date", "docno",
                                        "year"};
    const tv_type *types[] = {office_type, &docdata_township_type, &verdict_list,
                              &patch_list_type, &docdata_stats_type, N, N, B, D, S, N};
    static const char *const docs[] = {
        "the issuing office", "the township addressed (the patches' township)",
        "one verdict per patch, by id", "the patches inspected, by id", "sums over patches",
        "number of 合格 verdicts", "number of 不合格 verdicts",
        "true: one form for the township's patches; false: one patch per form", "成文日期",
        "发文字号", "the batch's year (NF; else the date's)"};
    size_t n = sizeof names / sizeof names[0];
    tv_field *f = tb_arena_array(a, n, sizeof *f);
    for (size_t i = 0; i < n; i++)
        f[i] = (tv_field){names[i], types[i], docs[i]};
    tv_type *t = tb_arena_alloc(a, sizeof *t);
    *t = (tv_type){TV_RECORD, "acceptance", f, n, NULL};
    return t;
}

/* ---- values --------------------------------------------------------------------------- */

tv_value
docdata_patch(const patch *p, tb_arena *a)
{
    tv_value *f;
    const char *origin = tb_arena_printf(a, "record %ld (%s)", p->record, p->id);
    tv_value v = tv_record_new(&docdata_patch_type, p, origin, &f, a);
    f[PF_ID] = tv_str(p->id);
    f[PF_XZQDM] = tv_str(p->admin_code);
    f[PF_XZQMC] = tv_str(p->admin_name);
    f[PF_NF] = p->year ? tv_num(p->year) : tv_null();
    f[PF_JD] = tv_str(p->quarter);
    f[PF_JCMJ] = tv_num(p->area_m2);
    f[PF_AREA_COMPUTED] = tv_num(p->area_ellipsoid_m2);
    f[PF_JCGDMJ] = tv_num(p->farmland_m2);
    f[PF_YJJBNTMJ] = tv_num(p->basic_farmland_m2);
    f[PF_TBLX] = tv_str(p->kind);
    f[PF_PDJG] = tv_str(legality_name(p->legality));
    f[PF_WFLX] = tv_str(p->violation);
    f[PF_PZWH] = tv_str(p->approval_no);
    f[PF_ZGCS] = tv_str(p->measure);
    f[PF_ZGZT] = tv_str(rectify_state_name(p->state));
    f[PF_DEADLINE] = tv_date(p->deadline);
    f[PF_QSX] = tv_date(p->image_before);
    f[PF_HSX] = tv_date(p->image_after);
    f[PF_SFNCLZGDJF] = tv_boolean(p->rural_housing);
    f[PF_TYWZJCTBWQBH] = tv_str(p->earlier_id);
    f[PF_SFJYTD] = tv_boolean(p->military);
    f[PF_RECORD] = tv_num((double)p->record);
    return v;
}

tv_value
docdata_verdict(const acceptance_verdict *d, tb_arena *a)
{
    tv_value *f;
    tv_value v = tv_record_new(&docdata_verdict_type, d, d->patch->id, &f, a);
    f[VF_PATCH] = docdata_patch(d->patch, a);
    f[VF_PASSED] = tv_boolean(d->passed);
    f[VF_CONCLUSION] = tv_str(d->passed ? "合格" : "不合格");
    f[VF_OPINION] = tv_str(d->opinion);
    tv_value *photos = tb_arena_array(a, d->photo_count + 1, sizeof *photos);
    for (size_t i = 0; i < d->photo_count; i++) {
        const acceptance_photo *ph = &d->photos[i];
        tv_value *g;
        photos[i] = tv_record_new(&docdata_photo_type, ph->native, ph->name, &g, a);
        g[HF_NAME] = tv_str(ph->name);
        g[HF_HAS_TIME] = tv_boolean(ph->has_time);
        g[HF_HAS_PLACE] = tv_boolean(ph->has_place);
        g[HF_INSIDE] = tv_boolean(ph->inside);
        g[HF_OUTSIDE] = tv_boolean(ph->has_place && !ph->inside);
        if (ph->has_time) {
            g[HF_TAKEN] = tv_str(tb_arena_printf(a, "%04d-%02d-%02d %02d:%02d", ph->date.year,
                                                 ph->date.month, ph->date.day, ph->hour,
                                                 ph->minute));
            g[HF_DATE] = tv_date(ph->date);
        }
        if (ph->has_place) {
            g[HF_LON] = tv_num(ph->lon);
            g[HF_LAT] = tv_num(ph->lat);
            g[HF_PLACE] = tv_str(tb_arena_printf(a, "%s%.6f° %s%.6f°",
                                                 ph->lon < 0 ? "西经" : "东经", fabs(ph->lon),
                                                 ph->lat < 0 ? "南纬" : "北纬", fabs(ph->lat)));
        }
    }
    f[VF_PHOTOS] = tv_list(photos, d->photo_count);
    return v;
}

tv_value
docdata_stats(const patch_stats *s, tb_arena *a)
{
    tv_value *f;
    tv_value v = tv_record_new(&docdata_stats_type, s, NULL, &f, a);
    f[SF_COUNT] = tv_num((double)s->count);
    f[SF_AREA] = tv_num(s->area_m2);
    f[SF_FARM] = tv_num(s->farmland_m2);
    f[SF_BASIC] = tv_num(s->basic_farmland_m2);
    f[SF_EARLIEST] = tv_date(s->earliest_deadline);
    f[SF_LATEST] = tv_date(s->latest_deadline);
    return v;
}

static tv_value
tally_value(const stats_tally *t, tb_arena *a)
{
    tv_value *f;
    tv_value v = tv_record_new(&docdata_tally_type, t, NULL, &f, a);
    f[YF_COUNT] = tv_num((double)t->count);
    f[YF_AREA] = tv_num(t->area_m2);
    f[YF_FARM] = tv_num(t->farmland_m2);
    f[YF_BASIC] = tv_num(t->basic_farmland_m2);
    return v;
}

tv_value
docdata_progress(const stats_progress *p, tb_arena *a)
{
    tv_value *f;
    tv_value v = tv_record_new(&docdata_progress_type, p, p->name, &f, a);
    f[GF_CODE] = tv_str(p->code);
    f[GF_NAME] = tv_str(p->name);
    const stats_tally *tallies[] = {
        [GF_ILLEGAL] = &p->illegal, [GF_CONSTRUCTION] = &p->construction,
        [GF_RECTIFIED] = &p->rectified, [GF_RECTIFIED_MONTH] = &p->rectified_month,
        [GF_FARM] = &p->restored_farm, [GF_FARM_MONTH] = &p->restored_farm_month,
        [GF_GREEN] = &p->restored_green, [GF_GREEN_MONTH] = &p->restored_green_month,
        [GF_APPROVED] = &p->approved, [GF_APPROVED_MONTH] = &p->approved_month,
        [GF_MINERAL] = &p->mineral, [GF_MINERAL_MONTH] = &p->mineral_month,
        [GF_CHANGED] = &p->changed, [GF_LEGAL] = &p->legal, [GF_OTHER] = &p->other,
        [GF_UNJUDGED] = &p->unjudged, [GF_RURAL] = &p->rural_housing,
        [GF_OVERDUE] = &p->overdue,
    };
    for (size_t i = GF_ILLEGAL; i <= GF_OVERDUE; i++)
        f[i] = tally_value(tallies[i], a);
    size_t n = (size_t)p->overdue.count;
    tv_value *items = tb_arena_array(a, n + 1, sizeof *items);
    for (size_t i = 0; i < n; i++)
        items[i] = docdata_patch(p->overdue_patches[i], a);
    f[GF_OVERDUE_PATCHES] = tv_list(items, n);
    f[GF_SHARE] = tv_num(p->rectified_share);
    return v;
}

static tv_value
ratio(double x)
{
    return isnan(x) ? tv_null() : tv_num(x);
}

tv_value
docdata_area(const stats_progress *p, const stats_classification *c, tb_arena *a)
{
    tv_value *f, *r;
    tv_value v = tv_record_new(&docdata_area_type, p, p->name, &f, a);
    f[AF_CODE] = tv_str(p->code);
    f[AF_NAME] = tv_str(p->name);
    f[AF_PROGRESS] = docdata_progress(p, a);
    f[AF_RATIOS] = tv_record_new(&docdata_ratios_type, c, NULL, &r, a);
    r[RF_SHARE_COUNT] = ratio(c->illegal_share_count);
    r[RF_SHARE_AREA] = ratio(c->illegal_share_area);
    r[RF_FILING] = ratio(c->filing_rate);
    r[RF_COMPLETION] = ratio(c->completion_rate);
    return v;
}

tv_value
docdata_class(const stats_class_row *row, tb_arena *a)
{
    tv_value *f;
    tv_value v = tv_record_new(&docdata_class_type, row, row->label, &f, a);
    f[CF_LABEL] = tv_str(row->label);
    f[CF_DEPTH] = tv_num(row->depth);
    f[CF_TALLY] = tally_value(&row->tally, a);
    f[CF_SHARE_COUNT] = tv_num(row->share_count);
    f[CF_SHARE_AREA] = tv_num(row->share_area);
    return v;
}

tv_value
docdata_chart(const void *chart_data, const char *unit, tb_arena *a)
{
    tv_value *f;
    tv_value v = tv_record_new(&docdata_chart_type, chart_data, NULL, &f, a);
    f[0] = tv_str(unit);
    return v;
}

tv_value
docdata_office(const tv_type *office_type, const office_data *o, tb_arena *a)
{
    tv_value *f, *r;
    tv_value v = tv_record_new(office_type, o, NULL, &f, a);
    f[OF_NAME] = tv_str(o->name);
    f[OF_SHORT] = tv_str(o->short_name ? o->short_name : o->name);
    f[OF_MARK] = tv_str(o->mark);
    f[OF_PREFIX] = tv_str(o->docno_prefix);
    f[OF_COUNTY] = tv_str(o->county);
    f[OF_COUNTY_CODE] = tv_str(o->county_code);
    f[OF_ISSUER] = tv_str(o->issuer);
    f[OF_SIGNER] = tv_str(o->signer);
    f[OF_CONTACT] = tv_str(o->contact);
    f[OF_ADDRESSEE] = tv_str(o->addressee);
    f[OF_CC] = tv_str(o->cc);
    f[OF_RULES] = tv_record_new(office_type->fields[OF_RULES].type, NULL, NULL, &r, a);
    for (size_t i = 0; i < o->rule_count; i++)
        r[i] = tv_num(o->rules[i].value);
    return v;
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

bool
docdata_township_resolve(const patch *p, const township_entry *entries, size_t n,
                         const unit_rule *rules, size_t rule_count, township_ref *out,
                         const char **field, const char **why, tb_arena *a)
{
    const char *code = p->admin_code ? p->admin_code : "";
    if (strlen(code) < 9) {
        *field = "XZQDM";
        *why = tb_arena_printf(a, "'%s' is a county code; a notice is addressed to a township "
                               "(a 9-digit code)", code);
        return false;
    }
    const char *name = NULL, *addressee = NULL;
    for (size_t i = 0; i < n && !name; i++)
        if (strcmp(entries[i].code, code) == 0)
            name = entries[i].name, addressee = entries[i].addressee;
    if (name == NULL)
        name = p->admin_name && p->admin_name[0] ? p->admin_name : NULL;
    if (name == NULL) {
        *field = "XZQMC";
        *why = tb_arena_printf(a, "no township name: XZQMC is empty and the office lists no "
                               "township %s", code);
        return false;
    }
    const unit_rule *rule = NULL;
    for (size_t i = 0; i < rule_count && !rule; i++)
        if (ends_with(name, rules[i].suffix))
            rule = &rules[i];
    if (rule == NULL && addressee == NULL) {
        *field = "XZQMC";
        *why = tb_arena_printf(a, "township '%s': no <unit> rule of the office matches its "
                               "name, so it cannot be addressed", name);
        return false;
    }
    *out = (township_ref){
        .code = code,
        .name = name,
        .addressee = addressee ? addressee : tb_arena_printf(a, "%s%s", name, rule->addressee),
        .unit = rule ? rule->unit : "",
    };
    return true;
}

tv_value
docdata_township(const township_ref *t, const map_township *overview, tb_arena *a)
{
    tv_value *f;
    tv_value v = tv_record_new(&docdata_township_type, overview, NULL, &f, a);
    f[TF_CODE] = tv_str(t->code);
    f[TF_NAME] = tv_str(t->name);
    f[TF_ADDRESSEE] = tv_str(t->addressee);
    f[TF_UNIT] = tv_str(t->unit);
    return v;
}

/* ---- the dossier (约谈问责卷宗) ------------------------------------------------------------ */

enum {
    FF_SELECTED, FF_GROUNDS, FF_EXPLANATION, FF_BY_RATIO, FF_BY_BASIC, FF_BY_GENERAL,
    FF_FLAGGED, FF_FLAG_REASON, FF_ILLEGAL_FARM, FF_CONSTRUCTION_FARM, FF_RATIO, FF_RATIO_LINE,
    FF_BASIC_LINE, FF_GENERAL_LINE, FF_BASIC_ID, FF_BASIC_M2, FF_GENERAL_ID, FF_GENERAL_M2,
    FF_NFIELDS
};
static const tv_field finding_fields[FF_NFIELDS] = {
    [FF_SELECTED] = {"selected", B, "true when some rule selects the township"},
    [FF_GROUNDS] = {"grounds", S, "the rules that selected it, in words (absent if none)"},
    [FF_EXPLANATION] = {"explanation", S, "one sentence with every figure (as --explain)"},
    [FF_BY_RATIO] = {"by_ratio", B, "违法占用耕地 / 新增建设用地占用耕地 reached the line"},
    [FF_BY_BASIC] = {"by_basic_case", B, "one case reached the 永久基本农田 line"},
    [FF_BY_GENERAL] = {"by_general_case", B, "one case reached the 一般耕地 line"},
    [FF_FLAGGED] = {"flagged", B, "flagged by hand (<interview-flag>)"},
    [FF_FLAG_REASON] = {"flag_reason", S, "the flag's reason (absent if not flagged)"},
    [FF_ILLEGAL_FARM] = {"illegal_farmland_m2", N, "违法占用耕地, m²"},
    [FF_CONSTRUCTION_FARM] = {"construction_farmland_m2", N, "新增建设用地占用耕地, m²"},
    [FF_RATIO] = {"ratio", N, "the ratio (absent without 新增建设用地占用耕地)"},
    [FF_RATIO_LINE] = {"ratio_line", N, "the rule's ratio (0.15)"},
    [FF_BASIC_LINE] = {"basic_case_mu", N, "the rule's 永久基本农田 line, 亩"},
    [FF_GENERAL_LINE] = {"general_case_mu", N, "the rule's 一般耕地 line, 亩"},
    [FF_BASIC_ID] = {"largest_basic_id", S, "the case with most 永久基本农田 (absent if none)"},
    [FF_BASIC_M2] = {"largest_basic_m2", N, "its 永久基本农田, m²"},
    [FF_GENERAL_ID] = {"largest_general_id", S, "the case with most 一般耕地 (absent if none)"},
    [FF_GENERAL_M2] = {"largest_general_m2", N, "its 一般耕地 (耕地 less 永久基本农田), m²"},
};
const tv_type docdata_finding_type = {TV_RECORD, "finding", finding_fields, FF_NFIELDS, NULL};

enum { EF_AT, EF_TIME, EF_FIELD, EF_FROM, EF_TO, EF_BY, EF_NOTE, EF_NFIELDS };
static const tv_field event_fields[EF_NFIELDS] = {
    [EF_AT] = {"at", D, "the day of the change"},
    [EF_TIME] = {"time", S, "its time of day, hh:mm"},
    [EF_FIELD] = {"field", S, "what changed: 合法性判定, 整改措施, 整改状态, 整改期限, 数据缺失"},
    [EF_FROM] = {"from", S, "the value before (absent: none)"},
    [EF_TO] = {"to", S, "the value after (absent: cleared)"},
    [EF_BY] = {"by", S, "who recorded it"},
    [EF_NOTE] = {"note", S, "the note recorded with it"},
};
const tv_type docdata_event_type = {TV_RECORD, "event", event_fields, EF_NFIELDS, NULL};

enum { IF_KIND, IF_NAME, IF_DOCNO, IF_DATE, IF_NFIELDS };
static const tv_field issued_fields[IF_NFIELDS] = {
    [IF_KIND] = {"kind", S, "notice, acceptance"},
    [IF_NAME] = {"name", S, "整改通知书, 验收意见书"},
    [IF_DOCNO] = {"docno", S, "发文字号"},
    [IF_DATE] = {"date", D, "the day it was issued (UTC)"},
};
const tv_type docdata_issued_type = {TV_RECORD, "issued", issued_fields, IF_NFIELDS, NULL};

static const tv_type event_list = {.kind = TV_LIST, .item = &docdata_event_type};
static const tv_type issued_list = {.kind = TV_LIST, .item = &docdata_issued_type};
enum { KF_PATCH, KF_HISTORY, KF_ISSUED, KF_ACCEPTED, KF_ACCEPTED_BY, KF_ACCEPTED_NOTE,
       KF_NFIELDS };
static const tv_field case_fields[KF_NFIELDS] = {
    [KF_PATCH] = {"patch", &docdata_patch_type, "the patch as it stood at the date"},
    [KF_HISTORY] = {"history", &event_list, "its status history, oldest first"},
    [KF_ISSUED] = {"issued", &issued_list, "documents issued for it (the registry)"},
    [KF_ACCEPTED] = {"accepted", D, "the day it was last set 已验收 (absent if never)"},
    [KF_ACCEPTED_BY] = {"accepted_by", S, "who recorded the acceptance"},
    [KF_ACCEPTED_NOTE] = {"accepted_note", S, "the acceptance's note"},
};
const tv_type docdata_case_type = {TV_RECORD, "case", case_fields, KF_NFIELDS, NULL};

enum { LF_NO, LF_START, LF_END, LF_RETENTION, LF_NFIELDS };
static const tv_field volume_fields[LF_NFIELDS] = {
    [LF_NO] = {"volume_no", S, "卷号"},
    [LF_START] = {"start", D, "起止日期: the earliest record in the volume"},
    [LF_END] = {"end", D, "… to the dossier's date"},
    [LF_RETENTION] = {"retention", S, "保管期限 (永久, 30年)"},
};
const tv_type docdata_volume_type = {TV_RECORD, "volume", volume_fields, LF_NFIELDS, NULL};

const tv_type *
docdata_dossier_type(const tv_type *office_type, tb_arena *a)
{
    static const tv_type patch_list = {.kind = TV_LIST, .item = &docdata_patch_type};
    static const tv_type case_list = {.kind = TV_LIST, .item = &docdata_case_type};
    static const char *const names[] = {"office", "date", "docno", "year", "township", "volume",
                                        "finding", "stats", "patches", "cases"};
    const tv_type *types[] = {office_type, D, S, N, &docdata_township_type,
                              &docdata_volume_type, &docdata_finding_type,
                              &docdata_stats_type, &patch_list, &case_list};
    static const char *const docs[] = {
        "the issuing office", "成文日期", "发文字号 (empty for a 样稿)", "the batch's year",
        "the township interviewed", "卷号, 起止日期, 保管期限",
        "the 约谈 figures and the rules that selected the township",
        "sums over its illegal patches", "its illegal patches, by id",
        "the same patches with their history and documents"};
    size_t n = sizeof names / sizeof names[0];
    tv_field *f = tb_arena_array(a, n, sizeof *f);
    for (size_t i = 0; i < n; i++)
        f[i] = (tv_field){names[i], types[i], docs[i]};
    tv_type *t = tb_arena_alloc(a, sizeof *t);
    *t = (tv_type){TV_RECORD, "dossier", f, n, NULL};
    return t;
}

static double
general_m2(const patch *p)
{
    return p->farmland_m2 > p->basic_farmland_m2 ? p->farmland_m2 - p->basic_farmland_m2 : 0;
}

tv_value
docdata_finding(const interview_finding *fi, const interview_rules *r, const char *grounds,
                tb_arena *a)
{
    tv_value *f;
    tv_value v = tv_record_new(&docdata_finding_type, fi, fi->name, &f, a);
    f[FF_SELECTED] = tv_boolean(fi->reasons != 0);
    f[FF_GROUNDS] = tv_str(grounds);
    f[FF_EXPLANATION] = tv_str(fi->explanation);
    f[FF_BY_RATIO] = tv_boolean(fi->reasons & INTERVIEW_RATIO);
    f[FF_BY_BASIC] = tv_boolean(fi->reasons & INTERVIEW_BASIC_CASE);
    f[FF_BY_GENERAL] = tv_boolean(fi->reasons & INTERVIEW_GENERAL_CASE);
    f[FF_FLAGGED] = tv_boolean(fi->reasons & INTERVIEW_FLAGGED);
    f[FF_FLAG_REASON] = tv_str(fi->flag_reason);
    f[FF_ILLEGAL_FARM] = tv_num(fi->illegal_farmland_m2);
    f[FF_CONSTRUCTION_FARM] = tv_num(fi->construction_farmland_m2);
    f[FF_RATIO] = fi->construction_farmland_m2 > 0 ? tv_num(fi->ratio) : tv_null();
    f[FF_RATIO_LINE] = tv_num(r->farmland_ratio);
    f[FF_BASIC_LINE] = tv_num(r->basic_case_mu);
    f[FF_GENERAL_LINE] = tv_num(r->general_case_mu);
    f[FF_BASIC_ID] = tv_str(fi->largest_basic ? fi->largest_basic->id : NULL);
    f[FF_BASIC_M2] = tv_num(fi->largest_basic ? fi->largest_basic->basic_farmland_m2 : 0);
    f[FF_GENERAL_ID] = tv_str(fi->largest_general ? fi->largest_general->id : NULL);
    f[FF_GENERAL_M2] = tv_num(fi->largest_general ? general_m2(fi->largest_general) : 0);
    return v;
}

static const char *
field_label(const char *field)
{
    static const struct { const char *field, *label; } labels[] = {
        {"legality", "合法性判定"}, {"measure", "整改措施"}, {"state", "整改状态"},
        {"deadline", "整改期限"},   {"missing", "数据缺失"},
    };
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strcmp(labels[i].field, field) == 0)
            return labels[i].label;
    return field;
}

/* "YYYY-MM-DD…" → the day; invalid → year 0 (absent). */
static cn_date
day_of(const char *iso)
{
    cn_date d = {0};
    if (iso == NULL || sscanf(iso, "%4d-%2d-%2d", &d.year, &d.month, &d.day) != 3 ||
        !cn_date_valid(d))
        return (cn_date){0};
    return d;
}

static const char *
missing_word(const char *field, const char *v)
{
    if (v == NULL || strcmp(field, "missing") != 0)
        return v;
    return strcmp(v, "1") == 0 ? "本期数据未报" : "本期数据恢复";
}

tv_value
docdata_case(const dossier_case *c, tb_arena *a)
{
    tv_value *f;
    tv_value v = tv_record_new(&docdata_case_type, c, c->patch->id, &f, a);
    f[KF_PATCH] = docdata_patch(c->patch, a);
    tv_value *events = tb_arena_array(a, c->event_count + 1, sizeof *events);
    const dossier_event *accepted = NULL;
    for (size_t i = 0; i < c->event_count; i++) {
        const dossier_event *e = &c->events[i];
        tv_value *g;
        events[i] = tv_record_new(&docdata_event_type, e, c->patch->id, &g, a);
        g[EF_AT] = tv_date(day_of(e->at));
        g[EF_TIME] = tv_str(e->at && strlen(e->at) >= 16 ? tb_arena_printf(a, "%.5s", e->at + 11)
                                                         : NULL);
        g[EF_FIELD] = tv_str(field_label(e->field));
        g[EF_FROM] = tv_str(missing_word(e->field, e->from));
        g[EF_TO] = tv_str(missing_word(e->field, e->to));
        g[EF_BY] = tv_str(e->by);
        g[EF_NOTE] = tv_str(e->note);
        if (strcmp(e->field, "state") == 0 && e->to && strcmp(e->to, "已验收") == 0)
            accepted = e;
    }
    f[KF_HISTORY] = tv_list(events, c->event_count);
    tv_value *issued = tb_arena_array(a, c->issued_count + 1, sizeof *issued);
    for (size_t i = 0; i < c->issued_count; i++) {
        const dossier_issued *d = &c->issued[i];
        tv_value *g;
        issued[i] = tv_record_new(&docdata_issued_type, d, d->docno, &g, a);
        g[IF_KIND] = tv_str(d->kind);
        g[IF_NAME] = tv_str(strcmp(d->kind, "notice") == 0       ? "整改通知书"
                            : strcmp(d->kind, "acceptance") == 0 ? "验收意见书"
                                                                 : d->kind);
        g[IF_DOCNO] = tv_str(d->docno);
        g[IF_DATE] = tv_date(day_of(d->issued_at));
    }
    f[KF_ISSUED] = tv_list(issued, c->issued_count);
    f[KF_ACCEPTED] = accepted ? tv_date(day_of(accepted->at)) : tv_null();
    f[KF_ACCEPTED_BY] = tv_str(accepted ? accepted->by : NULL);
    f[KF_ACCEPTED_NOTE] = tv_str(accepted ? accepted->note : NULL);
    return v;
}

tv_value
docdata_volume(const char *volume_no, cn_date start, cn_date end, const char *retention,
               tb_arena *a)
{
    tv_value *f;
    tv_value v = tv_record_new(&docdata_volume_type, NULL, NULL, &f, a);
    f[LF_NO] = tv_str(volume_no);
    f[LF_START] = tv_date(start);
    f[LF_END] = tv_date(end);
    f[LF_RETENTION] = tv_str(retention);
    return v;
}
