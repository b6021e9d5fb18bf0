/* Jobs and their items (schema: migration v3 in store.c).  States are stored by name. */
#include "tb_features.h"

#include "store_int.h"
#include "store_jobs.h"

#include <stdio.h>
#include <string.h>

static const char *const job_states[] = {"queued", "running", "done", "failed", "cancelled"};
static const char *const item_states[] = {"pending", "running", "done", "failed", "cancelled"};

const char *
store_job_state_name(store_job_state s)
{
    return (unsigned)s < 5 ? job_states[s] : "?";
}

const char *
store_item_state_name(store_item_state s)
{
    return (unsigned)s < 5 ? item_states[s] : "?";
}

static int
state_index(const char *const *names, const unsigned char *s)
{
    for (int i = 0; s && i < 5; i++)
        if (strcmp(names[i], (const char *)s) == 0)
            return i;
    return 0;
}

static const char *
col_dup(sqlite3_stmt *q, int i, tb_arena *a)
{
    const unsigned char *s = sqlite3_column_text(q, i);
    return s ? tb_arena_strdup(a, (const char *)s) : NULL;
}

static cn_date
col_date(sqlite3_stmt *q, int i)
{
    cn_date d = {0, 0, 0};
    const unsigned char *s = sqlite3_column_text(q, i);
    if (s == NULL || !cn_date_parse((const char *)s, &d))
        d = (cn_date){0, 0, 0};
    return d;
}

