/* DESIGN: one pass over the file.  Each record is read and checked by ingest; the importer adds
 * the checks that need the whole import (duplicate ids, the batch, the county's townships) and,
 * while no error has been seen, stages the patch in the store's open transaction.  Memory stays
 * flat: only the set of ids seen grows with the file.  At the end the transaction commits if
 * the file was clean and rolls back otherwise. */
#include "tb_features.h"

#include "importer.h"

#include "tb_buf.h"
#include "tb_fs.h"
#include "tb_strset.h"
#include "tb_utf8.h"
#include "tpl.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

bool
importer_parse_batch(const char *label, store_batch *out)
{
    int year = 0, quarter = 0;
    char extra;
    if (sscanf(label, "%4d%c", &year, &extra) == 1 && strlen(label) == 4)
        quarter = 0;
    else if ((sscanf(label, "%4dQ%1d%c", &year, &quarter, &extra) != 2 || strlen(label) != 6) &&
             (sscanf(label, "%4d-Q%1d%c", &year, &quarter, &extra) != 2 || strlen(label) != 7))
        return false;
    if (quarter < 0 || quarter > 4 || (strlen(label) > 4 && quarter == 0))
        return false;
    if (year < 1990 || year > 2100)
        return false;
    out->year = year;
    out->quarter = quarter;
    return true;
}

static const char *
batch_label(const store_batch *b, tb_arena *a)
{
    return b->quarter ? tb_arena_printf(a, "%dQ%d", b->year, b->quarter)
                      : tb_arena_printf(a, "%d", b->year);
}

/* The batch a patch says it belongs to: NF, and JD (patch_quarter_number). */
static bool
batch_of(const patch *p, store_batch *out)
{
    if (p->year == 0)
        return false;
    out->year = p->year;
    out->quarter = patch_quarter_number(p->quarter);
    return true;
}

/* Townships named by --townships or learnt from the data; registered in the store's import
 * transaction, so a refused import registers none. */
typedef struct township_list {
    tb_strset *codes;
    const char **code, **name;
    size_t count, cap;
    size_t registered; /* how many are in the store already */
} township_list;

static void
townships_add(township_list *t, const char *code, const char *name, tb_arena *a)
{
    if (!tb_strset_add(t->codes, code))
        return;
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        const char **c = tb_arena_array(a, cap, sizeof *c), **n = tb_arena_array(a, cap, sizeof *n);
        if (t->count) {
            memcpy(c, t->code, t->count * sizeof *c);
            memcpy(n, t->name, t->count * sizeof *n);
        }
        t->code = c, t->name = n, t->cap = cap;
    }
    t->code[t->count] = tb_arena_strdup(a, code);
    t->name[t->count++] = tb_arena_strdup(a, name ? name : "");
}

static tb_code
townships_register(store *st, township_list *t, tb_err *err)
{
    for (; t->registered < t->count; t->registered++)
        if (store_township_add(st, t->code[t->registered], t->name[t->registered], err) != TB_OK)
            return err->code;
    return TB_OK;
}

/* Reads "code,name" lines (a header line starting with "code" and # comments are skipped). */
static tb_code
townships_read(const char *path, township_list *t, tb_arena *a, tb_err *err)
{
    tb_buf buf = TB_BUF_INIT;
    if (tb_fs_read(path, 1 << 20, &buf, err) != TB_OK)
        return err->code;
    tb_code rc = TB_OK;
    long line_no = 0;
    for (char *line = (char *)buf.data, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        line_no++;
        line[strcspn(line, "\r")] = '\0';
        if (line[0] == '\0' || line[0] == '#' || (line_no == 1 && strncmp(line, "code", 4) == 0))
            continue;
        char *comma = strchr(line, ',');
        size_t n = comma ? (size_t)(comma - line) : 0;
        if (!comma || strspn(line, "0123456789") != n || (n != 9 && n != 12)) {
            rc = tb_err_set(err, TB_EFORMAT, "%s:%ld: expected 'code,name' with a 9 or 12-digit "
                            "township code", path, line_no);
            break;
        }
        *comma = '\0';
        townships_add(t, line, comma + 1, a);
    }
    tb_buf_release(&buf);
    return rc;
}

