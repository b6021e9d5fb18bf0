/* Request handling of the daemon without the network: routing, query parameters and JSON
 * bodies through api_parse (src/server/api.c), as the HTTP thread runs it.
 * Input: "<METHOD> <path>\n<query: k=v&k=v>\n<Accept>\n<body>" (missing parts are empty). */
#include "tb_features.h"

#include "api.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct query {
    char *keys[16], *values[16];
    int count;
} query;

static const char *
param(void *user, const char *key)
{
    query *q = user;
    for (int i = 0; i < q->count; i++)
        if (strcmp(q->keys[i], key) == 0)
            return q->values[i];
    return NULL;
}

/* Splits s (modified) at the first c; returns the rest, or NULL. */
static char *
split(char *s, char c)
{
    char *p = s ? strchr(s, c) : NULL;
    if (p)
        *p++ = '\0';
    return p;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    /* The body keeps its length (it may hold NULs); the header lines end at the first NUL. */
    char *line1 = text, *line2 = split(line1, '\n'), *line3 = split(line2, '\n');
    char *rest = split(line3, '\n');
    const unsigned char *body = rest ? (const unsigned char *)data + (rest - text) : NULL;
    size_t body_len = rest ? size - (size_t)(rest - text) : 0;
    char *path = split(line1, ' ');
    query q = {.count = 0};
    for (char *kv = line2; kv && *kv && q.count < 16;) {
        char *next = split(kv, '&');
        char *v = split(kv, '=');
        q.keys[q.count] = kv;
        q.values[q.count++] = v ? v : (char *)"";
        kv = next;
    }
    tb_arena *a = tb_arena_new(1u << 24);
    tb_err err = {0};
    api_request req;
    int status = api_parse(line1, path ? path : "", param, &q, line3, body, body_len, a, &req,
                           &err);
    /* Whatever is accepted must be in range; whatever is refused must say why. */
    if (status == 0) {
        if (req.info == NULL)
            abort();
        if (req.has_batch && (req.batch.year < 1990 || req.batch.quarter < 0 ||
                              req.batch.quarter > 4 || req.batch.source == NULL))
            abort();
        if (req.township_count > API_TOWNSHIPS_MAX || req.limit < 0 || req.offset < 0)
            abort();
        if (req.has_date && !cn_date_valid(req.date))
            abort();
    } else if (status < 400 || status > 499 || err.msg[0] == '\0') {
        abort();
    }
    tb_arena_free(a);
    free(text);
    return 0;
}
