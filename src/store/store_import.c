/* Importing a file of patches into a batch.
 *
 * DESIGN.  store_import_begin takes the write lock (BEGIN IMMEDIATE) and creates a TEMP table
 * `stage` with one column per patch column; store_import_add is one reused INSERT into it (its
 * primary key on the patch id catches duplicates), so memory does not grow with the file.
 * store_import_commit then walks `stage LEFT JOIN patch` in id order once, compares the staged
 * and stored columns in C, and inserts, updates or just touches each patch, writing a history row
 * per tracked field that changed; a second walk marks the batch's patches that the file lacks.
 * Everything happens in the one transaction, so abort (ROLLBACK) leaves no trace, TEMP table
 * included.
 *
 * The patch columns are the table `cols` (STYLE R3): name, the field name of messages, the
 * history field when tracked, and how to read it from a `patch`.  The SQL is built from it. */
#include "tb_features.h"

#include "store_int.h"
#include "tb_buf.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum col_type {
    COL_TEXT,     /* const char * (NULL or "" -> NULL) */
    COL_INT,      /* int, 0 -> NULL */
    COL_REAL,     /* double */
    COL_BOOL,     /* bool -> 0/1 */
    COL_LEGALITY, /* legality -> its name */
    COL_STATE,    /* rectify_state -> its name */
    COL_DATE,     /* cn_date -> ISO text */
    COL_WKB,      /* wkb + wkb_len */
    COL_BBOX,     /* double; NULL without a geometry */
    COL_AREA,     /* the area_ellipsoid_m2 argument */
} col_type;

static const struct col {
    const char *name;  /* column of patch and stage */
    const char *label; /* field name in change descriptions; NULL: part of the geometry */
    const char *track; /* status_history field, or NULL */
    col_type type;
    size_t offset; /* in struct patch */
} cols[] = {
    {"id", "JCBH", NULL, COL_TEXT, offsetof(patch, id)},
    {"admin_code", "XZQDM", NULL, COL_TEXT, offsetof(patch, admin_code)},
    {"admin_name", "XZQMC", NULL, COL_TEXT, offsetof(patch, admin_name)},
    {"year", "NF", NULL, COL_INT, offsetof(patch, year)},
    {"quarter", "JD", NULL, COL_TEXT, offsetof(patch, quarter)},
    {"area_m2", "JCMJ", NULL, COL_REAL, offsetof(patch, area_m2)},
    {"farmland_m2", "JCGDMJ", NULL, COL_REAL, offsetof(patch, farmland_m2)},
    {"basic_farmland_m2", "YJJBNTMJ", NULL, COL_REAL, offsetof(patch, basic_farmland_m2)},
    {"kind", "TBLX", NULL, COL_TEXT, offsetof(patch, kind)},
    {"legality", "PDJG", "legality", COL_LEGALITY, offsetof(patch, legality)},
    {"violation", "WFLX", NULL, COL_TEXT, offsetof(patch, violation)},
    {"approval_no", "PZWH", NULL, COL_TEXT, offsetof(patch, approval_no)},
    {"measure", "ZGCS", "measure", COL_TEXT, offsetof(patch, measure)},
    {"state", "ZGZT", "state", COL_STATE, offsetof(patch, state)},
    {"deadline", "ZGQX", "deadline", COL_DATE, offsetof(patch, deadline)},
    {"image_before", "QSX", NULL, COL_DATE, offsetof(patch, image_before)},
    {"image_after", "HSX", NULL, COL_DATE, offsetof(patch, image_after)},
    {"rural_housing", "SFNCLZGDJF", NULL, COL_BOOL, offsetof(patch, rural_housing)},
    {"earlier_id", "TYWZJCTBWQBH", NULL, COL_TEXT, offsetof(patch, earlier_id)},
    {"military", "SFJYTD", NULL, COL_BOOL, offsetof(patch, military)},
    {"wkb", "geometry", NULL, COL_WKB, offsetof(patch, wkb)},
    {"min_lon", NULL, NULL, COL_BBOX, offsetof(patch, min_lon)},
    {"min_lat", NULL, NULL, COL_BBOX, offsetof(patch, min_lat)},
    {"max_lon", NULL, NULL, COL_BBOX, offsetof(patch, max_lon)},
    {"max_lat", NULL, NULL, COL_BBOX, offsetof(patch, max_lat)},
    {"area_ellipsoid_m2", "area", NULL, COL_AREA, 0},
};

