/* The template language: untrusted XML (no DTD, no entities, schema-checked with line:column),
 * every reference checked against the kind's data when loaded, and binding that loops,
 * conditions, numbers headings, builds tables and figures. */
#include "tb_features.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "docdata.h"
#include "tpl.h"
#include "tpl_doc.h"

#define NS "urn:tuban:template:1"
#define HEAD "<template xmlns='" NS "' kind='notice'>\n"

static patch test_patches[3] = {
    {.id = "139901SJBG24210019", .admin_code = "139901001", .admin_name = "城关镇",
     .area_m2 = 1240, .farmland_m2 = 980, .violation = "超占用地", .measure = "拆除复绿",
     .deadline = {2025, 3, 31}, .record = 7},
    {.id = "139901SJBG24210024", .admin_code = "139901001", .admin_name = "城关镇",
     .area_m2 = 680, .farmland_m2 = 653.3, .violation = NULL, .deadline = {0, 0, 0},
     .record = 9},
    {.id = "139901SJBG24210026", .admin_code = "139901001", .admin_name = "城关镇",
     .area_m2 = 7600, .farmland_m2 = 6913, .basic_farmland_m2 = 3113, .violation = "违法占地",
     .deadline = {2024, 12, 31}, .record = 12},
};

static const named_number rules[] = {{"deadline_days", 30}};

static office_data
test_office(void)
{
    return (office_data){.name = "示例县自然资源局", .mark = "示例县自然资源局文件",
                         .docno_prefix = "示自然资发", .county = "示例县", .issuer = "办公室",
                         .cc = "县人民政府办公室", .rules = rules, .rule_count = 1};
}

typedef struct fixture {
    tb_arena *a;
    const tv_type *office_type, *type;
    office_data office;
} fixture;

static fixture
fixture_new(void)
{
    fixture f = {.a = tb_arena_new(0), .office = test_office()};
    f.office_type = docdata_office_type(&f.office, f.a);
    f.type = docdata_notice_type(f.office_type, f.a);
    return f;
}

/* The notice data for the first n test patches. */
static tv_value
data_for(fixture *f, size_t n)
{
    static const patch *ptrs[3] = {&test_patches[0], &test_patches[1], &test_patches[2]};
    tv_value *items = tb_arena_array(f->a, n + 1, sizeof *items);
    for (size_t i = 0; i < n; i++)
        items[i] = docdata_patch(ptrs[i], f->a);
    patch_stats *stats = tb_arena_alloc(f->a, sizeof *stats);
    *stats = patch_stats_compute(ptrs, n);
    township_ref *t = tb_arena_alloc(f->a, sizeof *t);
    *t = (township_ref){"139901001", "城关镇", "城关镇人民政府", "镇"};
    tv_value *fields;
    tv_value v = tv_record_new(f->type, NULL, NULL, &fields, f->a);
    const tv_value values[] = {docdata_office(f->office_type, &f->office, f->a),
                               docdata_township(t, NULL, f->a), tv_list(items, n),
                               docdata_stats(stats, f->a), tv_date((cn_date){2024, 11, 20}),
                               tv_str("示自然资发〔2024〕3号"), tv_num(2024)};
    memcpy(fields, values, sizeof values);
    return v;
}

static tpl_doc *
parse(fixture *f, const char *xml, tb_err *err)
{
    return tpl_doc_parse(xml, strlen(xml), "t.xml", NULL, f->type, f->a, err);
}

/* The plain text of a block. */
static const char *
text(const dt_text *t, tb_arena *a)
{
    char *s = tb_arena_strdup(a, "");
    for (size_t i = 0; i < t->count; i++)
        s = tb_arena_printf(a, "%s%s", s, t->runs[i].flags & DT_RUN_BREAK ? "|" : t->runs[i].text);
    return s;
}

static dt_doc
bind(fixture *f, const char *xml, size_t n)
{
    tb_err err = {0};
    tpl_doc *t = parse(f, xml, &err);
    if (t == NULL)
        fail_msg("%s", err.msg);
    dt_doc doc;
    if (tpl_doc_bind(t, data_for(f, n), &doc, f->a, &err) != TB_OK)
        fail_msg("%s", err.msg);
    return doc;
}

static void
expect_error(fixture *f, const char *xml, const char *needle)
{
    tb_err err = {0};
    assert_null(parse(f, xml, &err));
    assert_int_not_equal(err.code, TB_OK);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("expected '%s' in: %s", needle, err.msg);
}

