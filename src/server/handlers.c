/* The routes, run on a worker thread (server_int.h).  Each handler reads the parsed request
 * (api.h), acts through the library (store, importer, docs, sign) and fills the answer.
 *
 * Offices stay in their lanes: an office token sees the patches of its county only (the county
 * code of its office.xml), its own documents and jobs, and renders with its own context (its
 * templates, fonts, seal and key, loaded at start-up).  Another office's document or job is
 * answered 404, the same as a missing one, so ids reveal nothing. */
#include "tb_features.h"

#include "digest.h"
#include "docno.h"
#include "importer.h"
#include "issue.h"
#include "pdfsig.h"
#include "server_int.h"
#include "tb_fs.h"
#include "tb_test.h"
#include "tb_utf8.h"
#include "zip.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Formats allowed for uploads, and the only OGR drivers that may open them: no VRT (it can name
 * any local file), no network drivers, nothing that follows a path inside the file. */
static const char *const upload_drivers[] = {"GPKG", "GeoJSON", "CSV", NULL};

static const char *
batch_label(const store_batch *b, tb_arena *a)
{
    return b->quarter ? tb_arena_printf(a, "%dQ%d", b->year, b->quarter)
                      : tb_arena_printf(a, "%d", b->year);
}

static json_t *
jstr(const char *s)
{
    if (s == NULL)
        return json_null();
    char *clean = tb_utf8_sanitize(s);
    json_t *j = json_string(clean);
    free(clean);
    return j;
}

/* An enumeration's name, null when it has none ("" for LEGALITY_UNKNOWN, RECTIFY_NONE). */
static json_t *
jname(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

static json_t *
jdate(cn_date d)
{
    char iso[16];
    return d.year ? json_string(cn_date_format_iso(d, iso, sizeof iso)) : json_null();
}

/* The county prefix the caller may see: its office's county, or "" for an admin. */
static const char *
scope_prefix(const request *r)
{
    const server_office *o = request_office(r);
    return o ? o->county_code : "";
}

static bool
in_scope(const request *r, const char *admin_code)
{
    const char *p = scope_prefix(r);
    return admin_code && strncmp(admin_code, p, strlen(p)) == 0;
}

static int
office_index(const server *srv, const char *id)
{
    for (size_t i = 0; i < srv->cfg->office_count; i++)
        if (strcmp(srv->cfg->offices[i].id, id) == 0)
            return (int)i;
    return -1;
}

static void
respond_tb_error(request *r, const tb_err *err)
{
    respond_error(r, api_status_for(err->code), "%s", err->msg);
}

/* ---- scratch folders ---------------------------------------------------------------------- */

/* <scratch>/<rid>: private to one request, removed afterwards. */
static const char *
scratch_dir(request *r, tb_err *err)
{
    const char *dir = tb_arena_printf(r->arena, "%s/%llu", r->srv->cfg->scratch_root, r->rid);
    if (mkdir(dir, 0700) != 0) {
        tb_err_set(err, TB_EIO, "scratch folder: %s", strerror(errno));
        return NULL;
    }
    return dir;
}

/* Removes the files of a scratch folder (flat: we put only files there) and the folder. */
static void
scratch_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[4096];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                unlink(path);
            }
        closedir(d);
    }
    rmdir(dir);
}

/* Replaces every occurrence of dir + "/" in r's answer by nothing: messages about an upload name
 * the upload ("upload.gpkg"), never a server path. */
static void
hide_scratch_path(request *r, const char *dir)
{
    const char *prefix = tb_arena_printf(r->arena, "%s/", dir);
    size_t n = strlen(prefix), w = 0;
    unsigned char *s = r->out.data;
    for (size_t i = 0; i < r->out.len;) {
        if (i + n <= r->out.len && memcmp(s + i, prefix, n) == 0) {
            i += n;
            continue;
        }
        s[w++] = s[i++];
    }
    r->out.len = w;
}

/* ---- imports ------------------------------------------------------------------------------ */

static const char *
sniff_format(const tb_buf *body)
{
    if (body->len >= 16 && memcmp(body->data, "SQLite format 3", 16) == 0)
        return "gpkg";
    for (size_t i = 0; i < body->len && i < 64; i++) {
        unsigned char c = body->data[i];
        if (c == '{')
            return "geojson";
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t' && c != 0xef && c != 0xbb &&
            c != 0xbf)
            break;
    }
    return "csv";
}

