/* libmicrohttpd glue: request lifecycle, authentication, answers, logs.
 *
 * A request is checked in stages on the HTTP thread: route and token as soon as the headers are
 * in (401/403/404/405 before any body is read), the body's size while it arrives (413 at once),
 * then every parameter (api_parse).  Work that touches the store, GDAL, templates, fonts or keys
 * is queued for a worker; the connection is suspended until the worker resumes it. */
#include "tb_features.h"

#include "digest.h"
#include "server_int.h"
#include "tb_fs.h"
#include "tb_utf8.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
server_log(const char *fmt, ...)
{
    char line[1024], when[32];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One write per event so lines from several threads never interleave. */
    fprintf(stderr, "%s.%03ldZ tuban: %s\n", when, now.tv_nsec / 1000000, line);
}

static double
seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- answers ------------------------------------------------------------------------------ */

void
respond_bytes(request *r, int status, const char *type, const void *data, size_t len)
{
    r->status = status;
    r->content_type = type;
    tb_buf_reset(&r->out);
    tb_buf_append(&r->out, data, len);
}

void
respond_json(request *r, int status, void *json)
{
    char *s = json_dumps((json_t *)json, JSON_COMPACT);
    json_decref((json_t *)json);
    if (s == NULL) {
        respond_bytes(r, 500, "application/json", "{\"error\":\"could not encode the answer\"}",
                      39);
        return;
    }
    respond_bytes(r, status, "application/json", s, strlen(s));
    tb_buf_append(&r->out, "\n", 1);
    free(s);
}

void
respond_error(request *r, int status, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *clean = tb_utf8_sanitize(msg);
    respond_json(r, status, json_pack("{s:i,s:s}", "status", status, "error", clean));
    free(clean);
}

/* Queues an answer on r's connection: the worker's (r->status, r->out and its headers) or, when
 * late is set, the watchdog's. */
static enum MHD_Result
send_answer_of(request *r, bool late)
{
    const char *body = late ? r->late : (const char *)r->out.data;
    size_t len = late ? strlen(r->late) : r->out.len;
    int status = late ? r->late_status : r->status;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            !late && r->content_type ? r->content_type : "application/json");
    MHD_add_response_header(resp, "X-Request-Id",
                            tb_arena_printf(r->arena, "%llu", r->rid));
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (!late && r->disposition)
        MHD_add_response_header(resp, "Content-Disposition", r->disposition);
    if (!late && r->location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    if (status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (status == 503)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "5");
    if (r->srv->draining)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ok = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->phase = PHASE_ANSWERED;
    r->sent_status = status;
    return ok;
}

static enum MHD_Result
send_answer(request *r)
{
    return send_answer_of(r, false);
}

/* Answers r with an error now, on the HTTP thread. */
static enum MHD_Result
refuse(request *r, int status, const char *msg)
{
    respond_error(r, status, "%s", msg);
    return send_answer(r);
}

/* ---- authentication ----------------------------------------------------------------------- */

/* The configured token whose hash matches the request's bearer token, or NULL.  Every token is
 * compared (constant time each), so timing says nothing about which one nearly matched. */
static const server_token *
find_token(const server *srv, const char *header)
{
    static const char prefix[] = "Bearer ";
    if (header == NULL || strncmp(header, prefix, sizeof prefix - 1) != 0)
        return NULL;
    const char *token = header + sizeof prefix - 1;
    size_t n = strlen(token);
    if (n < 16 || n > 256)
        return NULL;
    char hex[DIGEST_SHA256_HEX];
    digest_sha256_hex(token, n, hex);
    const server_token *found = NULL;
    for (size_t i = 0; i < srv->cfg->token_count; i++)
        if (digest_equal(srv->cfg->tokens[i].sha256, hex))
            found = &srv->cfg->tokens[i];
    return found;
}

