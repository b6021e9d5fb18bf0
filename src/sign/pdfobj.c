/* DESIGN: a recursive-descent parser over spans of the caller's buffer, recursion capped at
 * PDFOBJ_MAX_DEPTH.  Values are parsed fully (validated) once; iterating a dictionary or array
 * re-parses its items, which cannot fail differently the second time.  The xref chain is read
 * newest first, so the first definition of an object number seen is the one that counts. */
#include "tb_features.h"

#include "pdfobj.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool
is_ws(unsigned char c)
{
    return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ';
}

static bool
is_delim(unsigned char c)
{
    return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' ||
           c == '}' || c == '/' || c == '%';
}

static bool
is_regular(unsigned char c)
{
    return !is_ws(c) && !is_delim(c);
}

static bool
is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Skips whitespace and comments; returns the new position (<= len). */
static size_t
skip_ws(const unsigned char *p, size_t len, size_t pos)
{
    while (pos < len) {
        if (is_ws(p[pos])) {
            pos++;
        } else if (p[pos] == '%') {
            while (pos < len && p[pos] != '\n' && p[pos] != '\r')
                pos++;
        } else {
            break;
        }
    }
    return pos;
}

/* End of the run of regular characters starting at pos. */
static size_t
regular_end(const unsigned char *p, size_t len, size_t pos)
{
    while (pos < len && is_regular(p[pos]))
        pos++;
    return pos;
}

