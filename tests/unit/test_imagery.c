/* The imagery catalogue (imagery.xml): what it says reaches map_sources, and what it must not
 * say is refused with the file, line and attribute. */
#include "tb_features.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tpl_imagery.h"

#include <stdio.h>
#include <string.h>

#define HEAD "<?xml version=\"1.0\"?><imagery xmlns=\"urn:tuban:imagery:1\""

static map_sources *
parse(const char *xml, tb_arena *a, tb_err *err)
{
    return tpl_imagery_parse(xml, strlen(xml), "office/imagery.xml", "/srv/office", a, err);
}

static void
test_catalogue(void **state)
{
    (void)state;
    tb_arena *a = tb_arena_new(0);
    tb_err err = {0};
    map_sources *ms = parse(HEAD " grid=\"metres\">"
        "<image path=\"img/2023.tif\" date=\"2023-05-01\" label=\"GF-2\" "
        "footprint=\"117.0 35.1 117.3 35.3\" bands=\"3 2 1\" stretch=\"0 4000\"/>"
        "<image path=\"/data/dem.tif\" date=\"2022-01-31\" bands=\"1\" stretch=\"100 900\"/>"
        "<layer role=\"township\" path=\"t.gpkg\" key-field=\"XZQDM\" label-field=\"XZQMC\"/>"
        "<layer role=\"farmland\" path=\"f.shp\"/>"
        "<layer role=\"other\" name=\"roads\" title=\"道路\" path=\"r.gpkg\" colour=\"#FF8800\"/>"
        "</imagery>", a, &err);
    assert_non_null(ms);
    assert_int_equal(ms->grid, MAP_GRID_METRES);
    assert_int_equal(ms->image_count, 2);
    assert_string_equal(ms->images[0].path, "/srv/office/img/2023.tif");
    assert_int_equal(ms->images[0].date.year, 2023);
    assert_int_equal(ms->images[0].date.month, 5);
    assert_string_equal(ms->images[0].label, "GF-2");
    assert_true(ms->images[0].has_footprint);
    assert_true(ms->images[0].min_lon == 117.0 && ms->images[0].max_lat == 35.3);
    assert_int_equal(ms->images[0].bands[0], 3);
    assert_int_equal(ms->images[0].bands[2], 1);
    assert_true(ms->images[0].has_stretch && ms->images[0].stretch_hi == 4000);
    assert_string_equal(ms->images[1].path, "/data/dem.tif");
    assert_int_equal(ms->images[1].bands[1], 1); /* one band: grey */
    assert_int_equal(ms->layer_count, 3);
    assert_int_equal(ms->layers[0].role, MAP_LAYER_TOWNSHIP);
    assert_string_equal(ms->layers[0].name, "township");
    assert_string_equal(ms->layers[0].title, "乡镇界");
    assert_string_equal(ms->layers[1].title, "永久基本农田");
    assert_string_equal(ms->layers[2].name, "roads");
    assert_int_equal(ms->layers[2].colour, 0xFF8800);
    tb_arena_free(a);
}

static void
test_refusals(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {HEAD "><image path=\"/vsicurl/http://x/a.tif\" date=\"2023-01-01\"/></imagery>",
         "only local files"},
        {HEAD "><image path=\"a.tif\" date=\"2023-02-30\"/></imagery>", "2023-02-30"},
        {HEAD "><image path=\"a.tif\" date=\"2023-01-01\" stretch=\"9 1\"/></imagery>",
         "stretch '9 1'"},
        {HEAD "><image path=\"a.tif\" date=\"2023-01-01\" footprint=\"120 30 119 31\"/></imagery>",
         "footprint"},
        {HEAD "><image path=\"a.tif\" date=\"2023-01-01\" bands=\"1 2\"/></imagery>",
         "schema"},
        {HEAD "><layer role=\"other\" path=\"a.gpkg\"/></imagery>", "needs a name"},
        {HEAD "><layer role=\"other\" name=\"outline\" path=\"a.gpkg\"/></imagery>", "reserved"},
        {"<?xml version=\"1.0\"?><!DOCTYPE imagery [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
         "<imagery xmlns=\"urn:tuban:imagery:1\"/>", "DOCTYPE"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tb_arena *a = tb_arena_new(0);
        tb_err err = {0};
        assert_null(parse(cases[i][0], a, &err));
        assert_int_equal(err.code, TB_EFORMAT);
        assert_non_null(strstr(err.msg, "office/imagery.xml"));
        if (strstr(err.msg, cases[i][1]) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i][1]);
        tb_arena_free(a);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalogue),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
