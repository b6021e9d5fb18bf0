/* DESIGN: render_run reads and checks all input and opens the office once (so bad input or a bad
 * office exits 2 before any document is made), plans the documents (which patches, which number,
 * which file), then renders them on `jobs` workers.  Each worker has its own render context —
 * Pango font maps, GDAL datasets and PROJ transforms, the signing key — made in the thread that
 * uses it (the contexts are opened one at a time, because adding an office's fonts changes
 * fontconfig's process-wide configuration).  A document goes to a temporary file as soon as it is
 * signed and its bytes are freed, so memory stays flat whatever the batch size; only when every
 * document is on disk are they published, as a set (tb_fs_publish_set).  Output does not depend
 * on the number of workers: numbers and paths are fixed by the plan. */
#include "tb_features.h"

#include "docs_int.h"

#include "issue.h"
#include "photo.h"
#include "patch_source.h"
#include "store_snapshot.h"
#include "tb_fs.h"
#include "tb_test.h"

#include <pango/pangocairo.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { RENDER_MAX_JOBS = 64 };

/* One document to make. */
typedef struct doc_plan {
    char *path;
    const patch **patches; /* borrowed from the plan's array */
    size_t count;
    const patch *const *neighbours; /* every patch of the input, drawn around each map's own */
    size_t neighbour_count;
    int number;
    char code[ISSUE_CODE_LEN + 1]; /* verification code when issued */
    char *tmp; /* the rendered temporary, once written */
    tb_buf pdf; /* issuing: the rendering, kept until its issue (render_issue) */
    const stats_progress *progress; /* monthly: the township's; NULL for the county roll-up */
    const monthly_input *monthly;   /* monthly: the figures of the run */
    const tables_input *tables;     /* tables: the figures of the run */
    const dossier_input *dossier;   /* dossier: the township's finding and cases */
    char *extra_path, *extra_tmp;   /* tables: the XLSX beside the PDF, published with it */
    char *copy_path, *copy_tmp;     /* issued with --out: the copy there, published after commit */
    const acceptance_verdict *verdicts; /* acceptance: one per patch (count), in the run's arena */
} doc_plan;

typedef struct doc_plans {
    doc_plan *items;
    size_t count, cap;
    const patch **selection; /* owns the pointer array the plans point into */
    const patch **all;       /* owns the neighbours array */
    tb_arena *arena;         /* the run's: what the plans share (the monthly figures) */
    monthly_input monthly;
    tables_input tables;
} doc_plans;

/* The patches a run reads: from the patch file, or from the store as they stood at the
 * report's date (and, for the monthly report, at the previous month's cut-off too). */
/* A patch a 合格 验收意见书 of the registry accepted (its 已验收 history row names the form). */
typedef struct issued_acceptance {
    const char *id, *docno;
} issued_acceptance;

typedef struct render_input {
    const char *source; /* the file or store, for messages */
    patch_set now, before;
    bool from_store;
    store_batch batch; /* from_store: the snapshot's */
    issued_acceptance *accepted; /* from_store, acceptance: by id */
    size_t accepted_count;
} render_input;

static doc_plan *
plans_add(doc_plans *d)
{
    if (d->count == d->cap)
        d->items = tb_xrealloc(d->items, (d->cap = d->cap ? d->cap * 2 : 8) * sizeof *d->items);
    doc_plan *p = &d->items[d->count++];
    memset(p, 0, sizeof *p);
    return p;
}

static void
plans_release(doc_plans *d)
{
    for (size_t i = 0; i < d->count; i++) {
        if (d->items[i].tmp)
            unlink(d->items[i].tmp);
        if (d->items[i].extra_tmp)
            unlink(d->items[i].extra_tmp);
        if (d->items[i].copy_tmp)
            unlink(d->items[i].copy_tmp);
        free(d->items[i].tmp);
        free(d->items[i].path);
        free(d->items[i].extra_tmp);
        free(d->items[i].extra_path);
        free(d->items[i].copy_tmp);
        free(d->items[i].copy_path);
        tb_buf_release(&d->items[i].pdf);
    }
    free(d->items);
    free(d->selection);
    free(d->all);
}

static int
by_township_then_id(const void *x, const void *y)
{
    const patch *a = *(const patch *const *)x, *b = *(const patch *const *)y;
    int c = strcmp(a->admin_code ? a->admin_code : "", b->admin_code ? b->admin_code : "");
    return c ? c : strcmp(a->id, b->id);
}

static char *
plan_path(const render_request *req, const char *stem, const char *code)
{
    const char *dir = req->out_dir ? req->out_dir : "";
    size_t len = strlen(dir) + strlen(stem) + strlen(code) + 8;
    char *path = tb_xmalloc(len);
    snprintf(path, len, "%s/%s-%s.pdf", dir, stem, code);
    return path;
}

/* One notice per township with illegal patches, in township-code order; every patch must be
 * addressable (the office's data names its township) before any is rendered. */
static tb_code
plan_notices(const render_ctx *rc, const render_request *req, const render_input *in,
             doc_plans *out, tb_err *err)
{
    const patch_set *set = &in->now;
    const patch **illegal = tb_xmalloc_array(set->count + 1, sizeof *illegal);
    out->selection = illegal;
    out->all = tb_xmalloc_array(set->count + 1, sizeof *out->all);
    size_t n = 0;
    for (size_t i = 0; i < set->count; i++) {
        out->all[i] = &set->items[i];
        if (set->items[i].legality == LEGALITY_ILLEGAL)
            illegal[n++] = &set->items[i];
    }
    qsort(illegal, n, sizeof *illegal, by_township_then_id);
    tb_code code = notice_check_townships(rc, illegal, n, in->source, err);
    if (code != TB_OK)
        return code;
    int number = req->opt.first_number;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && strcmp(illegal[j]->admin_code, illegal[i]->admin_code) == 0)
            j++;
        doc_plan *p = plans_add(out);
        p->path = plan_path(req, "notice", illegal[i]->admin_code);
        p->patches = illegal + i;
        p->count = j - i;
        p->neighbours = out->all;
        p->neighbour_count = set->count;
        p->number = req->preview ? 0 : number++;
        i = j;
    }
    return TB_OK;
}

static tb_code
render_notice_plan(render_ctx *rc, const render_request *req, doc_plan *p, tb_buf *out,
                   tb_err *err)
{
    map_ctx_set_neighbours(rc->maps, p->neighbours, p->neighbour_count);
    return notice_render(rc, p->patches, p->count, &req->opt, p->number,
                         p->code[0] ? p->code : NULL, out, err);
}

