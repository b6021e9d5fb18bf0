/* The embedded store (SQLite, WAL; SQLite lives here only): batches, townships, patches with
 * their geometry and an R*Tree of their bounding boxes, and the status history — every change
 * of legality, measure, rectification state, deadline or acceptance is a row (when, by whom,
 * from, to, note).  Schema created and migrated by store_open (a version table; migrations
 * tested from every earlier version).  Not thread-safe: one store per thread. */
#ifndef TB_STORE_H
#define TB_STORE_H

#include "cn_date.h"
#include "patch.h"
#include "tb_err.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct store store;

/* Opens (creating if missing) the store at path, sets WAL mode, foreign keys, synchronous=NORMAL
 * and a busy timeout, and migrates it to the current schema (each migration step in one
 * transaction with the version bump).  A store whose schema is newer than this build knows is
 * refused (TB_EFORMAT), as is a file that is not a SQLite database; I/O and SQLite failures are
 * TB_EIO.  Returns an owned store (store_close it) or NULL with err set. */
store *store_open(const char *path, tb_err *err);

/* Like store_open but migrates only up to schema version `version` (0 = an empty store with just
 * the version table; a store already at or past it is left as it is).  For migration tests and
 * tools; the rest of this API expects the latest version. */
store *store_open_version(const char *path, int version, tb_err *err);

void store_close(store *st); /* NULL ok; aborts nothing: close open imports first */

int store_schema_version(store *st);  /* current on-disk version; -1 if it cannot be read */
int store_latest_schema_version(void);

/* A batch: 年度 (quarter NULL) or 季度 卫片, issued by 部 or 省.  label is "2022" or "2019Q3". */
typedef struct store_batch {
    int year;
    int quarter;        /* 0 = annual */
    const char *source; /* "部" or "省" */
} store_batch;

/* Townships of the county.  store_township_count is 0 until some are registered (-1 on a SQLite
 * error).  store_township_add registers code (non-empty) or renames it if already known. */
long store_township_count(store *st);
tb_code store_township_add(store *st, const char *code, const char *name, tb_err *err)
    TB_MUST_CHECK;
bool store_township_known(store *st, const char *code);
/* Calls fn(user, code, name) for every registered township, in code order. */
tb_code store_township_each(store *st, void (*fn)(void *user, const char *code, const char *name),
                            void *user, tb_err *err) TB_MUST_CHECK;

/* ---- import: one transaction; nothing is visible (or changed) until commit ---------------- */
typedef struct store_import store_import;

typedef struct store_import_result {
    long n_new, n_changed, n_unchanged, n_missing;
    int64_t import_id;
} store_import_result;

/* Begins an import of file into batch (created if new; year 1000-9999, quarter 0-4, source 部 or
 * 省) by who (e.g. the login name), at `at` ("YYYY-MM-DD" or "YYYY-MM-DDThh:mm:ss", NULL = now,
 * local time).  Takes the write lock (BEGIN IMMEDIATE) until commit or abort: other connections
 * can read the old state meanwhile, other writers wait (busy timeout, 5 s) and then fail.
 * Townships added while the import is open are part of its transaction (kept on commit, undone
 * on abort); store_patch_set_state and a second import are refused meanwhile (TB_EINVAL).
 * Imports of a batch are expected in chronological order (as-of queries compare these
 * timestamps).  Returns an owned import (commit or abort it) or NULL with err set. */
store_import *store_import_begin(store *st, const store_batch *batch, const char *file,
                                 const char *who, const char *at, tb_err *err);

/* Stages one checked patch (area_ellipsoid_m2: the area tuban computed; stored, not taken from
 * p).  The patch is copied: p may be freed on return.  Empty strings are stored as NULL (absent);
 * a patch without wkb gets a NULL bbox and no R*Tree entry.  A patch id seen before in this
 * import, a patch without id, an impossible date or a bbox with min > max is TB_EFORMAT naming the
 * file, record and id.  After any error the import is spoiled: commit refuses it, abort it. */
tb_code store_import_add(store_import *im, const patch *p, double area_ellipsoid_m2,
                         tb_err *err) TB_MUST_CHECK;

