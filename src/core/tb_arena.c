/* DESIGN: a list of blocks; small allocations bump a pointer in the current block, large ones get
 * a block of their own.  Nothing is freed until tb_arena_free, which first runs the deferred
 * cleanups in reverse order of registration. */
#include "tb_features.h"

#include "tb_arena.h"

#include "tb_err.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BLOCK_SIZE = 64 * 1024 };

struct block {
    struct block *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
};

struct cleanup {
    struct cleanup *next;
    tb_cleanup_fn *fn;
    void *p;
};

struct tb_arena {
    struct block *blocks;
    struct cleanup *cleanups;
    size_t budget, total;
};

tb_arena *
tb_arena_new(size_t budget)
{
    tb_arena *a = tb_xcalloc(1, sizeof *a);
    a->budget = budget;
    return a;
}

void *
tb_arena_alloc(tb_arena *a, size_t size)
{
    const size_t align = alignof(max_align_t);
    if (size > SIZE_MAX - align)
        TB_ASSERT(!"arena allocation overflow");
    size = (size + align - 1) & ~(align - 1);
    struct block *b = a->blocks;
    if (b == NULL || b->cap - b->used < size) {
        size_t cap = size > BLOCK_SIZE / 4 ? size : BLOCK_SIZE;
        struct block *nb = tb_xmalloc(sizeof *nb + cap);
        nb->used = 0;
        nb->cap = cap;
        if (b != NULL && cap == size) { /* a big one: keep bumping in the current block */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->blocks = nb;
        }
        a->total += cap;
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += size;
    return memset(p, 0, size);
}

void *
tb_arena_array(tb_arena *a, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        TB_ASSERT(!"arena array overflow");
    return tb_arena_alloc(a, count * size);
}

char *
tb_arena_strndup(tb_arena *a, const char *s, size_t len)
{
    char *d = tb_arena_alloc(a, len + 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *
tb_arena_strdup(tb_arena *a, const char *s)
{
    return s ? tb_arena_strndup(a, s, strlen(s)) : NULL;
}

char *
tb_arena_printf(tb_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    TB_ASSERT(n >= 0);
    char *s = tb_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void
tb_arena_defer(tb_arena *a, tb_cleanup_fn *fn, void *p)
{
    struct cleanup *c = tb_xmalloc(sizeof *c);
    c->fn = fn;
    c->p = p;
    c->next = a->cleanups;
    a->cleanups = c;
}

bool
tb_arena_over_budget(const tb_arena *a)
{
    return a->budget != 0 && a->total > a->budget;
}

size_t
tb_arena_used(const tb_arena *a)
{
    return a->total;
}

void
tb_arena_free(tb_arena *a)
{
    if (a == NULL)
        return;
    while (a->cleanups) {
        struct cleanup *c = a->cleanups;
        a->cleanups = c->next;
        c->fn(c->p);
        free(c);
    }
    while (a->blocks) {
        struct block *b = a->blocks;
        a->blocks = b->next;
        free(b);
    }
    free(a);
}
