/* The worker pool: requests first (someone is waiting), job items when there are none; and the
 * watchdog that answers a request still queued or running when its time limit passes. */
#include "tb_features.h"

#include "server_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* srv->lock held. */
static void
active_remove_locked(server *srv, request *r)
{
    if (r->act_prev)
        r->act_prev->act_next = r->act_next;
    else
        srv->active = r->act_next;
    if (r->act_next)
        r->act_next->act_prev = r->act_prev;
    r->act_prev = r->act_next = NULL;
}

bool
workers_enqueue(server *srv, request *r)
{
    pthread_mutex_lock(&srv->lock);
    bool ok = srv->queued < srv->cfg->queue_limit;
    if (ok) {
        atomic_fetch_add(&r->refs, 1); /* the worker's, released when it is done with r */
        r->act_prev = NULL;
        r->act_next = srv->active;
        if (srv->active)
            srv->active->act_prev = r;
        srv->active = r;
        r->next = NULL;
        if (srv->tail)
            srv->tail->next = r;
        else
            srv->head = r;
        srv->tail = r;
        srv->queued++;
        pthread_cond_signal(&srv->wake);
    }
    pthread_mutex_unlock(&srv->lock);
    return ok;
}

void
workers_notify(server *srv)
{
    pthread_mutex_lock(&srv->lock);
    pthread_cond_broadcast(&srv->wake);
    pthread_mutex_unlock(&srv->lock);
}

static request *
pop_locked(server *srv)
{
    request *r = srv->head;
    if (r) {
        srv->head = r->next;
        if (srv->head == NULL)
            srv->tail = NULL;
        srv->queued--;
    }
    return r;
}

static void
run_request(worker *w, request *r)
{
    server *srv = w->srv;
    int expect = WORK_QUEUED;
    if (atomic_compare_exchange_strong(&r->work, &expect, WORK_RUNNING)) {
        handle_request(w, r);
        if (r->status == 0)
            respond_error(r, 500, "the request was not answered");
        expect = WORK_RUNNING;
        if (atomic_compare_exchange_strong(&r->work, &expect, WORK_ANSWERED))
            http_resume(r);
        else
            server_log("rid=%llu: finished after its time limit (answered 504 already)",
                       r->rid);
    } /* else answered 503 by the watchdog while it waited: not run at all */
    pthread_mutex_lock(&srv->lock);
    active_remove_locked(srv, r);
    pthread_mutex_unlock(&srv->lock);
    request_unref(r);
}

/* The watchdog's answer to r, past its time limit in state `was` (queued or running). */
static void
answer_late(server *srv, request *r, int was)
{
    int limit = srv->cfg->request_timeout_s;
    bool issues = r->route && (r->route->route == ROUTE_DOCUMENT_ISSUE ||
                               r->route->route == ROUTE_JOB_CREATE);
    const char *msg;
    if (was == WORK_QUEUED)
        msg = "the request waited for a worker longer than the time limit; nothing was done: "
              "retry later";
    else if (issues)
        msg = "the request took longer than the time limit; the work goes on and is filed: "
              "retry with the same Idempotency-Key to get its result";
    else
        msg = "the request took longer than the time limit; its answer is dropped";
    r->late_status = was == WORK_QUEUED ? 503 : 504;
    json_t *j = json_pack("{s:i,s:s,s:i}", "status", r->late_status, "error", msg,
                          "time_limit_s", limit);
    r->late = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (r->late == NULL)
        r->late = strdup("{\"status\":504}");
    server_log("rid=%llu %s after %d s: answered %d", r->rid,
               was == WORK_QUEUED ? "still queued" : "still running", limit, r->late_status);
}

static void *
watchdog_main(void *arg)
{
    server *srv = arg;
    pthread_mutex_lock(&srv->lock);
    while (!srv->stopping) {
        /* Resumed outside the lock, each with a reference of its own meanwhile. */
        request *late[64];
        size_t n = 0;
        struct timespec now, until;
        clock_gettime(CLOCK_MONOTONIC, &now);
        for (request *r = srv->active; r && n < sizeof late / sizeof *late; r = r->act_next) {
            /* The limit counts from the request's arrival: queueing and work together. */
            long ms = (now.tv_sec - r->started.tv_sec) * 1000L +
                      (now.tv_nsec - r->started.tv_nsec) / 1000000L;
            if (ms < srv->cfg->request_timeout_s * 1000L)
                continue;
            int was = atomic_load(&r->work);
            int to = was == WORK_QUEUED    ? WORK_LATE_QUEUED
                     : was == WORK_RUNNING ? WORK_LATE_RUNNING
                                           : -1;
            if (to < 0)
                continue;
            answer_late(srv, r, was);
            if (atomic_compare_exchange_strong(&r->work, &was, to)) {
                atomic_fetch_add(&r->refs, 1);
                late[n++] = r;
            } else {
                free(r->late); /* the worker got there first */
                r->late = NULL;
            }
        }
        pthread_mutex_unlock(&srv->lock);
        for (size_t i = 0; i < n; i++) {
            http_resume(late[i]);
            request_unref(late[i]);
        }
        pthread_mutex_lock(&srv->lock);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 200 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (!srv->stopping)
            pthread_cond_timedwait(&srv->watch, &srv->lock, &until);
    }
    pthread_mutex_unlock(&srv->lock);
    return NULL;
}

