/* libFuzzer target: a notice template (untrusted XML) through tpl_notice_parse, then tpl_expand
 * of every block's text (and of title, addressee and cc) with the variables the notice builder
 * defines. */
#include "tpl.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const tpl_var vars[] = {
    {"year", "2024"},
    {"county", "示例县"},
    {"township", "城关镇"},
    {"addressee", "城关镇人民政府"},
    {"unit", "镇"},
    {"count", "3"},
    {"area_mu", "28.35"},
    {"farmland_mu", "19.80"},
    {"basic_farmland_mu", "5.62"},
    {"deadline", "2025年6月30日"},
    {"empty", ""},
    {"braces", "{not a variable}"},
};

static void expand(const char *text, int line, tb_arena *a)
{
    if (!text)
        return;
    tb_err err = {0};
    char *out = tpl_expand(text, vars, sizeof vars / sizeof vars[0], "fuzz-notice.xml", line, a,
                           &err);
    if (out)
        (void)strlen(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tb_arena *a = tb_arena_new(0);
    tb_err err = {0};
    tpl_notice *n = tpl_notice_parse((const char *)data, size, "fuzz-notice.xml", a, &err);
    if (n) {
        expand(n->title, n->title_line, a);
        expand(n->addressee, n->addressee_line, a);
        expand(n->cc, n->cc_line, a);
        for (size_t i = 0; i < n->block_count; i++)
            expand(n->blocks[i].text, n->blocks[i].line, a);
        for (size_t i = 0; i < n->attachment_count; i++)
            expand(n->attachments[i].title, n->attachments[i].line, a);
    }
    /* tpl_expand on the raw bytes too (as text), so its brace parser sees arbitrary input. */
    char *raw = tb_arena_strndup(a, (const char *)data, size);
    expand(raw, 1, a);
    tb_arena_free(a);
    return 0;
}