#define NCOLS ((int)(sizeof(cols) / sizeof(cols[0])))

struct store_import {
    store *st;
    int64_t batch_id, import_id;
    char at[STORE_TS_LEN];
    char *who, *file; /* owned */
    sqlite3_stmt *stage;
    bool spoiled; /* an add failed: commit refuses */
};

/* Ends the transaction (if still open) and frees im. */
static void
import_free(store_import *im, bool rollback)
{
    if (im == NULL)
        return;
    sqlite3_finalize(im->stage);
    if (rollback)
        sqlite3_exec(im->st->db, "ROLLBACK", NULL, NULL, NULL);
    im->st->importing = false;
    free(im->who);
    free(im->file);
    free(im);
}

void
store_import_abort(store_import *im)
{
    import_free(im, /*rollback*/ true);
}

/* "a, b, c" of every column, each prefixed with `prefix` ("" or "s."). */
static void
append_cols(tb_buf *b, const char *prefix, int first)
{
    for (int i = first; i < NCOLS; i++)
        tb_buf_printf(b, "%s%s%s", i > first ? ", " : "", prefix, cols[i].name);
}

store_import *
store_import_begin(store *st, const store_batch *batch, const char *file, const char *who,
                   const char *at, tb_err *err)
{
    store_import *im = NULL;
    sqlite3_stmt *q = NULL;
    tb_buf sql = TB_BUF_INIT;

    if (st->importing) {
        tb_err_set(err, TB_EINVAL, "%s: an import is already in progress", st->path);
        return NULL;
    }
    im = tb_xcalloc(1, sizeof *im);
    if (!store_timestamp(at, im->at)) {
        tb_err_set(err, TB_EINVAL, "import of %s: bad time '%s' (want YYYY-MM-DDThh:mm:ss)",
                   file ? file : "", at);
        free(im);
        return NULL;
    }
    if (store_exec(st, "BEGIN IMMEDIATE", err) != TB_OK) {
        free(im);
        return NULL;
    }
    im->st = st;
    st->importing = true;
    im->who = who ? tb_xstrdup(who) : NULL;
    im->file = tb_xstrdup(file ? file : "");
    if (store_batch_id(st, batch, /*create*/ true, &im->batch_id, err) != TB_OK)
        goto fail;
    if (store_prepare(st,
                      "INSERT INTO import_run (batch_id, file, who, at)"
                      " VALUES (?1, ?2, ?3, ?4)",
                      "import", &q, err) != TB_OK)
        goto fail;
    sqlite3_bind_int64(q, 1, im->batch_id);
    sqlite3_bind_text(q, 2, im->file, -1, SQLITE_STATIC);
    store_bind_text(q, 3, im->who);
    sqlite3_bind_text(q, 4, im->at, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE) {
        store_fail(st, "import", err);
        goto fail;
    }
    im->import_id = sqlite3_last_insert_rowid(st->db);

    /* Untyped columns keep each value as bound, so staged and stored values compare exactly. */
    tb_buf_append_str(&sql, "CREATE TEMP TABLE stage (id PRIMARY KEY, ");
    append_cols(&sql, "", 1);
    tb_buf_append_str(&sql, ", record) WITHOUT ROWID");
    if (store_exec(st, "DROP TABLE IF EXISTS temp.stage", err) != TB_OK ||
        store_exec(st, (const char *)sql.data, err) != TB_OK)
        goto fail;
    tb_buf_reset(&sql);
    tb_buf_append_str(&sql, "INSERT INTO temp.stage (");
    append_cols(&sql, "", 0);
    tb_buf_append_str(&sql, ", record) VALUES (");
    for (int i = 0; i <= NCOLS; i++)
        tb_buf_printf(&sql, "%s?%d", i ? ", " : "", i + 1);
    tb_buf_append_str(&sql, ")");
    if (store_prepare(st, (const char *)sql.data, "import", &im->stage, err) != TB_OK)
        goto fail;
    sqlite3_finalize(q);
    tb_buf_release(&sql);
    return im;
fail:
    sqlite3_finalize(q);
    tb_buf_release(&sql);
    import_free(im, /*rollback*/ true);
    return NULL;
}