/* One 月报 per township with illegal patches, in code order, then the county roll-up; the
 * figures are computed once here for all of them. */
static tb_code
plan_monthly(const render_ctx *rc, const render_request *req, const render_input *in,
             doc_plans *out, tb_err *err)
{
    if (!cn_date_valid(req->cutoff) || !cn_date_valid(req->previous_cutoff))
        return tb_err_set(err, TB_EINVAL, "render monthly: --month YYYY-MM is required");
    const patch_set *set = &in->now;
    const patch **now = tb_xmalloc_array(set->count + 1, sizeof *now);
    out->selection = now;
    out->all = tb_xmalloc_array(set->count + 1, sizeof *out->all);
    const patch **before = tb_arena_array(out->arena, in->before.count + 1, sizeof *before);
    const patch **illegal = tb_arena_array(out->arena, set->count + 1, sizeof *illegal);
    size_t n_illegal = 0;
    int year = 0;
    for (size_t i = 0; i < set->count; i++) {
        now[i] = out->all[i] = &set->items[i];
        if (set->items[i].legality == LEGALITY_ILLEGAL && set->items[i].admin_code)
            illegal[n_illegal++] = &set->items[i];
        if (set->items[i].year > year)
            year = set->items[i].year;
    }
    for (size_t i = 0; i < in->before.count; i++)
        before[i] = &in->before.items[i];
    tb_code code = notice_check_townships(rc, illegal, n_illegal, in->source, err);
    if (code != TB_OK)
        return code;
    qsort(now, set->count, sizeof *now, by_township_then_id);
    const stats_monthly *m =
        stats_monthly_compute(now, set->count, before, in->before.count, req->cutoff,
                              req->previous_cutoff, out->arena);
    out->monthly = (monthly_input){m, year ? year : req->cutoff.year};
    int number = req->opt.first_number;
    size_t at = 0;
    for (size_t t = 0; t < m->township_count; t++) {
        const stats_progress *g = &m->townships[t];
        while (at < set->count && strcmp(now[at]->admin_code ? now[at]->admin_code : "",
                                         g->code) < 0)
            at++;
        size_t end = at;
        while (end < set->count && now[end]->admin_code &&
               strcmp(now[end]->admin_code, g->code) == 0)
            end++;
        if (g->illegal.count > 0) {
            doc_plan *p = plans_add(out);
            p->path = plan_path(req, "monthly", g->code);
            p->patches = now + at;
            p->count = end - at;
            p->progress = g;
            p->number = req->preview ? 0 : number++;
        }
        at = end;
    }
    doc_plan *p = plans_add(out);
    p->path = plan_path(req, "monthly", "county");
    p->number = req->preview ? 0 : number++;
    for (size_t i = 0; i < out->count; i++) {
        out->items[i].neighbours = out->all;
        out->items[i].neighbour_count = set->count;
        out->items[i].monthly = &out->monthly;
    }
    return TB_OK;
}

static tb_code
render_monthly_plan(render_ctx *rc, const render_request *req, doc_plan *p, tb_buf *out,
                    tb_err *err)
{
    map_ctx_set_neighbours(rc->maps, p->neighbours, p->neighbour_count);
    (void)req;
    return monthly_render(rc, p->monthly, p->progress, p->patches, p->count, &req->opt,
                          p->number, p->code[0] ? p->code : NULL, out, err);
}

/* One PDF and one XLSX of the statistical tables for the whole county at the date. */
static tb_code
plan_tables(const render_ctx *rc, const render_request *req, const render_input *in,
            doc_plans *out, tb_err *err)
{
    if (req->out_dir == NULL)
        return tb_err_set(err, TB_EINVAL, "render tables: the workbook tables.xlsx is not "
                                          "archived (only the signed tables.pdf is): give --out "
                                          "<dir> for it");
    const patch_set *set = &in->now;
    const patch **now = tb_xmalloc_array(set->count + 1, sizeof *now);
    out->selection = now;
    const patch **illegal = tb_arena_array(out->arena, set->count + 1, sizeof *illegal);
    size_t n_illegal = 0;
    int year = 0;
    for (size_t i = 0; i < set->count; i++) {
        now[i] = &set->items[i];
        if (set->items[i].legality == LEGALITY_ILLEGAL && set->items[i].admin_code)
            illegal[n_illegal++] = &set->items[i];
        if (set->items[i].year > year)
            year = set->items[i].year;
    }
    tb_code code = notice_check_townships(rc, illegal, n_illegal, in->source, err);
    if (code != TB_OK)
        return code;
    qsort(now, set->count, sizeof *now, by_township_then_id);
    const stats_monthly *m =
        stats_monthly_compute(now, set->count, NULL, 0, req->opt.date, req->opt.date, out->arena);
    const stats_classification **classes =
        tb_arena_array(out->arena, m->township_count + 1, sizeof *classes);
    size_t at = 0;
    for (size_t t = 0; t < m->township_count; t++) {
        while (at < set->count && strcmp(now[at]->admin_code ? now[at]->admin_code : "",
                                         m->townships[t].code) < 0)
            at++;
        size_t end = at;
        while (end < set->count && now[end]->admin_code &&
               strcmp(now[end]->admin_code, m->townships[t].code) == 0)
            end++;
        classes[t] = stats_classify(now + at, end - at, out->arena);
        at = end;
    }
    out->tables = (tables_input){m, classes, stats_classify(now, set->count, out->arena), now,
                                 set->count, year ? year : req->opt.date.year};
    doc_plan *p = plans_add(out);
    const char *dir = req->out_dir ? req->out_dir : "";
    size_t len = strlen(dir) + 16;
    p->path = tb_xmalloc(len);
    snprintf(p->path, len, "%s/tables.pdf", dir);
    p->extra_path = tb_xmalloc(len);
    snprintf(p->extra_path, len, "%s/tables.xlsx", dir);
    p->number = req->preview ? 0 : req->opt.first_number;
    p->tables = &out->tables;
    return TB_OK;
}

static tb_code
render_tables_plan(render_ctx *rc, const render_request *req, doc_plan *p, tb_buf *out,
                   tb_err *err)
{
    return tables_render(rc, p->tables, &req->opt, p->number, p->code[0] ? p->code : NULL,
                         p->extra_path, &p->extra_tmp, out, err);
}

static bool
rectified(const patch *p)
{
    return p->state == RECTIFY_DONE || p->state == RECTIFY_ACCEPTED;
}

/* Whether a 监测编号 can name a file (acceptance-<id>.pdf, the photos' <dir>/<id>/): letters,
 * digits, '-' and '_' only, so an id from outside can never reach another folder. */
