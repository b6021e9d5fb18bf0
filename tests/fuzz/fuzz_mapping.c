/* libFuzzer target: a field mapping profile (untrusted XML) through tpl_mapping_parse. */
#include "tpl.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tb_arena *a = tb_arena_new(0);
    tb_err err = {0};
    field_mapping *m = tpl_mapping_parse((const char *)data, size, "fuzz-mapping.xml", a, &err);
    if (m) {
        /* Touch everything the profile claims to hold, so ASan sees bad pointers or counts. */
        size_t sum = m->name ? strlen(m->name) : 0;
        for (size_t i = 0; i < m->rename_count; i++)
            sum += strlen(m->renames[i].field) + strlen(m->renames[i].column);
        for (size_t i = 0; i < m->synonym_count; i++)
            sum += strlen(m->synonyms[i].field) + strlen(m->synonyms[i].from) +
                   strlen(m->synonyms[i].to);
        (void)sum;
    }
    tb_arena_free(a);
    return 0;
}