/* Runs a statement that returns no rows, with up to three int64 and one text parameter. */
static tb_code
exec_bound(store *st, const char *sql, int64_t a, int64_t b, const char *text, tb_err *err)
{
    sqlite3_stmt *q;
    tb_code rc = store_prepare(st, sql, "jobs", &q, err);
    if (rc != TB_OK)
        return rc;
    sqlite3_bind_int64(q, 1, a);
    sqlite3_bind_int64(q, 2, b);
    if (text)
        sqlite3_bind_text(q, 3, text, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = store_fail(st, "jobs", err);
    sqlite3_finalize(q);
    return rc;
}

static void
rollback(store *st)
{
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- create ------------------------------------------------------------------------------- */

/* The job already made with this key: TB_OK and *job_id, or *job_id 0 when the key is new. */
static tb_code
find_by_key(store *st, const store_job_spec *spec, int64_t *job_id, tb_err *err)
{
    sqlite3_stmt *q;
    *job_id = 0;
    tb_code rc = store_prepare(st,
                               "SELECT id, request_hash FROM job WHERE office = ?1"
                               " AND idempotency_key = ?2",
                               "jobs", &q, err);
    if (rc != TB_OK)
        return rc;
    sqlite3_bind_text(q, 1, spec->office, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, spec->idempotency_key, -1, SQLITE_STATIC);
    int r = sqlite3_step(q);
    if (r == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(q, 1);
        if (h && spec->request_hash && strcmp(h, spec->request_hash) == 0)
            *job_id = sqlite3_column_int64(q, 0);
        else
            rc = tb_err_set(err, TB_EINVAL,
                            "Idempotency-Key '%s' was already used for a different request",
                            spec->idempotency_key);
    } else if (r != SQLITE_DONE) {
        rc = store_fail(st, "jobs", err);
    }
    sqlite3_finalize(q);
    return rc;
}

tb_code
store_job_create(store *st, const store_job_spec *spec, int64_t *job_id, bool *existed,
                 tb_err *err)
{
    sqlite3_stmt *q = NULL;
    tb_code rc;
    char now[STORE_TS_LEN], date[16];
    *existed = false;
    *job_id = 0;
    if (spec->township_count == 0)
        return tb_err_set(err, TB_EINVAL, "a job needs at least one document");
    if (!cn_date_valid(spec->date))
        return tb_err_set(err, TB_EINVAL, "job: invalid document date");
    store_timestamp(NULL, now);
    if ((rc = store_exec(st, "BEGIN IMMEDIATE", err)) != TB_OK)
        return rc;
    if (spec->idempotency_key) {
        if ((rc = find_by_key(st, spec, job_id, err)) != TB_OK)
            goto fail;
        if (*job_id) {
            *existed = true;
            return store_exec(st, "COMMIT", err);
        }
    }
    if ((rc = store_prepare(st,
                            "INSERT INTO job (office, kind, batch_year, batch_quarter,"
                            " batch_source, doc_date, state, who, idempotency_key, request_hash,"
                            " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?8, ?9,"
                            " ?10)",
                            "jobs", &q, err)) != TB_OK)
        goto fail;
    sqlite3_bind_text(q, 1, spec->office, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, spec->kind, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 3, spec->batch.year);
    sqlite3_bind_int(q, 4, spec->batch.quarter);
    sqlite3_bind_text(q, 5, spec->batch.source, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, cn_date_format_iso(spec->date, date, sizeof date), -1, SQLITE_STATIC);
    store_bind_text(q, 7, spec->who);
    store_bind_text(q, 8, spec->idempotency_key);
    store_bind_text(q, 9, spec->request_hash);
    sqlite3_bind_text(q, 10, now, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto sql_fail;
    sqlite3_finalize(q);
    *job_id = sqlite3_last_insert_rowid(st->db);

    /* No number yet: the registry allocates it when the item is issued. */
    if ((rc = store_prepare(st,
                            "INSERT INTO job_item (job_id, seq, office, township, year, state)"
                            " VALUES (?1, ?2, ?3, ?4, ?5, 'pending')",
                            "jobs", &q, err)) != TB_OK)
        goto fail;
    for (size_t i = 0; i < spec->township_count; i++) {
        sqlite3_reset(q);
        sqlite3_bind_int64(q, 1, *job_id);
        sqlite3_bind_int64(q, 2, (int64_t)i + 1);
        sqlite3_bind_text(q, 3, spec->office, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 4, spec->townships[i], -1, SQLITE_STATIC);
        sqlite3_bind_int(q, 5, spec->date.year);
        if (sqlite3_step(q) != SQLITE_DONE)
            goto sql_fail;
    }
    sqlite3_finalize(q);
    return store_exec(st, "COMMIT", err);

sql_fail:
    rc = store_fail(st, "create job", err);
fail:
    sqlite3_finalize(q);
    rollback(st);
    *job_id = 0;
    return rc;
}

/* ---- read --------------------------------------------------------------------------------- */

tb_code
store_job_get(store *st, const char *office, int64_t id, tb_arena *a, store_job *out,
              tb_err *err)
{
    sqlite3_stmt *q;
    tb_code rc = store_prepare(
        st,
        "SELECT j.id, j.office, j.kind, j.who, j.created_at, j.finished_at, j.batch_year,"
        " j.batch_quarter, j.batch_source, j.doc_date, j.state,"
        " (SELECT count(*) FROM job_item i WHERE i.job_id = j.id),"
        " (SELECT count(*) FROM job_item i WHERE i.job_id = j.id AND i.state = 'done'),"
        " (SELECT count(*) FROM job_item i WHERE i.job_id = j.id AND i.state = 'failed'),"
        " (SELECT count(*) FROM job_item i WHERE i.job_id = j.id AND i.state = 'cancelled'),"
        " (SELECT township FROM job_item i WHERE i.job_id = j.id AND i.state = 'running'"
        "  ORDER BY seq LIMIT 1)"
        " FROM job j WHERE j.id = ?1 AND j.office = ?2",
        "job", &q, err);
    if (rc != TB_OK)
        return rc;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, office ? office : "", -1, SQLITE_STATIC);
    int r = sqlite3_step(q);
    if (r == SQLITE_ROW) {
        *out = (store_job){
            .id = sqlite3_column_int64(q, 0),
            .office = col_dup(q, 1, a),
            .kind = col_dup(q, 2, a),
            .who = col_dup(q, 3, a),
            .created_at = col_dup(q, 4, a),
            .finished_at = col_dup(q, 5, a),
            .batch = {sqlite3_column_int(q, 6), sqlite3_column_int(q, 7), col_dup(q, 8, a)},
            .date = col_date(q, 9),
            .state = (store_job_state)state_index(job_states, sqlite3_column_text(q, 10)),
            .total = sqlite3_column_int(q, 11),
            .done = sqlite3_column_int(q, 12),
            .failed = sqlite3_column_int(q, 13),
            .cancelled = sqlite3_column_int(q, 14),
            .current = col_dup(q, 15, a),
        };
    } else if (r == SQLITE_DONE) {
        rc = tb_err_set(err, TB_ENOTFOUND, "job %lld: no such job", (long long)id);
    } else {
        rc = store_fail(st, "job", err);
    }
    sqlite3_finalize(q);
    return rc;
}

#define ITEM_COLUMNS                                                                              \
    "i.id, i.job_id, i.seq, i.office, j.kind, i.township, j.batch_year, j.batch_quarter,"        \
    " j.batch_source, j.doc_date, i.number, i.year, i.state, i.file, i.sha256, i.bytes,"         \
    " i.error, i.done_at FROM job_item i JOIN job j ON j.id = i.job_id "

/* Fills it from a row of ITEM_COLUMNS; strings are copied into a, or borrowed when a is NULL. */
static void
read_item(sqlite3_stmt *q, tb_arena *a, store_job_item *it)
{
#define TXT(i) (a ? col_dup(q, i, a) : (const char *)sqlite3_column_text(q, i))
    *it = (store_job_item){
        .id = sqlite3_column_int64(q, 0),
        .job_id = sqlite3_column_int64(q, 1),
        .seq = sqlite3_column_int(q, 2),
        .office = TXT(3),
        .kind = TXT(4),
        .township = TXT(5),
        .batch = {sqlite3_column_int(q, 6), sqlite3_column_int(q, 7), TXT(8)},
        .date = col_date(q, 9),
        .number = sqlite3_column_int(q, 10),
        .year = sqlite3_column_int(q, 11),
        .state = (store_item_state)state_index(item_states, sqlite3_column_text(q, 12)),
        .file = TXT(13),
        .sha256 = TXT(14),
        .bytes = sqlite3_column_int64(q, 15),
        .error = TXT(16),
        .done_at = TXT(17),
    };
#undef TXT
}

/* Steps q calling fn for every row. */
static tb_code
each_item(store *st, sqlite3_stmt *q, store_item_fn *fn, void *user, tb_err *err)
{
    int r;
    store_job_item it;
    while ((r = sqlite3_step(q)) == SQLITE_ROW) {
        read_item(q, NULL, &it);
        fn(user, &it);
    }
    tb_code rc = r == SQLITE_DONE ? TB_OK : store_fail(st, "job items", err);
    sqlite3_finalize(q);
    return rc;
}

tb_code
store_job_items(store *st, const char *office, int64_t id, store_item_fn *fn, void *user,
                tb_err *err)
{
    sqlite3_stmt *q;
    tb_code rc = store_prepare(st,
                               "SELECT " ITEM_COLUMNS "WHERE i.job_id = ?1 AND j.office = ?2"
                               " ORDER BY i.seq",
                               "job items", &q, err);
    if (rc != TB_OK)
        return rc;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, office ? office : "", -1, SQLITE_STATIC);
    return each_item(st, q, fn, user, err);
}

tb_code
store_documents_each(store *st, const char *office, long limit, store_item_fn *fn, void *user,
                     tb_err *err)
{
    sqlite3_stmt *q;
    tb_code rc = store_prepare(st,
                               "SELECT " ITEM_COLUMNS "WHERE i.office = ?1 AND i.state = 'done'"
                               " ORDER BY i.id DESC LIMIT ?2",
                               "documents", &q, err);
    if (rc != TB_OK)
        return rc;
    sqlite3_bind_text(q, 1, office ? office : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, limit > 0 ? limit : -1);
    return each_item(st, q, fn, user, err);
}

/* One item by a WHERE clause with ?1 = an id and ?2 = office text (may be unused). */
static tb_code
one_item(store *st, const char *where, int64_t id, const char *office, tb_arena *a,
         store_job_item *out, tb_err *err)
{
    sqlite3_stmt *q;
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT " ITEM_COLUMNS "WHERE %s", where);
    tb_code rc = store_prepare(st, sql, "job item", &q, err);
    if (rc != TB_OK)
        return rc;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, office ? office : "", -1, SQLITE_STATIC);
    int r = sqlite3_step(q);
    if (r == SQLITE_ROW)
        read_item(q, a, out);
    else if (r == SQLITE_DONE)
        rc = tb_err_set(err, TB_ENOTFOUND, "document %lld: no such document", (long long)id);
    else
        rc = store_fail(st, "job item", err);
    sqlite3_finalize(q);
    return rc;
}

