/* Routing and parameter checks (api.h).  Every value from a request is checked here, once, so
 * the handlers see only typed, bounded values; nothing from a request ever becomes a path. */
#include "tb_features.h"

#include "api.h"
#include "importer.h"
#include "tb_utf8.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const api_route_info routes[] = {
    {"GET", "/healthz", ROUTE_HEALTHZ, ACCESS_PUBLIC, false, "healthz"},
    {"GET", "/metrics", ROUTE_METRICS, ACCESS_PUBLIC, false, "metrics"},
    {"POST", "/v1/imports", ROUTE_IMPORT, ACCESS_ADMIN, true, "import"},
    {"GET", "/v1/patches", ROUTE_PATCHES, ACCESS_ANY, true, "patches"},
    {"GET", "/v1/patches/{id}", ROUTE_PATCH, ACCESS_ANY, true, "patch"},
    {"POST", "/v1/patches/{id}/status", ROUTE_PATCH_STATUS, ACCESS_OFFICE, true, "patch_status"},
    {"POST", "/v1/documents", ROUTE_DOCUMENT_ISSUE, ACCESS_OFFICE, true, "document_issue"},
    {"POST", "/v1/documents/preview", ROUTE_DOCUMENT_PREVIEW, ACCESS_OFFICE, true,
     "document_preview"},
    {"GET", "/v1/documents", ROUTE_DOCUMENTS, ACCESS_OFFICE, true, "documents"},
    {"GET", "/v1/documents/{n}", ROUTE_DOCUMENT, ACCESS_OFFICE, true, "document"},
    {"GET", "/v1/documents/{n}/pdf", ROUTE_DOCUMENT_PDF, ACCESS_OFFICE, true, "document_pdf"},
    {"POST", "/v1/verify", ROUTE_VERIFY, ACCESS_OFFICE, true, "verify"},
    {"POST", "/v1/jobs", ROUTE_JOB_CREATE, ACCESS_OFFICE, true, "job_create"},
    {"GET", "/v1/jobs/{n}", ROUTE_JOB, ACCESS_OFFICE, true, "job"},
    {"GET", "/v1/jobs/{n}/results", ROUTE_JOB_RESULTS, ACCESS_OFFICE, true, "job_results"},
    {"GET", "/v1/jobs/{n}/results.zip", ROUTE_JOB_ZIP, ACCESS_OFFICE, true, "job_zip"},
    {"DELETE", "/v1/jobs/{n}", ROUTE_JOB_CANCEL, ACCESS_OFFICE, true, "job_cancel"},
};

enum { ROUTE_TABLE_SIZE = sizeof routes / sizeof routes[0] };

const api_route_info *
api_route_table(size_t *count)
{
    *count = ROUTE_TABLE_SIZE;
    return routes;
}

int
api_status_for(tb_code code)
{
    switch (code) {
    case TB_OK: return 200;
    case TB_EINVAL: return 400;
    case TB_ENOTFOUND: return 404;
    case TB_ELIMIT: return 413;
    case TB_EFORMAT: return 422;
    default: return 500;
    }
}

/* ---- path matching ------------------------------------------------------------------------ */

/* Matches path against pattern; the text of a {…} segment goes to *var (arena copy). */
static bool
match(const char *pattern, const char *path, tb_arena *a, const char **var)
{
    while (*pattern && *path) {
        if (*pattern == '{') {
            const char *end = strchr(pattern, '}');
            size_t n = strcspn(path, "/");
            if (end == NULL || n == 0)
                return false;
            *var = tb_arena_strndup(a, path, n);
            pattern = end + 1;
            path += n;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    return *pattern == '\0' && *path == '\0';
}

/* ---- values ------------------------------------------------------------------------------- */

static int
bad(tb_err *err, int status, const char *fmt, const char *what, const char *value)
{
    char shown[64];
    /* Echo at most a short, valid-UTF-8 prefix of what the client sent. */
    value = value ? value : "";
    if (tb_utf8_valid(value, strlen(value)))
        tb_utf8_copy(shown, sizeof shown, value, strlen(value));
    else
        snprintf(shown, sizeof shown, "(not UTF-8)");
    tb_err_set(err, TB_EINVAL, fmt, what, shown);
    return status;
}

/* Checks a text value: bounded, valid UTF-8, no control characters. */
static bool
text_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > API_TEXT_MAX || !tb_utf8_valid(s, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

/* A patch id: letters, digits, '-' and '_' (ids like 139901SJBG24210003). */
static bool
patch_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= 'a' && s[i] <= 'z') || s[i] == '-' || s[i] == '_'))
            return false;
    return true;
}