static void
test_rejects_external_entity(void **state)
{
    (void)state;
    fixture f = fixture_new();
    expect_error(&f, "<?xml version='1.0'?>\n<!DOCTYPE template [<!ENTITY x SYSTEM "
                 "'file:///etc/passwd'>]>\n" HEAD "<title>&x;</title></template>",
                 "DOCTYPE is not allowed");
    expect_error(&f, "<template", "t.xml:1:");
    tb_arena_free(f.a);
}

static void
test_schema_error_has_line_column_and_hint(void **state)
{
    (void)state;
    fixture f = fixture_new();
    expect_error(&f, HEAD "<title>x</title>\n  <paragraph>z</paragraph></template>",
                 "t.xml:3:3: does not match the schema");
    expect_error(&f, HEAD "<title>x</title>\n  <paragraph>z</paragraph></template>",
                 "did you mean <p>?");
    expect_error(&f, HEAD "<tittle>x</tittle></template>", "t.xml:2:1: does not match the schema");
    expect_error(&f, HEAD "<tittle>x</tittle></template>", "did you mean <title>?");
    tb_arena_free(f.a);
}

static void
test_unknown_field_with_line_column_and_suggestion(void **state)
{
    (void)state;
    fixture f = fixture_new();
    expect_error(&f, HEAD "<for each='p in patches'>\n    <p>耕地{p.gdmj|mu}亩</p></for></template>",
                 "t.xml:3:13: unknown field 'gdmj' of patch (did you mean 'jcgdmj'?)");
    expect_error(&f, HEAD "<p>{townsip.name}</p></template>",
                 "t.xml:2:5: unknown name 'townsip' (did you mean 'township'?)");
    expect_error(&f, HEAD "<p>{stats.area_m2|mu2}</p></template>", "unknown filter 'mu2'");
    expect_error(&f, HEAD "<p>{date|mu}</p></template>", "filter 'mu' takes a number, not date");
    expect_error(&f, HEAD "<if test='patches.jcmj > 3'><p>x</p></if></template>",
                 "cannot apply '>' to list of number and number");
    expect_error(&f, HEAD "<for each='p in stats'><p>x</p></for></template>",
                 "'stats' is a stats, not a list");
    expect_error(&f, HEAD "<p>{office.rules.deadline}</p></template>",
                 "unknown field 'deadline' of rules (did you mean 'deadline_days'?)");
    /* names of a loop are not visible after it */
    expect_error(&f, HEAD "<for each='p in patches'><p>{p.id}</p></for><p>{p.id}</p></template>",
                 "unknown name 'p'");
    expect_error(&f, HEAD "<p>{p.id</p></template>", "unclosed '{'");
    /* a map's datum is what its view draws: a patch, or a township for the overview */
    expect_error(&f, HEAD "<figure><map of='township'/></figure></template>",
                 "'township' is a township; a map with view=\"(none)\" shows a patch");
    expect_error(&f, HEAD "<for each='p in patches'><figure><map of='p' view='overview'/>"
                 "</figure></for></template>", "a map with view=\"overview\" shows a township");
    expect_error(&f, HEAD "<for each='p in patches'><figure><map of='p' view='{p.id}'/>"
                 "</figure></for></template>", "write the view out");
    tb_arena_free(f.a);
}