tb_code
store_job_first_item(store *st, int64_t job_id, tb_arena *a, store_job_item *out, tb_err *err)
{
    return one_item(st, "i.job_id = ?1 ORDER BY i.seq LIMIT 1", job_id, NULL, a, out, err);
}

tb_code
store_document_get(store *st, const char *office, int64_t item_id, tb_arena *a,
                   store_job_item *out, tb_err *err)
{
    return one_item(st, "i.id = ?1 AND i.office = ?2 AND i.state = 'done'", item_id, office, a,
                    out, err);
}

/* ---- claim and finish --------------------------------------------------------------------- */

static int
claim_where(store *st, const char *where, int64_t id, tb_arena *a, store_job_item *out,
            tb_err *err)
{
    if (store_exec(st, "BEGIN IMMEDIATE", err) != TB_OK)
        return -1;
    tb_err none = {0};
    tb_code rc = one_item(st, where, id, NULL, a, out, &none);
    if (rc == TB_ENOTFOUND) {
        rollback(st);
        return 0;
    }
    if (rc != TB_OK) {
        tb_err_set(err, rc, "%s", none.msg);
        rollback(st);
        return -1;
    }
    if (exec_bound(st, "UPDATE job_item SET state = 'running' WHERE id = ?1", out->id,
                   0, NULL, err) != TB_OK ||
        exec_bound(st, "UPDATE job SET state = 'running' WHERE id = ?1 AND state = 'queued'"
                       "",
                   out->job_id, 0, NULL, err) != TB_OK ||
        store_exec(st, "COMMIT", err) != TB_OK) {
        rollback(st);
        return -1;
    }
    out->state = ITEM_RUNNING;
    return 1;
}