/* Binds column i of p as stage parameter i + 1. */
static void
bind_col(sqlite3_stmt *q, int i, const patch *p, double area_ellipsoid_m2, char *iso,
         size_t iso_len)
{
    const char *base = (const char *)p + cols[i].offset;
    int k = i + 1;
    switch (cols[i].type) {
    case COL_TEXT:
        store_bind_text(q, k, *(const char *const *)base);
        break;
    case COL_INT:
        if (*(const int *)base == 0)
            sqlite3_bind_null(q, k);
        else
            sqlite3_bind_int(q, k, *(const int *)base);
        break;
    case COL_REAL:
        sqlite3_bind_double(q, k, *(const double *)base);
        break;
    case COL_BOOL:
        sqlite3_bind_int(q, k, *(const bool *)base ? 1 : 0);
        break;
    case COL_LEGALITY:
        store_bind_text(q, k, legality_name(*(const legality *)base));
        break;
    case COL_STATE:
        store_bind_text(q, k, rectify_state_name(*(const rectify_state *)base));
        break;
    case COL_DATE: {
        /* Copied (TRANSIENT): the row has several dates and `iso` is one buffer for all. */
        cn_date d = *(const cn_date *)base;
        if (d.year == 0)
            sqlite3_bind_null(q, k);
        else
            sqlite3_bind_text(q, k, cn_date_format_iso(d, iso, iso_len), -1, SQLITE_TRANSIENT);
        break;
    }
    case COL_WKB:
        if (p->wkb == NULL || p->wkb_len == 0)
            sqlite3_bind_null(q, k);
        else
            sqlite3_bind_blob64(q, k, p->wkb, p->wkb_len, SQLITE_STATIC);
        break;
    case COL_BBOX:
        if (p->wkb == NULL || p->wkb_len == 0)
            sqlite3_bind_null(q, k);
        else
            sqlite3_bind_double(q, k, *(const double *)base);
        break;
    case COL_AREA:
        sqlite3_bind_double(q, k, area_ellipsoid_m2);
        break;
    }
}

/* The record number at which id was staged (for the duplicate message), or 0. */
static long
staged_record(store *st, const char *id)
{
    sqlite3_stmt *q;
    long rec = 0;
    if (store_prepare(st, "SELECT record FROM temp.stage WHERE id = ?1", "import", &q, NULL) !=
        TB_OK)
        return 0;
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW)
        rec = (long)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return rec;
}

tb_code
store_import_add(store_import *im, const patch *p, double area_ellipsoid_m2, tb_err *err)
{
    char iso[16];
    tb_code rc = TB_OK;

    if (im->spoiled)
        return tb_err_set(err, TB_EINVAL, "%s: import already failed", im->file);
    if (p->id == NULL || p->id[0] == '\0') {
        rc = tb_err_set(err, TB_EFORMAT, "%s record %ld: patch without id", im->file, p->record);
        goto done;
    }
    if (p->wkb && p->wkb_len &&
        !(p->min_lon <= p->max_lon && p->min_lat <= p->max_lat && isfinite(p->min_lon) &&
          isfinite(p->max_lon) && isfinite(p->min_lat) && isfinite(p->max_lat))) {
        rc = tb_err_set(err, TB_EFORMAT, "%s record %ld: patch %s: bad bounding box", im->file,
                        p->record, p->id);
        goto done;
    }
    for (int i = 0; i < NCOLS; i++) {
        const cn_date *d = (const cn_date *)((const char *)p + cols[i].offset);
        if (cols[i].type == COL_DATE && d->year != 0 && !cn_date_valid(*d)) {
            rc = tb_err_set(err, TB_EFORMAT, "%s record %ld: patch %s: bad %s date", im->file,
                            p->record, p->id, cols[i].label);
            goto done;
        }
    }
    for (int i = 0; i < NCOLS; i++)
        bind_col(im->stage, i, p, area_ellipsoid_m2, iso, sizeof iso);
    sqlite3_bind_int64(im->stage, NCOLS + 1, p->record);
    int r = sqlite3_step(im->stage);
    if (r == SQLITE_CONSTRAINT_PRIMARYKEY) {
        long first = staged_record(im->st, p->id);
        rc = tb_err_set(err, TB_EFORMAT, "%s record %ld: patch %s appears twice (first at record"
                        " %ld)", im->file, p->record, p->id, first);
    } else if (r != SQLITE_DONE) {
        rc = store_fail(im->st, "stage patch", err);
    }
    sqlite3_reset(im->stage);
    sqlite3_clear_bindings(im->stage);
done:
    if (rc != TB_OK)
        im->spoiled = true;
    return rc;
}

