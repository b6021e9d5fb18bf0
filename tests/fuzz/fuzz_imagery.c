/* libFuzzer target: an imagery catalogue (untrusted XML) through tpl_imagery_parse. */
#include "tpl_imagery.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tb_arena *a = tb_arena_new(0);
    tb_err err = {0};
    map_sources *ms = tpl_imagery_parse((const char *)data, size, "fuzz-imagery.xml", "/office",
                                        a, &err);
    if (ms) {
        /* Touch everything the catalogue claims to hold, so ASan sees bad pointers or counts. */
        size_t sum = 0;
        for (size_t i = 0; i < ms->image_count; i++) {
            const map_image_source *im = &ms->images[i];
            sum += strlen(im->path) + (im->label ? strlen(im->label) : 0) +
                   (size_t)im->bands[2] + (size_t)im->date.day;
            if (im->has_stretch && !(im->stretch_hi > im->stretch_lo))
                __builtin_trap(); /* the parser promised an ordered stretch */
        }
        for (size_t i = 0; i < ms->layer_count; i++) {
            const map_layer_source *l = &ms->layers[i];
            sum += strlen(l->name) + strlen(l->title) + strlen(l->path) +
                   (l->layer ? strlen(l->layer) : 0) + (l->label_field ? strlen(l->label_field) : 0);
        }
        (void)sum;
    }
    tb_arena_free(a);
    return 0;
}
