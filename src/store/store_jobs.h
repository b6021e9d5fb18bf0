/* Jobs of the daemon, kept in the store so that a restart resumes them: a job is a batch of
 * documents (one item per document, e.g. one 整改通知书 per township) for one office; every item
 * goes pending → running → done | failed | cancelled.  A document the daemon issued is a done
 * item: its file, sha256 and number are on the row, so a retried request (Idempotency-Key) or a
 * resumed job finds it instead of issuing it again.
 *
 * Numbers: the registry (docs/issue.h) allocates an item's 发文字号 when the item is issued, in
 * the transaction that registers the document and marks the item done, so the daemon and
 * `tuban render --db` share one gapless sequence.  Not thread-safe: one store per thread; several
 * threads with their own stores may claim items at once (claims take the write lock). */
#ifndef TB_STORE_JOBS_H
#define TB_STORE_JOBS_H

#include "store.h"
#include "tb_arena.h"

#include <stdint.h>

typedef enum store_job_state {
    JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED, JOB_CANCELLED
} store_job_state;

typedef enum store_item_state {
    ITEM_PENDING, ITEM_RUNNING, ITEM_DONE, ITEM_FAILED, ITEM_CANCELLED
} store_item_state;

const char *store_job_state_name(store_job_state s);   /* "queued", ... */
const char *store_item_state_name(store_item_state s); /* "pending", ... */

typedef struct store_job_spec {
    const char *office;          /* office id (config) */
    const char *kind;            /* "notice" */
    store_batch batch;
    cn_date date;                /* 成文日期 of every document */
    const char *who;             /* the token's name, for the record */
    const char *idempotency_key; /* NULL = none; unique per office */
    const char *request_hash;    /* what the key was used for (a retry must match) */
    const char *const *townships; /* one item each, in this order */
    size_t township_count;
} store_job_spec;

/* Creates the job and its items (numbers allocated) in one transaction.  With an idempotency key
 * already used by the office: *existed = true and *job_id is that job when request_hash matches;
 * TB_EINVAL naming the key when it was used for a different request. */
tb_code store_job_create(store *st, const store_job_spec *spec, int64_t *job_id, bool *existed,
                         tb_err *err) TB_MUST_CHECK;

typedef struct store_job {
    int64_t id;
    const char *office, *kind, *who, *created_at, *finished_at; /* finished_at may be NULL */
    store_batch batch;
    cn_date date;
    store_job_state state;
    long total, done, failed, cancelled;
    const char *current; /* township of a running item, NULL when none */
} store_job;

/* Reads job `id` of `office` (another office's job is TB_ENOTFOUND, as is a missing one).
 * Strings are owned by a. */
tb_code store_job_get(store *st, const char *office, int64_t id, tb_arena *a, store_job *out,
                      tb_err *err) TB_MUST_CHECK;

typedef struct store_job_item {
    int64_t id, job_id;
    int seq;
    const char *office, *kind, *township;
    store_batch batch;
    cn_date date;
    int number, year;        /* the document's 发文字号 sequence (0 until issued), year */
    store_item_state state;
    const char *file;        /* done: where the PDF is; else NULL */
    const char *sha256;      /* done: hex */
    int64_t bytes;
    const char *error;       /* failed: why */
    const char *done_at;
} store_job_item;

/* Calls fn for each item of job `id` (checked to belong to office), in order.  Strings valid
 * during the call. */
typedef void store_item_fn(void *user, const store_job_item *it);
tb_code store_job_items(store *st, const char *office, int64_t id, store_item_fn *fn, void *user,
                        tb_err *err) TB_MUST_CHECK;

/* Claims the next pending item of the oldest unfinished job and marks it running (its job too).
 * Returns 1 with *out filled (strings owned by a), 0 when nothing is pending, -1 on error. */
int store_job_claim(store *st, tb_arena *a, store_job_item *out, tb_err *err);

/* Claims item `item_id` if it is still pending (1), 0 if someone else has it or it is finished. */
int store_job_claim_item(store *st, int64_t item_id, tb_arena *a, store_job_item *out,
                         tb_err *err);

/* Marks a running item done with its registry number and archived file, inside the caller's
 * open transaction (the issue's, see issuer_store), so the item is done if and only if its
 * document is registered.  When every item of the job is finished the job becomes done (or
 * failed if an item failed). */
tb_code store_job_item_issued(store *st, int64_t item_id, int number, const char *file,
                              const char *sha256, int64_t bytes, tb_err *err) TB_MUST_CHECK;
/* Marks a running item failed with a message, in a transaction of its own. */
tb_code store_job_item_failed(store *st, int64_t item_id, const char *message, tb_err *err)
    TB_MUST_CHECK;

/* Cancels the job's pending items (running ones finish).  TB_ENOTFOUND for another office's. */
tb_code store_job_cancel(store *st, const char *office, int64_t id, tb_err *err) TB_MUST_CHECK;

/* After a crash: items left running go back to pending.  Nothing of theirs was committed (an
 * issued item is done in the issue's own transaction), so they are issued again, with the
 * number the registry gives next.  Returns how many, or -1 on error. */
long store_jobs_recover(store *st, tb_err *err);

/* Items pending or running (the job queue depth), -1 on error. */
long store_jobs_backlog(store *st);

/* The first item of job `id`, for single-document requests (TB_ENOTFOUND if none). */
tb_code store_job_first_item(store *st, int64_t job_id, tb_arena *a, store_job_item *out,
                             tb_err *err) TB_MUST_CHECK;

/* A done item of office by id (documents: GET /v1/documents/{id}); TB_ENOTFOUND otherwise. */
tb_code store_document_get(store *st, const char *office, int64_t item_id, tb_arena *a,
                           store_job_item *out, tb_err *err) TB_MUST_CHECK;

/* Calls fn for each done item of office, newest first, at most limit (0 = all). */
tb_code store_documents_each(store *st, const char *office, long limit, store_item_fn *fn,
                             void *user, tb_err *err) TB_MUST_CHECK;

/* ---- patches read back -------------------------------------------------------------------- */

/* Loads every patch of batch (admin_code starting with prefix; NULL or "" = all), in id order,
 * with all attributes and geometry, strings owned by a.  Missing patches (absent from the
 * latest import) are left out.  Unknown batch → TB_ENOTFOUND. */
tb_code store_patches_load(store *st, const store_batch *batch, const char *admin_prefix,
                           tb_arena *a, patch **items, size_t *count, tb_err *err) TB_MUST_CHECK;

#endif