/* 0 when the caller may use the route, else the status to refuse with (and why in *why). */
static int
authorize(request *r, const char **why)
{
    api_access need = r->route->access;
    if (need == ACCESS_PUBLIC)
        return 0;
    const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_AUTHORIZATION);
    if (h == NULL) {
        *why = "Authorization: Bearer <token> is required";
        return 401;
    }
    if (!(r->token = find_token(r->srv, h))) {
        *why = "the bearer token is not known";
        return 401;
    }
    bool admin = r->token->office < 0;
    if (need == ACCESS_ADMIN && !admin) {
        *why = "this route needs an admin token";
        return 403;
    }
    if (need == ACCESS_OFFICE && admin) {
        *why = "this route acts for an office: use that office's token";
        return 403;
    }
    return 0;
}

/* ---- the request lifecycle ---------------------------------------------------------------- */

static request *
request_new(server *srv, struct MHD_Connection *conn, const char *url, const char *method)
{
    request *r = tb_xcalloc(1, sizeof *r);
    r->srv = srv;
    r->conn = conn;
    r->rid = atomic_fetch_add(&srv->next_rid, 1) + 1;
    snprintf(r->method, sizeof r->method, "%s", method);
    r->path = tb_xstrdup(url);
    r->arena = tb_arena_new(0);
    r->body = (tb_buf)TB_BUF_INIT;
    r->out = (tb_buf)TB_BUF_INIT;
    atomic_init(&r->refs, 1);
    atomic_init(&r->work, WORK_QUEUED);
    clock_gettime(CLOCK_MONOTONIC, &r->started);
    pthread_mutex_lock(&srv->lock);
    srv->in_flight++;
    pthread_mutex_unlock(&srv->lock);
    return r;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode why)
{
    server *srv = cls;
    request *r = *con_cls;
    (void)conn;
    if (r == NULL)
        return;
    double s = seconds_since(&r->started);
    int status = r->phase == PHASE_ANSWERED ? r->sent_status : 0;
    metrics_request(&srv->m, r->route, status, s);
    const server_office *o = request_office(r);
    server_log("rid=%llu %s %s %d %.1fms %s%s%s", r->rid, r->method, r->path, status, s * 1e3,
               r->token ? (o ? "office=" : "admin=") : "-", r->token ? r->token->name : "",
               why == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection closed early)");
    *con_cls = NULL;
    request_unref(r);
}

void
request_unref(request *r)
{
    if (atomic_fetch_sub(&r->refs, 1) != 1)
        return; /* a worker still runs it (it was answered late, by the watchdog) */
    server *srv = r->srv;
    tb_buf_release(&r->body);
    tb_buf_release(&r->out);
    tb_arena_free(r->arena);
    free(r->late);
    free(r->path);
    free(r);
    pthread_mutex_lock(&srv->lock);
    if (--srv->in_flight == 0)
        pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->lock);
}

static const char *
query_param(void *user, const char *key)
{
    request *r = user;
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

/* The body is in: parse everything, then answer or queue. */
static enum MHD_Result
dispatch(request *r)
{
    server *srv = r->srv;
    tb_err err = {0};
    const char *accept = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_ACCEPT);
    int st = api_parse(r->method, r->path, query_param, r, accept, r->body.data, r->body.len,
                       r->arena, &r->api, &err);
    if (st)
        return refuse(r, st, err.msg);
    const char *key = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Idempotency-Key");
    if (key) {
        size_t n = strlen(key);
        bool ok = n > 0 && n <= 128;
        for (size_t i = 0; ok && i < n; i++)
            ok = key[i] > 0x20 && key[i] < 0x7f;
        if (!ok)
            return refuse(r, 400, "Idempotency-Key: 1 to 128 printable ASCII characters");
        r->idempotency_key = tb_arena_strdup(r->arena, key);
    }
    switch (r->route->route) {
    case ROUTE_HEALTHZ:
        respond_json(r, 200, json_pack("{s:s,s:b,s:i}", "status",
                                       srv->draining ? "draining" : "ok", "draining",
                                       srv->draining, "workers", srv->worker_count));
        return send_answer(r);
    case ROUTE_METRICS:
        r->status = 200;
        r->content_type = "text/plain; version=0.0.4";
        metrics_write(srv, &r->out);
        return send_answer(r);
    default:
        break;
    }
    r->phase = PHASE_QUEUED;
    clock_gettime(CLOCK_MONOTONIC, &r->queued_at);
    MHD_suspend_connection(r->conn);
    if (!workers_enqueue(srv, r)) {
        atomic_store(&r->work, WORK_ANSWERED);
        MHD_resume_connection(r->conn);
        respond_error(r, 503, "every worker is busy and the queue is full (%d); retry later",
                      srv->cfg->queue_limit);
    }
    return MHD_YES; /* answered when MHD calls again after the resume */
}