/* Called during commit for each patch that is new, changed or missing, with a short description
 * (e.g. "ZGZT 未整改 → 整改中; JCMJ 1200.00 → 1180.50"). */
typedef enum store_change_kind { STORE_NEW, STORE_CHANGED, STORE_MISSING } store_change_kind;
typedef void store_change_fn(void *user, store_change_kind kind, const char *patch_id,
                             const char *what);

/* Applies the staged patches, in id order: new ones inserted, with a history row for each
 * non-empty tracked value (legality, measure, state, deadline; from NULL); changed ones (any
 * attribute or geometry differs) updated, with a history row per changed tracked field (the
 * source is recorded as it says: the workflow is not checked); patches of the batch absent from
 * this file marked missing (history row field 'missing' 0 → 1; reported, never deleted).  A
 * missing patch that reappears gets missing 1 → 0 and counts as changed.  Unchanged patches only
 * get last_import set.  fn (may be NULL) runs inside the transaction and must not use the store.
 * Then commits and fills *res (may be NULL).  On error everything is rolled back.  Frees im. */
tb_code store_import_commit(store_import *im, store_import_result *res, store_change_fn *fn,
                            void *user, tb_err *err) TB_MUST_CHECK;
void store_import_abort(store_import *im); /* rolls back and frees; NULL ok */

/* ---- status changes ----------------------------------------------------------------------- */

/* Records one rectification-state change of patch `patch_id` in batch (NULL = the only batch
 * holding that id; ambiguous → TB_EINVAL), refusing a transition the workflow forbids with the
 * rule it breaks (see workflow.h).  at: "YYYY-MM-DD" or full timestamp, NULL = now.  Inside an
 * open issue (store_issue_begin) the change is part of the issue's transaction. */
tb_code store_patch_set_state(store *st, const store_batch *batch, const char *patch_id,
                              rectify_state to, const char *who, const char *note,
                              const char *at, tb_err *err) TB_MUST_CHECK;

/* ---- as-of queries ------------------------------------------------------------------------ */
typedef struct store_patch_state {
    const char *id, *admin_code;
    legality legality;
    rectify_state state;
    const char *measure; /* may be NULL */
    cn_date deadline;    /* year 0 when none */
    bool missing;        /* missing from the latest import at that date */
} store_patch_state;

/* Calls fn for every patch of batch as it stood at the end of day `date` (through 23:59:59), in
 * id order (patches first imported after that date are skipped).  legality, state, measure,
 * deadline and missing come from the latest history row of each field at that time (so manual
 * changes and imports both count); admin_code is the current one.  One SQL query.  Strings are
 * valid during the call.  Unknown batch → TB_ENOTFOUND; invalid date → TB_EINVAL. */
typedef void store_state_fn(void *user, const store_patch_state *s);
tb_code store_as_of(store *st, const store_batch *batch, cn_date date, store_state_fn *fn,
                    void *user, tb_err *err) TB_MUST_CHECK;

/* ---- history and geometry ----------------------------------------------------------------- */
typedef struct store_history_row {
    const char *field;   /* "legality", "measure", "state", "deadline" or "missing" */
    const char *from;    /* NULL: none (first import) */
    const char *to;      /* NULL: cleared.  legality/state as named in patch.h, deadline ISO,
                          * missing "1" (absent from an import) or "0" (reappeared) */
    const char *at;      /* "YYYY-MM-DDThh:mm:ss" */
    const char *by;      /* who */
    const char *note;    /* may be NULL */
    int64_t import_id;   /* 0 for a manual change */
} store_history_row;

/* Calls fn for every history row of patch `patch_id` (batch as in store_patch_set_state), oldest
 * first.  Strings are valid during the call.  Unknown patch → TB_ENOTFOUND. */
typedef void store_history_fn(void *user, const store_history_row *h);
tb_code store_patch_history(store *st, const store_batch *batch, const char *patch_id,
                            store_history_fn *fn, void *user, tb_err *err) TB_MUST_CHECK;

/* Calls fn with the id of every patch (of batch; NULL = all batches) whose bounding box meets the
 * box given in CGCS2000 degrees, in id order, via the R*Tree.  The R*Tree keeps 32-bit floats
 * rounded outwards, so boxes within ~1e-5° of the query box may also be reported. */