static void
handle_import(worker *w, request *r)
{
    tb_err err = {0};
    const char *dir = scratch_dir(r, &err);
    if (dir == NULL) {
        respond_tb_error(r, &err);
        return;
    }
    const char *format = r->api.format ? r->api.format : sniff_format(&r->body);
    const char *file = tb_arena_printf(r->arena, "%s/upload.%s", dir, format);
    const char *report = tb_arena_printf(r->arena, "%s/report.json", dir);
    import_request req = {
        .file = file,
        .opt = {.drivers = upload_drivers},
        .batch = r->api.has_batch ? batch_label(&r->api.batch, r->arena) : NULL,
        .source = r->api.has_batch ? r->api.batch.source : NULL,
        .db_path = w->srv->cfg->store_path,
        .who = r->token->name,
    };
    char at[16];
    if (r->api.has_date)
        req.at = cn_date_format_iso(r->api.date, at, sizeof at);
    import_outcome out = {0};
    tb_buf json = TB_BUF_INIT;
    if (tb_fs_write_atomic(file, r->body.data, r->body.len, &err) != TB_OK) {
        respond_tb_error(r, &err);
    } else if (importer_run(&req, r->arena, &out, &err) != TB_OK) {
        respond_tb_error(r, &err);
    } else if (importer_write_json(report, &out, &err) != TB_OK ||
               tb_fs_read(report, 64u << 20, &json, &err) != TB_OK) {
        respond_error(r, 500, "the import %s, but its report could not be made: %s",
                      out.refused ? "was refused" : "WAS applied", err.msg);
    } else {
        /* Refused: every problem is in the report, and the store is unchanged. */
        respond_bytes(r, out.refused ? 422 : 200, "application/json", json.data, json.len);
        server_log("rid=%llu import by %s: %s", r->rid, r->token->name,
                   out.refused ? "refused" : "applied");
    }
    hide_scratch_path(r, dir);
    tb_buf_release(&json);
    scratch_remove(dir);
}

/* ---- patches ------------------------------------------------------------------------------ */

typedef struct patch_query {
    request *r;
    json_t *list;
    long matched;
    const char *want_id;
    store_patch_state found; /* want_id: copied strings in r->arena */
    bool have;
} patch_query;

static json_t *
patch_state_json(const store_patch_state *s)
{
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:b}", "id", jstr(s->id), "township",
                     jstr(s->admin_code), "legality", jname(legality_name(s->legality)), "state",
                     jname(rectify_state_name(s->state)), "measure", jstr(s->measure), "deadline",
                     jdate(s->deadline), "missing", s->missing);
}

static void
collect_patch(void *user, const store_patch_state *s)
{
    patch_query *q = user;
    const api_request *a = &q->r->api;
    if (!in_scope(q->r, s->admin_code))
        return;
    if (q->want_id) {
        if (strcmp(s->id, q->want_id) == 0) {
            q->found = *s;
            q->found.id = tb_arena_strdup(q->r->arena, s->id);
            q->found.admin_code = tb_arena_strdup(q->r->arena, s->admin_code);
            q->found.measure = tb_arena_strdup(q->r->arena, s->measure);
            q->have = true;
        }
        return;
    }
    if (a->township && strncmp(s->admin_code, a->township, strlen(a->township)) != 0)
        return;
    if (a->has_state && s->state != a->state)
        return;
    if (q->matched++ < a->offset || (long)json_array_size(q->list) >= a->limit)
        return;
    json_array_append_new(q->list, patch_state_json(s));
}

static cn_date
as_of_day(const api_request *a)
{
    return a->has_date ? a->date : cn_date_today();
}

static void
handle_patches(worker *w, request *r)
{
    tb_err err = {0};
    patch_query q = {.r = r, .list = json_array()};
    cn_date day = as_of_day(&r->api);
    if (store_as_of(w->st, &r->api.batch, day, collect_patch, &q, &err) != TB_OK) {
        json_decref(q.list);
        respond_tb_error(r, &err);
        return;
    }
    respond_json(r, 200, json_pack("{s:s,s:o,s:I,s:I,s:o}", "batch",
                                   batch_label(&r->api.batch, r->arena), "as_of", jdate(day),
                                   "total", (json_int_t)q.matched, "offset",
                                   (json_int_t)r->api.offset, "patches", q.list));
}

/* Finds patch_id in the caller's scope as of today; false (404 answered) when it is not. */
static bool
find_in_scope(worker *w, request *r, const char *patch_id, patch_query *q)
{
    tb_err err = {0};
    *q = (patch_query){.r = r, .want_id = patch_id};
    if (store_as_of(w->st, &r->api.batch, as_of_day(&r->api), collect_patch, q, &err) !=
        TB_OK) {
        respond_tb_error(r, &err);
        return false;
    }
    if (!q->have) {
        respond_error(r, 404, "patch %s: not in batch %s of this office's county", patch_id,
                      batch_label(&r->api.batch, r->arena));
        return false;
    }
    return true;
}

static void
add_history(void *user, const store_history_row *h)
{
    json_array_append_new(user, json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:o}", "field", h->field,
                                          "from", jstr(h->from), "to", jstr(h->to), "at",
                                          jstr(h->at), "by", jstr(h->by), "note", jstr(h->note),
                                          "import", h->import_id ? json_integer(h->import_id)
                                                                 : json_null()));
}