int
store_job_claim(store *st, tb_arena *a, store_job_item *out, tb_err *err)
{
    return claim_where(st,
                       "i.state = 'pending' AND j.state IN ('queued', 'running')"
                       " ORDER BY i.job_id, i.seq LIMIT 1",
                       0, a, out, err);
}

int
store_job_claim_item(store *st, int64_t item_id, tb_arena *a, store_job_item *out, tb_err *err)
{
    return claim_where(st, "i.id = ?1 AND i.state = 'pending' AND j.state IN ('queued',"
                           " 'running')",
                       item_id, a, out, err);
}

/* The job of item becomes done / failed when none of its items is pending or running. */
static tb_code
settle_job(store *st, int64_t item_id, tb_err *err)
{
    char now[STORE_TS_LEN];
    store_timestamp(NULL, now);
    return exec_bound(
        st,
        "UPDATE job SET finished_at = ?3, state = CASE"
        "  WHEN state = 'cancelled' THEN 'cancelled'"
        "  WHEN EXISTS (SELECT 1 FROM job_item WHERE job_id = job.id AND state = 'failed')"
        "  THEN 'failed' ELSE 'done' END"
        " WHERE id = (SELECT job_id FROM job_item WHERE id = ?1)"
        " AND NOT EXISTS (SELECT 1 FROM job_item WHERE job_id = job.id"
        "                 AND state IN ('pending', 'running'))",
        item_id, 0, now, err);
}

