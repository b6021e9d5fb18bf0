/* Private to src/server: the daemon's objects.
 *
 * One HTTP thread (libmicrohttpd's internal polling thread) reads requests, checks the token
 * and the parameters, and either answers at once (healthz, metrics, refusals) or queues the
 * request for a worker and suspends the connection.  A worker (one per core) runs the request
 * with its own store connection and its own render context per office, fills the response and
 * resumes the connection.  Idle workers run the items of jobs kept in the store. */
#ifndef TB_SERVER_INT_H
#define TB_SERVER_INT_H

#include "api.h"
#include "render.h"
#include "server.h"
#include "store_jobs.h"
#include "tb_buf.h"
#include "tpl.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

typedef struct server server;

typedef enum request_phase { PHASE_RECEIVING, PHASE_QUEUED, PHASE_ANSWERED } request_phase;

/* Who answers a queued request, decided once (compare-and-swap): its worker, or the watchdog
 * when the time limit (request_timeout_s) passes first: 503 while it waits for a worker (the
 * worker then skips it), 504 while a worker runs it (the worker finishes, its answer dropped:
 * an issue is still filed, and a retry with the same Idempotency-Key gets it). */
enum {
    WORK_QUEUED,
    WORK_RUNNING,
    WORK_ANSWERED,      /* by the worker: r->status, r->out */
    WORK_LATE_QUEUED,   /* by the watchdog: r->late (503) */
    WORK_LATE_RUNNING,  /* by the watchdog: r->late (504) */
};

typedef struct request {
    server *srv;
    struct MHD_Connection *conn;
    unsigned long long rid;  /* request id, in every log line about it */
    char method[8];
    char *path;              /* owned */
    tb_arena *arena;         /* everything about the request */
    const api_route_info *route;
    const server_token *token; /* the caller; NULL for public routes */
    tb_buf body;
    bool over_limit;         /* the body exceeded max_body */
    api_request api;
    const char *idempotency_key;
    struct timespec started, queued_at;
    request_phase phase;
    atomic_int work;         /* WORK_*, once queued */
    atomic_int refs;         /* the HTTP side's, and a worker's while queued or running */
    struct request *act_prev, *act_next; /* in srv->active while queued or running */
    int late_status;         /* the watchdog's answer */
    char *late;              /* its JSON body (malloc'd) */
    int sent_status;         /* what went out, for the log and metrics (HTTP thread) */
    /* the answer */
    int status;
    tb_buf out;
    const char *content_type;
    const char *disposition; /* Content-Disposition, or NULL */
    const char *location;    /* Location, or NULL */
    struct request *next;    /* in the work queue */
} request;

typedef struct worker {
    server *srv;
    int index;
    pthread_t thread;
    store *st;
    render_ctx **offices; /* one per configured office, same order */
} worker;

/* Counters for /metrics. */
enum { METRIC_BUCKETS = 12, METRIC_CODES = 14 };
typedef struct metrics {
    pthread_mutex_t lock;
    unsigned long requests[ROUTE_COUNT + 1][METRIC_CODES]; /* [ROUTE_COUNT] = no route */
    unsigned long latency[ROUTE_COUNT + 1][METRIC_BUCKETS]; /* per bucket, not cumulative */
    double latency_sum[ROUTE_COUNT + 1];
    unsigned long documents;     /* notices issued */
    unsigned long job_items_failed;
} metrics;

/* One 发文字号 series (office, year, 机关代字) as the workers see it (numbering.c). */
typedef struct number_series {
    int office, year;
    char *prefix;
    int next;      /* the guess the next issue gets */
    int in_flight; /* issues that took a guess and have not ended */
} number_series;

/* An issue's place in line and its guessed number. */
typedef struct issue_turn {
    unsigned long ticket;
    int office, year;
    const char *prefix; /* the series' */
    int guess;
} issue_turn;

struct server {
    server_config *cfg;
    render_office **offices;     /* each office read once (profile, templates, seal, key) */
    const tpl_office **profiles; /* their office.xml */
    tb_arena *arena;
    struct MHD_Daemon *mhd;
    worker *workers;
    int worker_count;
    pthread_mutex_t lock;        /* guards the queue, in_flight, stopping */
    pthread_cond_t wake;         /* work queued, a job created, or stopping */
    pthread_cond_t idle;         /* in_flight reached 0 */
    request *head, *tail;
    request *active;             /* queued or running, for the watchdog */
    pthread_t watchdog;
    pthread_cond_t watch;        /* wakes the watchdog (stopping) */
    bool watchdog_started;
    int queued;
    int in_flight;               /* requests begun and not yet completed */
    bool draining, stopping;
    atomic_ullong next_rid;
    atomic_long job_backlog;     /* pending + running job items, refreshed by workers */
    pthread_mutex_t issue_lock;  /* guards the numbering below */
    pthread_cond_t issue_turn;   /* issue_serving moved on */
    unsigned long issue_next, issue_serving; /* turns taken and the one allocating now */
    number_series *series;
    size_t series_count;
    metrics m;
};

/* ---- http.c ------------------------------------------------------------------------------- */
tb_code http_start(server *srv, tb_err *err) TB_MUST_CHECK;
void http_resume(request *r);           /* a worker has filled r's answer */
void request_unref(request *r);         /* frees r after the last reference */
int http_bound_port(server *srv);

/* ---- workers.c ---------------------------------------------------------------------------- */
tb_code workers_start(server *srv, tb_err *err) TB_MUST_CHECK;
void workers_stop(server *srv);          /* finish the queue and current items, join */
/* Queues r for a worker; false when the queue is full (answer 503). */
bool workers_enqueue(server *srv, request *r);
void workers_notify(server *srv);        /* a job was created */

/* ---- numbering.c -------------------------------------------------------------------------- */
/* Takes a turn and guesses its number (st: the worker's store, read for the counter). */
void numbering_take(server *srv, store *st, int office, int year, const char *prefix,
                    issue_turn *t);
void numbering_wait(server *srv, const issue_turn *t); /* until it is t's turn to allocate */
/* Ends t's turn (every turn taken must end, issued or not), letting the next one allocate. */
void numbering_done(server *srv, store *st, const issue_turn *t);
void numbering_free(server *srv);

/* ---- handlers.c --------------------------------------------------------------------------- */
/* Runs r on worker w (r->api parsed, r->token checked) and fills r's answer. */
void handle_request(worker *w, request *r);
/* Renders and files one claimed job item; the item ends done or failed. */
void handle_job_item(worker *w, const store_job_item *it);

/* ---- respond.c ---------------------------------------------------------------------------- */
void respond_error(request *r, int status, const char *fmt, ...) TB_PRINTF(3, 4);
void respond_bytes(request *r, int status, const char *type, const void *data, size_t len);
/* Takes the reference of json (json_t *). */
void respond_json(request *r, int status, void *json);

/* ---- metrics.c ---------------------------------------------------------------------------- */
void metrics_init(metrics *m);
void metrics_request(metrics *m, const api_route_info *route, int status, double seconds);
void metrics_document(metrics *m, bool ok);
void metrics_write(server *srv, tb_buf *out);

/* ---- log ---------------------------------------------------------------------------------- */
/* One line on stderr: UTC time, then the message. */
void server_log(const char *fmt, ...) TB_PRINTF(1, 2);

/* The office a token acts for, or NULL for an admin token. */
static inline const server_office *
request_office(const request *r)
{
    return r->token && r->token->office >= 0 ? &r->srv->cfg->offices[r->token->office] : NULL;
}

#endif