static void
answer_patch(worker *w, request *r, const patch_query *q, int status)
{
    tb_err err = {0};
    json_t *hist = json_array();
    if (store_patch_history(w->st, &r->api.batch, q->found.id, add_history, hist, &err) !=
        TB_OK) {
        json_decref(hist);
        respond_tb_error(r, &err);
        return;
    }
    json_t *p = patch_state_json(&q->found);
    json_object_set_new(p, "batch", json_string(batch_label(&r->api.batch, r->arena)));
    json_object_set_new(p, "history", hist);
    respond_json(r, status, p);
}

static void
handle_patch(worker *w, request *r)
{
    patch_query q;
    if (find_in_scope(w, r, r->api.patch_id, &q))
        answer_patch(w, r, &q, 200);
}

static void
handle_patch_status(worker *w, request *r)
{
    patch_query q;
    tb_err err = {0};
    char at[16];
    api_request *a = &r->api;
    bool dated = a->has_date;
    a->has_date = false; /* the scope check is about today; the change may be dated */
    if (!find_in_scope(w, r, a->patch_id, &q))
        return;
    if (store_patch_set_state(w->st, &a->batch, a->patch_id, a->state, r->token->name, a->note,
                              dated ? cn_date_format_iso(a->date, at, sizeof at) : NULL,
                              &err) != TB_OK) {
        /* A change the workflow forbids is a well-formed request that cannot be done. */
        respond_error(r, err.code == TB_EINVAL ? 422 : api_status_for(err.code), "%s", err.msg);
        return;
    }
    if (find_in_scope(w, r, a->patch_id, &q))
        answer_patch(w, r, &q, 200);
}

/* ---- documents ---------------------------------------------------------------------------- */

static const char *
docno_text(server *srv, const store_job_item *it, char *buf, size_t len)
{
    int o = office_index(srv, it->office);
    if (o < 0 || it->number <= 0 ||
        !docno_format(tpl_office_prefix(srv->profiles[o], it->kind), it->year, it->number, buf,
                      len))
        snprintf(buf, len, "%d", it->number);
    return buf;
}

static json_t *
document_json(server *srv, const store_job_item *it, tb_arena *a)
{
    char no[128];
    json_t *d = json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:s}", "id", (json_int_t)it->id,
                          "job", (json_int_t)it->job_id, "kind", it->kind, "office", it->office,
                          "township", it->township, "batch", batch_label(&it->batch, a), "date",
                          jdate(it->date), "number",
                          it->number > 0 ? json_integer(it->number) : json_null(), "docno",
                          it->number > 0 ? json_string(docno_text(srv, it, no, sizeof no))
                                         : json_null(),
                          "state", store_item_state_name(it->state));
    if (it->state == ITEM_DONE) {
        json_object_set_new(d, "sha256", jstr(it->sha256));
        json_object_set_new(d, "bytes", json_integer(it->bytes));
        json_object_set_new(d, "issued_at", jstr(it->done_at));
        json_object_set_new(d, "pdf", json_string(tb_arena_printf(a, "/v1/documents/%lld/pdf",
                                                                  (long long)it->id)));
    }
    if (it->error)
        json_object_set_new(d, "error", jstr(it->error));
    /* A done item is registered: it was marked done in the registry's transaction. */
    json_object_set_new(d, "registered", json_boolean(it->state == ITEM_DONE));
    return d;
}

/* The illegal patches of one township (exact code), in id order, from the worker's store. */
static tb_code
township_patches(worker *w, const store_batch *batch, const char *township, tb_arena *a,
                 const patch ***out, size_t *n, tb_err *err)
{
    patch *all;
    size_t count;
    tb_code rc = store_patches_load(w->st, batch, township, a, &all, &count, err);
    if (rc != TB_OK)
        return rc;
    const patch **list = tb_arena_array(a, count + 1, sizeof *list);
    *n = 0;
    for (size_t i = 0; i < count; i++)
        if (all[i].legality == LEGALITY_ILLEGAL && strcmp(all[i].admin_code, township) == 0)
            list[(*n)++] = &all[i];
    *out = list;
    return TB_OK;
}

/* 军用土地 (docs/military.md): the ids of the military patches among list, "、"-separated in
 * arena a, or NULL when there are none.  Their documents never leave by the network. */
static const char *
military_ids(const patch *const *list, size_t n, tb_arena *a)
{
    tb_buf b = TB_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        if (list[i]->military)
            tb_buf_printf(&b, "%s%s", b.len ? "、" : "", list[i]->id);
    const char *ids = b.len ? tb_arena_strdup(a, (const char *)b.data) : NULL;
    tb_buf_release(&b);
    return ids;
}

static const char MILITARY_REFUSAL[] =
    "is 军用土地: its documents are sent by 机要 channel only, never over the network "
    "(tuban render on the office's own machine marks them for 机要 delivery)";