/* Records how a running item ended, inside the caller's transaction. */
static tb_code
finish_item_in(store *st, int64_t item_id, const char *state, int number, const char *file,
               const char *sha, int64_t bytes, const char *error, tb_err *err)
{
    sqlite3_stmt *q = NULL;
    char now[STORE_TS_LEN];
    store_timestamp(NULL, now);
    tb_code rc = store_prepare(st,
                               "UPDATE job_item SET state = ?2, file = ?3, sha256 = ?4, bytes = ?5,"
                               " error = ?6, done_at = ?7, number = nullif(?8, 0)"
                               " WHERE id = ?1 AND state = 'running'",
                               "finish item", &q, err);
    if (rc != TB_OK)
        return rc;
    sqlite3_bind_int64(q, 1, item_id);
    sqlite3_bind_text(q, 2, state, -1, SQLITE_STATIC);
    store_bind_text(q, 3, file);
    store_bind_text(q, 4, sha);
    sqlite3_bind_int64(q, 5, bytes);
    store_bind_text(q, 6, error);
    sqlite3_bind_text(q, 7, now, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 8, number);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = store_fail(st, "finish item", err);
    else if (sqlite3_changes(st->db) != 1)
        rc = tb_err_set(err, TB_EINVAL, "job item %lld is not running", (long long)item_id);
    sqlite3_finalize(q);
    return rc == TB_OK ? settle_job(st, item_id, err) : rc;
}

tb_code
store_job_item_issued(store *st, int64_t item_id, int number, const char *file,
                      const char *sha256, int64_t bytes, tb_err *err)
{
    if (sqlite3_get_autocommit(st->db))
        return tb_err_set(err, TB_EINVAL, "job item %lld: issued outside the issue's transaction",
                          (long long)item_id);
    return finish_item_in(st, item_id, "done", number, file, sha256, bytes, NULL, err);
}

tb_code
store_job_item_failed(store *st, int64_t item_id, const char *message, tb_err *err)
{
    tb_code rc = store_exec(st, "BEGIN IMMEDIATE", err);
    if (rc != TB_OK)
        return rc;
    if ((rc = finish_item_in(st, item_id, "failed", 0, NULL, NULL, 0, message, err)) != TB_OK) {
        rollback(st);
        return rc;
    }
    return store_exec(st, "COMMIT", err);
}

tb_code
store_job_cancel(store *st, const char *office, int64_t id, tb_err *err)
{
    char now[STORE_TS_LEN];
    store_timestamp(NULL, now);
    tb_code rc = store_exec(st, "BEGIN IMMEDIATE", err);
    if (rc != TB_OK)
        return rc;
    sqlite3_stmt *q = NULL;
    if ((rc = store_prepare(st, "SELECT state FROM job WHERE id = ?1 AND office = ?2", "cancel",
                            &q, err)) != TB_OK)
        goto fail;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, office ? office : "", -1, SQLITE_STATIC);
    int r = sqlite3_step(q);
    sqlite3_finalize(q);
    if (r == SQLITE_DONE) {
        rc = tb_err_set(err, TB_ENOTFOUND, "job %lld: no such job", (long long)id);
        goto fail;
    }
    if (r != SQLITE_ROW) {
        rc = store_fail(st, "cancel", err);
        goto fail;
    }
    if ((rc = exec_bound(st, "UPDATE job_item SET state = 'cancelled' WHERE job_id = ?1"
                             " AND state = 'pending'",
                         id, 0, NULL, err)) != TB_OK ||
        (rc = exec_bound(st, "UPDATE job SET state = 'cancelled', finished_at = ?3"
                             " WHERE id = ?1 AND state IN ('queued', 'running')",
                         id, 0, now, err)) != TB_OK)
        goto fail;
    return store_exec(st, "COMMIT", err);
fail:
    rollback(st);
    return rc;
}

long
store_jobs_recover(store *st, tb_err *err)
{
    if (store_exec(st, "UPDATE job_item SET state = 'pending' WHERE state = 'running'", err) !=
        TB_OK)
        return -1;
    return (long)sqlite3_changes(st->db);
}

long
store_jobs_backlog(store *st)
{
    int64_t n = -1;
    if (store_debug_query_int(st, "SELECT count(*) FROM job_item WHERE state IN ('pending',"
                                  " 'running')",
                              &n, NULL) != TB_OK)
        return -1;
    return (long)n;
}