static bool
id_is_file_name(const char *id)
{
    if (id[0] == '\0' || strlen(id) > 64)
        return false;
    for (const char *c = id; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
              *c == '-' || *c == '_'))
            return false;
    return true;
}

static int
issued_cmp(const void *x, const void *y)
{
    return strcmp(((const issued_acceptance *)x)->id, ((const issued_acceptance *)y)->id);
}

/* Why patch p cannot be accepted, or NULL: only a 违法用地 patch that is rectified (已整改, or
 * already 已验收) is, unless the store records that a 合格 form already accepted it. */
static const char *
not_acceptable(const render_input *in, const patch *p, tb_arena *a)
{
    issued_acceptance key = {p->id, NULL};
    const issued_acceptance *done =
        in->accepted_count ? bsearch(&key, in->accepted, in->accepted_count, sizeof key,
                                     issued_cmp)
                           : NULL;
    if (done)
        return tb_arena_printf(a, "its 整改状态 is %s: the 验收意见书 %s accepted it already",
                               rectify_state_name(RECTIFY_ACCEPTED), done->docno);
    if (p->legality != LEGALITY_ILLEGAL)
        return tb_arena_printf(a, "it is %s (PDJG), not 违法用地: only an illegal patch is "
                                  "rectified and accepted",
                               p->legality ? legality_name(p->legality) : "not judged");
    if (!rectified(p))
        return tb_arena_printf(a, "its 整改状态 (ZGZT) is %s: only a rectified patch (已整改) "
                                  "is accepted",
                               p->state ? rectify_state_name(p->state) : "empty");
    return NULL;
}

/* The photos of patch p under req->photos_dir (the JPEGs of <dir>/<id>/), each with its EXIF time and
 * place and whether it was taken inside the patch.  A photo that is not a readable JPEG is bad
 * input (exit 2, naming the file). */
static tb_code
plan_photos(const render_request *req, acceptance_verdict *v, tb_arena *a, tb_err *err)
{
    if (req->photos_dir == NULL)
        return TB_OK;
    photo *photos;
    size_t n;
    const char *dir = tb_arena_printf(a, "%s/%s", req->photos_dir, v->patch->id);
    tb_code code = photo_read_dir(dir, &photos, &n, a, err);
    if (code != TB_OK)
        return code;
    acceptance_photo *out = tb_arena_array(a, n + 1, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        const photo *ph = &photos[i];
        out[i] = (acceptance_photo){ph, ph->name, ph->has_time, ph->date, ph->hour, ph->minute,
                                    ph->has_place, ph->lon, ph->lat, photo_inside(ph, v->patch)};
    }
    v->photos = out, v->photo_count = n;
    return TB_OK;
}

/* The 验收意见书 of the rectified illegal patches, one per patch (acceptance-<id>.pdf) or, with
 * --per township, one per township (acceptance-<code>.pdf).  A patch named by --patch that is not
 * rectified is refused, naming it and its state; without --patch the unrectified are left out.
 * Every --reject must name a patch of the run. */
static tb_code
plan_acceptance(const render_ctx *rc, const render_request *req, const render_input *in,
                doc_plans *out, tb_err *err)
{
    struct stat st;
    if (req->photos_dir && (stat(req->photos_dir, &st) != 0 || !S_ISDIR(st.st_mode)))
        return tb_err_set(err, TB_ENOTFOUND, "--photos %s: no such folder (it holds "
                                             "<patch id>/*.jpg)", req->photos_dir);
    const patch_set *set = &in->now;
    const patch **cands = tb_xmalloc_array(set->count + 1, sizeof *cands);
    out->selection = cands;
    out->all = tb_xmalloc_array(set->count + 1, sizeof *out->all);
    size_t n = 0;
    for (size_t i = 0; i < set->count; i++) {
        const patch *p = out->all[i] = &set->items[i];
        const char *why = not_acceptable(in, p, out->arena);
        if (why == NULL && !id_is_file_name(p->id))
            return tb_err_set(err, TB_EINVAL, "render acceptance: %s record %ld, field JCBH: "
                                              "'%s' cannot name the form's file (letters, "
                                              "digits, - and _ only, at most 64)",
                              in->source, p->record, p->id);
        if (why == NULL)
            cands[n++] = p;
        else if (req->select.patch_count)
            return tb_err_set(err, TB_EINVAL, "render acceptance: %s record %ld: patch %s cannot "
                                              "be accepted: %s",
                              in->source, p->record, p->id, why);
    }
    if (n == 0)
        return tb_err_set(err, TB_EINVAL, "render acceptance: none of the %zu patches selected "
                                          "from %s is a rectified 违法用地 patch (ZGZT 已整改)",
                          set->count, in->source);
    qsort(cands, n, sizeof *cands, by_township_then_id);
    tb_code code = notice_check_townships(rc, cands, n, in->source, err);
    if (code != TB_OK)
        return code;
    acceptance_verdict *verdicts = tb_arena_array(out->arena, n, sizeof *verdicts);
    for (size_t i = 0; i < n; i++) {
        verdicts[i] = (acceptance_verdict){cands[i], true, NULL, NULL, 0};
        if ((code = plan_photos(req, &verdicts[i], out->arena, err)) != TB_OK)
            return code;
    }
    for (size_t k = 0; k < req->reject_count; k++) {
        const render_reject *r = &req->rejects[k];
        size_t i = 0;
        while (i < n && strcmp(cands[i]->id, r->patch_id) != 0)
            i++;
        if (i == n)
            return tb_err_set(err, TB_EINVAL, "--reject %s: no rectified patch of this run has "
                                              "this 监测编号 (JCBH) in %s",
                              r->patch_id, in->source);
        verdicts[i].passed = false;
        verdicts[i].opinion = r->opinion;
    }
    int number = req->opt.first_number;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (req->per_township && j < n &&
               strcmp(cands[j]->admin_code, cands[i]->admin_code) == 0)
            j++;
        doc_plan *p = plans_add(out);
        p->path = plan_path(req, "acceptance",
                            req->per_township ? cands[i]->admin_code : cands[i]->id);
        p->patches = cands + i;
        p->verdicts = verdicts + i;
        p->count = j - i;
        p->neighbours = out->all;
        p->neighbour_count = set->count;
        p->number = req->preview ? 0 : number++;
        i = j;
    }
    return TB_OK;
}

/* The 约谈 findings of the run's patches under the office's rules: the one computation the
 * dossier and --explain share. */
static interview_finding *
run_interviews(const tpl_office *o, const render_input *in, interview_rules *rules, size_t *n,
               tb_arena *a)
{
    const patch **ps = tb_arena_array(a, in->now.count + 1, sizeof *ps);
    for (size_t i = 0; i < in->now.count; i++)
        ps[i] = &in->now.items[i];
    *rules = tpl_office_interview_rules(o);
    return stats_interviews(ps, in->now.count, rules, n, a);
}

