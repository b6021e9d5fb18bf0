/* The clreq line breaker (src/layout/textline.c) on real fonts: kinsoku, ids and numbers never
 * broken, no-break runs, forced breaks, justification to the block, balanced titles. */
#include "tb_features.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "gongwen.h"
#include "textline.h"
#include "sample_fonts.h"

static typeface *tf;
static const tl_style body = {FONT_FANGSONG, GW_BODY_PT, GW_CHAR_PITCH_PT};

static const char *const text =
    "根据自然资源部2024年度卫片执法工作部署和《示例县2024年度卫片执法工作方案》要求，"
    "经内业比对和实地核查，图斑139901SJBG24210019位于城关镇东关村，监测面积12.35亩，"
    "其中耕地8.07亩、永久基本农田0.00亩；违法类型为“未报即用”，现状为已建成厂房。"
    "各乡镇（街道）要做到“早发现、早制止、早报告、早查处”，确保整改到位率达到100%。";

static int
setup(void **state)
{
    (void)state;
    tb_err err = {0};
    tf = sample_typeface(&err);
    return tf ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    typeface_free(tf);
    return 0;
}

static bool
starts_with_any(const char *s, size_t n, const char *set)
{
    for (const char *p = set; *p; p = g_utf8_next_char(p)) {
        size_t len = (size_t)(g_utf8_next_char(p) - p);
        if (n >= len && memcmp(s, p, len) == 0)
            return true;
    }
    return false;
}

static bool
ends_with_any(const char *s, size_t n, const char *set)
{
    for (const char *p = set; *p; p = g_utf8_next_char(p)) {
        size_t len = (size_t)(g_utf8_next_char(p) - p);
        if (n >= len && memcmp(s + n - len, p, len) == 0)
            return true;
    }
    return false;
}

/* At every width from 8 to 28 cells: no closing mark starts a line, no opening mark ends one,
 * the id and the decimals are never cut, and the text is all there in order. */
static void
test_kinsoku_at_every_width(void **state)
{
    (void)state;
    tl_para *p = tl_para_new_str(tf, &body, text);
    for (int cells = 8; cells <= 28; cells++) {
        double w = cells * GW_CHAR_PITCH_PT;
        size_t n = tl_para_break(p, w, w, true);
        GString *all = g_string_new(NULL);
        for (size_t k = 0; k < n; k++) {
            const char *s;
            size_t len = tl_para_line_text(p, k, &s);
            g_string_append_len(all, s, (gssize)len);
            assert_false(starts_with_any(s, len, "，。、；：！？）》”’"));
            assert_false(ends_with_any(s, len, "（《“‘"));
            assert_true(tl_para_line_width(p, k) <= w + 0.01);
        }
        assert_string_equal(all->str, text);
        assert_non_null(strstr(all->str, "139901SJBG24210019"));
        for (size_t k = 0; k < n; k++) {
            const char *s;
            size_t len = tl_para_line_text(p, k, &s);
            gchar *line = g_strndup(s, len);
            /* a line holding part of the id holds all of it (once the line can take it) */
            if (cells >= 12 && (strstr(line, "1399") || strstr(line, "SJBG")))
                assert_non_null(strstr(line, "139901SJBG24210019"));
            if (strstr(line, "12.") || strstr(line, ".35"))
                assert_non_null(strstr(line, "12.35"));
            g_free(line);
        }
        g_string_free(all, TRUE);
    }
    tl_para_free(p);
}

/* Justified: every line but the last fills the block exactly (this text has punctuation and
 * Latin runs enough to take the slack), and a pure-Han full line holds 28 cells. */
static void
test_justified_to_the_block(void **state)
{
    (void)state;
    tl_para *p = tl_para_new_str(tf, &body, text);
    size_t n = tl_para_break(p, GW_BLOCK_W_PT - 2 * GW_CHAR_PITCH_PT, GW_BLOCK_W_PT, true);
    assert_true(n >= 4);
    for (size_t k = 0; k + 1 < n; k++) {
        double avail = k ? GW_BLOCK_W_PT : GW_BLOCK_W_PT - 2 * GW_CHAR_PITCH_PT;
        assert_float_equal(tl_para_line_width(p, k), avail, 0.05);
    }
    assert_true(tl_para_line_width(p, n - 1) < GW_BLOCK_W_PT);
    tl_para_free(p);

    p = tl_para_new_str(tf, &body, "本段文字用于排满一行检验版心网格的宽度和行数是否正确无误并且对齐到位本段文字用于排满");
    n = tl_para_break(p, GW_BLOCK_W_PT, GW_BLOCK_W_PT, true);
    assert_int_equal(n, 2);
    assert_int_equal(tl_para_line_chars(p, 0), 28);
    assert_float_equal(tl_para_line_width(p, 0), GW_BLOCK_W_PT, 0.01);
    tl_para_free(p);
}

/* Push-in: a comma that would start the next line is kept by compressing punctuation. */
static void
test_push_in(void **state)
{
    (void)state;
    /* 27 ideographs, a 、 and then a comma: 29 marks for 28 cells */
    tl_para *p = tl_para_new_str(tf, &body, "本段文字用于排满一行检验版心网格的宽度和行、数是否正确无，后续");
    size_t n = tl_para_break(p, GW_BLOCK_W_PT, GW_BLOCK_W_PT, true);
    const char *s;
    size_t len = tl_para_line_text(p, 0, &s);
    assert_int_equal(n, 2);
    assert_true(ends_with_any(s, len, "，"));
    assert_int_equal(tl_para_line_chars(p, 0), 29);
    assert_float_equal(tl_para_line_width(p, 0), GW_BLOCK_W_PT, 0.01);
    tl_para_free(p);
}