static void
test_loop_sort_where_and_numbered_headings(void **state)
{
    (void)state;
    fixture f = fixture_new();
    dt_doc d = bind(&f, HEAD
                    "<title>关于{township.name}<br/>的通知</title>"
                    "<h1>情况</h1>"
                    "<if test='count(patches) > 5'><h1>不出现</h1></if>"
                    "<h1>图斑</h1>"
                    "<for each='p in patches' where='p.jcmj > 1000' sort='p.jcmj' order='desc' "
                    "index='i'><h2>{p.id}</h2><p>{i|ordinal(2)}{p.jcmj|mu}亩"
                    "<if test='p.wflx'>，{p.wflx}</if>。</p></for>"
                    "<h1 number='no'>无号</h1><h1>要求</h1></template>",
                    3);
    assert_int_equal(d.block_count, 1 + 2 + 2 * 2 + 2);
    assert_string_equal(text(&d.blocks[0].text, f.a), "关于城关镇|的通知");
    assert_string_equal(d.title, "关于城关镇的通知");
    assert_string_equal(text(&d.blocks[1].text, f.a), "一、情况");
    assert_string_equal(text(&d.blocks[2].text, f.a), "二、图斑"); /* no gap for the <if> */
    assert_string_equal(text(&d.blocks[3].text, f.a), "（一）139901SJBG24210026");
    assert_string_equal(text(&d.blocks[4].text, f.a), "（一）11.40亩，违法占地。");
    assert_string_equal(text(&d.blocks[5].text, f.a), "（二）139901SJBG24210019");
    assert_string_equal(text(&d.blocks[6].text, f.a), "（二）1.86亩，超占用地。");
    assert_string_equal(d.blocks[6].origin.record, "record 7 (139901SJBG24210019)");
    /* what the typesetter names when it cannot set a block: record, expressions, place */
    assert_string_equal(d.blocks[6].origin.field, "i|ordinal(2), p.jcmj|mu, p.wflx");
    assert_string_equal(d.blocks[6].origin.where, "t.xml:2");
    assert_string_equal(text(&d.blocks[7].text, f.a), "无号");
    assert_string_equal(text(&d.blocks[8].text, f.a), "三、要求");
    tb_arena_free(f.a);
}

static void
test_let_choose_and_deadline_policy(void **state)
{
    (void)state;
    fixture f = fixture_new();
    dt_doc d = bind(&f, HEAD
                    "<let name='earliest' value='min(patches.deadline)'/>"
                    "<p>于{earliest|date}前</p>"
                    "<for each='p in patches'><p>{p.deadline|default(date + "
                    "office.rules.deadline_days)|date}</p></for>"
                    "<choose><when test='stats.count == 1'><p>一个</p></when>"
                    "<when test='stats.count >= 2 and not (stats.count > 3)'><p>几个</p></when>"
                    "<otherwise><p>很多</p></otherwise></choose></template>",
                    3);
    assert_int_equal(d.block_count, 5);
    assert_string_equal(text(&d.blocks[0].text, f.a), "于2024年12月31日前");
    assert_string_equal(text(&d.blocks[1].text, f.a), "2025年3月31日");
    assert_string_equal(text(&d.blocks[2].text, f.a), "2024年12月20日"); /* 30 days */
    assert_string_equal(text(&d.blocks[3].text, f.a), "2024年12月31日");
    assert_string_equal(text(&d.blocks[4].text, f.a), "几个");
    tb_arena_free(f.a);
}

static void
test_table_with_spans_and_totals(void **state)
{
    (void)state;
    fixture f = fixture_new();
    dt_doc d = bind(&f, HEAD
                    "<table font-pt='9'><col width='10' align='center'/><col width='40'/>"
                    "<col align='right'/>"
                    "<thead><tr><td rowspan='2'>序号</td><td colspan='2'>图斑</td></tr>"
                    "<tr><td>编号</td><td>面积</td></tr></thead>"
                    "<tbody><for each='p in patches' index='i'><tr><td>{i}</td><td>{p.id}</td>"
                    "<td>{p.jcmj|mu}</td></tr></for></tbody>"
                    "<tfoot><tr><td colspan='2' align='center'>合计{stats.count}个</td>"
                    "<td>{stats.area_m2|mu}</td></tr></tfoot></table></template>",
                    3);
    assert_int_equal(d.block_count, 1);
    const dt_table *t = d.blocks[0].table;
    assert_int_equal(t->column_count, 3);
    assert_true(t->columns[0].width_mm == 10 && t->columns[0].align == DT_ALIGN_CENTER);
    assert_true(t->font_pt == 9);
    assert_int_equal(t->row_count, 2 + 3 + 1);
    assert_int_equal(t->rows[0].role, DT_ROW_HEAD);
    assert_int_equal(t->rows[0].cells[0].rowspan, 2);
    assert_int_equal(t->rows[0].cells[1].colspan, 2);
    assert_int_equal(t->rows[2].role, DT_ROW_BODY);
    assert_string_equal(text(&t->rows[4].cells[1].text, f.a), "139901SJBG24210026");
    assert_string_equal(t->rows[4].origin.record, "record 12 (139901SJBG24210026)");
    assert_string_equal(t->rows[4].origin.field, "i, p.id, p.jcmj|mu");
    assert_int_equal(t->rows[5].role, DT_ROW_TOTAL);
    assert_string_equal(text(&t->rows[5].cells[0].text, f.a), "合计3个");
    /* 1240 + 680 + 7600 m² = 9520 m² = 14.28 亩: the sum of m², rounded once */
    assert_string_equal(text(&t->rows[5].cells[1].text, f.a), "14.28");
    tb_arena_free(f.a);
}