/* Answers 403 naming the military patches of a document or job; false when there are none. */
static bool
refuse_military(request *r, const patch *const *list, size_t n)
{
    const char *ids = military_ids(list, n, r->arena);
    if (ids == NULL)
        return false;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        if (list[i]->military)
            json_array_append_new(arr, jstr(list[i]->id));
    char *msg = tb_utf8_sanitize(tb_arena_printf(r->arena, "patch %s %s", ids, MILITARY_REFUSAL));
    respond_json(r, 403, json_pack("{s:i,s:s,s:o}", "status", 403, "error", msg,
                                   "military_patches", arr));
    free(msg);
    server_log("rid=%llu refused: 军用土地 patch %s", r->rid, ids);
    return true;
}

/* For the crash tests (tests/server): TUBAN_TEST_KILL_AFTER_FILES=n kills the process with
 * SIGKILL once its n-th document is written beside the archive but not yet committed (the
 * number allocated, the write lock held) — the worst moment. */
static void
crash_test_point(void)
{
    static atomic_int written;
    const char *n = getenv("TUBAN_TEST_KILL_AFTER_FILES");
    if (n && atoi(n) > 0 && atomic_fetch_add(&written, 1) + 1 == atoi(n))
        raise(SIGKILL);
}

/* The patch ids of a document, comma-separated (the registry's record of what it covers). */
static const char *
patch_ids(const patch *const *list, size_t n, tb_arena *a)
{
    tb_buf b = TB_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        tb_buf_printf(&b, "%s%s", i ? "," : "", list[i]->id);
    const char *ids = tb_arena_strdup(a, b.len ? (const char *)b.data : "");
    tb_buf_release(&b);
    return ids;
}

/* Numbers, archives and registers a rendered item through the registry (docs/issue.h), the
 * item marked done in the same transaction: the item is done if and only if its document is
 * registered under its number.  pdf holds the rendering made with `guess`; it is rendered again
 * when the registry allocates another number. */
static tb_code
register_item(worker *w, const store_job_item *it, int o, const patch *const *list, size_t n,
              const char *code, int guess, tb_buf *pdf, tb_arena *a, tb_err *err)
{
    server *srv = w->srv;
    render_ctx *rc = w->offices[o];
    int number = 0;
    char *path = NULL, *tmp = NULL;
    issuer *is = issuer_begin(srv->cfg->store_path, srv->cfg->archive_root, srv->profiles[o],
                              it->kind, it->year, err);
    if (is == NULL)
        return err->code;
    tb_code rc_ = issuer_allocate_number(is, &number, &path, err);
    if (rc_ == TB_OK && number != guess) {
        server_log("job %lld: item %d: the registry gave number %d, not %d as guessed "
                   "(another issuer in between): rendered again",
                   (long long)it->job_id, it->seq, number, guess);
        render_options opt = {.date = it->date};
        pdf->len = 0;
        rc_ = notice_render(rc, list, n, &opt, number, code, pdf, err);
    }
    char sha[DIGEST_SHA256_HEX];
    digest_sha256_hex(pdf->data, pdf->len, sha);
    if (rc_ == TB_OK)
        rc_ = tb_fs_write_temp(path, pdf->data, pdf->len, &tmp, err);
    if (rc_ == TB_OK)
        crash_test_point();
    if (rc_ == TB_OK)
        rc_ = store_job_item_issued(issuer_store(is), it->id, number, path, sha,
                                    (int64_t)pdf->len, err);
    if (rc_ == TB_OK) {
        issue_doc doc = {.tmp = tmp, .path = path, .number = number, .code = code,
                         .patches = patch_ids(list, n, a)};
        rc_ = issuer_commit(is, it->kind, render_ctx_signer_name(rc), &doc, 1, err);
    }
    if (rc_ != TB_OK && tmp)
        unlink(tmp); /* never renamed into the archive (issuer_commit removes what it renamed) */
    issuer_end(is);
    free(tmp);
    free(path);
    return rc_;
}

/* Renders a claimed item and issues it.  Nothing is committed before the end, so after a crash
 * the item is issued again and gets the number the registry gives next. */
static tb_code
issue_item(worker *w, const store_job_item *it, tb_err *err)
{
    server *srv = w->srv;
    tb_arena *a = tb_arena_new(0);
    tb_buf pdf = TB_BUF_INIT;
    const patch **list = NULL;
    size_t n = 0;
    int o = office_index(srv, it->office);
    tb_code rc;
    if (o < 0) {
        rc = tb_err_set(err, TB_ENOTFOUND, "office %s is no longer configured", it->office);
        goto done;
    }
    if ((rc = township_patches(w, &it->batch, it->township, a, &list, &n, err)) != TB_OK)
        goto done;
    if (n == 0) {
        rc = tb_err_set(err, TB_EFORMAT, "township %s has no illegal patches in batch %s",
                        it->township, batch_label(&it->batch, a));
        goto done;
    }
    const char *military = military_ids(list, n, a);
    if (military) { /* flagged after the job was made (a later import) */
        rc = tb_err_set(err, TB_EINVAL, "patch %s %s", military, MILITARY_REFUSAL);
        goto done;
    }
    char code[ISSUE_CODE_LEN + 1];
    if (!issue_new_code(code)) {
        rc = tb_err_set(err, TB_ELIB, "issuing: no random bytes for the verification code");
        goto done;
    }
    issue_turn turn;
    numbering_take(srv, w->st, o, it->year, tpl_office_prefix(srv->profiles[o], it->kind),
                   &turn);
    render_options opt = {.date = it->date};
    tb_test_slow();
    rc = notice_render(w->offices[o], list, n, &opt, turn.guess, code, &pdf, err);
    numbering_wait(srv, &turn);
    if (rc == TB_OK)
        rc = register_item(w, it, o, list, n, code, turn.guess, &pdf, a, err);
    numbering_done(srv, w->st, &turn);
done:
    metrics_document(&srv->m, rc == TB_OK);
    tb_buf_release(&pdf);
    tb_arena_free(a);
    return rc;
}

