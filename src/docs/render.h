/* The document pipeline (DESIGN §1): patches + office → built document → typeset PDF → signed →
 * written atomically.  One table of document kinds; the CLI and (later) the daemon call this. */
#ifndef TB_RENDER_H
#define TB_RENDER_H

#include "cn_date.h"
#include "patch.h"
#include "stats.h"
#include "tb_buf.h"
#include "tb_err.h"

#include <stdbool.h>
#include <time.h>

/* What one office needs to issue documents, loaded once and reused for every document: profile,
 * templates, fonts, seal, signing key, base imagery.  Not thread-safe (one per worker). */
typedef struct render_ctx render_ctx;

/* Loads <office_dir>/office.xml and what it names.  imagery_path overrides the profile's
 * imagery (NULL = use the profile's).  Errors name the file at fault. */
render_ctx *render_ctx_open(const char *office_dir, const char *imagery_path, tb_err *err);
void render_ctx_close(render_ctx *rc); /* NULL ok */

/* An office read once (profile, templates, seal, signing key, imagery catalogue), read-only
 * afterwards: several threads may each open a context on it (render_ctx_for), which adds only
 * what a thread cannot share (fonts, maps).  Errors name the file at fault. */
typedef struct render_office render_office;
render_office *render_office_open(const char *office_dir, tb_err *err);
void render_office_close(render_office *ro); /* NULL ok; after every context on it is closed */
const struct tpl_office *render_office_profile(const render_office *ro);
/* A context on ro for the calling thread; imagery_path as for render_ctx_open. */
render_ctx *render_ctx_for(const render_office *ro, const char *imagery_path, tb_err *err);
/* The signing certificate's name (its CN), as the registry records the signer. */
const char *render_ctx_signer_name(const render_ctx *rc);

/* Fixed inputs of one run. */
typedef struct render_options {
    cn_date date;       /* 成文日期 */
    int first_number;   /* sequence of the first 发文字号 (the archive will allocate these) */
    time_t signing_time; /* 0 = now; SOURCE_DATE_EPOCH makes output reproducible */
} render_options;

/* One 整改通知书 for the illegal patches of one township (patches all share admin_code).
 * number 0 is a preview (样稿 watermark, no 发文字号); verify_code (may be NULL) is the
 * registry's verification code.  Appends the signed PDF to out. */
tb_code notice_render(render_ctx *rc, const patch *const *patches, size_t count,
                      const render_options *opt, int number, const char *verify_code,
                      tb_buf *out, tb_err *err) TB_MUST_CHECK;

/* Which patches a run covers, applied once to the patch set before any kind plans its documents
 * (render_run).  Empty = every patch of the source (the store's newest batch). */
typedef struct render_selection {
    int batch_year;                 /* 0 = no batch named */
    int batch_quarter;              /* with batch_year: 1-4, 0 = the 年度 batch */
    long batch_id;                  /* > 0: the store's batch of that id (--db only) */
    const char *const *townships;   /* 行政区代码 to keep; township_count 0 = all */
    size_t township_count;
    const char *const *patch_ids;   /* 监测编号 to keep; patch_count 0 = all */
    size_t patch_count;
} render_selection;

/* acceptance: a 不合格 verdict, with the inspectors' opinion (--reject ID:意见). */
typedef struct render_reject {
    const char *patch_id, *opinion;
} render_reject;

typedef struct render_request {
    const char *kind;         /* "notice", "monthly", "tables", "acceptance" */
    const char *office_dir;
    const char *patches_path; /* NULL: the patches of the store (db_path) as of the report's date */
    const char *layer;        /* NULL = first layer */
    const char *out_dir;
    const char *imagery_path; /* NULL = the office's */
    render_options opt;
    int jobs;                 /* workers; 0 = one per core (render_default_jobs) */
    const char *db_path;      /* the store: the patches' source without patches_path; issue */
    const char *archive_root; /* with db_path; NULL = "archive" beside the store */
    bool preview;             /* 样稿: watermark, no number, never registered */
    bool issue;               /* with db_path: number, archive and register (else write out_dir) */
    cn_date cutoff, previous_cutoff; /* monthly: this month's and the previous month's 截至日期 */
    render_selection select;  /* --batch, --township, --patch */
    bool explain;             /* dossier: print the 约谈 findings (render_explain), render nothing */
    bool per_township;        /* acceptance: one form per township, else one per patch */
    const render_reject *rejects; /* acceptance: the 不合格 verdicts; every other patch 合格 */
    size_t reject_count;
    const char *photos_dir;   /* acceptance: <dir>/<patch id>/ holds the JPEG' photos */
} render_request;

/* Called with the path of every file written, in order. */
typedef void render_output_fn(void *user, const char *path);

/* Renders every document of req->kind on req->jobs workers, over the patches req->select keeps
 * (a township or patch id the source does not hold is bad input, exit 2).  All input is read
 * and the office loaded before the first document is made; each document is streamed to a temporary file in the
 * output folder, and the set is published only when every document succeeded (a failure leaves
 * the folder as it was).  The bytes written do not depend on the number of workers. */
tb_code render_run(const render_request *req, render_output_fn *on_file, void *user,
                   tb_err *err) TB_MUST_CHECK;

/* `render dossier --explain`: the 约谈 finding (model/stats.h stats_interviews under the office's
 * <rules>) of every township of the patches req reads and selects as render_run would, and of
 * every township the office flags, in code order.  name is the township's (the patches' XZQMC,
 * else the office's <townships>; NULL if neither names it); grounds the rules that selected it
 * in words, NULL when none did. */
typedef void render_explain_fn(void *user, const interview_finding *f, const char *name,
                               const char *grounds);
tb_code render_explain(const render_request *req, render_explain_fn *fn, void *user,
                       tb_err *err) TB_MUST_CHECK;

/* One worker per core (at least 1, at most 64). */
int render_default_jobs(void);

/* Names of the document kinds, for --help ("notice", ...), NULL-terminated. */
const char *const *render_kind_names(void);

#endif