/* An administrative code: 6, 9 or 12 digits. */
static bool
admin_code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n != 6 && n != 9 && n != 12)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool
positive_id(const char *s, int64_t *out)
{
    char *end;
    if (s == NULL || s[0] < '1' || s[0] > '9' || strlen(s) > 18)
        return false;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || v <= 0)
        return false;
    *out = v;
    return true;
}

static int
set_batch(api_request *r, const char *label, const char *source, tb_err *err)
{
    if (!importer_parse_batch(label, &r->batch))
        return bad(err, 400, "%s: expected a year (2024) or a quarter (2024Q3), got '%s'",
                   "batch", label);
    if (source == NULL || strcmp(source, "部") == 0)
        r->batch.source = "部";
    else if (strcmp(source, "省") == 0)
        r->batch.source = "省";
    else
        return bad(err, 400, "%s: expected 部 or 省, got '%s'", "source", source);
    r->has_batch = true;
    return 0;
}

static int
set_township(api_request *r, const char *s, tb_arena *a, tb_err *err)
{
    if (!admin_code_ok(s))
        return bad(err, 400, "%s: expected a 9- or 12-digit township code, got '%s'",
                   "township", s);
    r->township = tb_arena_strdup(a, s);
    return 0;
}

static int
set_state(api_request *r, const char *s, const char *what, tb_err *err)
{
    if (!rectify_state_parse(s, &r->state) || r->state == RECTIFY_NONE)
        return bad(err, 400, "%s: expected 未整改, 整改中, 已整改, 已验收 or 存违挂账, got '%s'",
                   what, s);
    r->has_state = true;
    return 0;
}

static int
set_date(api_request *r, const char *s, const char *what, tb_err *err)
{
    if (!cn_date_parse(s, &r->date) || r->date.year < 1990 || r->date.year > 2100)
        return bad(err, 400, "%s: expected a date YYYY-MM-DD, got '%s'", what, s);
    r->has_date = true;
    return 0;
}

static int
set_count(long *out, const char *s, const char *what, long max, tb_err *err)
{
    char *end;
    long v = s[0] >= '0' && s[0] <= '9' && strlen(s) <= 9 ? strtol(s, &end, 10) : -1;
    if (v < 0 || *end != '\0' || v > max)
        return bad(err, 400, "%s: expected a whole number up to 100000, got '%s'", what, s);
    *out = v;
    return 0;
}

/* ---- query parameters --------------------------------------------------------------------- */

static int
parse_patch_query(api_request *r, api_param_fn *param, void *user, tb_arena *a, tb_err *err)
{
    const char *batch = param(user, "batch"), *source = param(user, "source"), *v;
    int st;
    if (batch && (st = set_batch(r, batch, source, err)))
        return st;
    if (!batch)
        return bad(err, 400, "%s: required (a year 2024 or a quarter 2024Q3)%s", "batch", "");
    if ((v = param(user, "township")) && (st = set_township(r, v, a, err)))
        return st;
    if ((v = param(user, "state")) && (st = set_state(r, v, "state", err)))
        return st;
    if ((v = param(user, "as_of")) && (st = set_date(r, v, "as_of", err)))
        return st;
    r->limit = 1000;
    if ((v = param(user, "limit")) && (st = set_count(&r->limit, v, "limit", 100000, err)))
        return st;
    if ((v = param(user, "offset")) && (st = set_count(&r->offset, v, "offset", 100000, err)))
        return st;
    return 0;
}