void
handle_job_item(worker *w, const store_job_item *it)
{
    tb_err err = {0};
    if (issue_item(w, it, &err) == TB_OK) {
        server_log("job %lld: item %d (%s) issued", (long long)it->job_id, it->seq,
                   it->township);
        return;
    }
    server_log("job %lld: item %d (%s) failed: %s", (long long)it->job_id, it->seq, it->township,
               err.msg);
    tb_err err2 = {0};
    if (store_job_item_failed(w->st, it->id, err.msg, &err2) != TB_OK)
        server_log("job %lld: could not record the failure: %s", (long long)it->job_id,
                   err2.msg);
}

/* A document issued before one of its patches was flagged 军用土地 (by a later import) does
 * not leave by the network either: answered 403 (or 500 when the patches cannot be read). */
static bool
document_refused(worker *w, request *r, const store_job_item *it)
{
    const patch **list;
    size_t n;
    tb_err err = {0};
    if (township_patches(w, &it->batch, it->township, r->arena, &list, &n, &err) != TB_OK) {
        respond_tb_error(r, &err);
        return true;
    }
    return refuse_military(r, list, n);
}

/* Answers with a done document: its record as JSON, or the PDF itself. */
static void
answer_document(request *r, const store_job_item *it, int status, bool pdf)
{
    if (!pdf) {
        r->location = tb_arena_printf(r->arena, "/v1/documents/%lld", (long long)it->id);
        respond_json(r, status, document_json(r->srv, it, r->arena));
        return;
    }
    tb_err err = {0};
    tb_buf data = TB_BUF_INIT;
    if (tb_fs_read(it->file, PDFSIG_MAX_INPUT, &data, &err) != TB_OK) {
        respond_error(r, 500, "document %lld: its archived file cannot be read",
                      (long long)it->id);
    } else {
        respond_bytes(r, status, "application/pdf", data.data, data.len);
        r->disposition = tb_arena_printf(r->arena, "attachment; filename=\"%s-%d-%d.pdf\"",
                                         it->kind, it->year, it->number);
    }
    tb_buf_release(&data);
}

/* The townships the caller may issue for, checked against its county. */
static bool
township_in_scope(request *r, const char *township)
{
    if (in_scope(r, township))
        return true;
    respond_error(r, 404, "township %s: not in this office's county", township);
    return false;
}

/* The illegal patches of the request's township, checked to be in the caller's county and not
 * empty; false when the request was answered (404, 422, …).  The date defaults to today. */
static bool
selection_patches(worker *w, request *r, const patch ***list, size_t *n)
{
    api_request *a = &r->api;
    tb_err err = {0};
    if (!township_in_scope(r, a->township))
        return false;
    if (!a->has_date)
        a->date = cn_date_today();
    if (township_patches(w, &a->batch, a->township, r->arena, list, n, &err) != TB_OK) {
        respond_tb_error(r, &err);
        return false;
    }
    if (*n == 0) {
        respond_error(r, 422, "township %s has no illegal patches in batch %s: there is nothing "
                      "to notify", a->township, batch_label(&a->batch, r->arena));
        return false;
    }
    return !refuse_military(r, *list, *n);
}

static const char *
request_hash(request *r, const char *const *towns, size_t n)
{
    const api_request *a = &r->api;
    tb_buf b = TB_BUF_INIT;
    tb_buf_printf(&b, "%s|%s|%s|%04d-%02d-%02d|", r->route->name, a->kind,
                  batch_label(&a->batch, r->arena), a->date.year, a->date.month, a->date.day);
    tb_buf_append_str(&b, a->batch.source);
    for (size_t i = 0; i < n; i++)
        tb_buf_printf(&b, "|%s", towns[i]);
    char hex[DIGEST_SHA256_HEX];
    digest_sha256_hex(b.data, b.len, hex);
    tb_buf_release(&b);
    return tb_arena_strdup(r->arena, hex);
}