struct import_state {
    const import_request *req;
    import_outcome *out;
    tb_arena *a;
    store *st;
    store_import *im;
    tb_strset *ids;
    tb_strset *known;         /* the townships the store had when the import began */
    township_list townships;  /* from --townships, or learnt from the data */
    bool learn_townships;     /* the store knows none and none were given */
};

static void
note_change(void *user, store_change_kind kind, const char *id, const char *what)
{
    struct import_state *s = user;
    import_outcome *o = s->out;
    if (o->change_count >= 1000)
        return;
    static const char *const kinds[] = {[STORE_NEW] = "new", [STORE_CHANGED] = "changed",
                                        [STORE_MISSING] = "missing"};
    if (o->change_count % 64 == 0) {
        char **grown = tb_arena_array(s->a, o->change_count + 64, sizeof *grown);
        if (o->change_count)
            memcpy(grown, o->changes, o->change_count * sizeof *grown);
        o->changes = grown;
    }
    o->changes[o->change_count++] = tb_arena_printf(s->a, "%s %s%s%s", kinds[kind], id,
                                                    what && *what ? ": " : "", what ? what : "");
}

static void
remember_township(void *user, const char *code, const char *name)
{
    (void)name;
    tb_strset_add(user, code);
}

/* The checks that need more than one record. */
static void
check_across(struct import_state *s, const patch *p, bool *ok)
{
    ingest_report *r = s->out->report;
    if (!tb_strset_add(s->ids, p->id)) {
        ingest_report_add(r, INGEST_ERROR, p->record, p->id, "JCBH",
                          "duplicate patch id within the batch");
        *ok = false;
    }
    store_batch b;
    if (s->req->batch == NULL && s->im == NULL && !s->out->batch_label) {
        if (!batch_of(p, &b)) {
            ingest_report_add(r, INGEST_ERROR, p->record, p->id, "NF",
                              "no year (NF): give the batch with --batch");
            *ok = false;
            return;
        }
        s->out->batch.year = b.year, s->out->batch.quarter = b.quarter;
        s->out->batch_label = batch_label(&s->out->batch, s->a);
    }
    if (p->year && batch_of(p, &b) &&
        (b.year != s->out->batch.year || (p->quarter && b.quarter != s->out->batch.quarter))) {
        ingest_report_add(r, INGEST_ERROR, p->record, p->id, p->quarter ? "JD" : "NF",
                          "the patch belongs to batch %s, the import to %s",
                          batch_label(&b, s->a), s->out->batch_label);
        *ok = false;
    }
    if (strlen(p->admin_code) == 6) {
        ingest_report_add(r, INGEST_ERROR, p->record, p->id, "XZQDM",
                          "'%s' is a county code: patches belong to a township (9 or 12 digits)",
                          p->admin_code);
        *ok = false;
    } else if (s->learn_townships) {
        townships_add(&s->townships, p->admin_code, p->admin_name, s->a);
    } else if (!tb_strset_has(s->known, p->admin_code) &&
               !tb_strset_has(s->townships.codes, p->admin_code)) {
        ingest_report_add(r, INGEST_ERROR, p->record, p->id, "XZQDM",
                          "unknown township code %s (not among the county's %zu townships)",
                          p->admin_code, tb_strset_count(s->known) + s->townships.count);
        *ok = false;
    }
}