/* A township's name: as its patches give it, else the office's <townships>. */
static const char *
township_name(const tpl_office *o, const interview_finding *f)
{
    for (size_t i = 0; f->name == NULL && i < o->township_count; i++)
        if (strcmp(o->townships[i].code, f->code) == 0)
            return o->townships[i].name;
    return f->name;
}

static tb_code input_batch(store *st, const render_selection *sel, store_batch *out, tb_arena *a,
                           tb_err *err);

/* What the store holds on the dossier's patches. */
typedef struct case_vec {
    dossier_event *events;
    size_t count, cap;
    tb_arena *a;
} case_vec;

static const char *
dup_or_null(tb_arena *a, const char *s)
{
    return s ? tb_arena_strdup(a, s) : NULL;
}

static void
collect_event(void *user, const store_history_row *h)
{
    case_vec *v = user;
    if (v->count == v->cap)
        v->events = tb_xrealloc(v->events, (v->cap = v->cap ? v->cap * 2 : 16) *
                                               sizeof *v->events);
    v->events[v->count++] = (dossier_event){
        tb_arena_strdup(v->a, h->field), dup_or_null(v->a, h->from), dup_or_null(v->a, h->to),
        tb_arena_strdup(v->a, h->at), dup_or_null(v->a, h->by), dup_or_null(v->a, h->note)};
}

typedef struct case_ref {
    const char *id;
    dossier_case *c;
} case_ref;

static int
case_ref_cmp(const void *x, const void *y)
{
    return strcmp(((const case_ref *)x)->id, ((const case_ref *)y)->id);
}

typedef struct registry_walk {
    case_ref *refs;
    size_t count;
    tb_arena *a;
} registry_walk;

/* Every notice and acceptance of the registry goes to the cases of the patches it names. */
static bool
collect_issued(void *user, const store_reg_entry *e)
{
    registry_walk *w = user;
    if (strcmp(e->kind, "notice") != 0 && strcmp(e->kind, "acceptance") != 0)
        return true;
    const char *s = e->patches ? e->patches : "";
    while (*s) {
        size_t n = strcspn(s, ",");
        char *id = tb_arena_printf(w->a, "%.*s", (int)n, s);
        case_ref key = {id, NULL}, *hit = bsearch(&key, w->refs, w->count, sizeof key,
                                                  case_ref_cmp);
        if (hit) {
            dossier_case *c = hit->c;
            dossier_issued *d = tb_arena_array(w->a, c->issued_count + 1, sizeof *d);
            if (c->issued_count)
                memcpy(d, c->issued, c->issued_count * sizeof *d);
            d[c->issued_count++] = (dossier_issued){tb_arena_strdup(w->a, e->kind),
                                                    tb_arena_strdup(w->a, e->docno),
                                                    tb_arena_strdup(w->a, e->issued_at)};
            c->issued = d;
        }
        s += n + (s[n] == ',');
    }
    return true;
}

/* The status history of every case and the documents the registry holds for them; *start the
 * earliest day of any of it. */
static tb_code
dossier_records(const render_request *req, dossier_case *cases, size_t n, cn_date *start,
                tb_arena *a, tb_err *err)
{
    store *st = store_open(req->db_path, err);
    if (st == NULL)
        return err->code;
    store_batch batch;
    tb_code code = input_batch(st, &req->select, &batch, a, err);
    case_vec v = {.a = a};
    for (size_t i = 0; i < n && code == TB_OK; i++) {
        v.count = 0;
        code = store_patch_history(st, &batch, cases[i].patch->id, collect_event, &v, err);
        cases[i].events = tb_arena_array(a, v.count + 1, sizeof *cases[i].events);
        if (v.count)
            memcpy((dossier_event *)cases[i].events, v.events, v.count * sizeof *v.events);
        cases[i].event_count = v.count;
        for (size_t k = 0; k < v.count; k++) {
            cn_date d;
            char day[11];
            snprintf(day, sizeof day, "%s", v.events[k].at);
            if (cn_date_parse(day, &d) && (!cn_date_valid(*start) || cn_date_cmp(d, *start) < 0))
                *start = d;
        }
    }
    free(v.events);
    if (code == TB_OK) {
        case_ref *refs = tb_arena_array(a, n + 1, sizeof *refs);
        for (size_t i = 0; i < n; i++)
            refs[i] = (case_ref){cases[i].patch->id, &cases[i]};
        qsort(refs, n, sizeof *refs, case_ref_cmp);
        registry_walk w = {refs, n, a};
        code = store_registry_each(st, collect_issued, &w, err);
    }
    store_close(st);
    return code;
}

/* One dossier per township the office's 约谈 rules select that has 违法用地 patches, in code
 * order; --db only (the status history and the registry are part of it). */
static tb_code
plan_dossier(const render_ctx *rc, const render_request *req, const render_input *in,
             doc_plans *out, tb_err *err)
{
    if (req->patches_path || req->db_path == NULL)
        return tb_err_set(err, TB_EINVAL, "render dossier: the dossier holds each patch's status "
                                          "history and the documents issued for it: give --db "
                                          "<store>, not --patches (--explain works with either)");
    tb_arena *a = out->arena;
    const patch_set *set = &in->now;
    const patch **illegal = tb_xmalloc_array(set->count + 1, sizeof *illegal);
    out->selection = illegal;
    out->all = tb_xmalloc_array(set->count + 1, sizeof *out->all);
    size_t n = 0;
    int year = 0;
    for (size_t i = 0; i < set->count; i++) {
        out->all[i] = &set->items[i];
        if (set->items[i].legality == LEGALITY_ILLEGAL && set->items[i].admin_code)
            illegal[n++] = &set->items[i];
        if (set->items[i].year > year)
            year = set->items[i].year;
    }
    qsort(illegal, n, sizeof *illegal, by_township_then_id);
    tb_code code = notice_check_townships(rc, illegal, n, in->source, err);
    if (code != TB_OK)
        return code;
    interview_rules *rules = tb_arena_alloc(a, sizeof *rules);
    size_t nf;
    const interview_finding *f = run_interviews(rc->office, in, rules, &nf, a);
    dossier_case *cases = tb_arena_array(a, n + 1, sizeof *cases);
    memset(cases, 0, (n + 1) * sizeof *cases);
    size_t ncases = 0;
    int number = req->opt.first_number;
    for (size_t k = 0, at = 0; k < nf; k++) {
        while (at < n && strcmp(illegal[at]->admin_code, f[k].code) < 0)
            at++;
        size_t end = at;
        while (end < n && strcmp(illegal[end]->admin_code, f[k].code) == 0)
            end++;
        if (f[k].reasons == 0 || end == at)
            continue;
        dossier_input *d = tb_arena_alloc(a, sizeof *d);
        *d = (dossier_input){&f[k], stats_interview_grounds(&f[k], rules, a), rules,
                             cases + ncases, end - at, {0}, year ? year : req->opt.date.year};
        for (size_t i = at; i < end; i++)
            cases[ncases++].patch = illegal[i];
        doc_plan *p = plans_add(out);
        p->path = plan_path(req, "dossier", f[k].code);
        p->patches = illegal + at;
        p->count = end - at;
        p->neighbours = out->all;
        p->neighbour_count = set->count;
        p->number = req->preview ? 0 : number++;
        p->dossier = d;
        at = end;
    }
    cn_date start = {0};
    if ((code = dossier_records(req, cases, ncases, &start, a, err)) != TB_OK)
        return code;
    for (size_t i = 0; i < out->count; i++) {
        dossier_input *d = (dossier_input *)out->items[i].dossier;
        d->start = cn_date_valid(start) ? start : req->opt.date;
    }
    return TB_OK;
}