static int
parse_import_query(api_request *r, api_param_fn *param, void *user, tb_err *err)
{
    const char *batch = param(user, "batch"), *source = param(user, "source"), *v;
    int st;
    if (batch && (st = set_batch(r, batch, source, err)))
        return st;
    if ((v = param(user, "format"))) {
        static const char *const formats[] = {"gpkg", "geojson", "csv"};
        for (size_t i = 0; i < 3 && !r->format; i++)
            if (strcmp(v, formats[i]) == 0)
                r->format = formats[i];
        if (!r->format)
            return bad(err, 400, "%s: expected gpkg, geojson or csv, got '%s'", "format", v);
    }
    if ((v = param(user, "at")) && (st = set_date(r, v, "at", err)))
        return st;
    return 0;
}

/* ---- JSON bodies -------------------------------------------------------------------------- */

/* A string member (NULL when absent); a member of another type is an error. */
static int
json_text(json_t *o, const char *key, const char **out, tb_err *err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v) || !text_ok(json_string_value(v)))
        return bad(err, 422, "%s: expected a non-empty string of printable UTF-8 up to 256 "
                   "bytes%s", key, "");
    *out = json_string_value(v);
    return 0;
}

static int
check_members(json_t *o, const char *const *allowed, tb_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        bool known = false;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp(allowed[i], key) == 0;
        if (!known)
            return bad(err, 422, "%s: unknown member '%s'", "body", key);
    }
    return 0;
}

static int
parse_body_fields(api_request *r, json_t *o, tb_arena *a, tb_err *err)
{
    const char *kind, *batch, *source, *township, *date, *state, *note, *format;
    int st;
    if ((st = json_text(o, "kind", &kind, err)) || (st = json_text(o, "batch", &batch, err)) ||
        (st = json_text(o, "source", &source, err)) ||
        (st = json_text(o, "township", &township, err)) ||
        (st = json_text(o, "date", &date, err)) || (st = json_text(o, "state", &state, err)) ||
        (st = json_text(o, "note", &note, err)) || (st = json_text(o, "format", &format, err)))
        return st;
    if (kind) {
        if (strcmp(kind, "notice") != 0)
            return bad(err, 422, "%s: unknown document kind '%s' (available: notice)", "kind",
                       kind);
        r->kind = "notice";
    }
    if (batch && (st = set_batch(r, batch, source, err)))
        return st;
    if (township && (st = set_township(r, township, a, err)))
        return st;
    if (date && (st = set_date(r, date, "date", err)))
        return st;
    if (state && (st = set_state(r, state, "state", err)))
        return st;
    if (note)
        r->note = tb_arena_strdup(a, note);
    if (format) {
        if (strcmp(format, "pdf") != 0 && strcmp(format, "json") != 0)
            return bad(err, 422, "%s: expected pdf or json, got '%s'", "format", format);
        r->want_pdf = strcmp(format, "pdf") == 0;
    }
    json_t *towns = json_object_get(o, "townships");
    if (towns) {
        size_t n = json_array_size(towns);
        if (!json_is_array(towns) || n == 0 || n > API_TOWNSHIPS_MAX)
            return bad(err, 422, "%s: expected an array of 1 to 1000 township codes%s",
                       "townships", "");
        r->townships = tb_arena_array(a, n, sizeof *r->townships);
        for (size_t i = 0; i < n; i++) {
            json_t *t = json_array_get(towns, i);
            if (!json_is_string(t) || !admin_code_ok(json_string_value(t)))
                return bad(err, 422, "%s: every entry must be a 9- or 12-digit code%s",
                           "townships", "");
            for (size_t j = 0; j < i; j++)
                if (strcmp(r->townships[j], json_string_value(t)) == 0)
                    return bad(err, 422, "%s: '%s' is named twice", "townships",
                               json_string_value(t));
            r->townships[i] = tb_arena_strdup(a, json_string_value(t));
        }
        r->township_count = n;
    }
    return 0;
}