tb_code
importer_run(const import_request *req, tb_arena *a, import_outcome *out, tb_err *err)
{
    memset(out, 0, sizeof *out);
    out->report = ingest_report_new(a);
    struct import_state s = {req, out, a, NULL, NULL, tb_strset_new(), tb_strset_new(), {0},
                             false};
    s.townships.codes = tb_strset_new();
    patch_source *src = NULL;
    tb_code rc = TB_OK;
    bool db_created = false;
    ingest_options opt = req->opt;

    out->batch.source = req->source ? req->source : "部";
    if (strcmp(out->batch.source, "部") != 0 && strcmp(out->batch.source, "省") != 0) {
        rc = tb_err_set(err, TB_EINVAL, "--source %s: expected 部 or 省", out->batch.source);
        goto done;
    }
    if (req->batch) {
        if (!importer_parse_batch(req->batch, &out->batch)) {
            rc = tb_err_set(err, TB_EINVAL, "--batch %s: expected a year (2022) or a quarter "
                            "(2019Q3)", req->batch);
            goto done;
        }
        out->batch_label = batch_label(&out->batch, a);
    }
    if (req->mapping_path && !(opt.mapping = tpl_mapping_load(req->mapping_path, a, err))) {
        rc = err->code;
        goto done;
    }
    db_created = !tb_fs_exists(req->db_path);
    if (!(s.st = store_open(req->db_path, err)) ||
        !(src = patch_source_open(req->file, &opt, out->report, err))) {
        rc = err->code;
        goto done;
    }

    if (req->townships_csv &&
        townships_read(req->townships_csv, &s.townships, a, err) != TB_OK) {
        rc = err->code;
        goto done;
    }
    /* The county's townships, read once: the per-record check is then a hash lookup. */
    if (store_township_each(s.st, remember_township, s.known, err) != TB_OK) {
        rc = err->code;
        goto done;
    }
    s.learn_townships = tb_strset_count(s.known) == 0 && s.townships.count == 0;
    if (s.learn_townships)
        ingest_report_add(out->report, INGEST_WARNING, 0, NULL, "XZQDM",
                          "the store knows no townships yet: the township codes of this file are "
                          "registered as the county's");

    const char *who = req->who ? req->who : getenv("USER") ? getenv("USER") : "tuban";
    long total = patch_source_count(src);
    patch p;
    int r;
    for (;;) {
        tb_arena *rec = tb_arena_new(0); /* one record's strings and geometry */
        r = patch_source_next(src, rec, &p, out->report, err);
        if (r <= 0) {
            tb_arena_free(rec);
            break;
        }
        bool ok = r == 1;
        if (ok)
            check_across(&s, &p, &ok);
        if (err->code != TB_OK) {
            tb_arena_free(rec);
            r = -1;
            break;
        }
        /* Stage while the file is clean; after the first error only check. */
        if (ok && out->report->errors == 0) {
            /* The store's transaction starts with the first patch to stage (the batch may
             * come from it); townships go into the same transaction, so a refused import
             * registers none. */
            if (s.im == NULL &&
                !(s.im = store_import_begin(s.st, &out->batch, req->file, who, req->at, err))) {
                tb_arena_free(rec);
                r = -1;
                break;
            }
            if (townships_register(s.st, &s.townships, err) != TB_OK ||
                store_import_add(s.im, &p, p.area_ellipsoid_m2, err) != TB_OK) {
                tb_arena_free(rec);
                r = -1;
                break;
            }
        }
        tb_arena_free(rec);
        if (req->progress && out->report->records % 10000 == 0)
            fprintf(req->progress, "tuban import: %ld of %ld records read\n",
                    out->report->records, total);
    }
    if (r < 0) {
        rc = err->code;
        goto done;
    }
    if (out->report->records == 0)
        ingest_report_add(out->report, INGEST_ERROR, 0, NULL, NULL, "the file has no records");
    out->refused = out->report->errors > 0;
    if (out->refused) {
        store_import_abort(s.im);
        s.im = NULL;
        goto done;
    }
    rc = store_import_commit(s.im, &out->result, note_change, &s, err);
    s.im = NULL;

done:
    store_import_abort(s.im);
    patch_source_close(src);
    store_close(s.st);
    if (db_created && (rc != TB_OK || out->refused)) {
        /* "The store is unchanged": a store this run created holds nothing, so remove it. */
        const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
        for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
            char *f = tb_arena_printf(a, "%s%s", req->db_path, suffixes[i]);
            unlink(f);
        }
    }
    tb_strset_free(s.ids);
    tb_strset_free(s.known);
    tb_strset_free(s.townships.codes);
    return rc;
}

static const char *
severity_name(ingest_severity s)
{
    return s == INGEST_ERROR ? "error" : s == INGEST_WARNING ? "warning" : "repaired";
}

