/* server_run: start-up, serving, and the SIGTERM drain (server.h). */
#include "tb_features.h"

#include "server_int.h"
#include "tb_fs.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads every office once (profile, templates, seal, key: the workers share them), checks it,
 * and notes its county (its patches). */
static tb_code
load_offices(server *srv, tb_err *err)
{
    server_config *c = srv->cfg;
    srv->offices = tb_xcalloc(c->office_count + 1, sizeof *srv->offices);
    srv->profiles = tb_arena_array(srv->arena, c->office_count, sizeof *srv->profiles);
    for (size_t i = 0; i < c->office_count; i++) {
        server_office *o = &c->offices[i];
        if (!(srv->offices[i] = render_office_open(o->dir, err)))
            return err->code;
        const tpl_office *p = render_office_profile(srv->offices[i]);
        if (p->id && strcmp(p->id, o->id) != 0)
            return tb_err_set(err, TB_EINVAL, "%s: [office %s] names a directory whose "
                              "office.xml has id '%s'", c->path, o->id, p->id);
        if (p->county_code == NULL || p->county_code[0] == '\0')
            return tb_err_set(err, TB_EINVAL, "%s/office.xml: the office has no county code, so "
                              "the daemon cannot tell which patches are its own", o->dir);
        o->county_code = p->county_code;
        srv->profiles[i] = p;
    }
    return TB_OK;
}

static tb_code
private_dir(const char *dir, tb_err *err)
{
    tb_code rc = tb_fs_mkdirs(dir, err);
    if (rc == TB_OK && chmod(dir, 0700) != 0)
        rc = tb_err_set(err, TB_EIO, "%s: chmod: %s", dir, strerror(errno));
    return rc;
}

/* Waits for the requests in flight to finish, at most timeout_s. */
static void
wait_idle(server *srv, int timeout_s)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_s;
    pthread_mutex_lock(&srv->lock);
    while (srv->in_flight > 0)
        if (pthread_cond_timedwait(&srv->idle, &srv->lock, &until) != 0)
            break;
    int left = srv->in_flight;
    pthread_mutex_unlock(&srv->lock);
    if (left)
        server_log("drain: %d request(s) still open after %d s; stopping anyway", left,
                   timeout_s);
}

tb_code
server_run(server_config *cfg, tb_err *err)
{
    /* Signals are taken by sigwait in this thread only: every thread started below inherits
     * the mask, so no handler ever runs in a worker. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    server *srv = tb_xcalloc(1, sizeof *srv);
    srv->cfg = cfg;
    srv->arena = tb_arena_new(0);
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->wake, NULL);
    pthread_cond_init(&srv->idle, NULL);
    pthread_cond_init(&srv->watch, NULL);
    pthread_mutex_init(&srv->issue_lock, NULL);
    pthread_cond_init(&srv->issue_turn, NULL);
    metrics_init(&srv->m);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    srv->worker_count = cfg->workers > 0 ? cfg->workers : cores > 0 ? (int)cores : 1;

    tb_code rc;
    store *st = NULL;
    if ((rc = load_offices(srv, err)) != TB_OK || (rc = private_dir(cfg->scratch_root, err)) ||
        (rc = tb_fs_mkdirs(cfg->archive_root, err)))
        goto done;
    /* Items a killed daemon left running are issued again (nothing of theirs committed). */
    if (!(st = store_open(cfg->store_path, err))) {
        rc = err->code;
        goto done;
    }
    long resumed = store_jobs_recover(st, err);
    if (resumed < 0) {
        rc = err->code;
        goto done;
    }
    atomic_store(&srv->job_backlog, store_jobs_backlog(st));
    store_close(st);
    st = NULL;
    if ((rc = workers_start(srv, err)) != TB_OK || (rc = http_start(srv, err)) != TB_OK)
        goto done;
    server_log("listening on %s://%s:%d (%d workers, %zu offices, store %s); %ld job item(s) "
               "resumed", cfg->tls_cert ? "https" : "http", cfg->host, http_bound_port(srv),
               srv->worker_count, cfg->office_count, cfg->store_path, resumed);

    int sig = 0;
    while (sigwait(&stop_signals, &sig) != 0)
        ;
    server_log("%s: draining (no new connections; finishing the work in flight)",
               sig == SIGTERM ? "SIGTERM" : "SIGINT");
    srv->draining = true;
    int fd = MHD_quiesce_daemon(srv->mhd);
    if (fd >= 0)
        close(fd);
    wait_idle(srv, cfg->drain_timeout_s);
    workers_stop(srv);
    MHD_stop_daemon(srv->mhd);
    srv->mhd = NULL;
    server_log("stopped");

done:
    store_close(st);
    if (srv->mhd)
        MHD_stop_daemon(srv->mhd);
    if (srv->workers)
        workers_stop(srv);
    numbering_free(srv);
    for (size_t i = 0; srv->offices && i < cfg->office_count; i++)
        render_office_close(srv->offices[i]);
    free(srv->offices);
    tb_arena_free(srv->arena);
    free(srv);
    return rc;
}
