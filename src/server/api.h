/* The HTTP API's routes and their parameters, parsed and checked without any I/O: method + path
 * → a route, query parameters and JSON bodies → typed values, or an HTTP status with a message
 * saying what was wrong.  Kept apart from libmicrohttpd so it can be fuzzed (tests/fuzz). */
#ifndef TB_SERVER_API_H
#define TB_SERVER_API_H

#include "cn_date.h"
#include "patch.h"
#include "store.h"
#include "tb_arena.h"
#include "tb_err.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum api_route {
    ROUTE_HEALTHZ,
    ROUTE_METRICS,
    ROUTE_IMPORT,           /* POST /v1/imports */
    ROUTE_PATCHES,          /* GET  /v1/patches */
    ROUTE_PATCH,            /* GET  /v1/patches/{id} */
    ROUTE_PATCH_STATUS,     /* POST /v1/patches/{id}/status */
    ROUTE_DOCUMENT_ISSUE,   /* POST /v1/documents */
    ROUTE_DOCUMENT_PREVIEW, /* POST /v1/documents/preview */
    ROUTE_DOCUMENTS,        /* GET  /v1/documents */
    ROUTE_DOCUMENT,         /* GET  /v1/documents/{id} */
    ROUTE_DOCUMENT_PDF,     /* GET  /v1/documents/{id}/pdf */
    ROUTE_VERIFY,           /* POST /v1/verify */
    ROUTE_JOB_CREATE,       /* POST /v1/jobs */
    ROUTE_JOB,              /* GET  /v1/jobs/{id} */
    ROUTE_JOB_RESULTS,      /* GET  /v1/jobs/{id}/results */
    ROUTE_JOB_ZIP,          /* GET  /v1/jobs/{id}/results.zip */
    ROUTE_JOB_CANCEL,       /* DELETE /v1/jobs/{id} */
    ROUTE_COUNT
} api_route;

/* Who may call a route. */
typedef enum api_access {
    ACCESS_PUBLIC, /* no token */
    ACCESS_OFFICE, /* an office's token: acts for that office only */
    ACCESS_ANY,    /* an office's token (its county) or an admin token (everything) */
    ACCESS_ADMIN,  /* an admin token */
} api_access;

typedef struct api_route_info {
    const char *method, *pattern; /* pattern segments "{id}" match one path segment */
    api_route route;
    api_access access;
    bool worker; /* runs on a worker thread (store, GDAL, rendering, signing) */
    const char *name; /* for logs and metrics */
} api_route_info;

const api_route_info *api_route_table(size_t *count);

/* Looks up a query parameter (NULL when absent). */
typedef const char *api_param_fn(void *user, const char *key);

enum {
    API_TEXT_MAX = 256,      /* longest id, township, note, key accepted */
    API_TOWNSHIPS_MAX = 1000 /* townships named in one job */
};

typedef struct api_request {
    const api_route_info *info;
    const char *patch_id;   /* {id} of /v1/patches/{id} */
    int64_t id;             /* {id} of documents and jobs (> 0) */
    /* selection */
    bool has_batch;
    store_batch batch;
    const char *township;   /* 9- or 12-digit code, NULL = any */
    bool has_state;
    rectify_state state;    /* filter (list) or new state (status change) */
    cn_date date;           /* as_of (list), the change's day (status), 成文日期 (documents) */
    bool has_date;
    const char *note;
    long limit, offset;
    /* documents and jobs */
    const char *kind;
    const char **townships; /* jobs: NULL = every township with illegal patches */
    size_t township_count;
    bool want_pdf;          /* documents: answer with the PDF rather than JSON */
    /* imports */
    const char *format;     /* "gpkg", "geojson" or "csv"; NULL = from the bytes */
} api_request;

/* Finds the route of method + path (*var: the {…} segment, or NULL); NULL with *status 404 or
 * 405 and err set when there is none.  Enough to check the caller's token before the body. */
const api_route_info *api_match(const char *method, const char *path, tb_arena *a,
                                const char **var, int *status, tb_err *err);

/* Parses one request.  Returns 0 with *out filled (strings owned by a), or the HTTP status to
 * answer (400 bad parameter, 404 no such route, 405 wrong method, 415 body not JSON, 422 a
 * value out of range) with err->msg saying what was wrong.  body may be NULL. */
int api_parse(const char *method, const char *path, api_param_fn *param, void *user,
              const char *accept, const unsigned char *body, size_t body_len, tb_arena *a,
              api_request *out, tb_err *err);

/* HTTP status for a library error code (TB_EINVAL 400, TB_ENOTFOUND 404, TB_ELIMIT 413,
 * TB_EFORMAT 422, otherwise 500). */
int api_status_for(tb_code code);

#endif
