/* The store: one SQLite connection per store object.
 *
 * DESIGN.  The schema is the list `migrations` below: step i (1-based) brings a store from
 * version i-1 to i, and runs in one transaction together with the bump of schema_version, so a
 * crash leaves a store at some whole version.  Never edit a step once released: add one.
 *
 * Enumerations are stored by their names (legality 违法用地, state 未整改, deadline ISO date), NULL
 * when absent, so the history table reads on its own ("未整改 → 整改中").  status_history holds one
 * row per change of a tracked field: legality, measure, state, deadline, and missing (an import
 * that lacks the patch writes 0 → 1, one that has it again 1 → 0), so store_as_of rebuilds any
 * date from history alone.  The R*Tree patch_bbox holds the bbox of every patch that has a
 * geometry (see v2 below for how it is kept in step).
 *
 * Not thread-safe: one store per thread (each has its own connection). */
#include "tb_features.h"

#include "store_int.h"
#include "workflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- schema ------------------------------------------------------------------------------- */

static const char *const migrations[] = {
    /* v1: batches, townships, import runs, patches, status history. */
    "CREATE TABLE batch ("
    "  id INTEGER PRIMARY KEY,"
    "  year INTEGER NOT NULL,"
    "  quarter INTEGER NOT NULL DEFAULT 0 CHECK (quarter BETWEEN 0 AND 4),"
    "  source TEXT NOT NULL,"
    "  UNIQUE (year, quarter, source));"
    "CREATE TABLE township (code TEXT PRIMARY KEY, name TEXT NOT NULL);"
    "CREATE TABLE import_run ("
    "  id INTEGER PRIMARY KEY,"
    "  batch_id INTEGER NOT NULL REFERENCES batch(id),"
    "  file TEXT, who TEXT, at TEXT NOT NULL,"
    "  n_new INTEGER, n_changed INTEGER, n_unchanged INTEGER, n_missing INTEGER);"
    "CREATE TABLE patch ("
    "  pk INTEGER PRIMARY KEY,"
    "  batch_id INTEGER NOT NULL REFERENCES batch(id),"
    "  id TEXT NOT NULL,"
    "  admin_code TEXT, admin_name TEXT, year INTEGER, quarter TEXT,"
    "  area_m2 REAL, farmland_m2 REAL, basic_farmland_m2 REAL, kind TEXT,"
    "  legality TEXT, violation TEXT, approval_no TEXT, measure TEXT, state TEXT, deadline TEXT,"
    "  image_before TEXT, image_after TEXT,"
    "  rural_housing INTEGER, earlier_id TEXT,"
    "  wkb BLOB, min_lon REAL, min_lat REAL, max_lon REAL, max_lat REAL,"
    "  area_ellipsoid_m2 REAL,"
    "  missing INTEGER NOT NULL DEFAULT 0,"
    "  first_import INTEGER REFERENCES import_run(id),"
    "  last_import INTEGER REFERENCES import_run(id),"
    "  UNIQUE (batch_id, id));"
    "CREATE TABLE status_history ("
    "  id INTEGER PRIMARY KEY,"
    "  patch_pk INTEGER NOT NULL REFERENCES patch(pk),"
    "  field TEXT NOT NULL"
    "    CHECK (field IN ('legality', 'measure', 'state', 'deadline', 'missing')),"
    "  from_value TEXT, to_value TEXT,"
    "  at TEXT NOT NULL, who TEXT, note TEXT,"
    "  import_id INTEGER REFERENCES import_run(id));",

    /* v2: the R*Tree over patch bboxes and the indexes the as-of queries use.  The R*Tree is
     * filled from existing rows here; afterwards triggers keep it in step on UPDATE and DELETE,
     * while rows of new patches are added by store_import_commit in one INSERT … SELECT: a
     * per-row trigger costs ~14 µs a patch, as the R*Tree drops its node cache after every
     * statement.  Code that inserts patches elsewhere must add their patch_bbox rows too. */
    "CREATE VIRTUAL TABLE patch_bbox USING rtree(pk, min_lon, max_lon, min_lat, max_lat);"
    "INSERT INTO patch_bbox"
    "  SELECT pk, min_lon, max_lon, min_lat, max_lat FROM patch WHERE min_lon IS NOT NULL;"
    "CREATE TRIGGER patch_bbox_update AFTER UPDATE OF min_lon, min_lat, max_lon, max_lat ON patch"
    " BEGIN"
    "  DELETE FROM patch_bbox WHERE pk = old.pk;"
    "  INSERT INTO patch_bbox SELECT new.pk, new.min_lon, new.max_lon, new.min_lat, new.max_lat"
    "    WHERE new.min_lon IS NOT NULL;"
    "END;"
    "CREATE TRIGGER patch_bbox_delete AFTER DELETE ON patch BEGIN"
    "  DELETE FROM patch_bbox WHERE pk = old.pk;"
    "END;"
    "CREATE INDEX status_history_as_of ON status_history (patch_pk, field, at, id);"
    "CREATE INDEX import_run_batch ON import_run (batch_id, at);",

    /* v3: 发文字号 counters and the registry of issued documents (store_registry.c): an
     * append-only log, each entry carrying the hash of the one before. */
    "CREATE TABLE docno_counter ("
    "  office TEXT NOT NULL, year INTEGER NOT NULL, prefix TEXT NOT NULL,"
    "  last INTEGER NOT NULL CHECK (last >= 0),"
    "  PRIMARY KEY (office, year, prefix));"
    "CREATE TABLE registry ("
    "  seq INTEGER PRIMARY KEY,"
    "  office TEXT NOT NULL, year INTEGER NOT NULL, prefix TEXT NOT NULL,"
    "  number INTEGER NOT NULL CHECK (number >= 1), docno TEXT NOT NULL, kind TEXT NOT NULL,"
    "  patches TEXT NOT NULL, signer TEXT NOT NULL, issued_at TEXT NOT NULL,"
    "  path TEXT NOT NULL, sha256 TEXT NOT NULL, code TEXT NOT NULL UNIQUE,"
    "  prev_hash TEXT NOT NULL, entry_hash TEXT NOT NULL,"
    "  UNIQUE (office, year, prefix, number));"
    "CREATE INDEX registry_sha256 ON registry (sha256);"
    "CREATE TRIGGER registry_append_only_update BEFORE UPDATE ON registry"
    " BEGIN SELECT RAISE(ABORT, 'the registry is append-only'); END;"
    "CREATE TRIGGER registry_append_only_delete BEFORE DELETE ON registry"
    " BEGIN SELECT RAISE(ABORT, 'the registry is append-only'); END;",

    /* v4: the daemon's jobs (store_jobs.c): a job per request or batch, an item per document.
     * number is unique per office and year (allocated with the items, see store_jobs.h). */
    "CREATE TABLE job ("
    "  id INTEGER PRIMARY KEY,"
    "  office TEXT NOT NULL, kind TEXT NOT NULL,"
    "  batch_year INTEGER NOT NULL, batch_quarter INTEGER NOT NULL, batch_source TEXT NOT NULL,"
    "  doc_date TEXT NOT NULL,"
    "  state TEXT NOT NULL"
    "    CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),"
    "  who TEXT, idempotency_key TEXT, request_hash TEXT,"
    "  created_at TEXT NOT NULL, finished_at TEXT,"
    "  UNIQUE (office, idempotency_key));"
    "CREATE TABLE job_item ("
    "  id INTEGER PRIMARY KEY,"
    "  job_id INTEGER NOT NULL REFERENCES job(id),"
    "  seq INTEGER NOT NULL, office TEXT NOT NULL, township TEXT NOT NULL,"
    "  year INTEGER NOT NULL, number INTEGER NOT NULL,"
    "  state TEXT NOT NULL"
    "    CHECK (state IN ('pending', 'running', 'done', 'failed', 'cancelled')),"
    "  file TEXT, sha256 TEXT, bytes INTEGER, error TEXT, done_at TEXT,"
    "  UNIQUE (job_id, seq), UNIQUE (office, year, number));"
    "CREATE INDEX job_item_state ON job_item (state, job_id, seq);"
    "CREATE INDEX job_item_done ON job_item (office, state, id);",

    /* v5: a job item's 发文字号 comes from the registry (issue.h), allocated when the item is
     * issued, in the transaction that registers it and marks the item done: number is NULL
     * until then, and unique in the registry, not here (the job table no longer numbers). */
    "CREATE TABLE job_item_v5 ("
    "  id INTEGER PRIMARY KEY,"
    "  job_id INTEGER NOT NULL REFERENCES job(id),"
    "  seq INTEGER NOT NULL, office TEXT NOT NULL, township TEXT NOT NULL,"
    "  year INTEGER NOT NULL, number INTEGER CHECK (number >= 1),"
    "  state TEXT NOT NULL"
    "    CHECK (state IN ('pending', 'running', 'done', 'failed', 'cancelled')),"
    "  file TEXT, sha256 TEXT, bytes INTEGER, error TEXT, done_at TEXT,"
    "  UNIQUE (job_id, seq));"
    "INSERT INTO job_item_v5 SELECT id, job_id, seq, office, township, year,"
    "  CASE WHEN state = 'done' THEN number END, state, file, sha256, bytes, error, done_at"
    "  FROM job_item;"
    "DROP TABLE job_item;"
    "ALTER TABLE job_item_v5 RENAME TO job_item;"
    "CREATE INDEX job_item_state ON job_item (state, job_id, seq);"
    "CREATE INDEX job_item_done ON job_item (office, state, id);",

    /* v6: the 军用土地 flag (SFJYTD): such a patch's documents never leave by the network. */
    "ALTER TABLE patch ADD COLUMN military INTEGER NOT NULL DEFAULT 0;",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

int
store_latest_schema_version(void)
{
    return (int)COUNT(migrations);
}

/* ---- helpers shared with store_import.c --------------------------------------------------- */

tb_code
store_fail(store *st, const char *what, tb_err *err)
{
    int ec = sqlite3_errcode(st->db);
    tb_code code = ec == SQLITE_NOTADB || ec == SQLITE_CORRUPT ? TB_EFORMAT : TB_EIO;
    return tb_err_set(err, code, "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
}

tb_code
store_exec(store *st, const char *sql, tb_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return TB_OK;
    int ec = sqlite3_errcode(st->db);
    tb_code rc = tb_err_set(err, ec == SQLITE_NOTADB ? TB_EFORMAT : TB_EIO, "%s: %s", st->path,
                            msg ? msg : sqlite3_errmsg(st->db));
    sqlite3_free(msg);
    return rc;
}

tb_code
store_prepare(store *st, const char *sql, const char *what, sqlite3_stmt **q, tb_err *err)
{
    if (sqlite3_prepare_v2(st->db, sql, -1, q, NULL) == SQLITE_OK)
        return TB_OK;
    tb_code rc = store_fail(st, what, err);
    sqlite3_finalize(*q);
    *q = NULL;
    return rc;
}

void
store_bind_text(sqlite3_stmt *q, int i, const char *s)
{
    if (s == NULL || s[0] == '\0')
        sqlite3_bind_null(q, i);
    else
        sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC);
}

/* Reads exactly n digits. */
static bool
digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool
store_timestamp(const char *at, char out[STORE_TS_LEN])
{
    cn_date d;
    int hh = 0, mm = 0, ss = 0;
    if (at == NULL) {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(out, STORE_TS_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
        return true;
    }
    size_t n = strlen(at);
    if ((n != 10 && n != 19) || at[4] != '-' || at[7] != '-' || !digits(at, 4, &d.year) ||
        !digits(at + 5, 2, &d.month) || !digits(at + 8, 2, &d.day) || !cn_date_valid(d))
        return false;
    if (n == 19 && ((at[10] != 'T' && at[10] != ' ') || at[13] != ':' || at[16] != ':' ||
                    !digits(at + 11, 2, &hh) || !digits(at + 14, 2, &mm) ||
                    !digits(at + 17, 2, &ss) || hh > 23 || mm > 59 || ss > 59))
        return false;
    memcpy(out, at, 10);
    memcpy(out + 10, n == 19 ? at + 10 : "T00:00:00", 9);
    out[10] = 'T';
    out[19] = '\0';
    return true;
}

/* "2022年度 部" or "2019年第3季度 省", for messages. */
static const char *
batch_label(const store_batch *b, char *buf, size_t len)
{
    if (b->quarter == 0)
        snprintf(buf, len, "%d年度 %s", b->year, b->source ? b->source : "?");
    else
        snprintf(buf, len, "%d年第%d季度 %s", b->year, b->quarter, b->source ? b->source : "?");
    return buf;
}

tb_code
store_batch_id(store *st, const store_batch *b, bool create, int64_t *id, tb_err *err)
{
    sqlite3_stmt *q = NULL;
    tb_code rc = TB_OK;
    char label[64];

    if (b == NULL || b->year < 1000 || b->year > 9999 || b->quarter < 0 || b->quarter > 4 ||
        b->source == NULL || (strcmp(b->source, "部") != 0 && strcmp(b->source, "省") != 0))
        return tb_err_set(err, TB_EINVAL,
                          "batch %s: want a year 1000-9999, quarter 0-4 and source 部 or 省",
                          b ? batch_label(b, label, sizeof label) : "(none)");
    if (create) {
        if ((rc = store_prepare(st,
                                "INSERT INTO batch (year, quarter, source) VALUES (?1, ?2, ?3)"
                                " ON CONFLICT DO NOTHING",
                                "batch", &q, err)) != TB_OK)
            return rc;
        sqlite3_bind_int(q, 1, b->year);
        sqlite3_bind_int(q, 2, b->quarter);
        sqlite3_bind_text(q, 3, b->source, -1, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_DONE)
            goto fail;
        sqlite3_finalize(q);
    }
    if ((rc = store_prepare(st,
                            "SELECT id FROM batch WHERE year = ?1 AND quarter = ?2 AND source = ?3",
                            "batch", &q, err)) != TB_OK)
        return rc;
    sqlite3_bind_int(q, 1, b->year);
    sqlite3_bind_int(q, 2, b->quarter);
    sqlite3_bind_text(q, 3, b->source, -1, SQLITE_STATIC);
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW) {
        *id = sqlite3_column_int64(q, 0);
    } else if (s == SQLITE_DONE) {
        rc = tb_err_set(err, TB_ENOTFOUND, "batch %s: not in the store",
                        batch_label(b, label, sizeof label));
    } else {
        goto fail;
    }
    goto done;
fail:
    rc = store_fail(st, "batch", err);
done:
    sqlite3_finalize(q);
    return rc;
}

/* ---- open, migrate, close ----------------------------------------------------------------- */

/* The on-disk version (0 when the version table does not exist yet), or -1 on error. */
static int
read_version(store *st, tb_err *err)
{
    int64_t has_table = 0, v = -1;
    if (store_debug_query_int(st,
                              "SELECT count(*) FROM sqlite_master"
                              " WHERE type = 'table' AND name = 'schema_version'",
                              &has_table, err) != TB_OK)
        return -1;
    if (has_table == 0)
        return 0;
    if (store_debug_query_int(st, "SELECT version FROM schema_version", &v, err) != TB_OK)
        return -1;
    return v < 0 || v > 1000000 ? -1 : (int)v;
}

int
store_schema_version(store *st)
{
    return read_version(st, NULL);
}

static tb_code
refuse_newer(store *st, int v, tb_err *err)
{
    return tb_err_set(err, TB_EFORMAT,
                      "%s: store schema version %d is newer than this build of tuban knows (%d);"
                      " use a newer tuban",
                      st->path, v, store_latest_schema_version());
}

/* Applies migration steps until the store is at `target`, one transaction per step.  The version
 * is read again under the write lock, so two processes opening a new store do not race. */
static tb_code
migrate(store *st, int target, tb_err *err)
{
    tb_code rc;
    for (;;) {
        if ((rc = store_exec(st, "BEGIN IMMEDIATE", err)) != TB_OK)
            return rc;
        if ((rc = store_exec(st,
                       "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"
                       "INSERT INTO schema_version SELECT 0"
                             " WHERE NOT EXISTS (SELECT 1 FROM schema_version);",
                             err)) != TB_OK)
            goto fail;
        int v = read_version(st, err);
        if (v < 0) {
            rc = tb_err_set(err, TB_EFORMAT, "%s: unreadable schema version", st->path);
            goto fail;
        }
        if (v > store_latest_schema_version()) {
            rc = refuse_newer(st, v, err);
            goto fail;
        }
        if (v >= target)
            return store_exec(st, "COMMIT", err);
        char bump[64];
        snprintf(bump, sizeof bump, "UPDATE schema_version SET version = %d", v + 1);
        if ((rc = store_exec(st, migrations[v], err)) != TB_OK ||
            (rc = store_exec(st, bump, err)) != TB_OK ||
            (rc = store_exec(st, "COMMIT", err)) != TB_OK)
            goto fail;
    }
fail:
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

store *
store_open_version(const char *path, int version, tb_err *err)
{
    store *st = tb_xcalloc(1, sizeof *st);
    st->path = tb_xstrdup(path ? path : "(null)");
    if (path == NULL || version < 0 || version > store_latest_schema_version()) {
        tb_err_set(err, TB_EINVAL, "store %s: no path, or schema version %d unknown", st->path,
                   version);
        goto fail;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
        tb_err_set(err, TB_EIO, "%s: open: %s", path,
                   st->db ? sqlite3_errmsg(st->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, 5000);
    /* journal_mode first: it is the first read of the file, so "not a database" shows up here. */
    if (store_exec(st,
                   "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;"
                   " PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768;"
                   " PRAGMA temp.cache_size = -32768;",
                   err) != TB_OK)
        goto fail;
    /* The common case, an up-to-date store, takes no write lock: opening it while another
     * connection imports must not wait. */
    int v = read_version(st, err);
    if (v < 0) {
        tb_err_set(err, TB_EFORMAT, "%s: unreadable schema version", st->path);
        goto fail;
    }
    if (v > store_latest_schema_version()) {
        refuse_newer(st, v, err);
        goto fail;
    }
    if ((v < version || v == 0) && migrate(st, version, err) != TB_OK)
        goto fail;
    return st;
fail:
    store_close(st);
    return NULL;
}

store *
store_open(const char *path, tb_err *err)
{
    return store_open_version(path, store_latest_schema_version(), err);
}

void
store_close(store *st)
{
    if (st == NULL)
        return;
    sqlite3_close_v2(st->db);
    free(st->path);
    free(st);
}

/* ---- townships ---------------------------------------------------------------------------- */

long
store_township_count(store *st)
{
    int64_t n = -1;
    if (store_debug_query_int(st, "SELECT count(*) FROM township", &n, NULL) != TB_OK)
        return -1;
    return (long)n;
}

tb_code
store_township_add(store *st, const char *code, const char *name, tb_err *err)
{
    if (code == NULL || code[0] == '\0')
        return tb_err_set(err, TB_EINVAL, "township without a code");
    sqlite3_stmt *q;
    tb_code rc = store_prepare(st,
                               "INSERT INTO township (code, name) VALUES (?1, ?2)"
                               " ON CONFLICT (code) DO UPDATE SET name = excluded.name",
                               "township", &q, err);
    if (rc != TB_OK)
        return rc;
    sqlite3_bind_text(q, 1, code, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, name ? name : "", -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = store_fail(st, "township", err);
    sqlite3_finalize(q);
    return rc;
}

bool
store_township_known(store *st, const char *code)
{
    sqlite3_stmt *q;
    if (store_prepare(st, "SELECT 1 FROM township WHERE code = ?1", "township", &q, NULL) != TB_OK)
        return false;
    sqlite3_bind_text(q, 1, code ? code : "", -1, SQLITE_STATIC);
    bool known = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    return known;
}

tb_code
store_township_each(store *st, void (*fn)(void *user, const char *code, const char *name),
                    void *user, tb_err *err)
{
    sqlite3_stmt *q;
    tb_code rc = store_prepare(st, "SELECT code, name FROM township ORDER BY code", "township",
                               &q, err);
    if (rc != TB_OK)
        return rc;
    int r;
    while ((r = sqlite3_step(q)) == SQLITE_ROW)
        fn(user, (const char *)sqlite3_column_text(q, 0), (const char *)sqlite3_column_text(q, 1));
    if (r != SQLITE_DONE)
        rc = store_fail(st, "township", err);
    sqlite3_finalize(q);
    return rc;
}

/* ---- one patch: status changes and history ------------------------------------------------ */

/* Finds patch_id in batch (NULL = the only batch holding it).  Fills pk, and for the workflow
 * its legality, state and the batch year. */
static tb_code
find_patch(store *st, const store_batch *batch, const char *patch_id, int64_t *pk, legality *l,
           rectify_state *s, int *batch_year, tb_err *err)
{
    int64_t batch_id = 0;
    char label[64];
    sqlite3_stmt *q;
    tb_code rc;

    if (patch_id == NULL || patch_id[0] == '\0')
        return tb_err_set(err, TB_EINVAL, "no patch id");
    if (batch && (rc = store_batch_id(st, batch, false, &batch_id, err)) != TB_OK)
        return rc;
    if ((rc = store_prepare(st,
                            "SELECT p.pk, p.legality, p.state, b.year"
                            " FROM patch p JOIN batch b ON b.id = p.batch_id"
                            " WHERE p.id = ?1 AND (?2 = 0 OR p.batch_id = ?2) LIMIT 2",
                            "find patch", &q, err)) != TB_OK)
        return rc;
    sqlite3_bind_text(q, 1, patch_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, batch_id);
    int r = sqlite3_step(q);
    if (r == SQLITE_DONE) {
        rc = tb_err_set(err, TB_ENOTFOUND, "patch %s: not in %s", patch_id,
                        batch ? batch_label(batch, label, sizeof label) : "the store");
        goto done;
    }
    if (r != SQLITE_ROW)
        goto fail;
    *pk = sqlite3_column_int64(q, 0);
    if (l && !legality_parse((const char *)sqlite3_column_text(q, 1), l))
        *l = LEGALITY_UNKNOWN;
    if (s && !rectify_state_parse((const char *)sqlite3_column_text(q, 2), s))
        *s = RECTIFY_NONE;
    if (batch_year)
        *batch_year = sqlite3_column_int(q, 3);
    r = sqlite3_step(q);
    if (r == SQLITE_ROW)
        rc = tb_err_set(err, TB_EINVAL, "patch %s: in more than one batch; name the batch",
                        patch_id);
    else if (r != SQLITE_DONE)
        goto fail;
    goto done;
fail:
    rc = store_fail(st, "find patch", err);
done:
    sqlite3_finalize(q);
    return rc;
}

static const char *
state_label(rectify_state s)
{
    return s == RECTIFY_NONE ? "(none)" : rectify_state_name(s);
}

tb_code
store_patch_set_state(store *st, const store_batch *batch, const char *patch_id,
                      rectify_state to, const char *who, const char *note, const char *at,
                      tb_err *err)
{
    sqlite3_stmt *q = NULL;
    char ts[STORE_TS_LEN];
    int64_t pk;
    legality l;
    rectify_state from;
    int batch_year;
    const char *rule;
    tb_code rc;

    if (st->importing)
        return tb_err_set(err, TB_EINVAL, "%s: an import is in progress", st->path);
    if (!store_timestamp(at, ts))
        return tb_err_set(err, TB_EINVAL,
                          "patch %s: bad time '%s' (want YYYY-MM-DD or YYYY-MM-DDThh:mm:ss)",
                          patch_id ? patch_id : "", at);
    cn_date on = {atoi(ts), atoi(ts + 5), atoi(ts + 8)};
    /* Inside an open transaction (an issue's) the change joins it, so it commits with the
     * issue or not at all; a savepoint undoes just this change when it is refused. */
    bool nested = !sqlite3_get_autocommit(st->db);
    if ((rc = store_exec(st, nested ? "SAVEPOINT set_state" : "BEGIN IMMEDIATE", err)) != TB_OK)
        return rc;
    if ((rc = find_patch(st, batch, patch_id, &pk, &l, &from, &batch_year, err)) != TB_OK)
        goto rollback;
    /* History only moves forward: a change dated before the patch's last recorded change
     * would make as-of queries contradict the workflow. */
    if ((rc = store_prepare(st, "SELECT max(at) FROM status_history WHERE patch_pk = ?1",
                            "set state", &q, err)) != TB_OK)
        goto rollback;
    sqlite3_bind_int64(q, 1, pk);
    if (sqlite3_step(q) != SQLITE_ROW)
        goto fail;
    const char *last = (const char *)sqlite3_column_text(q, 0);
    if (last && strcmp(ts, last) < 0) {
        rc = tb_err_set(err, TB_EINVAL, "patch %s: %s is before its last recorded change (%s); "
                        "history is recorded in time order", patch_id, ts, last);
        goto rollback;
    }
    sqlite3_finalize(q);
    q = NULL;
    if (!workflow_allows(l, from, to, on, batch_year, &rule)) {
        rc = tb_err_set(err, TB_EINVAL, "patch %s: %s → %s is not allowed: %s", patch_id,
                        state_label(from), state_label(to), rule);
        goto rollback;
    }
    if ((rc = store_prepare(st, "UPDATE patch SET state = ?2 WHERE pk = ?1", "set state", &q,
                            err)) != TB_OK)
        goto rollback;
    sqlite3_bind_int64(q, 1, pk);
    store_bind_text(q, 2, rectify_state_name(to));
    if (sqlite3_step(q) != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(q);
    if ((rc = store_prepare(st,
                            "INSERT INTO status_history (patch_pk, field, from_value, to_value,"
                            " at, who, note) VALUES (?1, 'state', ?2, ?3, ?4, ?5, ?6)",
                            "set state", &q, err)) != TB_OK)
        goto rollback;
    sqlite3_bind_int64(q, 1, pk);
    store_bind_text(q, 2, rectify_state_name(from));
    store_bind_text(q, 3, rectify_state_name(to));
    sqlite3_bind_text(q, 4, ts, -1, SQLITE_STATIC);
    store_bind_text(q, 5, who);
    store_bind_text(q, 6, note);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(q);
    q = NULL;
    if ((rc = store_exec(st, nested ? "RELEASE set_state" : "COMMIT", err)) != TB_OK)
        goto rollback;
    return TB_OK;
fail:
    rc = store_fail(st, "set state", err);
rollback:
    sqlite3_finalize(q);
    sqlite3_exec(st->db, nested ? "ROLLBACK TO set_state; RELEASE set_state" : "ROLLBACK", NULL,
                 NULL, NULL);
    return rc;
}

static const char *
col_text(sqlite3_stmt *q, int i)
{
    return (const char *)sqlite3_column_text(q, i);
}

tb_code
store_patch_history(store *st, const store_batch *batch, const char *patch_id,
                    store_history_fn *fn, void *user, tb_err *err)
{
    int64_t pk;
    sqlite3_stmt *q;
    tb_code rc;

    if ((rc = find_patch(st, batch, patch_id, &pk, NULL, NULL, NULL, err)) != TB_OK)
        return rc;
    if ((rc = store_prepare(st,
                            "SELECT field, from_value, to_value, at, who, note, import_id"
                            " FROM status_history WHERE patch_pk = ?1 ORDER BY at, id",
                            "history", &q, err)) != TB_OK)
        return rc;
    sqlite3_bind_int64(q, 1, pk);
    int r;
    while ((r = sqlite3_step(q)) == SQLITE_ROW) {
        store_history_row h = {col_text(q, 0), col_text(q, 1), col_text(q, 2), col_text(q, 3),
                               col_text(q, 4), col_text(q, 5), sqlite3_column_int64(q, 6)};
        fn(user, &h);
    }
    rc = r == SQLITE_DONE ? TB_OK : store_fail(st, "history", err);
    sqlite3_finalize(q);
    return rc;
}

/* ---- queries over a batch ----------------------------------------------------------------- */

/* Each tracked field's value at ?2 is the to_value of its latest history row up to then; the
 * (patch_pk, field, at, id) index makes each a single seek. */
#define AS_OF_FIELD(f)                                                                             \
    "(SELECT to_value FROM status_history h WHERE h.patch_pk = p.pk AND h.field = '" f "'"         \
    " AND h.at <= ?2 ORDER BY h.at DESC, h.id DESC LIMIT 1)"

tb_code
store_as_of(store *st, const store_batch *batch, cn_date date, store_state_fn *fn, void *user,
            tb_err *err)
{
    int64_t batch_id;
    char end[STORE_TS_LEN];
    sqlite3_stmt *q;
    tb_code rc;

    if (!cn_date_valid(date))
        return tb_err_set(err, TB_EINVAL, "as-of: invalid date %d-%d-%d", date.year, date.month,
                          date.day);
    if ((rc = store_batch_id(st, batch, false, &batch_id, err)) != TB_OK)
        return rc;
    snprintf(end, sizeof end, "%04d-%02d-%02dT23:59:59", date.year, date.month, date.day);
    if ((rc = store_prepare(st,
                            "SELECT p.id, p.admin_code, " AS_OF_FIELD("legality") ", "
                            AS_OF_FIELD("state") ", " AS_OF_FIELD("measure") ", "
                            AS_OF_FIELD("deadline") ", " AS_OF_FIELD("missing")
                            " FROM patch p JOIN import_run f ON f.id = p.first_import"
                            " WHERE p.batch_id = ?1 AND f.at <= ?2 ORDER BY p.id",
                            "as-of", &q, err)) != TB_OK)
        return rc;
    sqlite3_bind_int64(q, 1, batch_id);
    sqlite3_bind_text(q, 2, end, -1, SQLITE_STATIC);
    int r;
    while ((r = sqlite3_step(q)) == SQLITE_ROW) {
        store_patch_state s = {.id = col_text(q, 0), .admin_code = col_text(q, 1)};
        if (!legality_parse(col_text(q, 2), &s.legality))
            s.legality = LEGALITY_UNKNOWN;
        if (!rectify_state_parse(col_text(q, 3), &s.state))
            s.state = RECTIFY_NONE;
        s.measure = col_text(q, 4);
        if (!cn_date_parse(col_text(q, 5), &s.deadline))
            s.deadline = (cn_date){0, 0, 0};
        s.missing = col_text(q, 6) && strcmp(col_text(q, 6), "1") == 0;
        fn(user, &s);
    }
    rc = r == SQLITE_DONE ? TB_OK : store_fail(st, "as-of", err);
    sqlite3_finalize(q);
    return rc;
}

tb_code
store_find_in_bbox(store *st, const store_batch *batch, double min_lon, double min_lat,
                   double max_lon, double max_lat, store_id_fn *fn, void *user, tb_err *err)
{
    int64_t batch_id = 0;
    sqlite3_stmt *q;
    tb_code rc;

    if (batch && (rc = store_batch_id(st, batch, false, &batch_id, err)) != TB_OK)
        return rc;
    if ((rc = store_prepare(st,
                            "SELECT p.id FROM patch_bbox r JOIN patch p ON p.pk = r.pk"
                            " WHERE r.max_lon >= ?1 AND r.min_lon <= ?3"
                            " AND r.max_lat >= ?2 AND r.min_lat <= ?4"
                            " AND (?5 = 0 OR p.batch_id = ?5) ORDER BY p.id",
                            "bbox query", &q, err)) != TB_OK)
        return rc;
    sqlite3_bind_double(q, 1, min_lon);
    sqlite3_bind_double(q, 2, min_lat);
    sqlite3_bind_double(q, 3, max_lon);
    sqlite3_bind_double(q, 4, max_lat);
    sqlite3_bind_int64(q, 5, batch_id);
    int r;
    while ((r = sqlite3_step(q)) == SQLITE_ROW)
        fn(user, col_text(q, 0));
    rc = r == SQLITE_DONE ? TB_OK : store_fail(st, "bbox query", err);
    sqlite3_finalize(q);
    return rc;
}

/* ---- hooks -------------------------------------------------------------------------------- */

tb_code
store_debug_exec(store *st, const char *sql, tb_err *err)
{
    return store_exec(st, sql, err);
}

tb_code
store_debug_query_int(store *st, const char *sql, int64_t *out, tb_err *err)
{
    sqlite3_stmt *q;
    tb_code rc = store_prepare(st, sql, "query", &q, err);
    if (rc != TB_OK)
        return rc;
    int r = sqlite3_step(q);
    if (r == SQLITE_ROW)
        *out = sqlite3_column_int64(q, 0);
    else if (r == SQLITE_DONE)
        *out = 0;
    else
        rc = store_fail(st, "query", err);
    sqlite3_finalize(q);
    return rc;
}
