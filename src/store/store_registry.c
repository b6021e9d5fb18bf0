/* The registry of issued documents and the 发文字号 counters (schema v3).
 *
 * DESIGN: a number is allocated and the document registered in one transaction (the caller
 * writes and renames the archive file in between), so a number is committed if and only if its
 * registry row is.  Triggers make the registry append-only; each row carries its predecessor's
 * hash, so an edit made around the triggers (another SQLite client) still shows. */
#include "tb_features.h"

#include "store_int.h"

#include <stdio.h>
#include <string.h>

tb_code
store_issue_begin(store *st, tb_err *err)
{
    tb_code rc = store_exec(st, "PRAGMA synchronous = FULL", err);
    if (rc == TB_OK)
        rc = store_exec(st, "BEGIN IMMEDIATE", err);
    return rc;
}

tb_code
store_issue_commit(store *st, tb_err *err)
{
    tb_code rc = store_exec(st, "COMMIT", err);
    if (rc != TB_OK)
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

void
store_issue_abort(store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

tb_code
store_docno_last(store *st, const char *office, int year, const char *prefix, int *last,
                 tb_err *err)
{
    sqlite3_stmt *q = NULL;
    tb_code rc = store_prepare(st, "SELECT last FROM docno_counter"
                                   " WHERE office = ?1 AND year = ?2 AND prefix = ?3",
                               "reading the 发文字号 counter", &q, err);
    if (rc != TB_OK)
        return rc;
    sqlite3_bind_text(q, 1, office, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, year);
    sqlite3_bind_text(q, 3, prefix, -1, SQLITE_STATIC);
    int s = sqlite3_step(q);
    *last = s == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        rc = store_fail(st, "reading the 发文字号 counter", err);
    sqlite3_finalize(q);
    return rc;
}

tb_code
store_docno_next(store *st, const char *office, int year, const char *prefix, int *number,
                 tb_err *err)
{
    int last = 0;
    tb_code rc = store_docno_last(st, office, year, prefix, &last, err);
    if (rc != TB_OK)
        return rc;
    if (last >= 999999)
        return tb_err_set(err, TB_ELIMIT, "%s: 发文字号 %s %d: the year's numbers are used up",
                          st->path, prefix, year);
    sqlite3_stmt *q = NULL;
    rc = store_prepare(st, "INSERT INTO docno_counter (office, year, prefix, last)"
                           " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (office, year, prefix)"
                           " DO UPDATE SET last = excluded.last",
                       "allocating a 发文字号", &q, err);
    if (rc != TB_OK)
        return rc;
    sqlite3_bind_text(q, 1, office, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, year);
    sqlite3_bind_text(q, 3, prefix, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 4, last + 1);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = store_fail(st, "allocating a 发文字号", err);
    sqlite3_finalize(q);
    *number = last + 1;
    return rc;
}

tb_code
store_registry_tail(store *st, int64_t *seq, char *hash, tb_err *err)
{
    sqlite3_stmt *q = NULL;
    tb_code rc = store_prepare(st, "SELECT seq, entry_hash FROM registry ORDER BY seq DESC LIMIT 1",
                               "reading the registry", &q, err);
    if (rc != TB_OK)
        return rc;
    *seq = 0;
    memset(hash, '0', 64);
    hash[64] = '\0';
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW) {
        *seq = sqlite3_column_int64(q, 0);
        const unsigned char *h = sqlite3_column_text(q, 1);
        if (h != NULL && strlen((const char *)h) == 64)
            memcpy(hash, h, 65);
    } else if (s != SQLITE_DONE) {
        rc = store_fail(st, "reading the registry", err);
    }
    sqlite3_finalize(q);
    return rc;
}

tb_code
store_registry_append(store *st, const store_reg_entry *e, tb_err *err)
{
    sqlite3_stmt *q = NULL;
    tb_code rc = store_prepare(
        st,
        "INSERT INTO registry (seq, office, year, prefix, number, docno, kind, patches, signer,"
        " issued_at, path, sha256, code, prev_hash, entry_hash)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        "registering a document", &q, err);
    if (rc != TB_OK)
        return rc;
    sqlite3_bind_int64(q, 1, e->seq);
    sqlite3_bind_text(q, 2, e->office, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 3, e->year);
    sqlite3_bind_text(q, 4, e->prefix, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 5, e->number);
    const char *texts[] = {e->docno, e->kind, e->patches, e->signer, e->issued_at, e->path,
                           e->sha256, e->code, e->prev_hash, e->entry_hash};
    for (int i = 0; i < 10; i++)
        sqlite3_bind_text(q, 6 + i, texts[i] ? texts[i] : "", -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = store_fail(st, "registering a document", err);
    sqlite3_finalize(q);
    return rc;
}

static const char *
col(sqlite3_stmt *q, int i)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    return t ? (const char *)t : "";
}

/* Runs a SELECT of every registry column and calls fn for each row. */
static tb_code
each_row(store *st, sqlite3_stmt *q, bool (*fn)(void *, const store_reg_entry *), void *user,
         bool *found, tb_err *err)
{
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        store_reg_entry e = {
            .seq = sqlite3_column_int64(q, 0), .office = col(q, 1),
            .year = sqlite3_column_int(q, 2),   .prefix = col(q, 3),
            .number = sqlite3_column_int(q, 4), .docno = col(q, 5),
            .kind = col(q, 6),      .patches = col(q, 7),    .signer = col(q, 8),
            .issued_at = col(q, 9), .path = col(q, 10),      .sha256 = col(q, 11),
            .code = col(q, 12),     .prev_hash = col(q, 13), .entry_hash = col(q, 14),
        };
        if (found)
            *found = true;
        if (!fn(user, &e))
            return TB_OK;
    }
    return s == SQLITE_DONE ? TB_OK : store_fail(st, "reading the registry", err);
}

#define REG_COLUMNS                                                                            \
    "SELECT seq, office, year, prefix, number, docno, kind, patches, signer, issued_at, path,"  \
    " sha256, code, prev_hash, entry_hash FROM registry"

tb_code
store_registry_each(store *st, bool (*fn)(void *user, const store_reg_entry *e), void *user,
                    tb_err *err)
{
    sqlite3_stmt *q = NULL;
    tb_code rc = store_prepare(st, REG_COLUMNS " ORDER BY seq", "reading the registry", &q, err);
    if (rc == TB_OK)
        rc = each_row(st, q, fn, user, NULL, err);
    sqlite3_finalize(q);
    return rc;
}

/* The first entry whose column `where` (a literal of ours, never input) equals value. */
static tb_code
find_one(store *st, const char *where, const char *value,
         bool (*fn)(void *user, const store_reg_entry *e), void *user, bool *found, tb_err *err)
{
    sqlite3_stmt *q = NULL;
    *found = false;
    char sql[512];
    snprintf(sql, sizeof sql, REG_COLUMNS " WHERE %s = ?1 ORDER BY seq LIMIT 1", where);
    tb_code rc = store_prepare(st, sql, "reading the registry", &q, err);
    if (rc == TB_OK) {
        sqlite3_bind_text(q, 1, value, -1, SQLITE_STATIC);
        rc = each_row(st, q, fn, user, found, err);
    }
    sqlite3_finalize(q);
    return rc;
}

tb_code
store_registry_find_sha256(store *st, const char *sha256_hex,
                           bool (*fn)(void *user, const store_reg_entry *e), void *user,
                           bool *found, tb_err *err)
{
    return find_one(st, "sha256", sha256_hex, fn, user, found, err);
}

tb_code
store_registry_find_code(store *st, const char *code,
                         bool (*fn)(void *user, const store_reg_entry *e), void *user,
                         bool *found, tb_err *err)
{
    return find_one(st, "code", code, fn, user, found, err);
}
