/* A set of strings (open addressing, FNV-1a): duplicate-id checks over a whole import without
 * a round trip to the store.  Memory: the strings plus 8 bytes a slot. */
#ifndef TB_STRSET_H
#define TB_STRSET_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tb_strset tb_strset;

tb_strset *tb_strset_new(void);
/* Adds a copy of s; returns false if it was already there. */
bool tb_strset_add(tb_strset *set, const char *s);
bool tb_strset_has(const tb_strset *set, const char *s);
size_t tb_strset_count(const tb_strset *set);
void tb_strset_free(tb_strset *set); /* NULL ok */

#endif