/* Waits for an item another worker is running (a retried request, a resumed job). */
static tb_code
wait_for_item(worker *w, request *r, int64_t job_id, store_job_item *it, tb_err *err)
{
    for (int waited = 0; waited < r->srv->cfg->request_timeout_s * 10; waited++) {
        tb_code rc = store_job_first_item(w->st, job_id, r->arena, it, err);
        if (rc != TB_OK || (it->state != ITEM_PENDING && it->state != ITEM_RUNNING))
            return rc;
        usleep(100 * 1000);
    }
    return tb_err_set(err, TB_EIO, "the document is still being issued; retry with the same "
                      "Idempotency-Key");
}

static void
handle_document_issue(worker *w, request *r)
{
    api_request *a = &r->api;
    const server_office *o = request_office(r);
    tb_err err = {0};
    const patch **list;
    size_t n;
    if (!selection_patches(w, r, &list, &n))
        return;
    const char *towns[] = {a->township};
    store_job_spec spec = {.office = o->id, .kind = a->kind, .batch = a->batch, .date = a->date,
                           .who = r->token->name, .idempotency_key = r->idempotency_key,
                           .request_hash = request_hash(r, towns, 1), .townships = towns,
                           .township_count = 1};
    int64_t job_id;
    bool existed;
    store_job_item it;
    if (store_job_create(w->st, &spec, &job_id, &existed, &err) != TB_OK ||
        store_job_first_item(w->st, job_id, r->arena, &it, &err) != TB_OK) {
        respond_error(r, err.code == TB_EINVAL ? 422 : api_status_for(err.code), "%s", err.msg);
        return;
    }
    if (it.state == ITEM_PENDING) {
        store_job_item mine;
        int got = store_job_claim_item(w->st, it.id, r->arena, &mine, &err);
        if (got < 0) {
            respond_tb_error(r, &err);
            return;
        }
        if (got == 1 && issue_item(w, &mine, &err) != TB_OK) {
            tb_err err2 = {0};
            if (store_job_item_failed(w->st, mine.id, err.msg, &err2) != TB_OK)
                server_log("rid=%llu: could not record the failure: %s", r->rid, err2.msg);
            respond_tb_error(r, &err);
            return;
        }
    }
    if (wait_for_item(w, r, job_id, &it, &err) != TB_OK) {
        respond_tb_error(r, &err);
        return;
    }
    if (it.state != ITEM_DONE) {
        respond_error(r, 500, "the document was not issued: %s",
                      it.error ? it.error : store_item_state_name(it.state));
        return;
    }
    answer_document(r, &it, existed ? 200 : 201, a->want_pdf);
}

/* A 样稿: the same document with a watermark and no number, never registered nor archived. */
static void
handle_document_preview(worker *w, request *r)
{
    api_request *a = &r->api;
    tb_err err = {0};
    const patch **list;
    size_t n;
    if (!selection_patches(w, r, &list, &n))
        return;
    tb_buf pdf = TB_BUF_INIT;
    render_options opt = {.date = a->date};
    int o = office_index(r->srv, request_office(r)->id);
    tb_test_slow();
    if (notice_render(w->offices[o], list, n, &opt, 0, NULL, &pdf, &err) != TB_OK)
        respond_tb_error(r, &err);
    else
        respond_bytes(r, 200, "application/pdf", pdf.data, pdf.len);
    tb_buf_release(&pdf);
}

typedef struct doc_list {
    request *r;
    json_t *list;
} doc_list;

static void
collect_document(void *user, const store_job_item *it)
{
    doc_list *d = user;
    json_array_append_new(d->list, document_json(d->r->srv, it, d->r->arena));
}

static void
handle_documents(worker *w, request *r)
{
    tb_err err = {0};
    doc_list d = {r, json_array()};
    if (store_documents_each(w->st, request_office(r)->id, r->api.limit, collect_document, &d,
                             &err) != TB_OK) {
        json_decref(d.list);
        respond_tb_error(r, &err);
        return;
    }
    respond_json(r, 200, json_pack("{s:o}", "documents", d.list));
}

static void
handle_document(worker *w, request *r, bool pdf)
{
    tb_err err = {0};
    store_job_item it;
    if (store_document_get(w->st, request_office(r)->id, r->api.id, r->arena, &it, &err) !=
        TB_OK) {
        respond_tb_error(r, &err);
        return;
    }
    if (pdf && document_refused(w, r, &it))
        return;
    answer_document(r, &it, 200, pdf);
}