/* Runs one pending job item if there is one; false when there was none. */
static bool
run_job_item(worker *w)
{
    tb_arena *a = tb_arena_new(0);
    tb_err err = {0};
    store_job_item it;
    int got = store_job_claim(w->st, a, &it, &err);
    if (got < 0)
        server_log("worker %d: could not claim a job item: %s", w->index, err.msg);
    if (got == 1)
        handle_job_item(w, &it);
    long backlog = store_jobs_backlog(w->st);
    if (backlog >= 0)
        atomic_store(&w->srv->job_backlog, backlog);
    tb_arena_free(a);
    return got == 1;
}

static void *
worker_main(void *arg)
{
    worker *w = arg;
    server *srv = w->srv;
    bool try_jobs = true;
    for (;;) {
        pthread_mutex_lock(&srv->lock);
        if (!srv->head && !srv->stopping && !try_jobs) {
            /* Woken by a request, a new job or stopping; else after a second, look at the jobs
             * again (another process may have queued some). */
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            pthread_cond_timedwait(&srv->wake, &srv->lock, &until);
        }
        request *r = pop_locked(srv);
        bool stopping = srv->stopping;
        pthread_mutex_unlock(&srv->lock);
        if (r) {
            run_request(w, r);
            try_jobs = true;
            continue;
        }
        if (stopping)
            break;
        /* Nothing queued: one job item at a time, then look at the queue again. */
        try_jobs = run_job_item(w);
    }
    return NULL;
}

tb_code
workers_start(server *srv, tb_err *err)
{
    srv->workers = tb_xcalloc((size_t)srv->worker_count, sizeof *srv->workers);
    /* Everything a worker needs is loaded here, on one thread, before any worker runs: its
     * store, and per office its fonts and maps on the office read once (templates, seal and
     * key are the office's, shared read-only). */
    for (int i = 0; i < srv->worker_count; i++) {
        worker *w = &srv->workers[i];
        w->srv = srv;
        w->index = i;
        if (!(w->st = store_open(srv->cfg->store_path, err)))
            return err->code;
        w->offices = tb_xcalloc(srv->cfg->office_count, sizeof *w->offices);
        for (size_t o = 0; o < srv->cfg->office_count; o++) {
            const server_office *so = &srv->cfg->offices[o];
            if (!(w->offices[o] = render_ctx_for(srv->offices[o], so->imagery, err)))
                return err->code;
        }
    }
    for (int i = 0; i < srv->worker_count; i++)
        if (pthread_create(&srv->workers[i].thread, NULL, worker_main, &srv->workers[i]) != 0)
            return tb_err_set(err, TB_EIO, "could not start worker thread %d", i);
    if (pthread_create(&srv->watchdog, NULL, watchdog_main, srv) != 0)
        return tb_err_set(err, TB_EIO, "could not start the watchdog thread");
    srv->watchdog_started = true;
    return TB_OK;
}

void
workers_stop(server *srv)
{
    pthread_mutex_lock(&srv->lock);
    srv->stopping = true;
    pthread_cond_broadcast(&srv->wake);
    pthread_cond_broadcast(&srv->watch);
    pthread_mutex_unlock(&srv->lock);
    if (srv->watchdog_started)
        pthread_join(srv->watchdog, NULL);
    srv->watchdog_started = false;
    for (int i = 0; i < srv->worker_count && srv->workers; i++) {
        worker *w = &srv->workers[i];
        if (w->thread)
            pthread_join(w->thread, NULL);
        for (size_t o = 0; w->offices && o < srv->cfg->office_count; o++)
            render_ctx_close(w->offices[o]);
        free(w->offices);
        store_close(w->st);
    }
    free(srv->workers);
    srv->workers = NULL;
}