/* Parses an unsigned decimal integer token [pos, end) into *out; false if not one or too big. */
static bool
parse_uint(const unsigned char *p, size_t pos, size_t end, long long *out)
{
    if (pos >= end)
        return false;
    long long v = 0;
    for (size_t i = pos; i < end; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        if (v > (LLONG_MAX - 9) / 10)
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

/* True when [pos, end) is a PDF number: optional sign, digits, at most one point. */
static bool
parse_number(const unsigned char *p, size_t pos, size_t end, long long *iv, bool *is_int)
{
    size_t i = pos;
    bool neg = false;
    if (i < end && (p[i] == '+' || p[i] == '-')) {
        neg = p[i] == '-';
        i++;
    }
    size_t digits = 0, points = 0;
    long long v = 0;
    bool overflow = false;
    for (; i < end; i++) {
        if (p[i] == '.') {
            points++;
        } else if (p[i] >= '0' && p[i] <= '9') {
            digits++;
            if (points == 0) {
                if (v > (LLONG_MAX - 9) / 10)
                    overflow = true;
                else
                    v = v * 10 + (p[i] - '0');
            }
        } else {
            return false;
        }
    }
    if (digits == 0 || points > 1)
        return false;
    *is_int = points == 0 && !overflow;
    *iv = neg ? -v : v;
    return true;
}

static tb_code
parse_at(const unsigned char *p, size_t len, size_t pos, int depth, pdfobj_val *out, tb_err *err)
{
    memset(out, 0, sizeof *out);
    if (depth > PDFOBJ_MAX_DEPTH)
        return tb_err_set(err, TB_EFORMAT, "PDF: objects nested more than %d deep at offset %zu",
                          PDFOBJ_MAX_DEPTH, pos);
    pos = skip_ws(p, len, pos);
    if (pos >= len)
        return tb_err_set(err, TB_EFORMAT, "PDF: unexpected end of file in an object");
    out->start = pos;
    unsigned char c = p[pos];
    if (c == '<' && pos + 1 < len && p[pos + 1] == '<') {
        out->kind = PDFOBJ_DICT;
        pos += 2;
        for (;;) {
            pos = skip_ws(p, len, pos);
            if (pos + 1 < len && p[pos] == '>' && p[pos + 1] == '>') {
                out->end = pos + 2;
                return TB_OK;
            }
            pdfobj_val key, val;
            tb_code rc = parse_at(p, len, pos, depth + 1, &key, err);
            if (rc != TB_OK)
                return rc;
            if (key.kind != PDFOBJ_NAME)
                return tb_err_set(err, TB_EFORMAT,
                                  "PDF: dictionary key is not a name at offset %zu", key.start);
            rc = parse_at(p, len, key.end, depth + 1, &val, err);
            if (rc != TB_OK)
                return rc;
            pos = val.end;
        }
    }
    if (c == '<') {
        out->kind = PDFOBJ_HEX;
        for (pos++; pos < len && p[pos] != '>'; pos++)
            if (!is_hex(p[pos]) && !is_ws(p[pos]))
                return tb_err_set(err, TB_EFORMAT, "PDF: bad hex string at offset %zu",
                                  out->start);
        if (pos >= len)
            return tb_err_set(err, TB_EFORMAT, "PDF: unterminated hex string at offset %zu",
                              out->start);
        out->end = pos + 1;
        return TB_OK;
    }
    if (c == '[') {
        out->kind = PDFOBJ_ARRAY;
        pos++;
        for (;;) {
            pos = skip_ws(p, len, pos);
            if (pos < len && p[pos] == ']') {
                out->end = pos + 1;
                return TB_OK;
            }
            pdfobj_val item;
            tb_code rc = parse_at(p, len, pos, depth + 1, &item, err);
            if (rc != TB_OK)
                return rc;
            pos = item.end;
        }
    }
    if (c == '(') {
        out->kind = PDFOBJ_STRING;
        int nest = 0;
        for (; pos < len; pos++) {
            if (p[pos] == '\\') {
                pos++;
            } else if (p[pos] == '(') {
                nest++;
            } else if (p[pos] == ')' && --nest == 0) {
                out->end = pos + 1;
                return TB_OK;
            }
        }
        return tb_err_set(err, TB_EFORMAT, "PDF: unterminated string at offset %zu", out->start);
    }
    if (c == '/') {
        out->kind = PDFOBJ_NAME;
        out->end = regular_end(p, len, pos + 1);
        return TB_OK;
    }
    size_t end = regular_end(p, len, pos);
    if (end == pos)
        return tb_err_set(err, TB_EFORMAT, "PDF: unexpected '%c' at offset %zu",
                          c >= 0x20 && c < 0x7f ? c : '?', pos);
    out->end = end;
    if (!parse_number(p, pos, end, &out->num, &out->is_int)) {
        out->kind = PDFOBJ_KEYWORD;
        return TB_OK;
    }
    out->kind = PDFOBJ_NUMBER;
    /* A non-negative integer may start a reference "n g R". */
    if (!out->is_int || out->num < 0 || p[pos] == '+')
        return TB_OK;
    size_t g0 = skip_ws(p, len, end);
    size_t g1 = regular_end(p, len, g0);
    long long gen;
    if (g0 == end || !parse_uint(p, g0, g1, &gen) || gen > 65535)
        return TB_OK;
    size_t r0 = skip_ws(p, len, g1);
    if (r0 == g1 || r0 >= len || p[r0] != 'R' || regular_end(p, len, r0) != r0 + 1)
        return TB_OK;
    out->kind = PDFOBJ_REF;
    out->gen = (int)gen;
    out->end = r0 + 1;
    return TB_OK;
}

tb_code
pdfobj_parse(const pdfobj_doc *d, size_t pos, pdfobj_val *out, tb_err *err)
{
    return parse_at(d->p, d->len, pos, 0, out, err);
}

bool
pdfobj_dict_next(const pdfobj_doc *d, const pdfobj_val *dict, size_t *cursor, pdfobj_val *key,
                 pdfobj_val *val)
{
    if (dict->kind != PDFOBJ_DICT)
        return false;
    size_t pos = *cursor ? *cursor : dict->start + 2;
    pos = skip_ws(d->p, dict->end, pos);
    if (pos + 2 >= dict->end) /* only the closing ">>" is left */
        return false;
    if (parse_at(d->p, d->len, pos, 1, key, NULL) != TB_OK || key->kind != PDFOBJ_NAME)
        return false;
    if (parse_at(d->p, d->len, key->end, 1, val, NULL) != TB_OK || val->end > dict->end - 2)
        return false;
    *cursor = val->end;
    return true;
}

bool
pdfobj_is_name(const pdfobj_doc *d, const pdfobj_val *v, const char *name)
{
    size_t n = strlen(name);
    return v->kind == PDFOBJ_NAME && v->end - v->start == n + 1 &&
           memcmp(d->p + v->start + 1, name, n) == 0;
}

bool
pdfobj_dict_get(const pdfobj_doc *d, const pdfobj_val *dict, const char *key, pdfobj_val *out)
{
    size_t cur = 0;
    pdfobj_val k, v;
    while (pdfobj_dict_next(d, dict, &cur, &k, &v)) {
        if (pdfobj_is_name(d, &k, key)) {
            *out = v;
            return true;
        }
    }
    return false;
}

bool
pdfobj_array_next(const pdfobj_doc *d, const pdfobj_val *arr, size_t *cursor, pdfobj_val *item)
{
    if (arr->kind != PDFOBJ_ARRAY)
        return false;
    size_t pos = *cursor ? *cursor : arr->start + 1;
    pos = skip_ws(d->p, arr->end, pos);
    if (pos + 1 >= arr->end) /* only the closing "]" is left */
        return false;
    if (parse_at(d->p, d->len, pos, 1, item, NULL) != TB_OK || item->end > arr->end - 1)
        return false;
    *cursor = item->end;
    return true;
}

tb_code
pdfobj_load_at(const pdfobj_doc *d, long long num, int gen, size_t offset, pdfobj_val *out,
               tb_err *err)
{
    size_t pos = skip_ws(d->p, d->len, offset);
    long long n, g;
    size_t end = regular_end(d->p, d->len, pos);
    bool ok = parse_uint(d->p, pos, end, &n);
    pos = skip_ws(d->p, d->len, end);
    end = regular_end(d->p, d->len, pos);
    ok = ok && parse_uint(d->p, pos, end, &g);
    pos = skip_ws(d->p, d->len, end);
    end = regular_end(d->p, d->len, pos);
    ok = ok && end - pos == 3 && memcmp(d->p + pos, "obj", 3) == 0;
    if (!ok || n != num || g != gen)
        return tb_err_set(err, TB_EFORMAT,
                          "PDF: object %lld: no \"%lld %d obj\" at offset %zu (bad xref offset)",
                          num, num, gen, offset);
    return parse_at(d->p, d->len, end, 0, out, err);
}

tb_code
pdfobj_load(const pdfobj_doc *d, long long num, pdfobj_val *out, int *gen_out, tb_err *err)
{
    if (num <= 0 || (unsigned long long)num >= d->xref_len || !d->xref[num].known ||
        !d->xref[num].in_use)
        return tb_err_set(err, TB_EFORMAT, "PDF: object %lld is not in the cross-reference table",
                          num);
    const pdfobj_entry *e = &d->xref[num];
    if (gen_out)
        *gen_out = e->gen;
    return pdfobj_load_at(d, num, e->gen, e->offset, out, err);
}

bool
pdfobj_is_stream(const pdfobj_doc *d, const pdfobj_val *v)
{
    size_t pos = skip_ws(d->p, d->len, v->end);
    return v->kind == PDFOBJ_DICT && d->len - pos >= 6 && memcmp(d->p + pos, "stream", 6) == 0;
}

bool
pdfobj_equal(const pdfobj_doc *d, const pdfobj_val *a, const pdfobj_val *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case PDFOBJ_NUMBER:
        if (a->is_int && b->is_int)
            return a->num == b->num;
        break; /* reals: compare their text */
    case PDFOBJ_REF:
        return a->num == b->num && a->gen == b->gen;
    case PDFOBJ_ARRAY: {
        size_t ca = 0, cb = 0;
        pdfobj_val x, y;
        for (;;) {
            bool hx = pdfobj_array_next(d, a, &ca, &x), hy = pdfobj_array_next(d, b, &cb, &y);
            if (hx != hy || (hx && !pdfobj_equal(d, &x, &y)))
                return false;
            if (!hx)
                return true;
        }
    }
    case PDFOBJ_DICT: {
        size_t ca = 0, na = 0, nb = 0;
        pdfobj_val k, v, w, k2;
        while (pdfobj_dict_next(d, b, &ca, &k, &v))
            nb++;
        ca = 0;
        while (pdfobj_dict_next(d, a, &ca, &k, &v)) {
            na++;
            size_t cb = 0;
            bool found = false;
            while (!found && pdfobj_dict_next(d, b, &cb, &k2, &w))
                found = k2.end - k2.start == k.end - k.start &&
                        memcmp(d->p + k.start, d->p + k2.start, k.end - k.start) == 0;
            if (!found || !pdfobj_equal(d, &v, &w))
                return false;
        }
        return na == nb;
    }
    default:
        break;
    }
    return a->end - a->start == b->end - b->start &&
           memcmp(d->p + a->start, d->p + b->start, a->end - a->start) == 0;
}

tb_code
pdfobj_resolve(const pdfobj_doc *d, const pdfobj_val *v, pdfobj_val *out, tb_err *err)
{
    if (v->kind != PDFOBJ_REF) {
        *out = *v;
        return TB_OK;
    }
    return pdfobj_load(d, v->num, out, NULL, err);
}

/* Makes the table hold at least n entries. */
static void
xref_grow(pdfobj_doc *d, size_t n)
{
    if (n <= d->xref_len)
        return;
    d->xref = tb_xrealloc(d->xref, n * sizeof *d->xref);
    memset(d->xref + d->xref_len, 0, (n - d->xref_len) * sizeof *d->xref);
    d->xref_len = n;
}

/* Appends one entry of the section being read. */
static void
entry_add(pdfobj_doc *d, size_t *cap, long long num, size_t offset, int gen, bool in_use)
{
    if (d->nentries == *cap)
        d->entries = tb_xrealloc(d->entries, (*cap = *cap ? *cap * 2 : 64) * sizeof *d->entries);
    d->entries[d->nentries++] = (pdfobj_xentry){num, offset, gen, in_use};
}

/* Where the revision whose trailer ends at pos ends: after "startxref n %%EOF" and one
 * end-of-line; pos itself when that is not there. */
static size_t
revision_end(const unsigned char *p, size_t len, size_t pos)
{
    size_t i = skip_ws(p, len, pos);
    if (len - i < 9 || memcmp(p + i, "startxref", 9) != 0)
        return pos;
    i = skip_ws(p, len, i + 9);
    i = regular_end(p, len, i);
    while (i < len && is_ws(p[i]))
        i++;
    if (len - i < 5 || memcmp(p + i, "%%EOF", 5) != 0)
        return pos;
    i += 5;
    if (i < len && p[i] == '\r')
        i++;
    if (i < len && p[i] == '\n')
        i++;
    return i;
}

/* Reads one "xref ... trailer <<...>>" section at off; sets *trailer and records its entries. */
static tb_code
read_xref_section(pdfobj_doc *d, size_t off, pdfobj_val *trailer, size_t *entries_cap,
                  tb_err *err)
{
    const unsigned char *p = d->p;
    size_t len = d->len;
    size_t pos = skip_ws(p, len, off);
    size_t end = regular_end(p, len, pos);
    if (end - pos != 4 || memcmp(p + pos, "xref", 4) != 0) {
        long long n;
        if (parse_uint(p, pos, end, &n))
            return tb_err_set(err, TB_EFORMAT, "PDF: cross-reference streams (offset %zu) are "
                                               "not supported", off);
        return tb_err_set(err, TB_EFORMAT, "PDF: no xref table at offset %zu", off);
    }
    pos = end;
    for (;;) {
        pos = skip_ws(p, len, pos);
        end = regular_end(p, len, pos);
        if (end - pos == 7 && memcmp(p + pos, "trailer", 7) == 0)
            break;
        long long first, count;
        if (!parse_uint(p, pos, end, &first))
            return tb_err_set(err, TB_EFORMAT, "PDF: bad xref subsection header at offset %zu",
                              pos);
        pos = skip_ws(p, len, end);
        end = regular_end(p, len, pos);
        if (!parse_uint(p, pos, end, &count))
            return tb_err_set(err, TB_EFORMAT, "PDF: bad xref subsection header at offset %zu",
                              pos);
        /* Each entry takes at least 18 bytes, which bounds the table by the file size. */
        /* Each object also needs bytes of its own, which bounds `first` by the file size. */
        if (first > PDFOBJ_MAX_OBJECTS || count > PDFOBJ_MAX_OBJECTS - first ||
            (unsigned long long)count > (len - end) / 18 ||
            (count > 0 && (unsigned long long)(first + count) > len))
            return tb_err_set(err, TB_EFORMAT, "PDF: xref subsection %lld+%lld out of range",
                              first, count);
        xref_grow(d, (size_t)(first + count));
        pos = end;
        for (long long i = 0; i < count; i++) {
            long long o, g;
            pos = skip_ws(p, len, pos);
            end = regular_end(p, len, pos);
            bool ok = parse_uint(p, pos, end, &o);
            pos = skip_ws(p, len, end);
            end = regular_end(p, len, pos);
            ok = ok && parse_uint(p, pos, end, &g) && g <= 65535;
            pos = skip_ws(p, len, end);
            end = regular_end(p, len, pos);
            ok = ok && end - pos == 1 && (p[pos] == 'n' || p[pos] == 'f');
            if (!ok)
                return tb_err_set(err, TB_EFORMAT, "PDF: bad xref entry for object %lld",
                                  first + i);
            if (p[pos] == 'n' && (unsigned long long)o >= len)
                return tb_err_set(err, TB_EFORMAT,
                                  "PDF: object %lld offset %lld beyond end of file",
                                  first + i, o);
            entry_add(d, entries_cap, first + i, (size_t)o, (int)g, p[pos] == 'n');
            pdfobj_entry *e = &d->xref[first + i];
            if (!e->known) { /* newest section first: the first definition wins */
                e->known = true;
                e->in_use = p[pos] == 'n';
                e->gen = (int)g;
                e->offset = (size_t)o;
            }
            pos = end;
        }
    }
    tb_code rc = parse_at(p, len, end, 0, trailer, err);
    if (rc != TB_OK)
        return rc;
    if (trailer->kind != PDFOBJ_DICT)
        return tb_err_set(err, TB_EFORMAT, "PDF: trailer at offset %zu is not a dictionary",
                          trailer->start);
    return TB_OK;
}

/* Finds the offset after the last "startxref" in the last 2 KiB of the file. */
static tb_code
find_startxref(const unsigned char *p, size_t len, size_t *out, tb_err *err)
{
    static const char kw[] = "startxref";
    const size_t kwlen = sizeof kw - 1;
    size_t lo = len > 2048 ? len - 2048 : 0;
    for (size_t i = len >= kwlen ? len - kwlen + 1 : 0; i-- > lo;) {
        if (memcmp(p + i, kw, kwlen) != 0)
            continue;
        size_t pos = skip_ws(p, len, i + kwlen);
        size_t end = regular_end(p, len, pos);
        long long v;
        if (!parse_uint(p, pos, end, &v) || (unsigned long long)v >= len)
            return tb_err_set(err, TB_EFORMAT, "PDF: bad startxref value");
        *out = (size_t)v;
        return TB_OK;
    }
    return tb_err_set(err, TB_EFORMAT, "PDF: no startxref near the end of the file");
}

tb_code
pdfobj_doc_open(pdfobj_doc *d, const unsigned char *p, size_t len, tb_err *err)
{
    memset(d, 0, sizeof *d);
    d->p = p;
    d->len = len;
    size_t visited[PDFOBJ_MAX_XREF_SECTIONS];
    size_t nvisited = 0, entries_cap = 0;
    tb_code rc = TB_OK;
    if (len < 8 || memcmp(p, "%PDF-", 5) != 0) {
        rc = tb_err_set(err, TB_EFORMAT, "PDF: no %%PDF- header");
        goto fail;
    }
    size_t off = 0;
    rc = find_startxref(p, len, &off, err);
    if (rc != TB_OK)
        goto fail;
    d->startxref = off;
    for (;;) {
        for (size_t i = 0; i < nvisited; i++) {
            if (visited[i] == off) {
                rc = tb_err_set(err, TB_EFORMAT, "PDF: /Prev chain loops at offset %zu", off);
                goto fail;
            }
        }
        if (nvisited == PDFOBJ_MAX_XREF_SECTIONS) {
            rc = tb_err_set(err, TB_EFORMAT, "PDF: more than %d xref sections",
                            PDFOBJ_MAX_XREF_SECTIONS);
            goto fail;
        }
        visited[nvisited++] = off;
        pdfobj_val trailer;
        size_t first_entry = d->nentries;
        rc = read_xref_section(d, off, &trailer, &entries_cap, err);
        if (rc != TB_OK)
            goto fail;
        d->sections = tb_xrealloc(d->sections, (d->nsections + 1) * sizeof *d->sections);
        d->sections[d->nsections++] =
            (pdfobj_section){off, revision_end(p, len, trailer.end), trailer, first_entry,
                             d->nentries - first_entry};
        if (nvisited == 1)
            d->trailer = trailer;
        pdfobj_val prev;
        if (!pdfobj_dict_get(d, &trailer, "Prev", &prev))
            break;
        if (prev.kind != PDFOBJ_NUMBER || !prev.is_int || prev.num < 0 ||
            (unsigned long long)prev.num >= len) {
            rc = tb_err_set(err, TB_EFORMAT, "PDF: bad /Prev in trailer at offset %zu",
                            trailer.start);
            goto fail;
        }
        off = (size_t)prev.num;
    }
    pdfobj_val size;
    if (!pdfobj_dict_get(d, &d->trailer, "Size", &size) || size.kind != PDFOBJ_NUMBER ||
        !size.is_int || size.num < 1 || size.num > PDFOBJ_MAX_OBJECTS) {
        rc = tb_err_set(err, TB_EFORMAT, "PDF: missing or bad /Size in trailer");
        goto fail;
    }
    d->size = size.num;
    if ((unsigned long long)d->size < d->xref_len)
        d->size = (long long)d->xref_len;
    for (size_t i = 0; i < d->nsections / 2; i++) { /* read newest first; kept oldest first */
        pdfobj_section t = d->sections[i];
        d->sections[i] = d->sections[d->nsections - 1 - i];
        d->sections[d->nsections - 1 - i] = t;
    }
    return TB_OK;
fail:
    pdfobj_doc_close(d);
    return rc;
}

void
pdfobj_doc_close(pdfobj_doc *d)
{
    if (d == NULL)
        return;
    free(d->xref);
    free(d->sections);
    free(d->entries);
    d->xref = NULL;
    d->sections = NULL;
    d->entries = NULL;
    d->xref_len = d->nsections = d->nentries = 0;
}
