/* The store: schema and migrations, imports and re-imports, history, as-of queries, state
 * changes, atomicity, the R*Tree.  Each test gets a fresh store file in a temporary directory.
 * TB_STORE_BENCH_N=100000 makes test_many_patches time that many patches and print µs/patch. */
#include "tb_features.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "tb_buf.h"

/* ---- fixture ------------------------------------------------------------------------------ */

typedef struct fixture {
    char dir[64];
    char path[96];
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tb_store_XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/tuban.db", f->dir);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    char p[128];
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffixes[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static store *
open_ok(const char *path)
{
    tb_err err = {0};
    store *st = store_open(path, &err);
    if (st == NULL)
        fail_msg("store_open: %s", err.msg);
    return st;
}

static int64_t
query_int(store *st, const char *sql)
{
    tb_err err = {0};
    int64_t v = -1;
    if (store_debug_query_int(st, sql, &v, &err) != TB_OK)
        fail_msg("%s: %s", sql, err.msg);
    return v;
}

static const store_batch batch2023 = {2023, 0, "部"};

/* A patch with a square bbox at (lon, lat) of side 0.001°; the "WKB" is fake bytes that vary
 * with the position (the store does not parse it). */
typedef struct test_patch {
    patch p;
    unsigned char wkb[16];
} test_patch;

static test_patch
mk(const char *id, legality l, rectify_state s, double lon, double lat)
{
    test_patch t;
    memset(&t, 0, sizeof t);
    t.p.id = id;
    t.p.admin_code = "139901001";
    t.p.admin_name = "示例镇";
    t.p.year = 2023;
    t.p.area_m2 = 1200;
    t.p.farmland_m2 = 800;
    t.p.kind = "土地";
    t.p.legality = l;
    t.p.state = s;
    t.p.min_lon = lon;
    t.p.min_lat = lat;
    t.p.max_lon = lon + 0.001;
    t.p.max_lat = lat + 0.001;
    memcpy(t.wkb, &lon, sizeof lon);
    memcpy(t.wkb + 8, &lat, sizeof lat);
    t.p.wkb_len = sizeof t.wkb; /* t.p.wkb is set by pp(), once t has its final address */
    t.p.record = 1;
    return t;
}

/* The patch of t, its wkb pointing into t. */
static const patch *
pp(test_patch *t)
{
    if (t->p.wkb_len)
        t->p.wkb = t->wkb;
    return &t->p;
}

/* Collects change callbacks as "N:id:what\n" lines. */
static void
on_change(void *user, store_change_kind kind, const char *id, const char *what)
{
    static const char kinds[] = {'N', 'C', 'M'};
    tb_buf_printf(user, "%c:%s:%s\n", kinds[kind], id, what);
}

/* Imports n patches at `at`, expecting success; returns the counts. */
static store_import_result
import_ok(store *st, const store_batch *b, const char *at, test_patch *ps, size_t n, tb_buf *log)
{
    tb_err err = {0};
    store_import_result res;
    memset(&res, 0xff, sizeof res);
    store_import *im = store_import_begin(st, b, "patches.gpkg", "张三", at, &err);
    if (im == NULL)
        fail_msg("begin: %s", err.msg);
    for (size_t i = 0; i < n; i++) {
        ps[i].p.record = (long)i + 1;
        if (store_import_add(im, pp(&ps[i]), ps[i].p.area_m2, &err) != TB_OK)
            fail_msg("add: %s", err.msg);
    }
    if (store_import_commit(im, &res, log ? on_change : NULL, log, &err) != TB_OK)
        fail_msg("commit: %s", err.msg);
    return res;
}

static void
expect_counts(store_import_result r, long n_new, long n_changed, long n_unchanged, long n_missing)
{
    assert_int_equal(r.n_new, n_new);
    assert_int_equal(r.n_changed, n_changed);
    assert_int_equal(r.n_unchanged, n_unchanged);
    assert_int_equal(r.n_missing, n_missing);
    assert_true(r.import_id > 0);
}

/* as-of results as "id legality state measure deadline missing" lines. */
static void
on_state(void *user, const store_patch_state *s)
{
    char d[16] = "-";
    if (s->deadline.year)
        snprintf(d, sizeof d, "%04d-%02d-%02d", s->deadline.year % 10000,
                 s->deadline.month % 100, s->deadline.day % 100);
    tb_buf_printf(user, "%s %s %s %s %s%s\n", s->id, legality_name(s->legality)[0] ?
                  legality_name(s->legality) : "-", rectify_state_name(s->state)[0] ?
                  rectify_state_name(s->state) : "-", s->measure ? s->measure : "-", d,
                  s->missing ? " missing" : "");
}

static void
expect_as_of(store *st, const store_batch *b, int y, int m, int d, const char *want)
{
    tb_err err = {0};
    tb_buf out = TB_BUF_INIT;
    cn_date date = {y, m, d};
    if (store_as_of(st, b, date, on_state, &out, &err) != TB_OK)
        fail_msg("as-of: %s", err.msg);
    assert_string_equal(out.len ? (const char *)out.data : "", want);
    tb_buf_release(&out);
}

/* History as "field from→to by import?" lines. */
static void
on_history(void *user, const store_history_row *h)
{
    tb_buf_printf(user, "%s %s→%s %s %s%s%s%s\n", h->field, h->from ? h->from : "∅",
                  h->to ? h->to : "∅", h->at, h->by ? h->by : "-", h->import_id ? " import" : "",
                  h->note ? " " : "", h->note ? h->note : "");
}

static void
expect_history(store *st, const char *id, const char *want)
{
    tb_err err = {0};
    tb_buf out = TB_BUF_INIT;
    if (store_patch_history(st, &batch2023, id, on_history, &out, &err) != TB_OK)
        fail_msg("history: %s", err.msg);
    assert_string_equal(out.len ? (const char *)out.data : "", want);
    tb_buf_release(&out);
}

static void
on_id(void *user, const char *id)
{
    tb_buf_printf(user, "%s\n", id);
}

static void
expect_in_bbox(store *st, const store_batch *b, double x0, double y0, double x1, double y1,
               const char *want)
{
    tb_err err = {0};
    tb_buf out = TB_BUF_INIT;
    if (store_find_in_bbox(st, b, x0, y0, x1, y1, on_id, &out, &err) != TB_OK)
        fail_msg("bbox: %s", err.msg);
    assert_string_equal(out.len ? (const char *)out.data : "", want);
    tb_buf_release(&out);
}

/* ---- schema ------------------------------------------------------------------------------- */

static void
test_create(void **state)
{
    fixture *f = *state;
    tb_err err = {0};
    store *st = open_ok(f->path);
    assert_true(store_latest_schema_version() >= 4);
    assert_int_equal(store_schema_version(st), store_latest_schema_version());
    assert_int_equal(query_int(st, "SELECT count(*) FROM pragma_journal_mode WHERE"
                                   " journal_mode = 'wal'"), 1);
    assert_int_equal(query_int(st, "PRAGMA foreign_keys"), 1);
    assert_int_equal(query_int(st, "PRAGMA synchronous"), 1); /* NORMAL */

    assert_int_equal(store_township_count(st), 0);
    assert_int_equal(store_township_add(st, "139901001", "示例镇", &err), TB_OK);
    assert_int_equal(store_township_add(st, "139901100", "东城街道", &err), TB_OK);
    assert_int_equal(store_township_add(st, "139901100", "东城街道办事处", &err), TB_OK);
    assert_int_equal(store_township_add(st, "", "无", &err), TB_EINVAL);
    assert_int_equal(store_township_count(st), 2);
    assert_true(store_township_known(st, "139901100"));
    assert_false(store_township_known(st, "139901999"));
    store_close(st);

    st = open_ok(f->path); /* reopening changes nothing */
    assert_int_equal(store_schema_version(st), store_latest_schema_version());
    assert_int_equal(store_township_count(st), 2);
    store_close(st);
    store_close(NULL);
}

static void
test_migrate_from_every_version(void **state)
{
    fixture *f = *state;
    for (int from = 0; from < store_latest_schema_version(); from++) {
        tb_err err = {0};
        teardown(state);
        setup(state);
        f = *state;
        store *st = store_open_version(f->path, from, &err);
        assert_non_null(st);
        assert_int_equal(store_schema_version(st), from);
        store_close(st);
        st = open_ok(f->path);
        assert_int_equal(store_schema_version(st), store_latest_schema_version());
        /* the latest schema works: an import, an as-of query, a bbox query */
        test_patch p = mk("A1", LEGALITY_ILLEGAL, RECTIFY_PENDING, 114.0, 36.0);
        expect_counts(import_ok(st, &batch2023, "2023-03-01", &p, 1, NULL), 1, 0, 0, 0);
        expect_as_of(st, &batch2023, 2023, 3, 1, "A1 违法用地 未整改 - -\n");
        assert_int_equal(query_int(st, "SELECT count(*) FROM patch_bbox"), 1);
        store_close(st);
    }
    (void)f;
}

/* Data written by a v1 build (through the v1 schema, as that build would have) survives the
 * migration to v2, and v2's R*Tree is filled from it. */
static void
test_migrate_v1_data(void **state)
{
    fixture *f = *state;
    tb_err err = {0};
    store *st = store_open_version(f->path, 1, &err);
    assert_non_null(st);
    assert_int_equal(store_schema_version(st), 1);
    assert_int_equal(
        store_debug_exec(
            st,
            "INSERT INTO batch (id, year, quarter, source) VALUES (1, 2023, 0, '部');"
            "INSERT INTO import_run (id, batch_id, file, who, at) VALUES"
            " (1, 1, 'old.shp', '李四', '2023-03-01T09:00:00');"
            "INSERT INTO patch (pk, batch_id, id, admin_code, legality, state, deadline,"
            " min_lon, min_lat, max_lon, max_lat, first_import, last_import) VALUES"
            " (1, 1, 'V1', '139901001', '违法用地', '整改中', '2023-06-30',"
            "  114.0, 36.0, 114.01, 36.01, 1, 1),"
            " (2, 1, 'V2', '139901100', '合法用地', NULL, NULL, 115.0, 37.0, 115.01, 37.01, 1, 1);"
            "INSERT INTO status_history (patch_pk, field, from_value, to_value, at, who,"
            " import_id) VALUES"
            " (1, 'legality', NULL, '违法用地', '2023-03-01T09:00:00', '李四', 1),"
            " (1, 'state', NULL, '未整改', '2023-03-01T09:00:00', '李四', 1),"
            " (1, 'deadline', NULL, '2023-06-30', '2023-03-01T09:00:00', '李四', 1),"
            " (1, 'state', '未整改', '整改中', '2023-04-02T10:00:00', '王五', NULL),"
            " (2, 'legality', NULL, '合法用地', '2023-03-01T09:00:00', '李四', 1);",
            &err),
        TB_OK);
    store_close(st);

    st = open_ok(f->path);
    assert_int_equal(store_schema_version(st), store_latest_schema_version());
    expect_as_of(st, &batch2023, 2023, 3, 31,
                 "V1 违法用地 未整改 - 2023-06-30\nV2 合法用地 - - -\n");
    expect_as_of(st, &batch2023, 2023, 4, 2,
                 "V1 违法用地 整改中 - 2023-06-30\nV2 合法用地 - - -\n");
    expect_in_bbox(st, NULL, 114.005, 36.005, 114.006, 36.006, "V1\n");
    assert_int_equal(query_int(st, "SELECT count(*) FROM patch_bbox"), 2);
    /* and the v1 rows take part in later imports */
    test_patch p = mk("V1", LEGALITY_ILLEGAL, RECTIFY_DONE, 114.0, 36.0);
    p.p.admin_code = "139901001";
    store_import_result r = import_ok(st, &batch2023, "2023-05-01", &p, 1, NULL);
    expect_counts(r, 0, 1, 0, 1);
    expect_as_of(st, &batch2023, 2023, 5, 1,
                 "V1 违法用地 已整改 - -\nV2 合法用地 - - - missing\n");
    store_close(st);
}

static void
test_newer_store_refused(void **state)
{
    fixture *f = *state;
    tb_err err = {0};
    store *st = open_ok(f->path);
    assert_int_equal(store_debug_exec(st, "UPDATE schema_version SET version = 99", &err), TB_OK);
    store_close(st);
    st = store_open(f->path, &err);
    assert_null(st);
    assert_int_equal(err.code, TB_EFORMAT);
    assert_non_null(strstr(err.msg, "schema version 99 is newer than this build"));
}

static void
test_not_a_database(void **state)
{
    fixture *f = *state;
    tb_err err = {0};
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs("this is not a SQLite database, just some text long enough to have a header\n", fp);
    fclose(fp);
    assert_null(store_open(f->path, &err));
    assert_int_equal(err.code, TB_EFORMAT);
}

/* ---- imports ------------------------------------------------------------------------------ */

static void
test_import_and_reimport(void **state)
{
    fixture *f = *state;
    tb_buf log = TB_BUF_INIT;
    store *st = open_ok(f->path);

    test_patch first[3] = {
        mk("A", LEGALITY_ILLEGAL, RECTIFY_PENDING, 114.0, 36.0),
        mk("B", LEGALITY_LEGAL, RECTIFY_NONE, 114.1, 36.1),
        mk("C", LEGALITY_ILLEGAL, RECTIFY_PENDING, 114.2, 36.2),
    };
    first[0].p.deadline = (cn_date){2023, 6, 30};
    /* History: every date of a row once shared one buffer, so ZGQX was stored as HSX. */
    first[0].p.image_before = (cn_date){2022, 10, 1};
    first[0].p.image_after = (cn_date){2023, 1, 15};
    first[0].p.measure = "拆除复耕";
    first[1].p.approval_no = "冀政转征函〔2022〕12号";
    expect_counts(import_ok(st, &batch2023, "2023-03-01T09:00:00", first, 3, &log), 3, 0, 0, 0);
    assert_string_equal((const char *)log.data,
                        "N:A:PDJG 违法用地; ZGCS 拆除复耕; ZGZT 未整改; ZGQX 2023-06-30\n"
                        "N:B:PDJG 合法用地\n"
                        "N:C:PDJG 违法用地; ZGZT 未整改\n");
    /* initial values are history rows (from NULL); empty ones are not */
    assert_int_equal(query_int(st, "SELECT count(*) FROM status_history"), 4 + 1 + 2);
    assert_int_equal(query_int(st, "SELECT count(*) FROM status_history WHERE from_value IS NOT"
                                   " NULL"), 0);
    assert_int_equal(query_int(st, "SELECT count(*) FROM patch WHERE id = 'A' AND deadline = "
                                   "'2023-06-30' AND image_before = '2022-10-01' AND image_after = "
                                   "'2023-01-15'"), 1);

    /* the same file again: all unchanged */
    tb_buf_reset(&log);
    expect_counts(import_ok(st, &batch2023, "2023-03-02T09:00:00", first, 3, &log), 0, 0, 3, 0);
    assert_int_equal(log.len, 0);
    assert_int_equal(query_int(st, "SELECT count(*) FROM status_history"), 7);

    /* a newer export: A progresses and is re-measured, B has a new geometry only, C is gone,
     * D is new */
    test_patch second[3] = {
        mk("A", LEGALITY_ILLEGAL, RECTIFY_ONGOING, 114.0, 36.0),
        mk("B", LEGALITY_LEGAL, RECTIFY_NONE, 114.15, 36.1),
        mk("D", LEGALITY_ILLEGAL, RECTIFY_PENDING, 114.3, 36.3),
    };
    second[0].p.deadline = (cn_date){2023, 9, 30};
    second[0].p.image_before = first[0].p.image_before;
    second[0].p.image_after = first[0].p.image_after;
    second[0].p.measure = "拆除复耕";
    second[0].p.area_m2 = 1180.5;
    second[1].p.approval_no = "冀政转征函〔2022〕12号";
    tb_buf_reset(&log);
    expect_counts(import_ok(st, &batch2023, "2023-06-01T09:00:00", second, 3, &log), 1, 2, 0, 1);
    assert_string_equal((const char *)log.data,
                        "C:A:JCMJ 1200.00 → 1180.50; ZGZT 未整改 → 整改中; ZGQX 2023-06-30 →"
                        " 2023-09-30; area 1200.00 → 1180.50\n"
                        "C:B:geometry changed\n"
                        "N:D:PDJG 违法用地; ZGZT 未整改\n"
                        "M:C:missing from patches.gpkg\n");
    /* history: two tracked changes of A, D's two initial values, C missing; none for B */
    assert_int_equal(query_int(st, "SELECT count(*) FROM status_history"), 7 + 2 + 2 + 1);
    expect_history(st, "A",
                   "legality ∅→违法用地 2023-03-01T09:00:00 张三 import\n"
                   "measure ∅→拆除复耕 2023-03-01T09:00:00 张三 import\n"
                   "state ∅→未整改 2023-03-01T09:00:00 张三 import\n"
                   "deadline ∅→2023-06-30 2023-03-01T09:00:00 张三 import\n"
                   "state 未整改→整改中 2023-06-01T09:00:00 张三 import\n"
                   "deadline 2023-06-30→2023-09-30 2023-06-01T09:00:00 张三 import\n");
    expect_history(st, "B", "legality ∅→合法用地 2023-03-01T09:00:00 张三 import\n");
    /* C is kept, flagged missing */
    assert_int_equal(query_int(st, "SELECT missing FROM patch WHERE id = 'C'"), 1);
    assert_int_equal(query_int(st, "SELECT count(*) FROM patch"), 4);

    /* C reappears (unchanged otherwise): changed, missing cleared; A, B, D are unchanged */
    test_patch third[4] = {second[0], second[1], first[2], second[2]};
    tb_buf_reset(&log);
    expect_counts(import_ok(st, &batch2023, "2023-09-01T09:00:00", third, 4, &log), 0, 1, 3, 0);
    assert_string_equal((const char *)log.data, "C:C:reappeared\n");
    assert_int_equal(query_int(st, "SELECT missing FROM patch WHERE id = 'C'"), 0);
    expect_history(st, "C",
                   "legality ∅→违法用地 2023-03-01T09:00:00 张三 import\n"
                   "state ∅→未整改 2023-03-01T09:00:00 张三 import\n"
                   "missing 0→1 2023-06-01T09:00:00 张三 import\n"
                   "missing 1→0 2023-09-01T09:00:00 张三 import\n");
    /* counts are recorded per import run; first/last import ids kept */
    assert_int_equal(query_int(st, "SELECT count(*) FROM import_run"), 4);
    assert_int_equal(query_int(st, "SELECT n_missing FROM import_run WHERE id = 3"), 1);
    assert_int_equal(query_int(st, "SELECT first_import * 10 + last_import FROM patch"
                                   " WHERE id = 'C'"), 14);
    assert_int_equal(query_int(st, "SELECT first_import * 10 + last_import FROM patch"
                                   " WHERE id = 'D'"), 34);

    /* as-of: before any import, between, after */
    expect_as_of(st, &batch2023, 2023, 2, 28, "");
    expect_as_of(st, &batch2023, 2023, 3, 1,
                 "A 违法用地 未整改 拆除复耕 2023-06-30\n"
                 "B 合法用地 - - -\n"
                 "C 违法用地 未整改 - -\n");
    expect_as_of(st, &batch2023, 2023, 5, 31,
                 "A 违法用地 未整改 拆除复耕 2023-06-30\n"
                 "B 合法用地 - - -\n"
                 "C 违法用地 未整改 - -\n");
    expect_as_of(st, &batch2023, 2023, 6, 1,
                 "A 违法用地 整改中 拆除复耕 2023-09-30\n"
                 "B 合法用地 - - -\n"
                 "C 违法用地 未整改 - - missing\n"
                 "D 违法用地 未整改 - -\n");
    expect_as_of(st, &batch2023, 2024, 1, 1,
                 "A 违法用地 整改中 拆除复耕 2023-09-30\n"
                 "B 合法用地 - - -\n"
                 "C 违法用地 未整改 - -\n"
                 "D 违法用地 未整改 - -\n");

    /* another batch is separate: same ids, nothing missing in 2023 */
    store_batch q3 = {2023, 3, "省"};
    expect_counts(import_ok(st, &q3, "2023-10-01", first, 1, NULL), 1, 0, 0, 0);
    expect_as_of(st, &q3, 2023, 10, 1, "A 违法用地 未整改 拆除复耕 2023-06-30\n");
    tb_err err = {0};
    store_batch none = {2020, 0, "部"};
    assert_int_equal(store_as_of(st, &none, (cn_date){2023, 1, 1}, on_state, &log, &err),
                     TB_ENOTFOUND);

    tb_buf_release(&log);
    store_close(st);
}

static void
test_import_abort_leaves_store_unchanged(void **state)
{
    fixture *f = *state;
    tb_err err = {0};
    store *st = open_ok(f->path);
    test_patch ps[3] = {
        mk("A", LEGALITY_ILLEGAL, RECTIFY_PENDING, 114.0, 36.0),
        mk("B", LEGALITY_ILLEGAL, RECTIFY_PENDING, 114.1, 36.1),
        mk("C", LEGALITY_ILLEGAL, RECTIFY_PENDING, 114.2, 36.2),
    };
    import_ok(st, &batch2023, "2023-03-01", ps, 2, NULL);
    const char *snapshot = "SELECT count(*) * 1000000 + (SELECT count(*) FROM status_history) *"
                           " 1000 + (SELECT count(*) FROM import_run) * 10 +"
                           " (SELECT sum(missing) FROM patch) FROM patch";
    assert_int_equal(query_int(st, snapshot), 2004010);
    const char *as_of_before = "A 违法用地 未整改 - -\nB 违法用地 未整改 - -\n";

    /* change A, add C, lack B, and abort: nothing shows, during the import or after */
    store *other = open_ok(f->path); /* opening does not wait for the importer's lock */
    for (int pass = 0; pass < 2; pass++) {
        store_import *im = store_import_begin(st, &batch2023, "new.gpkg", "张三", "2023-04-01",
                                              &err);
        assert_non_null(im);
        ps[0].p.state = RECTIFY_ONGOING;
        assert_int_equal(store_import_add(im, pp(&ps[0]), 1, &err), TB_OK);
        assert_int_equal(store_import_add(im, pp(&ps[2]), 1, &err), TB_OK);
        /* one import at a time, and no state changes meanwhile */
        assert_null(store_import_begin(st, &batch2023, "x", NULL, NULL, &err));
        assert_int_equal(err.code, TB_EINVAL);
        err = (tb_err){0};
        assert_int_equal(query_int(other, snapshot), 2004010);
        expect_as_of(other, &batch2023, 2023, 12, 31, as_of_before);
        if (pass == 0) {
            /* townships added meanwhile go with the import's transaction */
            assert_int_equal(store_township_add(st, "139901001", "示例镇", &err), TB_OK);
            assert_int_equal(store_township_count(st), 1);
            assert_int_equal(store_patch_set_state(st, NULL, "A", RECTIFY_DONE, NULL, NULL, NULL,
                                                   &err),
                             TB_EINVAL);
            err = (tb_err){0};
            store_import_abort(im);
            assert_int_equal(store_township_count(st), 0);
        } else {
            /* a failing commit rolls back too: a spoiled import */
            assert_int_equal(store_import_add(im, pp(&ps[0]), 1, &err), TB_EFORMAT);
            err = (tb_err){0};
            assert_int_equal(store_import_commit(im, NULL, NULL, NULL, &err), TB_EINVAL);
            err = (tb_err){0};
        }
        assert_int_equal(query_int(other, snapshot), 2004010);
        assert_int_equal(query_int(st, snapshot), 2004010);
        expect_as_of(st, &batch2023, 2023, 12, 31, as_of_before);
    }
    store_import_abort(NULL);
    /* the store is usable afterwards, from either connection */
    ps[0].p.state = RECTIFY_PENDING;
    expect_counts(import_ok(other, &batch2023, "2023-04-02", ps, 3, NULL), 1, 0, 2, 0);
    expect_counts(import_ok(st, &batch2023, "2023-04-03", ps, 3, NULL), 0, 0, 3, 0);
    store_close(other);
    store_close(st);
}

static void
test_duplicate_id_refused(void **state)
{
    fixture *f = *state;
    tb_err err = {0};
    store *st = open_ok(f->path);
    test_patch a = mk("130403SJBG26210183", LEGALITY_ILLEGAL, RECTIFY_PENDING, 114.0, 36.0);
    test_patch b = mk("130403SJBG26210184", LEGALITY_ILLEGAL, RECTIFY_PENDING, 114.0, 36.0);
    store_import *im = store_import_begin(st, &batch2023, "dup.gpkg", NULL, NULL, &err);
    assert_non_null(im);
    a.p.record = 3;
    b.p.record = 4;
    assert_int_equal(store_import_add(im, pp(&a), 1, &err), TB_OK);
    assert_int_equal(store_import_add(im, pp(&b), 1, &err), TB_OK);
    a.p.record = 9;
    assert_int_equal(store_import_add(im, pp(&a), 1, &err), TB_EFORMAT);
    assert_string_equal(err.msg, "dup.gpkg record 9: patch 130403SJBG26210183 appears twice"
                                 " (first at record 3)");
    err = (tb_err){0};
    assert_int_equal(store_import_commit(im, NULL, NULL, NULL, &err), TB_EINVAL);
    assert_int_equal(query_int(st, "SELECT count(*) FROM patch"), 0);
    assert_int_equal(query_int(st, "SELECT count(*) FROM import_run"), 0);

    /* other bad input */
    err = (tb_err){0};
    im = store_import_begin(st, &batch2023, "bad.gpkg", NULL, NULL, &err);
    a.p.id = "";
    assert_int_equal(store_import_add(im, pp(&a), 1, &err), TB_EFORMAT);
    store_import_abort(im);
    err = (tb_err){0};
    im = store_import_begin(st, &batch2023, "bad.gpkg", NULL, NULL, &err);
    b.p.min_lon = 115;
    assert_int_equal(store_import_add(im, pp(&b), 1, &err), TB_EFORMAT);
    assert_non_null(strstr(err.msg, "bad bounding box"));
    store_import_abort(im);
    err = (tb_err){0};
    store_batch bad = {2023, 5, "部"};
    assert_null(store_import_begin(st, &bad, "x", NULL, NULL, &err));
    assert_int_equal(err.code, TB_EINVAL);
    err = (tb_err){0};
    assert_null(store_import_begin(st, &batch2023, "x", NULL, "2023-02-30", &err));
    assert_int_equal(err.code, TB_EINVAL);
    assert_int_equal(query_int(st, "SELECT count(*) FROM batch"), 0);
    store_close(st);
}

/* ---- state changes ------------------------------------------------------------------------ */

static void
test_set_state(void **state)
{
    fixture *f = *state;
    tb_err err = {0};
    store *st = open_ok(f->path);
    test_patch ps[2] = {
        mk("A", LEGALITY_ILLEGAL, RECTIFY_PENDING, 114.0, 36.0),
        mk("L", LEGALITY_LEGAL, RECTIFY_NONE, 114.1, 36.1),
    };
    import_ok(st, &batch2023, "2023-03-01", ps, 2, NULL);

    assert_int_equal(store_patch_set_state(st, &batch2023, "A", RECTIFY_ONGOING, "王五", "已进场",
                                           "2023-04-02", &err),
                     TB_OK);
    /* forbidden: the rule is named; nothing is written */
    assert_int_equal(store_patch_set_state(st, NULL, "A", RECTIFY_ACCEPTED, "王五", NULL,
                                           "2023-04-03T10:00:00", &err),
                     TB_EINVAL);
    assert_string_equal(err.msg, "patch A: 整改中 → 已验收 is not allowed: 整改中 goes on to 已整改"
                                 " or 存违挂账");
    err = (tb_err){0};
    assert_int_equal(store_patch_set_state(st, NULL, "A", RECTIFY_CARRIED, "王五", NULL,
                                           "2023-11-30T23:59:59", &err),
                     TB_EINVAL);
    assert_non_null(strstr(err.msg, "存违挂账 is set at year end"));
    err = (tb_err){0};
    assert_int_equal(store_patch_set_state(st, NULL, "L", RECTIFY_PENDING, "王五", NULL,
                                           "2023-04-03", &err),
                     TB_EINVAL);
    assert_string_equal(err.msg, "patch L: (none) → 未整改 is not allowed: only 违法用地 patches"
                                 " are rectified");
    err = (tb_err){0};
    assert_int_equal(store_patch_set_state(st, NULL, "NOPE", RECTIFY_DONE, "王五", NULL, NULL,
                                           &err),
                     TB_ENOTFOUND);
    err = (tb_err){0};
    assert_int_equal(store_patch_set_state(st, NULL, "A", RECTIFY_DONE, "王五", NULL, "4月5日",
                                           &err),
                     TB_EINVAL);
    err = (tb_err){0};
    /* allowed: on to 已整改, then 已验收 */
    assert_int_equal(store_patch_set_state(st, NULL, "A", RECTIFY_DONE, "王五", NULL,
                                           "2023-05-10 16:30:00", &err),
                     TB_OK);
    assert_int_equal(store_patch_set_state(st, NULL, "A", RECTIFY_ACCEPTED, "赵六", "验收合格",
                                           "2023-12-05", &err),
                     TB_OK);
    assert_int_equal(store_patch_set_state(st, NULL, "A", RECTIFY_ONGOING, "赵六", NULL,
                                           "2023-12-06", &err),
                     TB_EINVAL);
    assert_non_null(strstr(err.msg, "已验收 (销号) is final"));
    expect_history(st, "A",
                   "legality ∅→违法用地 2023-03-01T00:00:00 张三 import\n"
                   "state ∅→未整改 2023-03-01T00:00:00 张三 import\n"
                   "state 未整改→整改中 2023-04-02T00:00:00 王五 已进场\n"
                   "state 整改中→已整改 2023-05-10T16:30:00 王五\n"
                   "state 已整改→已验收 2023-12-05T00:00:00 赵六 验收合格\n");
    expect_as_of(st, &batch2023, 2023, 4, 1, "A 违法用地 未整改 - -\nL 合法用地 - - -\n");
    expect_as_of(st, &batch2023, 2023, 4, 2, "A 违法用地 整改中 - -\nL 合法用地 - - -\n");
    expect_as_of(st, &batch2023, 2023, 5, 10, "A 违法用地 已整改 - -\nL 合法用地 - - -\n");
    expect_as_of(st, &batch2023, 2023, 12, 31, "A 违法用地 已验收 - -\nL 合法用地 - - -\n");

    /* a later import that still says 整改中 is recorded as the source says */
    ps[0].p.state = RECTIFY_ONGOING;
    expect_counts(import_ok(st, &batch2023, "2024-01-10", ps, 2, NULL), 0, 1, 1, 0);
    expect_as_of(st, &batch2023, 2024, 1, 10, "A 违法用地 整改中 - -\nL 合法用地 - - -\n");

    /* the same id in two batches: the batch must be named */
    store_batch q1 = {2024, 1, "省"};
    import_ok(st, &q1, "2024-04-01", ps, 1, NULL);
    err = (tb_err){0};
    assert_int_equal(store_patch_set_state(st, NULL, "A", RECTIFY_DONE, "王五", NULL,
                                           "2024-04-02", &err),
                     TB_EINVAL);
    assert_non_null(strstr(err.msg, "more than one batch"));
    err = (tb_err){0};
    assert_int_equal(store_patch_set_state(st, &q1, "A", RECTIFY_DONE, "王五", NULL,
                                           "2024-04-02", &err),
                     TB_OK);
    err = (tb_err){0};
    store_batch unknown = {2019, 0, "省"};
    assert_int_equal(store_patch_set_state(st, &unknown, "A", RECTIFY_DONE, "王五", NULL, NULL,
                                           &err),
                     TB_ENOTFOUND);
    store_close(st);
}

/* ---- geometry ----------------------------------------------------------------------------- */

static void
test_bbox_query(void **state)
{
    fixture *f = *state;
    store *st = open_ok(f->path);
    test_patch ps[3] = {
        mk("A", LEGALITY_ILLEGAL, RECTIFY_PENDING, 114.000, 36.000),
        mk("B", LEGALITY_ILLEGAL, RECTIFY_PENDING, 114.010, 36.000),
        mk("C", LEGALITY_ILLEGAL, RECTIFY_PENDING, 114.100, 36.100),
    };
    ps[2].p.wkb_len = 0; /* no geometry: not in the R*Tree */
    ps[2].p.min_lon = ps[2].p.min_lat = ps[2].p.max_lon = ps[2].p.max_lat = 0;
    import_ok(st, &batch2023, "2023-03-01", ps, 3, NULL);
    expect_in_bbox(st, &batch2023, 113.9, 35.9, 114.2, 36.2, "A\nB\n");
    expect_in_bbox(st, NULL, 114.0005, 36.0005, 114.0006, 36.0006, "A\n");
    expect_in_bbox(st, NULL, 114.0095, 35.99, 114.0105, 36.0, "B\n");
    expect_in_bbox(st, NULL, 115.0, 37.0, 116.0, 38.0, "");
    /* moving B keeps the R*Tree in step */
    ps[1] = mk("B", LEGALITY_ILLEGAL, RECTIFY_PENDING, 115.5, 37.5);
    import_ok(st, &batch2023, "2023-04-01", ps, 2, NULL);
    expect_in_bbox(st, NULL, 114.0095, 35.99, 114.0105, 36.0, "");
    expect_in_bbox(st, NULL, 115.0, 37.0, 116.0, 38.0, "B\n");
    assert_int_equal(query_int(st, "SELECT count(*) FROM patch_bbox"), 2);
    store_close(st);
}

/* ---- volume ------------------------------------------------------------------------------- */

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
timed_import(store *st, long n, const char *at, bool change_some, store_import_result *res)
{
    tb_err err = {0};
    char id[32];
    double t0 = now_s();
    store_import *im = store_import_begin(st, &batch2023, "big.gpkg", "bench", at, &err);
    assert_non_null(im);
    for (long i = 0; i < n; i++) {
        /* ids in a scrambled order, as files come */
        long k = (i * 7919) % n;
        snprintf(id, sizeof id, "130403SJBG23%08ld", k);
        test_patch t = mk(id, k % 3 ? LEGALITY_ILLEGAL : LEGALITY_LEGAL,
                          k % 3 ? RECTIFY_PENDING : RECTIFY_NONE, 114 + (double)(k % 1000) * 1e-3,
                          36 + (double)(k / 1000) * 1e-3);
        if (k % 3)
            t.p.deadline = (cn_date){2023, 6, 30};
        if (change_some && k % 10 == 0 && k % 3)
            t.p.state = RECTIFY_ONGOING;
        t.p.record = i + 1;
        if (store_import_add(im, pp(&t), 1000, &err) != TB_OK)
            fail_msg("add: %s", err.msg);
    }
    double t1 = now_s();
    if (store_import_commit(im, res, NULL, NULL, &err) != TB_OK)
        fail_msg("commit: %s", err.msg);
    double t2 = now_s();
    if (getenv("TB_STORE_BENCH_N"))
        printf("store: %ld patches: add %.2f µs/patch, commit %.2f µs/patch\n", n,
               (t1 - t0) * 1e6 / (double)n, (t2 - t1) * 1e6 / (double)n);
    return (t2 - t0) * 1e6 / (double)n;
}

static void
test_many_patches(void **state)
{
    fixture *f = *state;
    const char *env = getenv("TB_STORE_BENCH_N");
    long n = env ? atol(env) : 7000; /* 7000: n must be coprime with 7919 */
    store *st = open_ok(f->path);
    store_import_result r;
    double first = timed_import(st, n, "2023-03-01", false, &r);
    expect_counts(r, n, 0, 0, 0);
    double again = timed_import(st, n, "2023-04-01", true, &r);
    long changed = 0;
    for (long k = 0; k < n; k++)
        changed += k % 10 == 0 && k % 3;
    expect_counts(r, 0, changed, n - changed, 0);
    if (env)
        printf("store: %ld patches: first import %.2f µs/patch, re-import %.2f µs/patch\n", n,
               first, again);
    store_close(st);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_from_every_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_v1_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_store_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_and_reimport, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_abort_leaves_store_unchanged, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_id_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bbox_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_patches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
