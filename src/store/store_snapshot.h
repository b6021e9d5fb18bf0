/* The patches of a batch as they stood at the end of a day, as full records (attributes and
 * geometry from the patch table; legality, measure, state and deadline rebuilt from the status
 * history by store_as_of): what `tuban render … --db` reads when no patch file is given. */
#ifndef TB_STORE_SNAPSHOT_H
#define TB_STORE_SNAPSHOT_H

#include "store.h"
#include "tb_arena.h"

/* Every patch of batch first imported by the end of `date` and not missing from the latest import
 * at that date, in id order, into *out (arena-owned; record = the position in that order, from
 * 1).  Unknown batch → TB_ENOTFOUND. */
tb_code store_snapshot(store *st, const store_batch *batch, cn_date date, tb_arena *a,
                       patch **out, size_t *count, tb_err *err) TB_MUST_CHECK;

/* The newest batch of the store (highest year, then quarter; 部 before 省): the one a report
 * reads when none is named.  TB_ENOTFOUND in an empty store. */
tb_code store_latest_batch(store *st, store_batch *out, tb_arena *a, tb_err *err) TB_MUST_CHECK;

/* The batch a report names: by its row id when id > 0, else by want's year and quarter (and
 * source, NULL = 部 before 省).  TB_ENOTFOUND naming the batch when the store has none such. */
tb_code store_find_batch(store *st, const store_batch *want, long id, store_batch *out,
                         tb_arena *a, tb_err *err) TB_MUST_CHECK;

#endif
