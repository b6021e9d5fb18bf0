/* The daemon's configuration file (server.h).  Table-driven: each key names where it goes. */
#include "tb_features.h"

#include "server.h"
#include "tb_buf.h"
#include "tb_fs.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum section { SEC_MAIN, SEC_OFFICE, SEC_ADMIN } section;

typedef struct parser {
    server_config *cfg;
    tb_arena *a;
    const char *base; /* directory of the file, for relative paths */
    int line;
    section sec;
    const char *sec_name;
    size_t office_cap, token_cap;
} parser;

static tb_code
fail(parser *p, tb_err *err, const char *key, const char *what)
{
    return tb_err_set(err, TB_EINVAL, "%s:%d: %s%s%s", p->cfg->path, p->line, key ? key : "",
                      key ? ": " : "", what);
}

static const char *
resolve(parser *p, const char *v)
{
    return v[0] == '/' ? tb_arena_strdup(p->a, v) : tb_arena_printf(p->a, "%s/%s", p->base, v);
}

static tb_code
int_value(parser *p, const char *key, const char *v, long lo, long hi, long *out, tb_err *err)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (end == v || *end != '\0' || n < lo || n > hi) {
        char msg[96];
        snprintf(msg, sizeof msg, "expected a whole number from %ld to %ld", lo, hi);
        return fail(p, err, key, msg);
    }
    *out = n;
    return TB_OK;
}

static bool
is_sha256_hex(const char *v)
{
    if (strlen(v) != 64)
        return false;
    for (int i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)v[i]) || isupper((unsigned char)v[i]))
            return false;
    return true;
}

static tb_code
add_token(parser *p, const char *key, const char *v, tb_err *err)
{
    server_config *c = p->cfg;
    if (!is_sha256_hex(v))
        return fail(p, err, key, "expected the 64 lowercase hex digits of the token's SHA-256 "
                    "(printf %s TOKEN | sha256sum); tokens are never stored in clear");
    for (size_t i = 0; i < c->token_count; i++)
        if (strcmp(c->tokens[i].sha256, v) == 0)
            return fail(p, err, key, "this token is already given to another section");
    if (c->token_count == p->token_cap) {
        p->token_cap = p->token_cap ? p->token_cap * 2 : 8;
        server_token *t = tb_arena_array(p->a, p->token_cap, sizeof *t);
        if (c->token_count)
            memcpy(t, c->tokens, c->token_count * sizeof *t);
        c->tokens = t;
    }
    c->tokens[c->token_count++] = (server_token){
        tb_arena_strdup(p->a, p->sec_name), tb_arena_strdup(p->a, v),
        p->sec == SEC_OFFICE ? (int)c->office_count - 1 : -1};
    return TB_OK;
}

/* Numeric keys of the main section: where each goes and its range. */
static const struct int_key {
    const char *name;
    long lo, hi;
    size_t offset;
    bool megabytes; /* stored as bytes (size_t) */
} int_keys[] = {
    {"workers", 0, 256, offsetof(server_config, workers), false},
    {"max_body_mb", 1, 4096, offsetof(server_config, max_body), true},
    {"request_timeout_s", 1, 3600, offsetof(server_config, request_timeout_s), false},
    {"queue_limit", 1, 100000, offsetof(server_config, queue_limit), false},
    {"drain_timeout_s", 1, 3600, offsetof(server_config, drain_timeout_s), false},
};

static tb_code
main_key(parser *p, const char *key, const char *v, tb_err *err)
{
    server_config *c = p->cfg;
    static const struct {
        const char *name;
        size_t offset;
    } path_keys[] = {
        {"store", offsetof(server_config, store_path)},
        {"archive", offsetof(server_config, archive_root)},
        {"scratch", offsetof(server_config, scratch_root)},
        {"tls_cert", offsetof(server_config, tls_cert)},
        {"tls_key", offsetof(server_config, tls_key)},
    };
    if (strcmp(key, "listen") == 0)
        return server_config_set_listen(c, v, p->a, err);
    for (size_t i = 0; i < sizeof path_keys / sizeof path_keys[0]; i++)
        if (strcmp(key, path_keys[i].name) == 0) {
            *(const char **)((char *)c + path_keys[i].offset) = resolve(p, v);
            return TB_OK;
        }
    for (size_t i = 0; i < sizeof int_keys / sizeof int_keys[0]; i++) {
        const struct int_key *k = &int_keys[i];
        long n = 0;
        if (strcmp(key, k->name) != 0)
            continue;
        tb_code rc = int_value(p, key, v, k->lo, k->hi, &n, err);
        if (rc == TB_OK && k->megabytes)
            *(size_t *)((char *)c + k->offset) = (size_t)n << 20;
        else if (rc == TB_OK)
            *(int *)((char *)c + k->offset) = (int)n;
        return rc;
    }
    return fail(p, err, key, "unknown key (listen, store, archive, scratch, tls_cert, tls_key,"
                " workers, max_body_mb, request_timeout_s, queue_limit, drain_timeout_s)");
}

static tb_code
section_key(parser *p, const char *key, const char *v, tb_err *err)
{
    if (strcmp(key, "token_sha256") == 0)
        return add_token(p, key, v, err);
    if (p->sec == SEC_OFFICE) {
        server_office *o = &p->cfg->offices[p->cfg->office_count - 1];
        if (strcmp(key, "dir") == 0) {
            o->dir = resolve(p, v);
            return TB_OK;
        }
        if (strcmp(key, "imagery") == 0) {
            o->imagery = resolve(p, v);
            return TB_OK;
        }
        return fail(p, err, key, "unknown key in an [office] section (dir, imagery, "
                    "token_sha256)");
    }
    return fail(p, err, key, "unknown key in an [admin] section (token_sha256)");
}