static void
handle_verify(worker *w, request *r)
{
    (void)w;
    tb_err err = {0};
    pdfsig_info info;
    int o = office_index(r->srv, request_office(r)->id);
    const tpl_office *p = r->srv->profiles[o];
    /* The office's own CA is the trust anchor and its certificate the first signer: a document
     * another office (or anyone else) signed is not valid here. */
    pdfsig_verify_opts opts = {.trust_pem = p->chain_path, .first_signer = p->cert_path};
    if (pdfsig_verify(r->body.data, r->body.len, &opts, &info, &err) != TB_OK) {
        respond_tb_error(r, &err);
        return;
    }
    /* The detail names the trust files: say whose they are instead of where they are. */
    const char *const paths[] = {p->chain_path, p->cert_path};
    for (size_t i = 0; i < 2; i++) {
        char *at;
        while (paths[i] && (at = strstr(info.detail, paths[i]))) {
            char rest[sizeof info.detail];
            snprintf(rest, sizeof rest, "%s", at + strlen(paths[i]));
            snprintf(at, sizeof info.detail - (size_t)(at - info.detail), "%s%s",
                     i == 0 ? "the office's CA" : "the office's certificate", rest);
        }
    }
    char sha[2 * sizeof info.sha256 + 1];
    for (size_t i = 0; i < sizeof info.sha256; i++)
        snprintf(sha + 2 * i, 3, "%02x", info.sha256[i]);
    respond_json(r, 200,
                 json_pack("{s:b,s:i,s:i,s:b,s:b,s:b,s:b,s:b,s:o,s:s,s:o,s:b}", "valid", info.ok,
                           "signatures", info.count, "revisions", info.revisions,
                           "signatures_valid", info.all_valid, "covers_whole_file",
                           info.covers_whole_file, "unmodified", info.unmodified, "trusted",
                           info.trusted, "first_signer_is_office", info.first_signer_ok,
                           "signer", jstr(info.signer), "sha256", sha, "detail",
                           jstr(info.detail), "registry_checked", 0));
}

/* ---- jobs --------------------------------------------------------------------------------- */

static json_t *
job_json(const store_job *j, tb_arena *a)
{
    return json_pack("{s:I,s:s,s:s,s:s,s:o,s:s,s:{s:i,s:i,s:i,s:i},s:o,s:o,s:o,s:s,s:s}", "id",
                     (json_int_t)j->id, "kind", j->kind, "office", j->office, "batch",
                     batch_label(&j->batch, a), "date", jdate(j->date), "state",
                     store_job_state_name(j->state), "progress", "done", (int)j->done, "total",
                     (int)j->total, "failed", (int)j->failed, "cancelled", (int)j->cancelled,
                     "current", jstr(j->current), "created_at", jstr(j->created_at),
                     "finished_at", jstr(j->finished_at), "results",
                     tb_arena_printf(a, "/v1/jobs/%lld/results", (long long)j->id), "zip",
                     tb_arena_printf(a, "/v1/jobs/%lld/results.zip", (long long)j->id));
}