void
importer_print(FILE *f, const import_outcome *o)
{
    const ingest_report *r = o->report;
    fprintf(f, "%s: layer %s (%s), %ld records, CRS %s, text %s (%s)\n", r->file,
            r->layer ? r->layer : "-", r->driver ? r->driver : "-", r->records,
            r->srs ? r->srs : "-", r->encoding, r->encoding_note);
    for (size_t i = 0; i < r->count; i++) {
        const ingest_problem *p = &r->items[i];
        if (p->record)
            fprintf(f, "  %s: record %ld (patch %s), field %s: %s\n", severity_name(p->severity),
                    p->record, p->patch_id ? p->patch_id : "(no id)", p->field ? p->field : "-",
                    p->message);
        else
            fprintf(f, "  %s: %s%s%s\n", severity_name(p->severity), p->field ? p->field : "",
                    p->field ? ": " : "", p->message);
    }
    long listed = (long)r->count, all = r->errors + r->warnings + r->repaired;
    if (all > listed)
        fprintf(f, "  … and %ld more not listed\n", all - listed);
    if (o->refused) {
        fprintf(f, "refused: %ld error%s; nothing was imported (the store is unchanged)\n",
                r->errors, r->errors == 1 ? "" : "s");
        return;
    }
    for (size_t i = 0; i < o->change_count; i++)
        fprintf(f, "  %s\n", o->changes[i]);
    fprintf(f, "imported batch %s (%s): %ld new, %ld changed, %ld unchanged, %ld missing from "
            "this file (kept, not deleted); %ld warning%s, %ld repaired\n",
            o->batch_label ? o->batch_label : "-", o->batch.source, o->result.n_new,
            o->result.n_changed, o->result.n_unchanged, o->result.n_missing, r->warnings,
            r->warnings == 1 ? "" : "s", r->repaired);
}

/* A JSON string of s (null for NULL); bytes that are not UTF-8 (a GBK file name, say) become
 * '?' so jansson never refuses the document. */
static json_t *
jtext(const char *s)
{
    if (s == NULL)
        return json_null();
    char *clean = tb_utf8_sanitize(s);
    json_t *j = json_string(clean);
    free(clean);
    return j;
}

static void
set(json_t *obj, const char *key, json_t *value)
{
    json_object_set_new(obj, key, value);
}

tb_code
importer_write_json(const char *path, const import_outcome *o, tb_err *err)
{
    const ingest_report *r = o->report;
    json_t *problems = json_array();
    for (size_t i = 0; i < r->count; i++) {
        const ingest_problem *p = &r->items[i];
        json_t *j = json_object();
        set(j, "severity", jtext(severity_name(p->severity)));
        set(j, "record", json_integer(p->record));
        set(j, "patch", jtext(p->patch_id));
        set(j, "field", jtext(p->field));
        set(j, "message", jtext(p->message));
        if (p->severity == INGEST_REPAIRED) {
            set(j, "area_before_m2", json_real(p->area_before_m2));
            set(j, "area_after_m2", json_real(p->area_after_m2));
        }
        json_array_append_new(problems, j);
    }
    json_t *root = json_object(), *counts = json_object();
    set(root, "file", jtext(r->file));
    set(root, "layer", jtext(r->layer));
    set(root, "driver", jtext(r->driver));
    set(root, "crs", jtext(r->srs));
    set(root, "encoding", jtext(r->encoding));
    set(root, "encoding_note", jtext(r->encoding_note));
    set(root, "records", json_integer(r->records));
    set(root, "batch", jtext(o->batch_label));
    set(root, "source", jtext(o->batch.source));
    set(root, "refused", json_boolean(o->refused));
    set(counts, "errors", json_integer(r->errors));
    set(counts, "warnings", json_integer(r->warnings));
    set(counts, "repaired", json_integer(r->repaired));
    set(root, "counts", counts);
    set(root, "problems", problems);
    if (!o->refused) {
        json_t *result = json_object(), *changes = json_array();
        set(result, "new", json_integer(o->result.n_new));
        set(result, "changed", json_integer(o->result.n_changed));
        set(result, "unchanged", json_integer(o->result.n_unchanged));
        set(result, "missing", json_integer(o->result.n_missing));
        set(root, "result", result);
        for (size_t i = 0; i < o->change_count; i++)
            json_array_append_new(changes, jtext(o->changes[i]));
        set(root, "changes", changes);
    }
    char *text = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    if (text == NULL)
        return tb_err_set(err, TB_ELIB, "%s: jansson could not write the report", path);
    tb_code rc = tb_fs_write_atomic(path, text, strlen(text), err);
    free(text);
    return rc;
}