static tb_code
render_acceptance_plan(render_ctx *rc, const render_request *req, doc_plan *p, tb_buf *out,
                       tb_err *err)
{
    map_ctx_set_neighbours(rc->maps, p->neighbours, p->neighbour_count);
    return acceptance_render(rc, p->verdicts, p->count, req->per_township, &req->opt, p->number,
                             p->code[0] ? p->code : NULL, out, err);
}

static tb_code
render_dossier_plan(render_ctx *rc, const render_request *req, doc_plan *p, tb_buf *out,
                    tb_err *err)
{
    map_ctx_set_neighbours(rc->maps, p->neighbours, p->neighbour_count);
    return dossier_render(rc, p->dossier, p->patches, p->count, &req->opt, p->number,
                          p->code[0] ? p->code : NULL, out, err);
}

static const struct doc_kind {
    const char *name;
    tb_code (*plan)(const render_ctx *rc, const render_request *req, const render_input *in,
                    doc_plans *out, tb_err *err);
    tb_code (*render)(render_ctx *rc, const render_request *req, doc_plan *p, tb_buf *out,
                      tb_err *err);
} kinds[] = {
    {"notice", plan_notices, render_notice_plan},
    {"monthly", plan_monthly, render_monthly_plan},
    {"tables", plan_tables, render_tables_plan},
    {"acceptance", plan_acceptance, render_acceptance_plan},
    {"dossier", plan_dossier, render_dossier_plan},
};

const char *const *
render_kind_names(void)
{
    static const char *names[sizeof kinds / sizeof kinds[0] + 1];
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        names[i] = kinds[i].name;
    return names;
}

int
render_default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > RENDER_MAX_JOBS ? RENDER_MAX_JOBS : (int)n;
}

/* ---- input ------------------------------------------------------------------------------- */

/* The store's batch the selection names, or its newest. */
static tb_code
input_batch(store *st, const render_selection *sel, store_batch *out, tb_arena *a, tb_err *err)
{
    if (sel->batch_id > 0 || sel->batch_year)
        return store_find_batch(st, &(store_batch){sel->batch_year, sel->batch_quarter, NULL},
                                sel->batch_id, out, a, err);
    return store_latest_batch(st, out, a, err);
}

typedef struct accepted_walk {
    issued_acceptance *items;
    size_t count, cap;
    tb_arena *a;
    const char *docno; /* of the history walk: the form looked for */
    bool found;
} accepted_walk;

/* Every (patch, number) a 验收意见书 of the registry names. */
static bool
collect_acceptance(void *user, const store_reg_entry *e)
{
    accepted_walk *w = user;
    if (strcmp(e->kind, "acceptance") != 0 || e->patches == NULL)
        return true;
    for (const char *s = e->patches; *s;) {
        size_t n = strcspn(s, ",");
        if (w->count == w->cap)
            w->items = tb_xrealloc(w->items, (w->cap = w->cap ? 2 * w->cap : 16) *
                                                 sizeof *w->items);
        w->items[w->count++] = (issued_acceptance){tb_arena_printf(w->a, "%.*s", (int)n, s),
                                                   tb_arena_strdup(w->a, e->docno)};
        s += n + (s[n] == ',');
    }
    return true;
}

/* The latest manual state change is to 已验收 by the form w->docno. */
static void
accepted_by(void *user, const store_history_row *h)
{
    accepted_walk *w = user;
    if (strcmp(h->field, "state") == 0 && h->import_id == 0)
        w->found = h->to && strcmp(h->to, rectify_state_name(RECTIFY_ACCEPTED)) == 0 &&
                   h->note && strcmp(h->note, w->docno) == 0;
}

/* The patches of the batch a 合格 验收意见书 accepted: named by a form of the registry and moved
 * to 已验收 by it (render_issue records that, with the form's number).  A 不合格 form names its
 * patch too but moves nothing, so the patch can be accepted again. */
static tb_code
load_accepted(store *st, render_input *in, tb_arena *a, tb_err *err)
{
    accepted_walk w = {.a = a};
    tb_code code = store_registry_each(st, collect_acceptance, &w, err);
    if (code != TB_OK || w.count == 0) {
        free(w.items);
        return code;
    }
    qsort(w.items, w.count, sizeof *w.items, issued_cmp);
    size_t n = 0;
    for (size_t i = 0; i < w.count && code == TB_OK;) {
        size_t j = i;
        bool hit = false;
        for (; j < w.count && strcmp(w.items[j].id, w.items[i].id) == 0; j++) {
            accepted_walk h = {.docno = w.items[j].docno};
            if (!hit && (code = store_patch_history(st, &in->batch, w.items[j].id, accepted_by,
                                                    &h, err)) == TB_ENOTFOUND) {
                *err = (tb_err){0}; /* a patch of another batch */
                code = TB_OK;
            }
            if (code == TB_OK && h.found && !hit) {
                w.items[n++] = w.items[j];
                hit = true;
            }
        }
        i = j;
    }
    in->accepted = tb_arena_array(a, n + 1, sizeof *in->accepted);
    memcpy(in->accepted, w.items, n * sizeof *w.items);
    in->accepted_count = n;
    free(w.items);
    return code;
}

