/* The worker pool: requests first (someone is waiting), job items when there are none. */
#include "tb_features.h"

#include "server_int.h"

#include <stdlib.h>
#include <string.h>

bool
workers_enqueue(server *srv, request *r)
{
    pthread_mutex_lock(&srv->lock);
    bool ok = srv->queued < srv->cfg->queue_limit;
    if (ok) {
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
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - r->queued_at.tv_sec > srv->cfg->request_timeout_s)
        respond_error(r, 503, "the request waited longer than %d s for a worker; retry later",
                      srv->cfg->request_timeout_s);
    else
        handle_request(w, r);
    if (r->status == 0)
        respond_error(r, 500, "the request was not answered");
    http_resume(r);
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
    return TB_OK;
}

void
workers_stop(server *srv)
{
    pthread_mutex_lock(&srv->lock);
    srv->stopping = true;
    pthread_cond_broadcast(&srv->wake);
    pthread_mutex_unlock(&srv->lock);
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
