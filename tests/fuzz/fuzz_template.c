/* libFuzzer target: a document template (untrusted XML) through tpl_doc_parse (schema,
 * includes from _base, every expression parsed and checked against the notice's data), then,
 * when it loads, bound to a notice's data. */
#include "tb_features.h"

#include "fuzz_notice_data.h"
#include "tpl_doc.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tb_arena *a = tb_arena_new(0);
    tb_err err = {0};
    fuzz_notice n = fuzz_notice_new(a);
    tpl_doc *t = tpl_doc_parse((const char *)data, size, "fuzz.xml", NULL, n.type, a, &err);
    if (t) {
        dt_doc doc;
        tb_err err2 = {0};
        if (tpl_doc_bind(t, n.data, &doc, a, &err2) == TB_OK)
            for (size_t i = 0; i < doc.block_count; i++)
                for (size_t k = 0; k < doc.blocks[i].text.count; k++)
                    (void)strlen(doc.blocks[i].text.runs[k].text);
    }
    tb_arena_free(a);
    return 0;
}
