/* Per-job memory (STYLE R17): allocate freely, free once.  Foreign resources (GDAL handles, XML
 * documents) are tied to the arena with tb_arena_defer so early returns need no cleanup. */
#ifndef TB_ARENA_H
#define TB_ARENA_H

#include "tb_features.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct tb_arena tb_arena;
typedef void tb_cleanup_fn(void *p);

tb_arena *tb_arena_new(size_t budget);                              /* budget 0 = unlimited */
void *tb_arena_alloc(tb_arena *a, size_t size);                     /* zeroed, aligned; never NULL */
void *tb_arena_array(tb_arena *a, size_t count, size_t size);       /* overflow-checked */
char *tb_arena_strdup(tb_arena *a, const char *s);                  /* NULL -> NULL */
char *tb_arena_strndup(tb_arena *a, const char *s, size_t len);
char *tb_arena_printf(tb_arena *a, const char *fmt, ...) TB_PRINTF(2, 3);
void tb_arena_defer(tb_arena *a, tb_cleanup_fn *fn, void *p);       /* run LIFO at free */
bool tb_arena_over_budget(const tb_arena *a);
size_t tb_arena_used(const tb_arena *a);
void tb_arena_free(tb_arena *a);                                    /* NULL ok */

#endif