static tb_code
load_input(const render_request *req, tb_arena *a, render_input *in, tb_err *err)
{
    if (req->patches_path) {
        if (req->select.batch_id > 0)
            return tb_err_set(err, TB_EINVAL, "--batch %ld: a batch id names a batch of the "
                                              "store (--db), not of a patch file",
                              req->select.batch_id);
        patch_set *set = patch_set_load(req->patches_path, req->layer, a, err);
        if (set == NULL)
            return err->code;
        *in = (render_input){.source = req->patches_path, .now = *set};
        return TB_OK;
    }
    if (req->db_path == NULL)
        return tb_err_set(err, TB_EINVAL, "render: --patches or --db is required");
    store *st = store_open(req->db_path, err);
    if (st == NULL)
        return err->code;
    cn_date at = cn_date_valid(req->cutoff) ? req->cutoff : req->opt.date;
    in->source = req->db_path;
    in->from_store = true;
    tb_code code = input_batch(st, &req->select, &in->batch, a, err);
    if (code == TB_OK)
        code = store_snapshot(st, &in->batch, at, a, &in->now.items, &in->now.count, err);
    if (code == TB_OK && cn_date_valid(req->previous_cutoff))
        code = store_snapshot(st, &in->batch, req->previous_cutoff, a, &in->before.items,
                              &in->before.count, err);
    if (code == TB_OK && strcmp(req->kind, "acceptance") == 0)
        code = load_accepted(st, in, a, err);
    store_close(st);
    return code;
}

/* ---- selection (--batch, --township, --patch) ------------------------------------------------ */