static bool
name_ok(const char *s)
{
    if (s[0] == '\0' || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
            return false;
    return true;
}

static tb_code
open_section(parser *p, char *s, tb_err *err)
{
    server_config *c = p->cfg;
    char *end = strchr(s, ']');
    if (end == NULL || end[1] != '\0')
        return fail(p, err, NULL, "a section header is [office <id>] or [admin <name>]");
    *end = '\0';
    char *name = strchr(s + 1, ' ');
    if (name == NULL)
        return fail(p, err, NULL, "a section header is [office <id>] or [admin <name>]");
    *name++ = '\0';
    while (*name == ' ')
        name++;
    if (!name_ok(name))
        return fail(p, err, NULL, "section names are letters, digits, '-', '_' or '.'");
    if (strcmp(s + 1, "admin") == 0) {
        p->sec = SEC_ADMIN;
    } else if (strcmp(s + 1, "office") == 0) {
        for (size_t i = 0; i < c->office_count; i++)
            if (strcmp(c->offices[i].id, name) == 0)
                return fail(p, err, NULL, "this office is configured twice");
        if (c->office_count == p->office_cap) {
            p->office_cap = p->office_cap ? p->office_cap * 2 : 4;
            server_office *o = tb_arena_array(p->a, p->office_cap, sizeof *o);
            if (c->office_count)
                memcpy(o, c->offices, c->office_count * sizeof *o);
            c->offices = o;
        }
        c->offices[c->office_count++] = (server_office){.id = tb_arena_strdup(p->a, name)};
        p->sec = SEC_OFFICE;
    } else {
        return fail(p, err, NULL, "unknown section (office, admin)");
    }
    p->sec_name = tb_arena_strdup(p->a, name);
    return TB_OK;
}

static char *
trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

tb_code
server_config_set_listen(server_config *cfg, const char *listen, tb_arena *a, tb_err *err)
{
    const char *colon = strrchr(listen, ':');
    unsigned b[4];
    char tail;
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (colon == NULL || colon == listen || *end != '\0' || colon[1] == '\0' || port < 0 ||
        port > 65535 ||
        sscanf(tb_arena_strndup(a, listen, (size_t)(colon - listen)), "%u.%u.%u.%u%c", &b[0],
               &b[1], &b[2], &b[3], &tail) != 4 ||
        b[0] > 255 || b[1] > 255 || b[2] > 255 || b[3] > 255)
        return tb_err_set(err, TB_EINVAL, "listen '%s': expected ADDR:PORT with a numeric IPv4 "
                          "address, e.g. 127.0.0.1:8640", listen);
    cfg->host = tb_arena_strndup(a, listen, (size_t)(colon - listen));
    cfg->port = (int)port;
    return TB_OK;
}

server_config *
server_config_load(const char *path, tb_arena *a, tb_err *err)
{
    tb_buf text = TB_BUF_INIT;
    if (tb_fs_read(path, 1 << 20, &text, err) != TB_OK) {
        tb_buf_release(&text);
        return NULL;
    }
    server_config *c = tb_arena_alloc(a, sizeof *c);
    *c = (server_config){.path = tb_arena_strdup(a, path), .host = "127.0.0.1", .port = 8640,
                         .max_body = 64u << 20, .request_timeout_s = 120, .queue_limit = 256,
                         .drain_timeout_s = 60};
    const char *slash = strrchr(path, '/');
    parser p = {.cfg = c, .a = a,
                .base = slash ? tb_arena_strndup(a, path, (size_t)(slash - path)) : "."};
    tb_code rc = TB_OK;
    char *s = (char *)text.data;
    while (rc == TB_OK && s && *s) {
        char *nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        p.line++;
        char *line = trim(s);
        s = nl ? nl + 1 : NULL;
        if (line[0] == '\0' || line[0] == '#')
            continue;
        if (line[0] == '[') {
            rc = open_section(&p, line, err);
            continue;
        }
        char *eq = strchr(line, '=');
        if (eq == NULL) {
            rc = fail(&p, err, NULL, "expected 'key = value'");
            continue;
        }
        *eq = '\0';
        char *comment = strstr(eq + 1, " #");
        if (comment)
            *comment = '\0'; /* "value  # why" */
        char *key = trim(line), *value = trim(eq + 1);
        if (value[0] == '\0')
            rc = fail(&p, err, key, "empty value");
        else
            rc = p.sec == SEC_MAIN ? main_key(&p, key, value, err)
                                   : section_key(&p, key, value, err);
    }
    tb_buf_release(&text);
    if (rc != TB_OK)
        return NULL;
    p.line = 0;
    if (!c->store_path || !c->archive_root)
        rc = tb_err_set(err, TB_EINVAL, "%s: 'store' and 'archive' are required", path);
    else if (c->office_count == 0)
        rc = tb_err_set(err, TB_EINVAL, "%s: no [office <id>] section", path);
    else if ((c->tls_cert == NULL) != (c->tls_key == NULL))
        rc = tb_err_set(err, TB_EINVAL, "%s: give both tls_cert and tls_key, or neither", path);
    for (size_t i = 0; rc == TB_OK && i < c->office_count; i++)
        if (c->offices[i].dir == NULL)
            rc = tb_err_set(err, TB_EINVAL, "%s: [office %s] has no 'dir'", path,
                            c->offices[i].id);
    if (rc == TB_OK && c->token_count == 0)
        rc = tb_err_set(err, TB_EINVAL, "%s: no token_sha256 anywhere: nobody could call the "
                        "API", path);
    if (rc == TB_OK && !c->scratch_root)
        c->scratch_root = tb_arena_printf(a, "%s/.scratch", c->archive_root);
    return rc == TB_OK ? c : NULL;
}
