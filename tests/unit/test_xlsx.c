/* XLSX tables: written from a dt_table, then read back with an independent reader (Python's
 * zipfile over the package's sheet XML) to check numbers, text, merged cells and the title. */
#include "tb_features.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tb_fs.h"
#include "xlsx_table.h"

static void
test_parse_number(void **state)
{
    (void)state;
    xlsx_number n;
    assert_true(xlsx_parse_number("12.35", &n));
    assert_true(n.value == 12.35 && n.decimals == 2 && !n.thousands && !n.percent);
    assert_true(xlsx_parse_number("1,234.50", &n));
    assert_true(n.value == 1234.5 && n.decimals == 2 && n.thousands);
    assert_true(xlsx_parse_number("15.3%", &n));
    assert_true(n.percent && n.decimals == 1 && n.value > 0.15299 && n.value < 0.15301);
    assert_true(xlsx_parse_number("-3", &n) && n.value == -3);
    assert_true(xlsx_parse_number("0", &n) && n.value == 0);
    assert_false(xlsx_parse_number("139901SJBG24210019", &n));
    assert_false(xlsx_parse_number("2025-03-31", &n));
    assert_false(xlsx_parse_number("007", &n));
    assert_false(xlsx_parse_number("1,23", &n));
    assert_false(xlsx_parse_number("12.", &n));
    assert_false(xlsx_parse_number("", &n));
    assert_false(xlsx_parse_number("合计", &n));
}

#define T(s) {(const dt_run[]){{s, 0}}, 1}

static char *
run_capture(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    static char out[65536];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    return out;
}

static void
test_write_and_read_back(void **state)
{
    (void)state;
    const dt_column cols[] = {{20, DT_ALIGN_LEFT}, {20, DT_ALIGN_RIGHT}, {20, DT_ALIGN_RIGHT}};
    const dt_cell head[] = {{.text = T("乡镇"), .rowspan = 2}, {.text = T("面积"), .colspan = 2}};
    const dt_cell head2[] = {{.text = T("耕地（亩）")}, {.text = T("占比")}};
    const dt_cell r1[] = {{.text = T("甲镇")}, {.text = T("12.35")}, {.text = T("15.3%")}};
    const dt_cell r2[] = {{.text = T("乙乡")}, {.text = T("1,234.50")}, {.text = T("—")}};
    const dt_cell tot[] = {{.text = T("合计")}, {.text = T("1,246.85")}, {.text = T("")}};
    const dt_row rows[] = {
        {head, 2, DT_ROW_HEAD, {0}}, {head2, 2, DT_ROW_HEAD, {0}}, {r1, 3, DT_ROW_BODY, {0}},
        {r2, 3, DT_ROW_BODY, {0}},   {tot, 3, DT_ROW_TOTAL, {0}},
    };
    const dt_table t = {.columns = cols, .column_count = 3, .rows = rows, .row_count = 5};
    char dir[] = "/tmp/tuban-xlsx-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/汇总表.xlsx", dir);
    const xlsx_sheet sheet = {"违法用地数据汇总表", "违法用地数据汇总表", &t, true, NULL, 0};
    tb_err err = {0};
    char *tmp = NULL;
    assert_int_equal(xlsx_write_temp(path, &sheet, 1, &tmp, &err), TB_OK);
    assert_false(tb_fs_exists(path)); /* nothing visible until published */
    assert_int_equal(tb_fs_publish(tmp, path, &err), TB_OK);
    free(tmp);

    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "python3 -c \"import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); "
             "print(z.read('xl/worksheets/sheet1.xml').decode()); "
             "print(z.read('xl/sharedStrings.xml').decode())\" '%s'", path);
    const char *xml = run_capture(cmd);
    /* numbers are numeric cells with their values */
    assert_non_null(strstr(xml, "<v>12.35</v>"));
    assert_non_null(strstr(xml, "<v>1234.5</v>"));
    assert_non_null(strstr(xml, "<v>0.153</v>"));
    assert_non_null(strstr(xml, "<v>1246.85</v>"));
    /* the merged title row and the head's spans */
    assert_non_null(strstr(xml, "<mergeCell ref=\"A1:C1\"/>"));
    assert_non_null(strstr(xml, "<mergeCell ref=\"A2:A3\"/>"));
    assert_non_null(strstr(xml, "<mergeCell ref=\"B2:C2\"/>"));
    /* text stays text */
    assert_non_null(strstr(xml, "甲镇"));
    assert_non_null(strstr(xml, "合计"));
    assert_non_null(strstr(xml, "耕地（亩）"));
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void
test_refusals(void **state)
{
    (void)state;
    const dt_column cols[] = {{20, DT_ALIGN_LEFT}};
    const dt_cell wide[] = {{.text = T("x"), .colspan = 3}};
    const dt_row rows[] = {{wide, 1, DT_ROW_BODY, {0}}};
    const dt_table t = {.columns = cols, .column_count = 1, .rows = rows, .row_count = 1};
    tb_err err = {0};
    char *tmp = NULL;
    const xlsx_sheet bad_name = {"a/b", NULL, &t, false, NULL, 0};
    assert_int_equal(xlsx_write_temp("/tmp/x.xlsx", &bad_name, 1, &tmp, &err), TB_EINVAL);
    assert_null(tmp);
    err = (tb_err){0};
    char dir[] = "/tmp/tuban-xlsx-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/t.xlsx", dir);
    const xlsx_sheet span = {"表", NULL, &t, false, NULL, 0};
    assert_int_equal(xlsx_write_temp(path, &span, 1, &tmp, &err), TB_EINVAL);
    assert_non_null(strstr(err.msg, "span past"));
    assert_null(tmp);
    assert_int_equal(rmdir(dir), 0); /* the refused workbook left no temporary behind */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_number),
        cmocka_unit_test(test_write_and_read_back),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