static void
test_nobreak_and_forced_breaks(void **state)
{
    (void)state;
    dt_run runs[] = {{"关于示例县", 0},
                     {"东关街道办事处西关社区居民委员会", DT_RUN_NOBREAK},
                     {"的通知", 0},
                     {"", DT_RUN_BREAK},
                     {"第二行", 0}};
    dt_text t = {runs, 5};
    tl_para *p = tl_para_new(tf, &body, &t);
    size_t n = tl_para_break(p, 10 * GW_CHAR_PITCH_PT, 10 * GW_CHAR_PITCH_PT, false);
    /* 16 characters, longer than the line: it starts a line of its own and is cut only where
     * it must be. */
    bool starts = false;
    for (size_t k = 0; k < n; k++) {
        const char *s;
        size_t len = tl_para_line_text(p, k, &s);
        if (len >= 6 && memcmp(s, "东关", 6) == 0)
            starts = tl_para_line_chars(p, k) == 10;
    }
    assert_true(starts);
    const char *s;
    size_t len = tl_para_line_text(p, n - 1, &s);
    assert_int_equal(len, strlen("第二行"));
    assert_memory_equal(s, "第二行", len);
    tl_para_free(p);

    /* A name that fits is never split even when the line could take part of it. */
    dt_run fit[] = {{"请各有关单位于本月底前报送", 0}, {"西关社区居民委员会", DT_RUN_NOBREAK}, {"材料", 0}};
    dt_text ft = {fit, 3};
    p = tl_para_new(tf, &body, &ft);
    n = tl_para_break(p, 16 * GW_CHAR_PITCH_PT, 16 * GW_CHAR_PITCH_PT, true);
    len = tl_para_line_text(p, 1, &s);
    assert_true(len >= strlen("西关社区居民委员会"));
    assert_memory_equal(s, "西关社区居民委员会", strlen("西关社区居民委员会"));
    tl_para_free(p);
}

/* Titles: balanced lines, not a full line and a stub, and common words kept whole. */
/* tl_para_rebreak: lines broken short of the measure, still justified to it, and back. */
static void
test_loosened(void **state)
{
    (void)state;
    tl_para *p = tl_para_new_str(tf, &body, text);
    double w = GW_BLOCK_W_PT, indent = 2 * GW_CHAR_PITCH_PT;
    size_t n = tl_para_break(p, w - indent, w, true);
    size_t first = tl_para_line_chars(p, 0);
    size_t m = tl_para_rebreak(p, 2 * GW_CHAR_PITCH_PT);
    assert_true(m >= n);
    assert_true(tl_para_line_chars(p, 0) < first); /* fewer characters a line … */
    for (size_t k = 0; k + 1 < m; k++) {          /* … set across the same measure */
        assert_true(tl_para_line_justified(p, k));
        assert_true(fabs(tl_para_line_width(p, k) - tl_para_line_measure(p, k)) < 0.5);
    }
    assert_int_equal(tl_para_rebreak(p, 0), n);
    assert_int_equal(tl_para_line_chars(p, 0), first);
    assert_false(tl_para_line_justified(p, n - 1)); /* the last line stays ragged */
    tl_para_free(p);
}

static void
test_balanced_title(void **state)
{
    (void)state;
    const tl_style title = {FONT_XIAOBIAOSONG, 22, 0};
    tl_para *p = tl_para_new_str(tf, &title, "关于限期整改2024年度卫片执法违法用地图斑的通知");
    double max_w = GW_BLOCK_W_PT - 2 * GW_CHAR_PITCH_PT;
    size_t n = tl_para_break_balanced(p, max_w);
    assert_int_equal(n, 2);
    double a = tl_para_line_width(p, 0), b = tl_para_line_width(p, 1);
    assert_true(fabs(a - b) <= 3 * 22);
    const char *s;
    size_t len = tl_para_line_text(p, 0, &s);
    assert_false(ends_with_any(s, len, "执卫违图"));
    tl_para_free(p);
}

/* Titles with words the built-in list does not hold: at every width no line ends inside one
 * (ICU's dictionary), and one line more is taken rather than cut a word. */
static void
test_title_words(void **state)
{
    (void)state;
    static const struct {
        const char *title, *words;
    } cases[] = {
        {"关于进一步加强和规范农村宅基地审批管理促进乡村振兴战略实施的通知",
         "加强规范农村审批促进乡村振兴战略通知"},
        {"示例县自然资源局关于东关村违法占用耕地建设养殖场问题处理情况的报告",
         "资源违法占用耕地建设养殖问题处理情况报告"},
    };
    const tl_style title = {FONT_XIAOBIAOSONG, 22, 0};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        for (int cells = 20; cells >= 10; cells--) {
            tl_para *p = tl_para_new_str(tf, &title, cases[c].title);
            size_t n = tl_para_break_balanced(p, cells * 22.0);
            for (size_t k = 0; k + 1 < n; k++) {
                const char *a, *b;
                size_t la = tl_para_line_text(p, k, &a);
                tl_para_line_text(p, k + 1, &b);
                /* The two characters either side of the break, as one string. */
                char pair[8] = {0};
                memcpy(pair, a + la - 3, 3);
                memcpy(pair + 3, b, 3);
                for (const char *w = cases[c].words; *w; w += 6)
                    if (memcmp(w, pair, 6) == 0)
                        fail_msg("%d cells: '%s' cut after line %zu of '%s'", cells, pair, k,
                                 cases[c].title);
            }
            tl_para_free(p);
        }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinsoku_at_every_width),
        cmocka_unit_test(test_justified_to_the_block),
        cmocka_unit_test(test_push_in),
        cmocka_unit_test(test_nobreak_and_forced_breaks),
        cmocka_unit_test(test_loosened),
        cmocka_unit_test(test_balanced_title),
        cmocka_unit_test(test_title_words),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
