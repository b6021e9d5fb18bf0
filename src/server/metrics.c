/* /metrics in the Prometheus text format: requests by route and status, latency histograms,
 * documents issued, queue depths. */
#include "tb_features.h"

#include "server_int.h"

#include <stdio.h>
#include <string.h>

static const double bucket_bounds[METRIC_BUCKETS - 1] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                         0.5,   1,    2.5,   5,    10};
static const int codes[METRIC_CODES - 1] = {200, 201, 202, 400, 401, 403, 404,
                                            405, 413, 415, 422, 500, 503};

void
metrics_init(metrics *m)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
}

void
metrics_request(metrics *m, const api_route_info *route, int status, double seconds)
{
    int r = route ? (int)route->route : ROUTE_COUNT;
    int c = METRIC_CODES - 1; /* other */
    for (int i = 0; i < METRIC_CODES - 1; i++)
        if (codes[i] == status)
            c = i;
    int b = METRIC_BUCKETS - 1;
    for (int i = 0; i < METRIC_BUCKETS - 1; i++)
        if (seconds <= bucket_bounds[i]) {
            b = i;
            break;
        }
    pthread_mutex_lock(&m->lock);
    m->requests[r][c]++;
    m->latency[r][b]++;
    m->latency_sum[r] += seconds;
    pthread_mutex_unlock(&m->lock);
}

void
metrics_document(metrics *m, bool ok)
{
    pthread_mutex_lock(&m->lock);
    if (ok)
        m->documents++;
    else
        m->job_items_failed++;
    pthread_mutex_unlock(&m->lock);
}

static const char *
route_name(int r)
{
    size_t n;
    const api_route_info *t = api_route_table(&n);
    for (size_t i = 0; i < n; i++)
        if ((int)t[i].route == r)
            return t[i].name;
    return "none";
}

void
metrics_write(server *srv, tb_buf *out)
{
    metrics copy;
    pthread_mutex_lock(&srv->m.lock);
    memcpy(copy.requests, srv->m.requests, sizeof copy.requests);
    memcpy(copy.latency, srv->m.latency, sizeof copy.latency);
    memcpy(copy.latency_sum, srv->m.latency_sum, sizeof copy.latency_sum);
    copy.documents = srv->m.documents;
    copy.job_items_failed = srv->m.job_items_failed;
    pthread_mutex_unlock(&srv->m.lock);
    pthread_mutex_lock(&srv->lock);
    int queued = srv->queued;
    pthread_mutex_unlock(&srv->lock);

    tb_buf_append_str(out, "# HELP tuban_http_requests_total Requests answered, by route and "
                           "status code.\n# TYPE tuban_http_requests_total counter\n");
    for (int r = 0; r <= ROUTE_COUNT; r++)
        for (int c = 0; c < METRIC_CODES; c++) {
            char code[8] = "other";
            if (c < METRIC_CODES - 1)
                snprintf(code, sizeof code, "%d", codes[c]);
            if (copy.requests[r][c])
                tb_buf_printf(out, "tuban_http_requests_total{route=\"%s\",code=\"%s\"} %lu\n",
                              route_name(r), code, copy.requests[r][c]);
        }
    tb_buf_append_str(out, "# HELP tuban_http_request_duration_seconds Time from the first byte "
                           "of a request to its answer.\n"
                           "# TYPE tuban_http_request_duration_seconds histogram\n");
    for (int r = 0; r <= ROUTE_COUNT; r++) {
        unsigned long total = 0;
        for (int b = 0; b < METRIC_BUCKETS; b++)
            total += copy.latency[r][b];
        if (total == 0)
            continue;
        unsigned long cum = 0;
        for (int b = 0; b < METRIC_BUCKETS - 1; b++) {
            cum += copy.latency[r][b];
            tb_buf_printf(out, "tuban_http_request_duration_seconds_bucket{route=\"%s\","
                               "le=\"%g\"} %lu\n", route_name(r), bucket_bounds[b], cum);
        }
        tb_buf_printf(out, "tuban_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"}"
                           " %lu\n", route_name(r), total);
        tb_buf_printf(out, "tuban_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n",
                      route_name(r), copy.latency_sum[r]);
        tb_buf_printf(out, "tuban_http_request_duration_seconds_count{route=\"%s\"} %lu\n",
                      route_name(r), total);
    }
    tb_buf_printf(out, "# HELP tuban_documents_total Documents issued, by kind.\n"
                       "# TYPE tuban_documents_total counter\n"
                       "tuban_documents_total{kind=\"notice\"} %lu\n"
                       "# HELP tuban_document_failures_total Documents that failed to render.\n"
                       "# TYPE tuban_document_failures_total counter\n"
                       "tuban_document_failures_total{kind=\"notice\"} %lu\n"
                       "# HELP tuban_job_queue_depth Job items pending or running (store).\n"
                       "# TYPE tuban_job_queue_depth gauge\n"
                       "tuban_job_queue_depth %ld\n"
                       "# HELP tuban_request_queue_depth Requests waiting for a worker.\n"
                       "# TYPE tuban_request_queue_depth gauge\n"
                       "tuban_request_queue_depth %d\n"
                       "# HELP tuban_workers Worker threads.\n# TYPE tuban_workers gauge\n"
                       "tuban_workers %d\n",
                  copy.documents, copy.job_items_failed, atomic_load(&srv->job_backlog), queued,
                  srv->worker_count);
}