static int
parse_json_body(api_request *r, const unsigned char *body, size_t len, tb_arena *a, tb_err *err)
{
    static const char *const status_members[] = {"state", "note", "date", "batch", "source",
                                                 NULL};
    static const char *const document_members[] = {"kind", "batch", "source", "township", "date",
                                                   "format", NULL};
    static const char *const job_members[] = {"kind", "batch", "source", "townships", "date",
                                              NULL};
    if (body == NULL || len == 0)
        return bad(err, 415, "%s: expected a JSON object%s", "body", "");
    json_error_t je;
    json_t *o = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL || !json_is_object(o)) {
        json_decref(o);
        return bad(err, 415, "%s: not a JSON object (%s)", "body", o ? "another type" : je.text);
    }
    const char *const *allowed = r->info->route == ROUTE_PATCH_STATUS ? status_members
                                 : r->info->route == ROUTE_JOB_CREATE ? job_members
                                                                      : document_members;
    int st = check_members(o, allowed, err);
    if (st == 0)
        st = parse_body_fields(r, o, a, err);
    json_decref(o);
    if (st)
        return st;
    switch (r->info->route) {
    case ROUTE_PATCH_STATUS:
        if (!r->has_state || !r->has_batch)
            return bad(err, 422, "%s: state (未整改, 整改中, 已整改, 已验收 or 存违挂账) and batch are "
                       "required%s", "body", "");
        break;
    case ROUTE_DOCUMENT_ISSUE:
    case ROUTE_DOCUMENT_PREVIEW:
        if (!r->kind || !r->has_batch || !r->township)
            return bad(err, 422, "%s: kind, batch and township are required%s", "body", "");
        break;
    case ROUTE_JOB_CREATE:
        if (!r->kind || !r->has_batch)
            return bad(err, 422, "%s: kind and batch are required%s", "body", "");
        break;
    default:
        break;
    }
    return 0;
}

/* ---- the request -------------------------------------------------------------------------- */

const api_route_info *
api_match(const char *method, const char *path, tb_arena *a, const char **var, int *status,
          tb_err *err)
{
    bool path_known = false;
    for (size_t i = 0; i < ROUTE_TABLE_SIZE; i++) {
        *var = NULL;
        if (!match(routes[i].pattern, path, a, var))
            continue;
        path_known = true;
        if (strcmp(routes[i].method, method) == 0)
            return &routes[i];
    }
    *var = NULL;
    *status = path_known ? bad(err, 405, "%s: %s is not allowed on this path", "method", method)
                         : bad(err, 404, "%s: no such route%s", "path", "");
    return NULL;
}

int
api_parse(const char *method, const char *path, api_param_fn *param, void *user,
          const char *accept, const unsigned char *body, size_t body_len, tb_arena *a,
          api_request *out, tb_err *err)
{
    *out = (api_request){0};
    const char *var = NULL;
    int st = 0;
    if (!(out->info = api_match(method, path, a, &var, &st, err)))
        return st;
    if (var) {
        if (strstr(out->info->pattern, "{id}")) {
            if (!patch_id_ok(var))
                return bad(err, 400, "%s: expected letters, digits, '-' or '_' (up to 64), got "
                           "'%s'", "patch id", var);
            out->patch_id = var;
        } else if (!positive_id(var, &out->id)) {
            return bad(err, 404, "%s: no such document or job '%s'", "id", var);
        }
    }
    switch (out->info->route) {
    case ROUTE_PATCHES:
    case ROUTE_PATCH:
        st = parse_patch_query(out, param, user, a, err);
        break;
    case ROUTE_IMPORT:
        st = parse_import_query(out, param, user, err);
        if (st == 0 && (body == NULL || body_len == 0))
            st = bad(err, 400, "%s: upload the patch file as the request body%s", "body", "");
        break;
    case ROUTE_VERIFY:
        if (body == NULL || body_len == 0)
            st = bad(err, 400, "%s: upload the PDF as the request body%s", "body", "");
        break;
    case ROUTE_PATCH_STATUS:
    case ROUTE_DOCUMENT_ISSUE:
    case ROUTE_DOCUMENT_PREVIEW:
    case ROUTE_JOB_CREATE:
        st = parse_json_body(out, body, body_len, a, err);
        break;
    case ROUTE_DOCUMENTS: {
        const char *v = param(user, "limit");
        out->limit = 100;
        if (v)
            st = set_count(&out->limit, v, "limit", 100000, err);
        break;
    }
    default:
        break;
    }
    if (st == 0 && out->info->route == ROUTE_DOCUMENT_ISSUE && accept &&
        strstr(accept, "application/pdf"))
        out->want_pdf = true;
    return st;
}
