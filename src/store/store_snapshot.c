#include "tb_features.h"

#include "store_snapshot.h"
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct as_of_list {
    store_patch_state *items;
    size_t count, cap;
    tb_arena *a;
} as_of_list;

static void
collect_state(void *user, const store_patch_state *s)
{
    as_of_list *l = user;
    if (s->missing)
        return;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        store_patch_state *grown = tb_arena_array(l->a, cap, sizeof *grown);
        if (l->count)
            memcpy(grown, l->items, l->count * sizeof *grown);
        l->items = grown, l->cap = cap;
    }
    store_patch_state *c = &l->items[l->count++];
    *c = *s;
    c->id = tb_arena_strdup(l->a, s->id);
    c->admin_code = tb_arena_strdup(l->a, s->admin_code);
    c->measure = tb_arena_strdup(l->a, s->measure);
}

static int
state_by_id(const void *key, const void *item)
{
    return strcmp(key, ((const store_patch_state *)item)->id);
}

static const char *
column_text(sqlite3_stmt *q, int i, tb_arena *a)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    return t ? tb_arena_strdup(a, (const char *)t) : NULL;
}

static cn_date
column_date(sqlite3_stmt *q, int i)
{
    cn_date d = {0};
    const unsigned char *t = sqlite3_column_text(q, i);
    if (t == NULL || !cn_date_parse((const char *)t, &d))
        d = (cn_date){0};
    return d;
}

tb_code
store_snapshot(store *st, const store_batch *batch, cn_date date, tb_arena *a, patch **out,
               size_t *count, tb_err *err)
{
    as_of_list states = {.a = a};
    tb_code rc = store_as_of(st, batch, date, collect_state, &states, err);
    if (rc != TB_OK)
        return rc;
    int64_t batch_id;
    if ((rc = store_batch_id(st, batch, false, &batch_id, err)) != TB_OK)
        return rc;
    sqlite3_stmt *q;
    if ((rc = store_prepare(st,
                            "SELECT id, admin_code, admin_name, year, quarter, area_m2,"
                            " farmland_m2, basic_farmland_m2, kind, violation, approval_no,"
                            " image_before, image_after, rural_housing, earlier_id, wkb,"
                            " min_lon, min_lat, max_lon, max_lat, area_ellipsoid_m2, military"
                            " FROM patch WHERE batch_id = ?1 ORDER BY id",
                            "snapshot", &q, err)) != TB_OK)
        return rc;
    sqlite3_bind_int64(q, 1, batch_id);
    patch *items = tb_arena_array(a, states.count + 1, sizeof *items);
    size_t n = 0;
    int step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(q, 0);
        const store_patch_state *s =
            id ? bsearch(id, states.items, states.count, sizeof *states.items, state_by_id) : NULL;
        if (s == NULL || n == states.count)
            continue; /* imported after the date, or missing then */
        patch *p = &items[n++];
        p->id = s->id;
        p->admin_code = column_text(q, 1, a);
        p->admin_name = column_text(q, 2, a);
        p->year = sqlite3_column_int(q, 3);
        p->quarter = column_text(q, 4, a);
        p->area_m2 = sqlite3_column_double(q, 5);
        p->farmland_m2 = sqlite3_column_double(q, 6);
        p->basic_farmland_m2 = sqlite3_column_double(q, 7);
        p->kind = column_text(q, 8, a);
        p->violation = column_text(q, 9, a);
        p->approval_no = column_text(q, 10, a);
        p->image_before = column_date(q, 11);
        p->image_after = column_date(q, 12);
        p->rural_housing = sqlite3_column_int(q, 13) != 0;
        p->military = sqlite3_column_int(q, 21) != 0;
        p->earlier_id = column_text(q, 14, a);
        int wkb_len = sqlite3_column_bytes(q, 15);
        const void *wkb = sqlite3_column_blob(q, 15);
        if (wkb && wkb_len > 0) {
            unsigned char *copy = tb_arena_alloc(a, (size_t)wkb_len);
            memcpy(copy, wkb, (size_t)wkb_len);
            p->wkb = copy, p->wkb_len = (size_t)wkb_len;
        }
        p->min_lon = sqlite3_column_double(q, 16);
        p->min_lat = sqlite3_column_double(q, 17);
        p->max_lon = sqlite3_column_double(q, 18);
        p->max_lat = sqlite3_column_double(q, 19);
        p->area_ellipsoid_m2 = sqlite3_column_double(q, 20);
        /* the tracked fields as they stood at the date */
        p->legality = s->legality;
        p->state = s->state;
        p->measure = s->measure;
        p->deadline = s->deadline;
        p->record = (long)n;
    }
    sqlite3_finalize(q);
    if (step != SQLITE_DONE)
        return store_fail(st, "snapshot", err);
    *out = items;
    *count = n;
    return TB_OK;
}

tb_code
store_latest_batch(store *st, store_batch *out, tb_arena *a, tb_err *err)
{
    sqlite3_stmt *q;
    tb_code rc = store_prepare(st,
                               "SELECT year, quarter, source FROM batch"
                               " ORDER BY year DESC, quarter DESC, source = '部' DESC LIMIT 1",
                               "latest batch", &q, err);
    if (rc != TB_OK)
        return rc;
    int step = sqlite3_step(q);
    if (step == SQLITE_ROW) {
        out->year = sqlite3_column_int(q, 0);
        out->quarter = sqlite3_column_int(q, 1);
        out->source = column_text(q, 2, a);
    }
    sqlite3_finalize(q);
    if (step == SQLITE_DONE)
        return tb_err_set(err, TB_ENOTFOUND, "%s: the store holds no batch (import one first)",
                          st->path);
    return step == SQLITE_ROW ? TB_OK : store_fail(st, "latest batch", err);
}

tb_code
store_find_batch(store *st, const store_batch *want, long id, store_batch *out, tb_arena *a,
                 tb_err *err)
{
    sqlite3_stmt *q;
    tb_code rc = store_prepare(st,
                               "SELECT year, quarter, source FROM batch"
                               " WHERE (?1 > 0 AND id = ?1) OR (?1 <= 0 AND year = ?2 AND"
                               " quarter = ?3 AND (?4 IS NULL OR source = ?4))"
                               " ORDER BY source = '部' DESC LIMIT 1",
                               "find batch", &q, err);
    if (rc != TB_OK)
        return rc;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int(q, 2, want ? want->year : 0);
    sqlite3_bind_int(q, 3, want ? want->quarter : 0);
    if (want && want->source)
        sqlite3_bind_text(q, 4, want->source, -1, SQLITE_STATIC);
    int step = sqlite3_step(q);
    if (step == SQLITE_ROW) {
        out->year = sqlite3_column_int(q, 0);
        out->quarter = sqlite3_column_int(q, 1);
        out->source = column_text(q, 2, a);
    }
    sqlite3_finalize(q);
    if (step == SQLITE_DONE) {
        if (id > 0)
            return tb_err_set(err, TB_ENOTFOUND, "%s: no batch with id %ld", st->path, id);
        return tb_err_set(err, TB_ENOTFOUND, "%s: no batch %d%s%.0d%s%s in the store", st->path,
                          want->year, want->quarter ? "Q" : "", want->quarter,
                          want->source ? " from " : "", want->source ? want->source : "");
    }
    return step == SQLITE_ROW ? TB_OK : store_fail(st, "find batch", err);
}