/* ---- commit ------------------------------------------------------------------------------- */

/* The statements of a commit, prepared once and reused for every patch. */
typedef struct commit_stmts {
    sqlite3_stmt *walk;    /* stage LEFT JOIN patch, in id order */
    sqlite3_stmt *insert;  /* new patch */
    sqlite3_stmt *update;  /* changed patch: every column, missing = 0 */
    sqlite3_stmt *touch;   /* unchanged patch: last_import */
    sqlite3_stmt *history; /* one status_history row */
    sqlite3_stmt *gone;    /* patches of the batch the file lacks */
    sqlite3_stmt *mark;    /* missing = 1 */
    sqlite3_stmt *bbox;    /* R*Tree rows of the new patches, in one statement */
    sqlite3_stmt *initial; /* history rows of the new patches' initial values, likewise */
} commit_stmts;

/* Column of the walk: staged column i is i; the stored one is walk_stored(i) (i >= 1). */
#define WALK_PK NCOLS
#define WALK_MISSING (NCOLS + 1)
static int
walk_stored(int i)
{
    return NCOLS + 1 + i;
}

static tb_code
commit_prepare(store *st, commit_stmts *c, tb_err *err)
{
    tb_buf sql = TB_BUF_INIT;
    tb_code rc;

    tb_buf_append_str(&sql, "SELECT ");
    append_cols(&sql, "s.", 0);
    tb_buf_append_str(&sql, ", p.pk, p.missing, ");
    append_cols(&sql, "p.", 1);
    tb_buf_append_str(&sql, " FROM temp.stage s LEFT JOIN patch p"
                            " ON p.batch_id = ?1 AND p.id = s.id ORDER BY s.id");
    if ((rc = store_prepare(st, (const char *)sql.data, "import", &c->walk, err)) != TB_OK)
        goto done;

    tb_buf_reset(&sql);
    tb_buf_append_str(&sql, "INSERT INTO patch (batch_id, first_import, last_import, ");
    append_cols(&sql, "", 0);
    tb_buf_append_str(&sql, ") VALUES (?1, ?2, ?2");
    for (int i = 0; i < NCOLS; i++)
        tb_buf_printf(&sql, ", ?%d", i + 3);
    tb_buf_append_str(&sql, ")");
    if ((rc = store_prepare(st, (const char *)sql.data, "import", &c->insert, err)) != TB_OK)
        goto done;

    tb_buf_reset(&sql);
    tb_buf_append_str(&sql, "UPDATE patch SET missing = 0, last_import = ?2");
    for (int i = 1; i < NCOLS; i++)
        tb_buf_printf(&sql, ", %s = ?%d", cols[i].name, i + 2);
    tb_buf_append_str(&sql, " WHERE pk = ?1");
    if ((rc = store_prepare(st, (const char *)sql.data, "import", &c->update, err)) != TB_OK)
        goto done;

    if ((rc = store_prepare(st, "UPDATE patch SET last_import = ?2 WHERE pk = ?1", "import",
                            &c->touch, err)) != TB_OK ||
        (rc = store_prepare(st,
                            "INSERT INTO status_history (patch_pk, field, from_value, to_value,"
                            " at, who, import_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                            "import", &c->history, err)) != TB_OK ||
        (rc = store_prepare(st,
                            "SELECT pk, id FROM patch p WHERE batch_id = ?1 AND missing = 0"
                            " AND NOT EXISTS (SELECT 1 FROM temp.stage s WHERE s.id = p.id)"
                            " ORDER BY id",
                            "import", &c->gone, err)) != TB_OK ||
        (rc = store_prepare(st, "UPDATE patch SET missing = 1 WHERE pk = ?1", "import", &c->mark,
                            err)) != TB_OK ||
        (rc = store_prepare(st,
                            "INSERT INTO patch_bbox SELECT pk, min_lon, max_lon, min_lat, max_lat"
                            " FROM patch WHERE pk > ?3 AND +batch_id = ?1 AND first_import = ?2"
                            " AND min_lon IS NOT NULL",
                            "import", &c->bbox, err)) != TB_OK)
        goto done;

    /* One row per (new patch, tracked field with a value), in patch then field order. */
    tb_buf_reset(&sql);
    tb_buf_append_str(&sql, "INSERT INTO status_history (patch_pk, field, to_value, at, who,"
                            " import_id) SELECT * FROM (SELECT p.pk, f.column1, CASE f.column1");
    for (int i = 0; i < NCOLS; i++)
        if (cols[i].track)
            tb_buf_printf(&sql, " WHEN '%s' THEN p.%s", cols[i].track, cols[i].name);
    tb_buf_append_str(&sql, " END AS v, ?3, ?4, ?2 FROM patch p, (VALUES ");
    for (int i = 0, n = 0; i < NCOLS; i++)
        if (cols[i].track)
            tb_buf_printf(&sql, "%s('%s', %d)", n++ ? ", " : "", cols[i].track, i);
    /* New patches have the highest rowids: a rowid range finds them without an index. */
    tb_buf_append_str(&sql, ") f WHERE p.pk > ?5 AND +p.batch_id = ?1 AND p.first_import = ?2"
                            " ORDER BY p.pk, f.column2) WHERE v IS NOT NULL");
    if ((rc = store_prepare(st, (const char *)sql.data, "import", &c->initial, err)) != TB_OK)
        goto done;
done:
    tb_buf_release(&sql);
    return rc;
}

static void
commit_finalize(commit_stmts *c)
{
    sqlite3_finalize(c->walk);
    sqlite3_finalize(c->insert);
    sqlite3_finalize(c->update);
    sqlite3_finalize(c->touch);
    sqlite3_finalize(c->history);
    sqlite3_finalize(c->gone);
    sqlite3_finalize(c->mark);
    sqlite3_finalize(c->bbox);
    sqlite3_finalize(c->initial);
}

/* Binds what every history row of this import shares (who, when, which import) and writes it;
 * the caller has bound patch, field, from and to. */
static bool
history_step(store_import *im, sqlite3_stmt *q)
{
    sqlite3_bind_text(q, 5, im->at, -1, SQLITE_STATIC);
    store_bind_text(q, 6, im->who);
    sqlite3_bind_int64(q, 7, im->import_id);
    bool ok = sqlite3_step(q) == SQLITE_DONE;
    sqlite3_reset(q);
    return ok;
}

/* Writes one history row of this import.  from/to: values of the walk (NULL = SQL NULL). */
static bool
history_add(store_import *im, commit_stmts *c, int64_t pk, const char *field,
            sqlite3_value *from, sqlite3_value *to)
{
    sqlite3_stmt *q = c->history;
    sqlite3_bind_int64(q, 1, pk);
    sqlite3_bind_text(q, 2, field, -1, SQLITE_STATIC);
    if (from)
        sqlite3_bind_value(q, 3, from);
    else
        sqlite3_bind_null(q, 3);
    if (to)
        sqlite3_bind_value(q, 4, to);
    else
        sqlite3_bind_null(q, 4);
    return history_step(im, q);
}

/* A 'missing' history row: 0 → 1 when gone, 1 → 0 when back. */
static bool
history_add_missing(store_import *im, commit_stmts *c, int64_t pk, bool missing)
{
    sqlite3_stmt *q = c->history;
    sqlite3_bind_int64(q, 1, pk);
    sqlite3_bind_text(q, 2, "missing", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, missing ? "0" : "1", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, missing ? "1" : "0", -1, SQLITE_STATIC);
    return history_step(im, q);
}

/* Same column type and value (bytes for text and blobs). */
static bool
same_value(sqlite3_stmt *q, int a, int b)
{
    int t = sqlite3_column_type(q, a);
    if (t != sqlite3_column_type(q, b))
        return false;
    switch (t) {
    case SQLITE_NULL:
        return true;
    case SQLITE_INTEGER:
        return sqlite3_column_int64(q, a) == sqlite3_column_int64(q, b);
    case SQLITE_FLOAT:
        return sqlite3_column_double(q, a) == sqlite3_column_double(q, b);
    default: {
        const void *x = sqlite3_column_blob(q, a), *y = sqlite3_column_blob(q, b);
        int n = sqlite3_column_bytes(q, a);
        return n == sqlite3_column_bytes(q, b) && (n == 0 || memcmp(x, y, (size_t)n) == 0);
    }
    }
}

/* Appends a column's value for a change description. */
static void
describe_value(tb_buf *d, sqlite3_stmt *q, int i)
{
    switch (sqlite3_column_type(q, i)) {
    case SQLITE_NULL:
        tb_buf_append_str(d, "(none)");
        break;
    case SQLITE_INTEGER:
        tb_buf_printf(d, "%lld", (long long)sqlite3_column_int64(q, i));
        break;
    case SQLITE_FLOAT:
        tb_buf_printf(d, "%.2f", sqlite3_column_double(q, i));
        break;
    default:
        tb_buf_append_str(d, (const char *)sqlite3_column_text(q, i));
        break;
    }
}

static void
describe_sep(tb_buf *d)
{
    if (d->len)
        tb_buf_append_str(d, "; ");
}

/* A staged patch not in the store: insert it. */
static bool
apply_new(store_import *im, commit_stmts *c, tb_buf *d)
{
    for (int i = 0; i < NCOLS; i++)
        sqlite3_bind_value(c->insert, i + 3, sqlite3_column_value(c->walk, i));
    sqlite3_bind_int64(c->insert, 1, im->batch_id);
    sqlite3_bind_int64(c->insert, 2, im->import_id);
    bool ok = sqlite3_step(c->insert) == SQLITE_DONE;
    sqlite3_reset(c->insert);
    if (!ok)
        return false;
    /* Their history rows are written for all new patches at once, by commit_initial(). */
    for (int i = 0; i < NCOLS; i++) {
        if (cols[i].track == NULL || sqlite3_column_type(c->walk, i) == SQLITE_NULL)
            continue;
        describe_sep(d);
        tb_buf_printf(d, "%s ", cols[i].label);
        describe_value(d, c->walk, i);
    }
    return true;
}

/* A staged patch already stored: compare, then update (with history) or touch it.  Sets
 * *changed. */
static bool
apply_existing(store_import *im, commit_stmts *c, tb_buf *d, bool *changed)
{
    int64_t pk = sqlite3_column_int64(c->walk, WALK_PK);
    bool was_missing = sqlite3_column_int(c->walk, WALK_MISSING) != 0;
    bool bbox_changed = false, wkb_changed = false;

    *changed = was_missing;
    if (was_missing) {
        if (!history_add_missing(im, c, pk, /*missing*/ false))
            return false;
        tb_buf_append_str(d, "reappeared");
    }
    for (int i = 1; i < NCOLS; i++) {
        int s = i, p = walk_stored(i);
        if (same_value(c->walk, s, p))
            continue;
        *changed = true;
        if (cols[i].label == NULL) {
            bbox_changed = true; /* described with the geometry, below */
            continue;
        }
        if (cols[i].type == COL_WKB) {
            wkb_changed = true;
            continue;
        }
        describe_sep(d);
        tb_buf_printf(d, "%s ", cols[i].label);
        describe_value(d, c->walk, p);
        tb_buf_append_str(d, " → ");
        describe_value(d, c->walk, s);
        if (cols[i].track &&
            !history_add(im, c, pk, cols[i].track, sqlite3_column_value(c->walk, p),
                         sqlite3_column_value(c->walk, s)))
            return false;
    }
    if (wkb_changed || bbox_changed) {
        describe_sep(d);
        tb_buf_append_str(d, wkb_changed ? "geometry changed" : "bbox changed");
    }
    sqlite3_stmt *q = *changed ? c->update : c->touch;
    sqlite3_bind_int64(q, 1, pk);
    sqlite3_bind_int64(q, 2, im->import_id);
    if (*changed)
        for (int i = 1; i < NCOLS; i++)
            sqlite3_bind_value(q, i + 2, sqlite3_column_value(c->walk, i));
    bool ok = sqlite3_step(q) == SQLITE_DONE;
    sqlite3_reset(q);
    return ok;
}

/* Marks the batch's patches that this file lacks (history 'missing' 0 → 1).  Updating the row
 * the walk is on is safe in SQLite; it then no longer matches missing = 0. */
static bool
apply_missing(store_import *im, commit_stmts *c, store_import_result *res, store_change_fn *fn,
              void *user, tb_buf *d)
{
    int r;
    sqlite3_bind_int64(c->gone, 1, im->batch_id);
    while ((r = sqlite3_step(c->gone)) == SQLITE_ROW) {
        int64_t pk = sqlite3_column_int64(c->gone, 0);
        bool ok = history_add_missing(im, c, pk, /*missing*/ true);
        sqlite3_bind_int64(c->mark, 1, pk);
        ok = ok && sqlite3_step(c->mark) == SQLITE_DONE;
        sqlite3_reset(c->mark);
        if (!ok)
            return false;
        res->n_missing++;
        if (fn) {
            tb_buf_reset(d);
            tb_buf_printf(d, "missing from %s", im->file);
            fn(user, STORE_MISSING, (const char *)sqlite3_column_text(c->gone, 1),
               (const char *)d->data);
        }
    }
    return r == SQLITE_DONE;
}

/* The R*Tree rows and the initial history rows of the new patches, in one statement each: much
 * faster than one per patch. */
static bool
commit_initial(store_import *im, commit_stmts *c, int64_t last_pk_before)
{
    sqlite3_bind_int64(c->bbox, 1, im->batch_id);
    sqlite3_bind_int64(c->bbox, 2, im->import_id);
    sqlite3_bind_int64(c->bbox, 3, last_pk_before);
    if (sqlite3_step(c->bbox) != SQLITE_DONE)
        return false;
    sqlite3_bind_int64(c->initial, 1, im->batch_id);
    sqlite3_bind_int64(c->initial, 2, im->import_id);
    sqlite3_bind_text(c->initial, 3, im->at, -1, SQLITE_STATIC);
    store_bind_text(c->initial, 4, im->who);
    sqlite3_bind_int64(c->initial, 5, last_pk_before);
    return sqlite3_step(c->initial) == SQLITE_DONE;
}

tb_code
store_import_commit(store_import *im, store_import_result *res, store_change_fn *fn, void *user,
                    tb_err *err)
{
    commit_stmts c = {0};
    store_import_result local = {0};
    tb_buf d = TB_BUF_INIT;
    tb_code rc = TB_OK;
    store *st = im->st;
    int r;

    if (im->spoiled) {
        rc = tb_err_set(err, TB_EINVAL, "%s: import failed earlier; nothing was stored", im->file);
        goto rollback;
    }
    if ((rc = commit_prepare(st, &c, err)) != TB_OK)
        goto rollback;
    int64_t last_pk_before = 0;
    sqlite3_stmt *q = NULL;
    if ((rc = store_prepare(st, "SELECT coalesce(max(pk), 0) FROM patch", "import", &q, err)) !=
        TB_OK)
        goto rollback;
    if (sqlite3_step(q) == SQLITE_ROW)
        last_pk_before = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_bind_int64(c.walk, 1, im->batch_id);
    while ((r = sqlite3_step(c.walk)) == SQLITE_ROW) {
        bool is_new = sqlite3_column_type(c.walk, WALK_PK) == SQLITE_NULL, changed = false;
        tb_buf_reset(&d);
        if (!(is_new ? apply_new(im, &c, &d) : apply_existing(im, &c, &d, &changed)))
            goto fail;
        if (is_new)
            local.n_new++;
        else if (changed)
            local.n_changed++;
        else
            local.n_unchanged++;
        if (fn && (is_new || changed))
            fn(user, is_new ? STORE_NEW : STORE_CHANGED,
               (const char *)sqlite3_column_text(c.walk, 0), d.len ? (const char *)d.data : "");
    }
    if (r != SQLITE_DONE || !apply_missing(im, &c, &local, fn, user, &d))
        goto fail;
    if (local.n_new > 0 && !commit_initial(im, &c, last_pk_before))
        goto fail;
    commit_finalize(&c);
    memset(&c, 0, sizeof c);

    char counts[256];
    snprintf(counts, sizeof counts,
             "UPDATE import_run SET n_new = %ld, n_changed = %ld, n_unchanged = %ld,"
             " n_missing = %ld WHERE id = %lld",
             local.n_new, local.n_changed, local.n_unchanged, local.n_missing,
             (long long)im->import_id);
    sqlite3_finalize(im->stage);
    im->stage = NULL;
    if ((rc = store_exec(st, counts, err)) != TB_OK ||
        (rc = store_exec(st, "DROP TABLE temp.stage", err)) != TB_OK)
        goto rollback;
    if ((rc = store_exec(st, "COMMIT", err)) != TB_OK)
        goto rollback;
    local.import_id = im->import_id;
    if (res)
        *res = local;
    import_free(im, /*rollback*/ false);
    tb_buf_release(&d);
    return TB_OK;
fail:
    rc = store_fail(st, "import", err);
rollback:
    commit_finalize(&c);
    tb_buf_release(&d);
    import_free(im, /*rollback*/ true);
    return rc;
}
