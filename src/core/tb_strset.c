#include "tb_features.h"

#include "tb_strset.h"

#include "tb_err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct tb_strset {
    char **slots; /* NULL = empty */
    size_t cap;   /* power of two */
    size_t count;
};

static uint64_t
hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

tb_strset *
tb_strset_new(void)
{
    tb_strset *set = tb_xcalloc(1, sizeof *set);
    set->cap = 1024;
    set->slots = tb_xcalloc(set->cap, sizeof *set->slots);
    return set;
}

static size_t
find(const tb_strset *set, const char *s)
{
    size_t i = (size_t)hash(s) & (set->cap - 1);
    while (set->slots[i] && strcmp(set->slots[i], s) != 0)
        i = (i + 1) & (set->cap - 1);
    return i;
}

static void
grow(tb_strset *set)
{
    char **old = set->slots;
    size_t old_cap = set->cap;
    set->cap *= 2;
    set->slots = tb_xcalloc(set->cap, sizeof *set->slots);
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            set->slots[find(set, old[i])] = old[i];
    free(old);
}

bool
tb_strset_add(tb_strset *set, const char *s)
{
    if ((set->count + 1) * 4 > set->cap * 3) /* keep the load under 3/4 */
        grow(set);
    size_t i = find(set, s);
    if (set->slots[i])
        return false;
    set->slots[i] = tb_xstrdup(s);
    set->count++;
    return true;
}

bool
tb_strset_has(const tb_strset *set, const char *s)
{
    return set->slots[find(set, s)] != NULL;
}

size_t
tb_strset_count(const tb_strset *set)
{
    return set->count;
}

void
tb_strset_free(tb_strset *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->cap; i++)
        free(set->slots[i]);
    free(set->slots);
    free(set);
}