static void
test_figures_attachments_head_colophon(void **state)
{
    (void)state;
    fixture f = fixture_new();
    dt_doc d = bind(&f, "<template xmlns='" NS "' kind='notice' format='letter' duplex='yes' "
                    "page-limit='40'>"
                    "<head><mark>{office.mark}</mark><docno>{docno}</docno>"
                    "<urgency>特急</urgency></head>"
                    "<attachment-note/><signature date='{date|date}'>{office.name}</signature>"
                    "<attachment title='清单'><h1>甲</h1></attachment>"
                    "<attachment title='位置图' orientation='landscape'>"
                    "<for each='p in patches' index='i'><figure height='80'>"
                    "<map of='p' view='before' scale='1:2000' layers='imagery outline'/>"
                    "<map of='p' view='after'/><caption>图{i} {p.id}</caption></figure></for>"
                    "</attachment>"
                    "<colophon><cc>{office.cc}</cc><issuer>{office.issuer}</issuer>"
                    "<print-date>{date|date}</print-date></colophon></template>",
                    2);
    assert_int_equal(d.format, DT_FORMAT_LETTER);
    assert_true(d.duplex);
    assert_int_equal(d.page_limit, 40);
    assert_string_equal(d.head.mark, "示例县自然资源局文件");
    assert_string_equal(d.head.docno, "示自然资发〔2024〕3号");
    assert_string_equal(d.head.urgency, "特急");
    assert_null(d.head.signer);
    assert_int_equal(d.blocks[0].kind, DT_ATTACHMENT_NOTE);
    assert_int_equal(d.blocks[0].item_count, 2);
    assert_string_equal(text(&d.blocks[0].items[1], f.a), "位置图");
    assert_int_equal(d.blocks[1].kind, DT_SIGNATURE);
    assert_string_equal(d.blocks[1].label, "示例县自然资源局");
    assert_string_equal(d.blocks[1].date, "2024年11月20日");
    assert_true(d.blocks[1].seal);
    assert_string_equal(d.blocks[2].label, "附件1");
    assert_string_equal(text(&d.blocks[3].text, f.a), "一、甲");
    assert_string_equal(d.blocks[4].label, "附件2");
    assert_int_equal(d.blocks[4].orientation, DT_LANDSCAPE);
    const dt_figure *fig = d.blocks[6].figure;
    assert_int_equal(fig->panel_count, 2);
    assert_true(fig->height_mm == 80);
    assert_string_equal(fig->panels[0].kind, "map");
    assert_ptr_equal(fig->panels[0].datum, &test_patches[1]);
    assert_int_equal(fig->panels[0].attr_count, 3);
    assert_string_equal(fig->panels[0].attrs[0].name, "view");
    assert_string_equal(fig->panels[0].attrs[0].value, "before");
    assert_string_equal(fig->panels[0].attrs[2].value, "imagery outline");
    assert_string_equal(text(&fig->caption, f.a), "图2 139901SJBG24210024");
    assert_string_equal(d.colophon->cc, "县人民政府办公室");
    assert_string_equal(d.colophon->print_date, "2024年11月20日");
    tb_arena_free(f.a);
}

static void
test_limits(void **state)
{
    (void)state;
    fixture f = fixture_new();
    /* nesting deeper than TPL_MAX_NESTING */
    char *deep = tb_arena_strdup(f.a, HEAD);
    for (int i = 0; i < 40; i++)
        deep = tb_arena_printf(f.a, "%s<if test='1'>", deep);
    for (int i = 0; i < 40; i++)
        deep = tb_arena_printf(f.a, "%s</if>", deep);
    deep = tb_arena_printf(f.a, "%s</template>", deep);
    expect_error(&f, deep, "nested deeper than");
    /* an include that is not there (no office: _base only) */
    expect_error(&f, HEAD "<include href='nope.xml'/></template>", "include 'nope.xml'");
    expect_error(&f, HEAD "<include href='../office.xml'/></template>", "does not match");
    tb_arena_free(f.a);
}