/* ---- patches read back -------------------------------------------------------------------- */

tb_code
store_patches_load(store *st, const store_batch *batch, const char *admin_prefix, tb_arena *a,
                   patch **items, size_t *count, tb_err *err)
{
    int64_t batch_id;
    *items = NULL;
    *count = 0;
    tb_code rc = store_batch_id(st, batch, false, &batch_id, err);
    if (rc != TB_OK)
        return rc;
    sqlite3_stmt *q;
    if ((rc = store_prepare(st,
                            "SELECT id, admin_code, admin_name, year, quarter, area_m2,"
                            " area_ellipsoid_m2, farmland_m2, basic_farmland_m2, kind, legality,"
                            " violation, approval_no, measure, state, deadline, image_before,"
                            " image_after, rural_housing, earlier_id, wkb, min_lon, min_lat,"
                            " max_lon, max_lat, pk, military FROM patch WHERE batch_id = ?1 AND missing = 0"
                            " AND (?2 = '' OR substr(admin_code, 1, length(?2)) = ?2)"
                            " ORDER BY id",
                            "load patches", &q, err)) != TB_OK)
        return rc;
    sqlite3_bind_int64(q, 1, batch_id);
    sqlite3_bind_text(q, 2, admin_prefix ? admin_prefix : "", -1, SQLITE_STATIC);
    size_t cap = 0;
    int r;
    while ((r = sqlite3_step(q)) == SQLITE_ROW) {
        if (*count == cap) {
            cap = cap ? cap * 2 : 64;
            patch *grown = tb_arena_array(a, cap, sizeof *grown);
            if (*count)
                memcpy(grown, *items, *count * sizeof *grown);
            *items = grown;
        }
        patch *p = &(*items)[(*count)++];
        *p = (patch){0};
        p->id = col_dup(q, 0, a);
        p->admin_code = col_dup(q, 1, a);
        p->admin_name = col_dup(q, 2, a);
        p->year = sqlite3_column_int(q, 3);
        p->quarter = col_dup(q, 4, a);
        p->area_m2 = sqlite3_column_double(q, 5);
        p->area_ellipsoid_m2 = sqlite3_column_double(q, 6);
        p->farmland_m2 = sqlite3_column_double(q, 7);
        p->basic_farmland_m2 = sqlite3_column_double(q, 8);
        p->kind = col_dup(q, 9, a);
        const char *l = (const char *)sqlite3_column_text(q, 10);
        if (l == NULL || !legality_parse(l, &p->legality))
            p->legality = LEGALITY_UNKNOWN;
        p->violation = col_dup(q, 11, a);
        p->approval_no = col_dup(q, 12, a);
        p->measure = col_dup(q, 13, a);
        const char *s = (const char *)sqlite3_column_text(q, 14);
        if (s == NULL || !rectify_state_parse(s, &p->state))
            p->state = RECTIFY_NONE;
        p->deadline = col_date(q, 15);
        p->image_before = col_date(q, 16);
        p->image_after = col_date(q, 17);
        p->rural_housing = sqlite3_column_int(q, 18) != 0;
        p->earlier_id = col_dup(q, 19, a);
        int n = sqlite3_column_bytes(q, 20);
        if (n > 0) {
            unsigned char *wkb = tb_arena_alloc(a, (size_t)n);
            memcpy(wkb, sqlite3_column_blob(q, 20), (size_t)n);
            p->wkb = wkb;
            p->wkb_len = (size_t)n;
        }
        p->min_lon = sqlite3_column_double(q, 21);
        p->min_lat = sqlite3_column_double(q, 22);
        p->max_lon = sqlite3_column_double(q, 23);
        p->max_lat = sqlite3_column_double(q, 24);
        p->record = (long)sqlite3_column_int64(q, 25);
        p->military = sqlite3_column_int(q, 26) != 0;
    }
    rc = r == SQLITE_DONE ? TB_OK : store_fail(st, "load patches", err);
    sqlite3_finalize(q);
    return rc;
}