static bool
listed(const char *s, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (s && strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* Whether a patch of a file belongs to the named batch (NF, JD); a store's snapshot already is
 * the batch's. */
static bool
in_batch(const render_selection *sel, bool from_file, const patch *p)
{
    if (!from_file || sel->batch_year == 0)
        return true;
    return p->year == sel->batch_year && patch_quarter_number(p->quarter) == sel->batch_quarter;
}

static bool
selected(const render_selection *sel, bool from_file, const patch *p)
{
    return in_batch(sel, from_file, p) &&
           (sel->township_count == 0 || listed(p->admin_code, sel->townships, sel->township_count)) &&
           (sel->patch_count == 0 || listed(p->id, sel->patch_ids, sel->patch_count));
}

/* Keeps, in place and in order, the patches of set the selection names. */
static void
keep_selected(const render_selection *sel, bool from_file, patch_set *set)
{
    size_t n = 0;
    for (size_t i = 0; i < set->count; i++)
        if (selected(sel, from_file, &set->items[i]))
            set->items[n++] = set->items[i];
    set->count = n;
}

/* The batch as the clerk named it, for messages. */
static const char *
batch_label(const render_selection *sel, tb_arena *a)
{
    if (sel->batch_id > 0)
        return tb_arena_printf(a, " (batch id %ld)", sel->batch_id);
    if (sel->batch_quarter)
        return tb_arena_printf(a, " (batch %d-Q%d)", sel->batch_year, sel->batch_quarter);
    return sel->batch_year ? tb_arena_printf(a, " (batch %d)", sel->batch_year) : "";
}

/* Applies req->select to the run's patches, once for every kind: each township and patch named
 * must be in the source (in the batch), else nothing is rendered (TB_EINVAL naming it). */
static tb_code
select_input(const render_request *req, render_input *in, tb_arena *a, tb_err *err)
{
    const render_selection *sel = &req->select;
    bool from_file = req->patches_path != NULL;
    const char *batch = batch_label(sel, a);
    for (size_t k = 0; k < sel->township_count; k++) {
        bool found = false;
        for (size_t i = 0; i < in->now.count && !found; i++)
            found = in->now.items[i].admin_code &&
                    strcmp(in->now.items[i].admin_code, sel->townships[k]) == 0 &&
                    in_batch(sel, from_file, &in->now.items[i]);
        if (!found)
            return tb_err_set(err, TB_EINVAL, "--township %s: unknown township: no patch of %s%s "
                                              "has this 行政区代码 (XZQDM)",
                              sel->townships[k], in->source, batch);
    }
    for (size_t k = 0; k < sel->patch_count; k++) {
        const patch *hit = NULL;
        for (size_t i = 0; i < in->now.count && !hit; i++)
            if (strcmp(in->now.items[i].id, sel->patch_ids[k]) == 0)
                hit = &in->now.items[i];
        if (hit == NULL || !in_batch(sel, from_file, hit))
            return tb_err_set(err, TB_EINVAL, "--patch %s: unknown patch: %s%s has no patch with "
                                              "this 监测编号 (JCBH)",
                              sel->patch_ids[k], in->source, batch);
        if (sel->township_count && !listed(hit->admin_code, sel->townships, sel->township_count))
            return tb_err_set(err, TB_EINVAL,
                              "--patch %s: %s record %ld: the patch lies in township %s (XZQDM), "
                              "not in any --township given",
                              hit->id, in->source, hit->record,
                              hit->admin_code ? hit->admin_code : "(none)");
    }
    keep_selected(sel, from_file, &in->now);
    keep_selected(sel, from_file, &in->before);
    if (in->now.count == 0 && sel->batch_year)
        return tb_err_set(err, TB_EINVAL, "--batch: %s has no patch%s", in->source, batch);
    return TB_OK;
}

/* ---- interviews (约谈) ----------------------------------------------------------------------- */

tb_code
render_explain(const render_request *req, render_explain_fn *fn, void *user, tb_err *err)
{
    tb_arena *a = tb_arena_new(0);
    render_input in = {0};
    tb_code code = load_input(req, a, &in, err);
    if (code == TB_OK)
        code = select_input(req, &in, a, err);
    const tpl_office *o = code == TB_OK ? tpl_office_load(req->office_dir, a, err) : NULL;
    if (o) {
        interview_rules rules;
        size_t n;
        const interview_finding *f = run_interviews(o, &in, &rules, &n, a);
        for (size_t i = 0; i < n; i++)
            fn(user, &f[i], township_name(o, &f[i]), stats_interview_grounds(&f[i], &rules, a));
    } else if (code == TB_OK) {
        code = err->code;
    }
    tb_arena_free(a);
    return code;
}

/* ---- issuing (docs/issue.h) ----------------------------------------------------------------- */

/* Gives every planned document the number it would get if nobody else issued meanwhile, and its
 * verification code: the batch is rendered with these, outside the store's write lock. */
static tb_code
guess_numbers(const render_request *req, render_ctx *rc, doc_plans *plans, tb_err *err)
{
    int next = 0;
    tb_code code = issue_guess_next(req->db_path, rc->office, req->kind, req->opt.date.year,
                                    &next, err);
    for (size_t i = 0; code == TB_OK && i < plans->count; i++) {
        doc_plan *p = &plans->items[i];
        if (req->out_dir) /* the planned name in --out gets a copy once the issue is committed */
            p->copy_path = p->path;
        else
            free(p->path);
        p->path = NULL;
        p->number = next + (int)i;
        if (!issue_new_code(p->code))
            code = tb_err_set(err, TB_ELIB, "issuing: no random bytes for the verification code");
    }
    return code;
}

/* Renders p again, with the number the registry gave it instead of the guess (the tables'
 * workbook too: it is written again). */
static tb_code
render_again(render_ctx *rc, const render_request *req, const struct doc_kind *kind,
             doc_plan *p, tb_err *err)
{
    if (p->extra_tmp) {
        unlink(p->extra_tmp);
        free(p->extra_tmp);
        p->extra_tmp = NULL;
    }
    p->pdf.len = 0;
    tb_test_slow();
    return kind->render(rc, req, p, &p->pdf, err);
}

/* Inside document p's issue: each patch a 合格 验收意见书 accepts goes to 已验收 in the store, the
 * history row naming the form's number, so that patch is not accepted twice (load_accepted); it
 * commits with the document's registration or not at all.  A patch the store already has as
 * 已验收 (so imported) keeps its state. */
static tb_code
record_acceptance(issuer *is, const render_request *req, render_ctx *rc,
                  const render_input *in, const doc_plan *p, int number, const char *signer,
                  tb_err *err)
{
    if (p->verdicts == NULL)
        return TB_OK;
    char docno[128];
    tb_code code = docs_docno(rc->office, "acceptance", req->opt.date.year, number, docno,
                              sizeof docno, err);
    for (size_t k = 0; k < p->count && code == TB_OK; k++)
        if (p->verdicts[k].passed && p->verdicts[k].patch->state != RECTIFY_ACCEPTED)
            code = store_patch_set_state(issuer_store(is), &in->batch, p->verdicts[k].patch->id,
                                         RECTIFY_ACCEPTED, signer, docno, NULL, err);
    return code;
}

/* Issues the rendered plans one by one, each in a transaction of its own, as the daemon does:
 * the store's write lock is held for one document's number, archive file and registry entry
 * (milliseconds), not for the batch, so the daemon (or another CLI) can issue in between.  A
 * document whose guessed number was taken meanwhile is rendered again with the number it gets
 * — outside the lock, the number given back by rolling back; under it after two tries, so a
 * busy registry cannot starve the batch.  Documents issued before a failure stay issued (each
 * is complete: number, file and entry); the error says how many. */
static tb_code
render_issue(const render_request *req, render_ctx *rc, const struct doc_kind *kind,
             const render_input *in, doc_plans *plans, render_output_fn *on_file, void *user,
             tb_err *err)
{
    char *root = req->archive_root ? tb_xstrdup(req->archive_root)
                                   : issue_default_archive(req->db_path);
    const char *signer = pdfsig_signer_name(rc->signer);
    tb_code code = TB_OK;
    size_t issued = 0;
    for (size_t i = 0; i < plans->count && code == TB_OK; i++) {
        doc_plan *p = &plans->items[i];
        tb_buf ids = TB_BUF_INIT;
        for (size_t k = 0; k < p->count; k++)
            tb_buf_printf(&ids, "%s%s", k ? "," : "", p->patches[k]->id);
        for (int attempt = 0; code == TB_OK; attempt++) {
            issuer *is = issuer_begin(req->db_path, root, rc->office, req->kind,
                                      req->opt.date.year, err);
            if (is == NULL) {
                code = err->code;
                break;
            }
            int number = 0;
            char *path = NULL, *tmp = NULL;
            code = issuer_allocate_number(is, &number, &path, err);
            if (code == TB_OK && number != p->number) {
                p->number = number;
                if (attempt < 2) { /* give the number back and render without the lock */
                    issuer_end(is);
                    free(path);
                    code = render_again(rc, req, kind, p, err);
                    continue;
                }
                code = render_again(rc, req, kind, p, err);
            }
            if (code == TB_OK)
                code = record_acceptance(is, req, rc, in, p, number, signer, err);
            if (code == TB_OK)
                code = tb_fs_write_temp(path, p->pdf.data, p->pdf.len, &tmp, err);
            if (code == TB_OK) {
                issue_doc doc = {tmp, path, number, p->code, ids.len ? (char *)ids.data : ""};
                code = issuer_commit(is, req->kind, signer, &doc, 1, err);
            }
            if (code != TB_OK && tmp)
                unlink(tmp); /* not renamed into the archive */
            issuer_end(is);
            free(tmp);
            if (code == TB_OK) {
                issued++;
                p->path = path;
                if (on_file)
                    on_file(user, path);
                if (p->copy_path)
                    code = tb_fs_write_temp(p->copy_path, p->pdf.data, p->pdf.len, &p->copy_tmp,
                                            err);
            } else {
                free(path);
            }
            break;
        }
        tb_buf_release(&ids);
        tb_buf_release(&p->pdf);
    }
    free(root);
    if (code != TB_OK && issued > 0) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        *err = (tb_err){0};
        tb_err_set(err, code, "%zu of %zu documents were issued and archived (each registered); "
                              "then: %s", issued, plans->count, why);
    }
    return code;
}

/* What goes to --out (not the archive): every document when nothing is issued, else the copies
 * of the issued ones; and the tables' workbook. */
static tb_code
publish_out(doc_plans *plans, bool issued, tb_err *err)
{
    char **tmps = tb_xcalloc(2 * plans->count + 1, sizeof *tmps);
    const char **paths = tb_xcalloc(2 * plans->count + 1, sizeof *paths);
    size_t files = 0;
    for (size_t i = 0; i < plans->count; i++) {
        doc_plan *p = &plans->items[i];
        if (!issued)
            tmps[files] = p->tmp, paths[files++] = p->path;
        else if (p->copy_tmp)
            tmps[files] = p->copy_tmp, paths[files++] = p->copy_path;
        if (p->extra_tmp)
            tmps[files] = p->extra_tmp, paths[files++] = p->extra_path;
    }
    tb_code code = tb_fs_publish_set(tmps, paths, files, err);
    free(paths);
    free(tmps);
    if (code != TB_OK)
        return code;
    for (size_t i = 0; i < plans->count; i++) { /* published: nothing to unlink */
        doc_plan *p = &plans->items[i];
        if (!issued) {
            free(p->tmp);
            p->tmp = NULL;
        }
        free(p->copy_tmp);
        free(p->extra_tmp);
        p->copy_tmp = p->extra_tmp = NULL;
    }
    return TB_OK;
}

/* Publishes what goes to --out (after the issue, when issuing: render_issue has named the
 * archived documents), naming every file written. */
static tb_code
publish_plans(const render_request *req, doc_plans *plans, bool issued,
              render_output_fn *on_file, void *user, tb_err *err)
{
    tb_code code = publish_out(plans, issued, err);
    if (code != TB_OK && issued) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        return tb_err_set(err, TB_EIO, "the documents were issued and archived, but their "
                                       "copies in %s could not be written: %s",
                          req->out_dir, why);
    }
    for (size_t i = 0; i < plans->count && code == TB_OK && on_file; i++) {
        const doc_plan *p = &plans->items[i];
        if (!issued)
            on_file(user, p->path);
        if (p->copy_path)
            on_file(user, p->copy_path);
        if (p->extra_path)
            on_file(user, p->extra_path);
    }
    return code;
}

