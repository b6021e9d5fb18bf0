/* Templates are untrusted: no DTD, no entities, schema-checked; variables named precisely. */
#include "tb_features.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "tpl.h"

#define NS "urn:tuban:template:1"

static tpl_notice *
parse(const char *xml, tb_arena *a, tb_err *err)
{
    return tpl_notice_parse(xml, strlen(xml), "t.xml", a, err);
}

static void
test_valid_notice(void **state)
{
    (void)state;
    tb_arena *a = tb_arena_new(0);
    tb_err err = {0};
    tpl_notice *t = parse("<template xmlns='" NS "' kind='notice'>\n"
                          "<title>关于{township}的通知</title>\n"
                          "<addressee>{addressee}：</addressee>\n"
                          "<body><p>第一段\n   续行</p><h1>一、要求</h1><patch-list/></body>\n"
                          "<attachments><attachment content='patch-maps'>位置图</attachment>"
                          "</attachments></template>",
                          a, &err);
    assert_non_null(t);
    assert_int_equal(err.code, TB_OK);
    assert_string_equal(t->title, "关于{township}的通知");
    assert_int_equal(t->block_count, 3);
    assert_string_equal(t->blocks[0].text, "第一段续行"); /* line breaks of the XML vanish */
    assert_int_equal(t->blocks[1].kind, TPL_HEADING1);
    assert_int_equal(t->blocks[2].kind, TPL_PATCH_LIST);
    assert_int_equal(t->attachment_count, 1);
    assert_int_equal(t->attachments[0].content, TPL_ATT_PATCH_MAPS);
    assert_null(t->cc);
    tb_arena_free(a);
}

static void
test_rejects_external_entity(void **state)
{
    (void)state;
    tb_arena *a = tb_arena_new(0);
    tb_err err = {0};
    tpl_notice *t = parse("<?xml version='1.0'?>\n<!DOCTYPE template [<!ENTITY x SYSTEM "
                          "'file:///etc/passwd'>]>\n<template xmlns='" NS "' kind='notice'>"
                          "<title>&x;</title><addressee>a</addressee><body><p>b</p></body>"
                          "</template>",
                          a, &err);
    assert_null(t);
    assert_int_equal(err.code, TB_EFORMAT);
    assert_non_null(strstr(err.msg, "DOCTYPE"));
    assert_null(strstr(err.msg, "root:"));
    tb_arena_free(a);
}

static void
test_schema_error_names_line(void **state)
{
    (void)state;
    tb_arena *a = tb_arena_new(0);
    tb_err err = {0};
    tpl_notice *t = parse("<template xmlns='" NS "' kind='notice'>\n<title>x</title>\n"
                          "<addressee>y</addressee>\n<body><p>z</p><script/></body></template>",
                          a, &err);
    assert_null(t);
    assert_int_equal(err.code, TB_EFORMAT);
    assert_non_null(strstr(err.msg, "t.xml"));
    assert_non_null(strstr(err.msg, "line 4"));
    tb_err err2 = {0};
    assert_null(parse("<template", a, &err2));
    assert_non_null(strstr(err2.msg, "not well-formed"));
    tb_arena_free(a);
}

static void
test_expand(void **state)
{
    (void)state;
    tb_arena *a = tb_arena_new(0);
    tb_err err = {0};
    const tpl_var vars[] = {{"township", "城关镇"}, {"count", "5"}};
    char *s = tpl_expand("{township}共{count}宗{{字面}}", vars, 2, "t.xml", 7, a, &err);
    assert_non_null(s);
    assert_string_equal(s, "城关镇共5宗{字面}");
    assert_null(tpl_expand("面积{area}亩", vars, 2, "t.xml", 7, a, &err));
    assert_int_equal(err.code, TB_EFORMAT);
    assert_non_null(strstr(err.msg, "t.xml:7"));
    assert_non_null(strstr(err.msg, "{area}"));
    assert_non_null(strstr(err.msg, "township, count"));
    tb_err err2 = {0};
    assert_null(tpl_expand("{township", vars, 2, "t.xml", 3, a, &err2));
    assert_non_null(strstr(err2.msg, "unclosed"));
    tb_arena_free(a);
}

static void
test_office_profile(void **state)
{
    (void)state;
    tb_arena *a = tb_arena_new(0);
    tb_err err = {0};
    tpl_office *o = tpl_office_load(TUBAN_SOURCE_DIR "/templates/sample-office", a, &err);
    assert_non_null(o);
    assert_string_equal(o->name, "示例县自然资源局");
    assert_string_equal(o->docno_prefix, "示自然资发");
    assert_string_equal(o->county_code, "139901");
    assert_non_null(strstr(o->key_path, "/sample-office/keys/office.key"));
    assert_true(o->seal_diameter_mm == 42.0);

    tb_err missing = {0};
    assert_null(tpl_office_load("/nonexistent-office", a, &missing));
    assert_int_equal(missing.code, TB_ENOTFOUND);
    assert_non_null(strstr(missing.msg, "/nonexistent-office/office.xml"));
    tb_arena_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_notice),
        cmocka_unit_test(test_rejects_external_entity),
        cmocka_unit_test(test_schema_error_names_line),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_office_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