static int
by_code(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void
handle_job_create(worker *w, request *r)
{
    api_request *a = &r->api;
    const server_office *o = request_office(r);
    tb_err err = {0};
    if (!a->has_date)
        a->date = cn_date_today();
    const char **towns = a->townships;
    size_t n = a->township_count;
    for (size_t i = 0; towns && i < n; i++)
        if (!township_in_scope(r, towns[i]))
            return;
    patch *all;
    size_t count;
    if (store_patches_load(w->st, &a->batch, o->county_code, r->arena, &all, &count, &err) !=
        TB_OK) {
        respond_tb_error(r, &err);
        return;
    }
    if (!towns) {
        /* Every township of the county with illegal patches, in code order. */
        towns = tb_arena_array(r->arena, count + 1, sizeof *towns);
        n = 0;
        for (size_t i = 0; i < count; i++) {
            if (all[i].legality != LEGALITY_ILLEGAL)
                continue;
            bool seen = false;
            for (size_t j = 0; j < n && !seen; j++)
                seen = strcmp(towns[j], all[i].admin_code) == 0;
            if (!seen)
                towns[n++] = all[i].admin_code;
        }
        qsort(towns, n, sizeof *towns, by_code);
    }
    if (n == 0) {
        respond_error(r, 422, "batch %s has no illegal patches in this office's county: there "
                      "is nothing to notify", batch_label(&a->batch, r->arena));
        return;
    }
    /* The job's documents: the illegal patches of its townships.  None may be 军用土地. */
    const patch **included = tb_arena_array(r->arena, count + 1, sizeof *included);
    size_t n_included = 0;
    for (size_t i = 0; i < count; i++)
        for (size_t t = 0; t < n && all[i].legality == LEGALITY_ILLEGAL; t++)
            if (strcmp(all[i].admin_code, towns[t]) == 0) {
                included[n_included++] = &all[i];
                break;
            }
    if (refuse_military(r, included, n_included))
        return;
    store_job_spec spec = {.office = o->id, .kind = a->kind, .batch = a->batch, .date = a->date,
                           .who = r->token->name, .idempotency_key = r->idempotency_key,
                           .request_hash = request_hash(r, towns, n), .townships = towns,
                           .township_count = n};
    int64_t id;
    bool existed;
    store_job job;
    if (store_job_create(w->st, &spec, &id, &existed, &err) != TB_OK ||
        store_job_get(w->st, o->id, id, r->arena, &job, &err) != TB_OK) {
        respond_error(r, err.code == TB_EINVAL ? 422 : api_status_for(err.code), "%s", err.msg);
        return;
    }
    workers_notify(r->srv);
    r->location = tb_arena_printf(r->arena, "/v1/jobs/%lld", (long long)id);
    respond_json(r, existed ? 200 : 202, job_json(&job, r->arena));
}

typedef struct item_list {
    worker *w;
    request *r;
    json_t *items, *errors;
    zip_writer *zip;
    bool unreadable;
    bool refused; /* a document of the ZIP is 军用土地's: answered 403 */
} item_list;

static void
collect_item(void *user, const store_job_item *it)
{
    item_list *l = user;
    if (l->zip) {
        if (it->state != ITEM_DONE || l->refused)
            return;
        if (document_refused(l->w, l->r, it)) {
            l->refused = true;
            return;
        }
        tb_buf data = TB_BUF_INIT;
        tb_err err = {0};
        char name[96];
        snprintf(name, sizeof name, "%s-%s-%d.pdf", it->kind, it->township, it->number);
        if (tb_fs_read(it->file, PDFSIG_MAX_INPUT, &data, &err) == TB_OK)
            zip_add(l->zip, name, data.data, data.len);
        else
            l->unreadable = true;
        tb_buf_release(&data);
        return;
    }
    json_array_append_new(l->items, document_json(l->r->srv, it, l->r->arena));
    if (it->state == ITEM_FAILED)
        json_array_append_new(l->errors, json_pack("{s:s,s:o}", "township", it->township,
                                                   "error", jstr(it->error)));
}

static void
handle_job(worker *w, request *r, api_route route)
{
    tb_err err = {0};
    const char *office = request_office(r)->id;
    store_job job;
    if (route == ROUTE_JOB_CANCEL && store_job_cancel(w->st, office, r->api.id, &err) != TB_OK) {
        respond_tb_error(r, &err);
        return;
    }
    if (store_job_get(w->st, office, r->api.id, r->arena, &job, &err) != TB_OK) {
        respond_tb_error(r, &err);
        return;
    }
    if (route == ROUTE_JOB || route == ROUTE_JOB_CANCEL) {
        item_list l = {.w = w, .r = r, .items = json_array(), .errors = json_array()};
        if (store_job_items(w->st, office, job.id, collect_item, &l, &err) != TB_OK) {
            json_decref(l.items);
            json_decref(l.errors);
            respond_tb_error(r, &err);
            return;
        }
        json_decref(l.items);
        json_t *j = job_json(&job, r->arena);
        json_object_set_new(j, "errors", l.errors);
        respond_json(r, 200, j);
        return;
    }
    zip_writer zip = {TB_BUF_INIT, TB_BUF_INIT, 0};
    item_list l = {.w = w, .r = r, .items = json_array(), .errors = json_array(),
                   .zip = route == ROUTE_JOB_ZIP ? &zip : NULL};
    if (store_job_items(w->st, office, job.id, collect_item, &l, &err) != TB_OK) {
        respond_tb_error(r, &err);
    } else if (l.refused) {
        /* answered 403 */
    } else if (l.unreadable) {
        respond_error(r, 500, "job %lld: an archived document cannot be read", (long long)job.id);
    } else if (l.zip) {
        zip_finish(&zip);
        respond_bytes(r, 200, "application/zip", zip.out.data, zip.out.len);
        r->disposition = tb_arena_printf(r->arena, "attachment; filename=\"job-%lld.zip\"",
                                         (long long)job.id);
    } else {
        respond_json(r, 200, json_pack("{s:I,s:s,s:o,s:o}", "job", (json_int_t)job.id, "state",
                                       store_job_state_name(job.state), "documents", l.items,
                                       "errors", l.errors));
        l.items = l.errors = NULL;
    }
    json_decref(l.items);
    json_decref(l.errors);
    tb_buf_release(&zip.out);
    tb_buf_release(&zip.central);
}

void
handle_request(worker *w, request *r)
{
    switch (r->route->route) {
    case ROUTE_IMPORT: handle_import(w, r); break;
    case ROUTE_PATCHES: handle_patches(w, r); break;
    case ROUTE_PATCH: handle_patch(w, r); break;
    case ROUTE_PATCH_STATUS: handle_patch_status(w, r); break;
    case ROUTE_DOCUMENT_ISSUE: handle_document_issue(w, r); break;
    case ROUTE_DOCUMENT_PREVIEW: handle_document_preview(w, r); break;
    case ROUTE_DOCUMENTS: handle_documents(w, r); break;
    case ROUTE_DOCUMENT: handle_document(w, r, false); break;
    case ROUTE_DOCUMENT_PDF: handle_document(w, r, true); break;
    case ROUTE_VERIFY: handle_verify(w, r); break;
    case ROUTE_JOB_CREATE: handle_job_create(w, r); break;
    case ROUTE_JOB:
    case ROUTE_JOB_RESULTS:
    case ROUTE_JOB_ZIP:
    case ROUTE_JOB_CANCEL: handle_job(w, r, r->route->route); break;
    default: respond_error(r, 404, "no handler for this route"); break;
    }
}