void
http_resume(request *r)
{
    MHD_resume_connection(r->conn);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
    server *srv = cls;
    request *r = *con_cls;
    (void)version;
    if (r == NULL) {
        r = *con_cls = request_new(srv, conn, url, method);
        tb_err err = {0};
        int st = 0;
        const char *var;
        if (!(r->route = api_match(method, url, r->arena, &var, &st, &err)))
            return refuse(r, st, err.msg);
        const char *why = NULL;
        if ((st = authorize(r, &why)))
            return refuse(r, st, why);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > srv->cfg->max_body)
            return refuse(r, 413, tb_arena_printf(r->arena, "the body is larger than the "
                                                  "limit of %zu MB", srv->cfg->max_body >> 20));
        return MHD_YES;
    }
    if (r->phase == PHASE_ANSWERED) {
        *upload_size = 0; /* the rest of a refused upload is discarded */
        return MHD_YES;
    }
    if (r->phase == PHASE_QUEUED) {
        /* Resumed: a worker (or the full queue) has filled the answer, or the watchdog has. */
        int work = atomic_load(&r->work);
        if (work == WORK_ANSWERED)
            return send_answer(r);
        if (work == WORK_LATE_QUEUED || work == WORK_LATE_RUNNING)
            return send_answer_of(r, true);
        return MHD_YES;
    }
    if (*upload_size) {
        if (r->body.len + *upload_size > srv->cfg->max_body) {
            *upload_size = 0;
            return refuse(r, 413, tb_arena_printf(r->arena, "the body is larger than the "
                                                  "limit of %zu MB", srv->cfg->max_body >> 20));
        }
        tb_buf_append(&r->body, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    return dispatch(r);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    server_log("http: %s", msg);
}

int
http_bound_port(server *srv)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd,
                                                           MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : srv->cfg->port;
}

tb_code
http_start(server *srv, tb_err *err)
{
    server_config *c = srv->cfg;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
    if (inet_pton(AF_INET, c->host, &sin.sin_addr) != 1)
        return tb_err_set(err, TB_EINVAL, "listen: '%s' is not an IPv4 address", c->host);
    /* ITC: workers resume connections and SIGTERM quiesces the listening socket. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ITC | MHD_USE_ERROR_LOG;
    tb_buf cert = TB_BUF_INIT, key = TB_BUF_INIT;
    tb_code rc = TB_OK;
    if (c->tls_cert) {
        if (tb_fs_is_group_or_world_readable(c->tls_key)) {
            rc = tb_err_set(err, TB_EINVAL, "%s: the TLS key is readable by group or others "
                            "(chmod 600 it)", c->tls_key);
            goto done;
        }
        if ((rc = tb_fs_read(c->tls_cert, 1 << 20, &cert, err)) != TB_OK ||
            (rc = tb_fs_read(c->tls_key, 1 << 20, &key, err)) != TB_OK)
            goto done;
        flags |= MHD_USE_TLS;
    }
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, srv}, /* first, to catch everything */
        {MHD_OPTION_SOCK_ADDR, 0, &sin},
        {MHD_OPTION_CONNECTION_TIMEOUT, c->request_timeout_s, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, 1000, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, srv},
        {c->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert.data},
        {c->tls_cert ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, key.data},
        {MHD_OPTION_END, 0, NULL},
    };
    srv->mhd = MHD_start_daemon(flags, (uint16_t)c->port, NULL, NULL, on_request, srv,
                                MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (srv->mhd == NULL)
        rc = tb_err_set(err, TB_EIO, "listen %s:%d: could not start the HTTP daemon (address in "
                        "use, or a bad TLS certificate or key)", c->host, c->port);
done:
    if (key.data)
        memset(key.data, 0, key.len); /* MHD keeps its own copy */
    tb_buf_release(&cert);
    tb_buf_release(&key);
    return rc;
}