typedef void store_id_fn(void *user, const char *patch_id);
tb_code store_find_in_bbox(store *st, const store_batch *batch, double min_lon, double min_lat,
                           double max_lon, double max_lat, store_id_fn *fn, void *user,
                           tb_err *err) TB_MUST_CHECK;

/* ---- test and maintenance hooks ----------------------------------------------------------- */

/* Runs SQL statements (no results) on the store's connection. */
tb_code store_debug_exec(store *st, const char *sql, tb_err *err) TB_MUST_CHECK;

/* Runs one query and stores the first column of its first row as an integer (0 if no row). */
tb_code store_debug_query_int(store *st, const char *sql, int64_t *out, tb_err *err)
    TB_MUST_CHECK;

/* ---- the registry of issued documents (store_registry.c) -------------------------------- */

/* One issued document.  Hashes are lowercase hex SHA-256 (computed by the caller: the store
 * links no crypto library); entry_hash covers prev_hash and every other field (see
 * docs/issue.c). */
typedef struct store_reg_entry {
    int64_t seq;          /* position in the log, from 1, gapless */
    const char *office;   /* office id */
    int year;
    const char *prefix;   /* 机关代字 */
    int number;           /* sequence within office, year and prefix */
    const char *docno;    /* 示自然资发〔2024〕3号 */
    const char *kind;     /* "notice" */
    const char *patches;  /* the patch ids, comma-separated */
    const char *signer;   /* the signer certificate's CN */
    const char *issued_at; /* ISO 8601 UTC */
    const char *path;     /* relative to the archive root: <office>/<year>/<机关代字>/<n>.pdf
                           * (older archives: <office>/<year>/<n>.pdf) */
    const char *sha256;   /* of the final file */
    const char *code;     /* verification code printed on the document */
    const char *prev_hash, *entry_hash;
} store_reg_entry;

/* Begins an issue: BEGIN IMMEDIATE (one issuer at a time; others wait, then fail) with
 * synchronous=FULL, so a committed issue survives a power cut.  Nothing is visible to other
 * connections until store_issue_commit. */
tb_code store_issue_begin(store *st, tb_err *err) TB_MUST_CHECK;
tb_code store_issue_commit(store *st, tb_err *err) TB_MUST_CHECK;
void store_issue_abort(store *st); /* rolls back; no-op when no issue is open */

/* The last number issued for (office, year, prefix), 0 when none; inside or outside an issue. */
tb_code store_docno_last(store *st, const char *office, int year, const char *prefix, int *last,
                         tb_err *err) TB_MUST_CHECK;

/* Inside an issue: allocates the next number (last + 1) for (office, year, prefix). */
tb_code store_docno_next(store *st, const char *office, int year, const char *prefix,
                         int *number, tb_err *err) TB_MUST_CHECK;

/* The newest entry's seq and entry_hash (0 and 64 zeros for an empty log).  hash: 65 bytes. */
tb_code store_registry_tail(store *st, int64_t *seq, char *hash, tb_err *err) TB_MUST_CHECK;

/* Inside an issue: appends e (its seq must be the tail's + 1, its prev_hash the tail's hash). */
tb_code store_registry_append(store *st, const store_reg_entry *e, tb_err *err) TB_MUST_CHECK;

/* Calls fn for every entry in seq order (strings valid during the call); fn returning false
 * stops the walk. */
tb_code store_registry_each(store *st, bool (*fn)(void *user, const store_reg_entry *e),
                            void *user, tb_err *err) TB_MUST_CHECK;

/* Finds the entry whose file has this SHA-256 (hex); *found false when none.  fn is called
 * with it as by store_registry_each. */
tb_code store_registry_find_sha256(store *st, const char *sha256_hex,
                                   bool (*fn)(void *user, const store_reg_entry *e), void *user,
                                   bool *found, tb_err *err) TB_MUST_CHECK;

/* Finds the entry with this verification code (as the registry writes it: upper case), as
 * store_registry_find_sha256 does.  Codes are UNIQUE in the registry (indexed). */
tb_code store_registry_find_code(store *st, const char *code,
                                 bool (*fn)(void *user, const store_reg_entry *e), void *user,
                                 bool *found, tb_err *err) TB_MUST_CHECK;

#endif