/* ---- the workers ---------------------------------------------------------------------------- */

typedef struct batch {
    const render_request *req;
    const struct doc_kind *kind;
    doc_plans *plans;
    pthread_mutex_t lock;     /* guards next, failed, err, and render_ctx_open */
    pthread_barrier_t opened; /* every worker's context is open before any renders */
    size_t next;
    bool failed;
    tb_err err;               /* the first failure */
} batch;

typedef struct worker {
    batch *b;
    render_ctx *rc; /* worker 0 gets the context opened by render_run; others open their own */
} worker;

static void
batch_fail(batch *b, const tb_err *e)
{
    pthread_mutex_lock(&b->lock);
    if (!b->failed) {
        b->failed = true;
        b->err = *e;
    }
    pthread_mutex_unlock(&b->lock);
}

static void *
worker_run(void *arg)
{
    worker *w = arg;
    batch *b = w->b;
    tb_err err = {0};
    if (w->rc == NULL) {
        pthread_mutex_lock(&b->lock);
        w->rc = render_ctx_open(b->req->office_dir, b->req->imagery_path, &err);
        pthread_mutex_unlock(&b->lock);
        if (w->rc == NULL)
            batch_fail(b, &err);
    }
    pthread_barrier_wait(&b->opened);
    tb_buf pdf = TB_BUF_INIT;
    while (w->rc) {
        pthread_mutex_lock(&b->lock);
        size_t i = b->failed ? b->plans->count : b->next++;
        pthread_mutex_unlock(&b->lock);
        if (i >= b->plans->count)
            break;
        doc_plan *p = &b->plans->items[i];
        pdf.len = 0;
        tb_test_slow();
        if (b->req->issue) { /* kept until its issue (render_issue) */
            if (b->kind->render(w->rc, b->req, p, &p->pdf, &err) != TB_OK) {
                batch_fail(b, &err);
                break;
            }
            continue;
        }
        if (b->kind->render(w->rc, b->req, p, &pdf, &err) != TB_OK ||
            tb_fs_write_temp(p->path, pdf.data, pdf.len, &p->tmp, &err) != TB_OK) {
            batch_fail(b, &err);
            break;
        }
    }
    tb_buf_release(&pdf);
    /* Pango keeps a default font map per thread (the map labels use it) until told to drop it. */
    pango_cairo_font_map_set_default(NULL);
    return NULL;
}

tb_code
render_run(const render_request *req, render_output_fn *on_file, void *user, tb_err *err)
{
    const struct doc_kind *kind = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].name, req->kind) == 0)
            kind = &kinds[i];
    if (kind == NULL)
        return tb_err_set(err, TB_EINVAL, "unknown document kind '%s' (available: notice, "
                                          "monthly, tables, acceptance, dossier)",
                          req->kind);
    int jobs = req->jobs > 0 ? req->jobs : render_default_jobs();
    if (jobs > RENDER_MAX_JOBS)
        return tb_err_set(err, TB_EINVAL, "--jobs %d: at most %d", jobs, RENDER_MAX_JOBS);

    tb_arena *a = tb_arena_new(0);
    doc_plans plans = {.arena = a};
    render_ctx *rc = NULL;
    render_input in = {0};
    tb_code code = load_input(req, a, &in, err);
    if (code == TB_OK)
        code = select_input(req, &in, a, err);
    if (code != TB_OK)
        goto done;
    if ((rc = render_ctx_open(req->office_dir, req->imagery_path, err)) == NULL) {
        code = err->code;
        goto done;
    }
    if ((code = kind->plan(rc, req, &in, &plans, err)) != TB_OK)
        goto done;
    if (plans.count == 0 && (req->select.township_count || req->select.patch_count)) {
        code = tb_err_set(err, TB_EINVAL, "render %s: no document to make: none of the %zu "
                                          "patches selected from %s is one a %s documents "
                                          "(违法用地)",
                          req->kind, in.now.count, in.source, req->kind);
        goto done;
    }
    if (req->issue && (code = guess_numbers(req, rc, &plans, err)) != TB_OK)
        goto done;
    if (req->out_dir && (code = tb_fs_mkdirs(req->out_dir, err)) != TB_OK)
        goto done;

    size_t nworkers = (size_t)jobs < plans.count ? (size_t)jobs : plans.count;
    if (nworkers == 0)
        nworkers = 1;
    batch b = {.req = req, .kind = kind, .plans = &plans};
    pthread_mutex_init(&b.lock, NULL);
    pthread_barrier_init(&b.opened, NULL, (unsigned)nworkers);
    worker *ws = tb_xcalloc(nworkers, sizeof *ws);
    pthread_t *threads = tb_xcalloc(nworkers, sizeof *threads);
    ws[0] = (worker){&b, rc}; /* the main thread made rc: it works with it itself */
    for (size_t i = 1; i < nworkers; i++) {
        ws[i] = (worker){&b, NULL};
        if (pthread_create(&threads[i], NULL, worker_run, &ws[i]) != 0)
            TB_ASSERT(!"pthread_create failed");
    }
    worker_run(&ws[0]);
    for (size_t i = 1; i < nworkers; i++) {
        pthread_join(threads[i], NULL);
        render_ctx_close(ws[i].rc);
    }
    free(threads);
    free(ws);
    pthread_barrier_destroy(&b.opened);
    pthread_mutex_destroy(&b.lock);
    if (b.failed) {
        code = tb_err_set(err, b.err.code, "%s", b.err.msg);
        goto done;
    }

    if (req->issue && (code = render_issue(req, rc, kind, &in, &plans, on_file, user, err)) != TB_OK)
        goto done;
    code = publish_plans(req, &plans, req->issue, on_file, user, err);

done:
    plans_release(&plans); /* unlinks every temporary that was not published */
    render_ctx_close(rc);
    tb_arena_free(a);
    return code;
}