static void
test_base_template_and_includes(void **state)
{
    (void)state;
    fixture f = fixture_new();
    tb_err err = {0};
    /* an office without notice.xml inherits _base's, which includes _base's patch table */
    tpl_office office = {.dir = "/nonexistent"};
    tpl_doc *t = tpl_doc_load(&office, "notice", f.type, f.a, &err);
    if (t == NULL)
        fail_msg("%s", err.msg);
    assert_string_equal(tpl_doc_path(t), "templates/_base/notice.xml");
    dt_doc d;
    assert_int_equal(tpl_doc_bind(t, data_for(&f, 3), &d, f.a, &err), TB_OK);
    size_t tables = 0;
    for (size_t i = 0; i < d.block_count; i++)
        tables += d.blocks[i].kind == DT_TABLE;
    assert_int_equal(tables, 1);
    tb_arena_free(f.a);
}

static void
test_office_profile_inherits_base(void **state)
{
    (void)state;
    tb_arena *a = tb_arena_new(0);
    tb_err err = {0};
    tpl_office *o = tpl_office_load(TUBAN_SOURCE_DIR "/templates/sample-office", a, &err);
    if (o == NULL)
        fail_msg("%s", err.msg);
    assert_string_equal(o->name, "示例县自然资源局");
    assert_string_equal(tpl_office_prefix(o, "notice"), "示自然资发");
    assert_string_equal(o->county_code, "139901");
    assert_non_null(strstr(o->key_path, "/sample-office/keys/office.key"));
    assert_true(o->seal_diameter_mm == 42.0);
    /* rules and unit rules from _base */
    assert_true(o->rule_count >= 1);
    assert_string_equal(o->rules[0].name, "deadline_days");
    assert_true(o->rules[0].value == 30);
    assert_true(o->unit_count == 3);
    assert_true(o->township_count >= 3);

    tb_err missing = {0};
    assert_null(tpl_office_load("/nonexistent-office", a, &missing));
    assert_int_equal(missing.code, TB_ENOTFOUND);
    assert_non_null(strstr(missing.msg, "/nonexistent-office/office.xml"));
    tb_arena_free(a);
}

static void
test_township_policy_from_office_data(void **state)
{
    (void)state;
    tb_arena *a = tb_arena_new(0);
    const unit_rule units[] = {{"街道", "办事处", "街道"}, {"镇", "人民政府", "镇"},
                               {"乡", "人民政府", "乡"}};
    const township_entry towns[] = {{"139901201", "东河乡", NULL}};
    township_ref t;
    const char *field, *why;
    patch p = {.id = "X", .admin_code = "139901001", .admin_name = "南湖街道"};
    assert_true(docdata_township_resolve(&p, towns, 1, units, 3, &t, &field, &why, a));
    assert_string_equal(t.addressee, "南湖街道办事处");
    assert_string_equal(t.unit, "街道");
    p = (patch){.id = "X", .admin_code = "139901201"}; /* no XZQMC: the office knows it */
    assert_true(docdata_township_resolve(&p, towns, 1, units, 3, &t, &field, &why, a));
    assert_string_equal(t.addressee, "东河乡人民政府");
    assert_string_equal(t.unit, "乡");
    p = (patch){.id = "X", .admin_code = "139901999"}; /* no XZQMC, unknown code */
    assert_false(docdata_township_resolve(&p, towns, 1, units, 3, &t, &field, &why, a));
    assert_string_equal(field, "XZQMC");
    p = (patch){.id = "X", .admin_code = "139901", .admin_name = "示例县"};
    assert_false(docdata_township_resolve(&p, towns, 1, units, 3, &t, &field, &why, a));
    assert_string_equal(field, "XZQDM");
    assert_non_null(strstr(why, "county code"));
    tb_arena_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rejects_external_entity),
        cmocka_unit_test(test_schema_error_has_line_column_and_hint),
        cmocka_unit_test(test_unknown_field_with_line_column_and_suggestion),
        cmocka_unit_test(test_loop_sort_where_and_numbered_headings),
        cmocka_unit_test(test_let_choose_and_deadline_policy),
        cmocka_unit_test(test_table_with_spans_and_totals),
        cmocka_unit_test(test_figures_attachments_head_colophon),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_base_template_and_includes),
        cmocka_unit_test(test_office_profile_inherits_base),
        cmocka_unit_test(test_township_policy_from_office_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
