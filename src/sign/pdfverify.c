/* DESIGN: verification reads the file once.
 *
 * Signatures are found through the catalog's /AcroForm fields (not by scanning every object), so a
 * file stuffed with signature dictionaries costs nothing more.  Their ranges must follow one
 * another ([0, a1) [b1, e1) ... e1 <= a2 ...), each ending at the end of a revision; one running
 * SHA-256 over the file is copied at each a_i and the copy continues over [b_i, e_i), so hashing
 * every signature costs one pass over the file plus each signature's short tail.  The CMS is then
 * checked against that digest (message-digest attribute, signature over the signed attributes),
 * without handing OpenSSL a copy of the content.
 *
 * Revisions are the cross-reference sections.  For every revision after the one the first
 * signature closes, each object it defines is compared with the definition before it (the way
 * mature validators judge incremental updates): only what adding a signature needs is allowed. */
#include "tb_features.h"

#include "pdfsig.h"

#include "pdfobj.h"
#include "sign_int.h"
#include "tb_buf.h"
#include "tb_fs.h"
#include "tb_utf8.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

enum {
    MAX_DICT_COMPARE = 4096, /* entries in a dictionary compared for equality */
    /* a widget appearance may cover at most this share of a page (1/N): a signature shows a
     * seal, it does not paint over the document */
    MAX_WIDGET_SHARE = 8,
};

typedef struct sig_entry {
    long long field_num, sig_num;
    char field_name[80];
    size_t a, b, e; /* /ByteRange [0 a b e-b] */
    int revision;   /* index of the section whose end is e; -1 if none */
    pdfobj_val contents, dict;
    unsigned char digest[32];
    bool range_ok;
    int docmdp;     /* P of a certifying signature, 0 if it does not certify */
} sig_entry;

static int
sig_by_start(const void *x, const void *y)
{
    const sig_entry *a = x, *b = y;
    return (a->a > b->a) - (a->a < b->a);
}

/* The integers of an array value into r (at most cap); -1 if an item is not a non-negative
 * integer or there are more than cap. */
static int
int_array(const pdfobj_doc *d, const pdfobj_val *arr, long long *r, int cap)
{
    size_t cur = 0;
    pdfobj_val item;
    int n = 0;
    if (arr->kind != PDFOBJ_ARRAY)
        return -1;
    while (pdfobj_array_next(d, arr, &cur, &item)) {
        if (n == cap || item.kind != PDFOBJ_NUMBER || !item.is_int || item.num < 0)
            return -1;
        r[n++] = item.num;
    }
    return n;
}

/* Reads a PDF date "D:YYYYMMDDHHmmSS" with Z or +HH'mm' / -HH'mm' (missing parts default as
 * the standard says).  False when it is not one. */
static bool
parse_pdf_date(const pdfobj_doc *d, const pdfobj_val *v, time_t *out)
{
    if (v->kind != PDFOBJ_STRING || v->end - v->start < 8)
        return false;
    const char *p = (const char *)d->p + v->start + 1;
    size_t n = v->end - v->start - 2;
    if (n >= 2 && p[0] == 'D' && p[1] == ':')
        p += 2, n -= 2;
    int f[6] = {0, 1, 1, 0, 0, 0};
    const int width[6] = {4, 2, 2, 2, 2, 2};
    size_t i = 0;
    for (int k = 0; k < 6 && i + (size_t)width[k] <= n; k++) {
        int x = 0;
        for (int j = 0; j < width[k]; j++) {
            if (p[i + j] < '0' || p[i + j] > '9')
                return false;
            x = x * 10 + (p[i + j] - '0');
        }
        f[k] = x;
        i += (size_t)width[k];
        if (k == 0 && i < n && (p[i] < '0' || p[i] > '9'))
            break;
    }
    if (i < 4)
        return false;
    long off = 0;
    if (i < n && (p[i] == '+' || p[i] == '-') && i + 3 <= n) {
        int hh = (p[i + 1] - '0') * 10 + (p[i + 2] - '0'), mm = 0;
        if (i + 6 <= n && p[i + 3] == '\'')
            mm = (p[i + 4] - '0') * 10 + (p[i + 5] - '0');
        off = (p[i] == '+' ? 1 : -1) * (hh * 3600L + mm * 60L);
    }
    struct tm tm = {.tm_year = f[0] - 1900, .tm_mon = f[1] - 1, .tm_mday = f[2],
                    .tm_hour = f[3], .tm_min = f[4], .tm_sec = f[5]};
    if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60)
        return false;
    *out = timegm(&tm) - off;
    return true;
}

/* Decodes a hex string value into a malloc'd buffer. */
static unsigned char *
hex_decode(const pdfobj_doc *d, const pdfobj_val *v, size_t *n_out)
{
    unsigned char *der = tb_xmalloc((v->end - v->start) / 2 + 1);
    size_t n = 0;
    int nib = -1;
    for (size_t i = v->start + 1; i + 1 < v->end; i++) {
        unsigned char c = d->p[i];
        int x = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (x < 0)
            continue; /* whitespace; the parser admitted only hex digits and whitespace */
        if (nib < 0) {
            nib = x;
        } else {
            der[n++] = (unsigned char)(nib << 4 | x);
            nib = -1;
        }
    }
    *n_out = n;
    return der;
}

/* What one signature's CMS says. */
typedef struct cms_result {
    bool valid, trusted, signing_time_attr;
    int timestamp;     /* 0 none, 1 a token that verifies, -1 a token that does not */
    time_t stamped_at; /* the token's genTime when timestamp == 1 */
    char stamp_why[200];
    char signer[128];
    X509_NAME *subject, *issuer; /* owned copies, for the first-signer check */
    char why[320];
} cms_result;

/* Checks a certificate chain at time `when` and the signer's key usage. */
static bool
check_chain(X509 *signer, STACK_OF(X509) *certs, X509_STORE *store, time_t when, char *why,
            size_t cap)
{
    uint32_t flags = X509_get_extension_flags(signer);
    if (!(flags & EXFLAG_KUSAGE) ||
        !(X509_get_key_usage(signer) & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION))) {
        snprintf(why, cap, "the signer's certificate does not allow signing (key usage without "
                           "digitalSignature or nonRepudiation)");
        return false;
    }
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    bool ok = false;
    if (ctx != NULL && X509_STORE_CTX_init(ctx, store, signer, certs) == 1) {
        if (when != 0)
            X509_STORE_CTX_set_time(ctx, 0, when);
        if (X509_verify_cert(ctx) == 1)
            ok = true;
        else
            snprintf(why, cap, "the signer's certificate does not chain to the trust anchor at "
                               "the signing time: %s",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    } else {
        snprintf(why, cap, "cannot check the certificate chain");
    }
    X509_STORE_CTX_free(ctx);
    return ok;
}

/* PAdES B-T: a signatureTimeStampToken (unsigned attribute) must be over this signature value
 * and, with a trust store, signed by a TSA that chains to it.  r->timestamp says whether there
 * is one and whether it holds (r->stamp_why says why not). */
static void
check_timestamp(CMS_SignerInfo *si, X509_STORE *store, cms_result *r)
{
    int at = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
    if (at < 0)
        return;
    r->timestamp = -1;
    X509_ATTRIBUTE *attr = CMS_unsigned_get_attr(si, at);
    const ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(attr, 0);
    if (X509_ATTRIBUTE_count(attr) != 1 || t == NULL || t->type != V_ASN1_SEQUENCE ||
        CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, at) >= 0) {
        snprintf(r->stamp_why, sizeof r->stamp_why, "a malformed time-stamp attribute");
        return;
    }
    const ASN1_OCTET_STRING *value = CMS_SignerInfo_get0_signature(si);
    unsigned char imprint[32];
    if (!EVP_Digest(ASN1_STRING_get0_data(value), (size_t)ASN1_STRING_length(value), imprint,
                    NULL, EVP_sha256(), NULL)) {
        snprintf(r->stamp_why, sizeof r->stamp_why, "cannot hash the signature value");
        return;
    }
    const ASN1_STRING *seq = t->value.sequence;
    if (!tsa_check_token(ASN1_STRING_get0_data(seq), (size_t)ASN1_STRING_length(seq), imprint,
                         store, &r->stamped_at, r->stamp_why, sizeof r->stamp_why))
        return;
    r->timestamp = 1;
}

/* Checks the CMS in der against digest (SHA-256 of the signed ranges). */
static void
check_cms(const unsigned char *der, size_t nder, const unsigned char digest[32], X509_STORE *store,
          time_t when, cms_result *r)
{
    const unsigned char *pp = der;
    CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &pp, (long)nder);
    STACK_OF(X509) *certs = NULL;
    if (cms == NULL || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
        snprintf(r->why, sizeof r->why, "/Contents is not a CMS SignedData");
        goto done;
    }
    STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
    if (sk_CMS_SignerInfo_num(sis) != 1) {
        snprintf(r->why, sizeof r->why, "CMS has %d signers, expected 1",
                 sk_CMS_SignerInfo_num(sis));
        goto done;
    }
    CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, 0);
    X509 *x = NULL;
    X509_ALGOR *dig = NULL;
    CMS_set1_signers_certs(cms, NULL, 0);
    CMS_SignerInfo_get0_algs(si, NULL, &x, &dig, NULL);
    if (x == NULL) {
        snprintf(r->why, sizeof r->why, "the CMS does not carry the signer's certificate");
        goto done;
    }
    cert_name(x, r->signer, sizeof r->signer);
    r->subject = X509_NAME_dup(X509_get_subject_name(x));
    r->issuer = X509_NAME_dup(X509_get_issuer_name(x));
    const ASN1_OBJECT *alg = NULL;
    X509_ALGOR_get0(&alg, NULL, NULL, dig);
    if (OBJ_obj2nid(alg) != NID_sha256) {
        snprintf(r->why, sizeof r->why, "digest algorithm %s (only SHA-256 is accepted)",
                 OBJ_nid2sn(OBJ_obj2nid(alg)));
        goto done;
    }
    int at = CMS_signed_get_attr_by_NID(si, NID_pkcs9_messageDigest, -1);
    ASN1_OCTET_STRING *md = at < 0 ? NULL
        : X509_ATTRIBUTE_get0_data(CMS_signed_get_attr(si, at), 0, V_ASN1_OCTET_STRING, NULL);
    if (md == NULL) {
        snprintf(r->why, sizeof r->why, "the CMS has no message-digest attribute");
        goto done;
    }
    if (ASN1_STRING_length(md) != 32 || memcmp(ASN1_STRING_get0_data(md), digest, 32) != 0) {
        snprintf(r->why, sizeof r->why, "the signed bytes were changed (digest mismatch)");
        goto done;
    }
    if (CMS_SignerInfo_verify(si) != 1) {
        snprintf(r->why, sizeof r->why, "the signature value does not verify with the signer's "
                                        "certificate");
        goto done;
    }
    r->signing_time_attr = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1) >= 0;
    r->valid = true;
    snprintf(r->why, sizeof r->why, "valid");
    check_timestamp(si, store, r);
    if (r->timestamp == 1)
        when = r->stamped_at; /* proven time beats the claimed /M */
    if (store != NULL) {
        certs = CMS_get1_certs(cms);
        r->trusted = check_chain(x, certs, store, when, r->why, sizeof r->why);
    }
done:
    ERR_clear_error();
    sk_X509_pop_free(certs, X509_free);
    CMS_ContentInfo_free(cms);
}

/* ---- finding the signatures ----------------------------------------------------------------- */

/* The signature fields of the catalog's AcroForm into sigs (at most PDFSIG_MAX_SIGNATURES). */
static tb_code
find_signatures(const pdfobj_doc *d, sig_entry **out, int *count, tb_err *err)
{
    pdfobj_val root, catalog, af_v, af, fields, item;
    *out = NULL;
    *count = 0;
    if (!pdfobj_dict_get(d, &d->trailer, "Root", &root) || root.kind != PDFOBJ_REF)
        return tb_err_set(err, TB_EFORMAT, "PDF: trailer has no /Root reference");
    tb_code rc = pdfobj_load(d, root.num, &catalog, NULL, err);
    if (rc != TB_OK)
        return rc;
    if (!pdfobj_dict_get(d, &catalog, "AcroForm", &af_v))
        return TB_OK;
    if ((rc = pdfobj_resolve(d, &af_v, &af, err)) != TB_OK)
        return rc;
    if (!pdfobj_dict_get(d, &af, "Fields", &fields))
        return TB_OK;
    if ((rc = pdfobj_resolve(d, &fields, &fields, err)) != TB_OK)
        return rc;
    size_t cur = 0, cap = 0;
    sig_entry *sigs = NULL;
    int n = 0;
    while (pdfobj_array_next(d, &fields, &cur, &item)) {
        pdfobj_val fd, ft, v, t;
        if (item.kind != PDFOBJ_REF || pdfobj_load(d, item.num, &fd, NULL, NULL) != TB_OK ||
            !pdfobj_dict_get(d, &fd, "FT", &ft) || !pdfobj_is_name(d, &ft, "Sig") ||
            !pdfobj_dict_get(d, &fd, "V", &v) || v.kind != PDFOBJ_REF)
            continue; /* not a signed signature field */
        if (n == PDFSIG_MAX_SIGNATURES) {
            free(sigs);
            return tb_err_set(err, TB_ELIMIT, "PDF: more than %d signature fields",
                              PDFSIG_MAX_SIGNATURES);
        }
        if ((size_t)n == cap)
            sigs = tb_xrealloc(sigs, (cap = cap ? cap * 2 : 4) * sizeof *sigs);
        sig_entry *s = &sigs[n++];
        memset(s, 0, sizeof *s);
        s->field_num = item.num;
        s->sig_num = v.num;
        s->revision = -1;
        if (pdfobj_dict_get(d, &fd, "T", &t) && t.kind == PDFOBJ_STRING)
            tb_utf8_copy(s->field_name, sizeof s->field_name, (const char *)d->p + t.start + 1,
                         t.end - t.start - 2);
        else
            snprintf(s->field_name, sizeof s->field_name, "object %lld", item.num);
    }
    *out = sigs;
    *count = n;
    return TB_OK;
}

/* Checks a signature dictionary's /ByteRange and /Contents and finds its revision. */
static bool
check_range(const pdfobj_doc *d, sig_entry *s, char *why, size_t cap)
{
    pdfobj_val br, type, ref, tm, tp, p;
    long long r[4];
    if (pdfobj_load(d, s->sig_num, &s->dict, NULL, NULL) != TB_OK || s->dict.kind != PDFOBJ_DICT) {
        snprintf(why, cap, "signature dictionary %lld cannot be read", s->sig_num);
        return false;
    }
    if (!pdfobj_dict_get(d, &s->dict, "ByteRange", &br) || int_array(d, &br, r, 4) != 4) {
        snprintf(why, cap, "/ByteRange is not 4 non-negative integers");
        return false;
    }
    if (!pdfobj_dict_get(d, &s->dict, "Contents", &s->contents) ||
        s->contents.kind != PDFOBJ_HEX) {
        snprintf(why, cap, "/Contents is not a hex string");
        return false;
    }
    if ((unsigned long long)r[2] > d->len || (unsigned long long)r[3] > d->len - (size_t)r[2]) {
        snprintf(why, cap, "/ByteRange goes beyond the end of the file");
        return false;
    }
    if (r[0] != 0 || (size_t)r[1] != s->contents.start || (size_t)r[2] != s->contents.end) {
        snprintf(why, cap, "/ByteRange does not cover everything but /Contents");
        return false;
    }
    s->a = (size_t)r[1];
    s->b = (size_t)r[2];
    s->e = (size_t)(r[2] + r[3]);
    for (size_t i = 0; i < d->nsections; i++) {
        const pdfobj_section *sec = &d->sections[i];
        if (s->e <= sec->end && s->e + 2 >= sec->end && s->e > sec->xref_at)
            s->revision = (int)i;
    }
    if (s->revision < 0) {
        snprintf(why, cap, "the signed range (0-%zu) does not end at the end of a revision",
                 s->e);
        return false;
    }
    if (pdfobj_dict_get(d, &s->dict, "Reference", &ref) && ref.kind == PDFOBJ_ARRAY) {
        size_t cur = 0;
        pdfobj_val item, it;
        while (pdfobj_array_next(d, &ref, &cur, &item)) {
            if (pdfobj_resolve(d, &item, &it, NULL) == TB_OK &&
                pdfobj_dict_get(d, &it, "TransformMethod", &tm) &&
                pdfobj_is_name(d, &tm, "DocMDP")) {
                s->docmdp = 2;
                if (pdfobj_dict_get(d, &it, "TransformParams", &tp) &&
                    pdfobj_resolve(d, &tp, &tp, NULL) == TB_OK &&
                    pdfobj_dict_get(d, &tp, "P", &p) && p.is_int && p.num >= 1 && p.num <= 3)
                    s->docmdp = (int)p.num;
            }
        }
    }
    (void)type;
    s->range_ok = true;
    return true;
}

/* ---- revision analysis ---------------------------------------------------------------------- */

typedef struct obj_state {
    size_t offset;
    int gen;
    bool in_use;
} obj_state;

typedef struct rev_report {
    tb_buf *out;        /* what this revision changed, appended as text */
    int mods;           /* modifications found */
    int sig_fields;     /* signature fields added */
} rev_report;

static void TB_PRINTF(2, 3)
rev_mod(rev_report *rr, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (rr->mods < 8)
        tb_buf_printf(rr->out, "%s MODIFICATION: %s", rr->mods || rr->sig_fields ? ";" : "",
                      msg);
    else if (rr->mods == 8)
        tb_buf_append_str(rr->out, "; more modifications");
    rr->mods++;
}

static bool
is_name_entry(const pdfobj_doc *d, const pdfobj_val *dict, const char *key, const char *name)
{
    pdfobj_val v;
    return pdfobj_dict_get(d, dict, key, &v) && pdfobj_is_name(d, &v, name);
}

static size_t
dict_size(const pdfobj_doc *d, const pdfobj_val *dict)
{
    size_t cur = 0, n = 0;
    pdfobj_val k, v;
    while (pdfobj_dict_next(d, dict, &cur, &k, &v))
        n++;
    return n;
}

/* True when old and new have the same entries except the keys in allowed (NULL-ended); names
 * the first differing key in key_out. */
static bool
same_except(const pdfobj_doc *d, const pdfobj_val *old, const pdfobj_val *new_,
            const char *const *allowed, char *key_out, size_t cap)
{
    if (dict_size(d, old) > MAX_DICT_COMPARE || dict_size(d, new_) > MAX_DICT_COMPARE) {
        snprintf(key_out, cap, "(too many entries)");
        return false;
    }
    const pdfobj_val *pair[2] = {old, new_};
    for (int side = 0; side < 2; side++) {
        size_t cur = 0;
        pdfobj_val k, v, w;
        while (pdfobj_dict_next(d, pair[side], &cur, &k, &v)) {
            bool skip = false;
            for (const char *const *a = allowed; *a && !skip; a++)
                skip = pdfobj_is_name(d, &k, *a);
            if (skip)
                continue;
            char key[64];
            size_t n = k.end - k.start - 1 < sizeof key - 1 ? k.end - k.start - 1 : sizeof key - 1;
            memcpy(key, d->p + k.start + 1, n);
            key[n] = '\0';
            bool ok = pdfobj_dict_get(d, pair[1 - side], key, &w) &&
                      (side == 1 || pdfobj_equal(d, &v, &w));
            if (!ok) {
                snprintf(key_out, cap, "/%s", key);
                return false;
            }
        }
    }
    return true;
}

/* True when array new_ starts with every item of old (in order). */
static bool
array_extends(const pdfobj_doc *d, const pdfobj_val *old, const pdfobj_val *new_)
{
    size_t co = 0, cn = 0;
    pdfobj_val x, y;
    while (pdfobj_array_next(d, old, &co, &x))
        if (!pdfobj_array_next(d, new_, &cn, &y) || !pdfobj_equal(d, &x, &y))
            return false;
    return true;
}

/* Analyses revision r against the state before it (st, updated to after it on return). */
static void
analyse_revision(const pdfobj_doc *d, size_t r, obj_state *st, long long root_num,
                 rev_report *rr)
{
    const pdfobj_section *sec = &d->sections[r];
    const pdfobj_xentry *en = d->entries + sec->first;
    pdfobj_val oldv, newv, v, w, root;
    char key[80];
    /* The catalog and its AcroForm object before this revision. */
    long long af_num = -1;
    if (root_num > 0 && (size_t)root_num < d->xref_len && st[root_num].in_use &&
        pdfobj_load_at(d, root_num, st[root_num].gen, st[root_num].offset, &oldv, NULL) ==
            TB_OK &&
        pdfobj_dict_get(d, &oldv, "AcroForm", &v) && v.kind == PDFOBJ_REF)
        af_num = v.num;
    if (!pdfobj_dict_get(d, &sec->trailer, "Root", &root) || root.kind != PDFOBJ_REF ||
        root.num != root_num)
        rev_mod(rr, "the trailer's /Root changed");
    if (pdfobj_dict_get(d, &sec->trailer, "Encrypt", &v))
        rev_mod(rr, "the revision adds encryption");
    /* Pass 1: new objects; remember the new signature fields (widgets). */
    long long *new_widgets = tb_xcalloc(sec->count + 1, sizeof *new_widgets);
    size_t nw = 0;
    int appearances = 0;
    for (size_t i = 0; i < sec->count; i++) {
        const pdfobj_xentry *e = &en[i];
        if (e->num == 0 || (size_t)e->num >= d->xref_len)
            continue;
        if (!e->in_use) {
            if (st[e->num].in_use)
                rev_mod(rr, "deletes object %lld", e->num);
            continue;
        }
        if (st[e->num].in_use)
            continue; /* a changed object: pass 2 */
        if (pdfobj_load_at(d, e->num, e->gen, e->offset, &newv, NULL) != TB_OK) {
            rev_mod(rr, "object %lld cannot be read", e->num);
            continue;
        }
        if (newv.kind == PDFOBJ_DICT && pdfobj_is_stream(d, &newv) &&
            (is_name_entry(d, &newv, "Type", "XObject") ||
             is_name_entry(d, &newv, "Subtype", "Form") ||
             is_name_entry(d, &newv, "Subtype", "Image"))) {
            appearances++;
        } else if (newv.kind == PDFOBJ_DICT && (is_name_entry(d, &newv, "Type", "Sig") ||
                                                is_name_entry(d, &newv, "Type", "DocTimeStamp"))) {
            /* a signature value */
        } else if (newv.kind == PDFOBJ_DICT && is_name_entry(d, &newv, "FT", "Sig")) {
            long long rect[4];
            pdfobj_val rv;
            size_t cur = 0;
            pdfobj_val item;
            double xy[4] = {0, 0, 0, 0};
            int k = 0;
            if (pdfobj_dict_get(d, &newv, "Rect", &rv))
                while (k < 4 && pdfobj_array_next(d, &rv, &cur, &item) &&
                       item.kind == PDFOBJ_NUMBER)
                    xy[k++] = strtod((const char *)d->p + item.start, NULL);
            (void)rect;
            double area = (xy[2] - xy[0]) * (xy[3] - xy[1]);
            if (area < 0)
                area = -area;
            if (area > 595.0 * 842.0 / MAX_WIDGET_SHARE)
                rev_mod(rr, "signature widget %lld covers %.0f%% of an A4 page", e->num,
                        100.0 * area / (595.0 * 842.0));
            new_widgets[nw++] = e->num;
            if (rr->mods == 0)
                tb_buf_printf(rr->out, "%s adds signature field %lld", rr->sig_fields ? ";" : "",
                              e->num);
            rr->sig_fields++;
        } else {
            rev_mod(rr, "adds object %lld, which is not a signature, signature field or "
                        "appearance", e->num);
        }
    }
    /* Pass 2: changed objects. */
    for (size_t i = 0; i < sec->count; i++) {
        const pdfobj_xentry *e = &en[i];
        if (e->num == 0 || (size_t)e->num >= d->xref_len || !e->in_use || !st[e->num].in_use)
            continue;
        const obj_state *o = &st[e->num];
        if (o->offset == e->offset)
            continue;
        if (pdfobj_load_at(d, e->num, o->gen, o->offset, &oldv, NULL) != TB_OK ||
            pdfobj_load_at(d, e->num, e->gen, e->offset, &newv, NULL) != TB_OK) {
            rev_mod(rr, "object %lld cannot be read", e->num);
            continue;
        }
        bool old_stream = pdfobj_is_stream(d, &oldv), new_stream = pdfobj_is_stream(d, &newv);
        if (old_stream || new_stream) {
            rev_mod(rr, "changes stream object %lld (page content, image or font data)", e->num);
            continue;
        }
        if (pdfobj_equal(d, &oldv, &newv))
            continue; /* written again unchanged */
        if (oldv.kind != PDFOBJ_DICT || newv.kind != PDFOBJ_DICT) {
            rev_mod(rr, "changes object %lld", e->num);
            continue;
        }
        static const char *const catalog_keys[] = {"AcroForm", "Perms", NULL};
        static const char *const acroform_keys[] = {"Fields", "SigFlags", NULL};
        static const char *const page_keys[] = {"Annots", NULL};
        if (e->num == root_num) {
            if (!same_except(d, &oldv, &newv, catalog_keys, key, sizeof key)) {
                rev_mod(rr, "changes the catalog's %s", key);
            } else if (pdfobj_dict_get(d, &oldv, "AcroForm", &v) && v.kind == PDFOBJ_DICT) {
                if (!pdfobj_dict_get(d, &newv, "AcroForm", &w) || w.kind != PDFOBJ_DICT)
                    rev_mod(rr, "removes or replaces the catalog's /AcroForm (signatures "
                                "stripped?)");
                else if (!same_except(d, &v, &w, acroform_keys, key, sizeof key))
                    rev_mod(rr, "changes the AcroForm's %s", key);
            } else if (pdfobj_dict_get(d, &oldv, "AcroForm", &v) &&
                       (!pdfobj_dict_get(d, &newv, "AcroForm", &w) || !pdfobj_equal(d, &v, &w))) {
                rev_mod(rr, "removes or replaces the catalog's /AcroForm (signatures stripped?)");
            }
            pdfobj_val of, nf;
            if (pdfobj_dict_get(d, &oldv, "AcroForm", &v) && v.kind == PDFOBJ_DICT &&
                pdfobj_dict_get(d, &v, "Fields", &of) && pdfobj_dict_get(d, &newv, "AcroForm", &w) &&
                (!pdfobj_dict_get(d, &w, "Fields", &nf) || !array_extends(d, &of, &nf)))
                rev_mod(rr, "removes fields from the AcroForm (signatures stripped?)");
            pdfobj_val op, np;
            if (pdfobj_dict_get(d, &oldv, "Perms", &op) &&
                (!pdfobj_dict_get(d, &newv, "Perms", &np) || !pdfobj_equal(d, &op, &np)))
                rev_mod(rr, "changes the catalog's /Perms (the certification)");
            if (rr->mods == 0)
                tb_buf_append_str(rr->out, ", updates the catalog's /AcroForm");
        } else if (e->num == af_num) {
            pdfobj_val of, nf;
            if (!same_except(d, &oldv, &newv, acroform_keys, key, sizeof key))
                rev_mod(rr, "changes the AcroForm's %s", key);
            else if (pdfobj_dict_get(d, &oldv, "Fields", &of) &&
                     (!pdfobj_dict_get(d, &newv, "Fields", &nf) || !array_extends(d, &of, &nf)))
                rev_mod(rr, "removes fields from the AcroForm (signatures stripped?)");
        } else if (is_name_entry(d, &oldv, "Type", "Page")) {
            pdfobj_val oa, na, item;
            pdfobj_val none = {0};
            if (!same_except(d, &oldv, &newv, page_keys, key, sizeof key)) {
                rev_mod(rr, "changes page object %lld's %s", e->num, key);
                continue;
            }
            if (!pdfobj_dict_get(d, &oldv, "Annots", &oa))
                oa = none;
            if (!pdfobj_dict_get(d, &newv, "Annots", &na) || na.kind != PDFOBJ_ARRAY ||
                (oa.kind != PDFOBJ_NONE && (oa.kind != PDFOBJ_ARRAY || !array_extends(d, &oa, &na)))) {
                rev_mod(rr, "changes page object %lld's /Annots other than by adding widgets",
                        e->num);
                continue;
            }
            /* Every annotation beyond the old ones must be a signature widget of this revision. */
            size_t cur = 0, skip = 0, old_n = 0;
            while (oa.kind == PDFOBJ_ARRAY && pdfobj_array_next(d, &oa, &cur, &item))
                old_n++;
            cur = 0;
            while (pdfobj_array_next(d, &na, &cur, &item)) {
                if (skip++ < old_n)
                    continue;
                bool known = false;
                for (size_t k = 0; k < nw && !known; k++)
                    known = item.kind == PDFOBJ_REF && item.num == new_widgets[k];
                if (!known)
                    rev_mod(rr, "adds an annotation to page object %lld that is not a new "
                                "signature widget", e->num);
            }
            if (rr->mods == 0)
                tb_buf_printf(rr->out, ", adds its widget to page object %lld", e->num);
        } else {
            rev_mod(rr, "changes object %lld", e->num);
        }
    }
    if (appearances && rr->mods == 0)
        tb_buf_printf(rr->out, " with %d appearance object(s)", appearances);
    free(new_widgets);
    for (size_t i = 0; i < sec->count; i++) {
        const pdfobj_xentry *e = &en[i];
        if ((size_t)e->num < d->xref_len)
            st[e->num] = (obj_state){e->offset, e->gen, e->in_use};
    }
}

/* ---- the whole check ------------------------------------------------------------------------ */

static X509 *
read_one_cert(const char *path, tb_err *err)
{
    tb_buf pem = TB_BUF_INIT;
    X509 *x = NULL;
    if (tb_fs_read(path, 1024 * 1024, &pem, err) == TB_OK) {
        BIO *bio = BIO_new_mem_buf(pem.data, (int)pem.len);
        x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        if (x == NULL)
            set_ssl_err(err, TB_EFORMAT, "%s: cannot read a PEM certificate", path);
    }
    tb_buf_release(&pem);
    return x;
}

/* What is read once for any number of files: the trust store and the office's certificate. */
struct pdfsig_verifier {
    X509_STORE *store; /* NULL: integrity only */
    X509 *office;      /* NULL: first signer unchecked */
    char *trust_pem, *first_signer;
};

pdfsig_verifier *
pdfsig_verifier_new(const pdfsig_verify_opts *opts, tb_err *err)
{
    pdfsig_verifier *v = tb_xcalloc(1, sizeof *v);
    if (opts == NULL)
        return v;
    if (opts->trust_pem != NULL) {
        v->trust_pem = tb_xstrdup(opts->trust_pem);
        if (!tb_fs_exists(opts->trust_pem)) {
            tb_err_set(err, TB_ENOTFOUND, "%s: trust file not found", opts->trust_pem);
            goto fail;
        }
        v->store = X509_STORE_new();
        if (v->store == NULL || X509_STORE_load_file(v->store, opts->trust_pem) != 1) {
            set_ssl_err(err, TB_EINVAL, "%s: cannot load trusted certificates", opts->trust_pem);
            goto fail;
        }
    }
    if (opts->first_signer != NULL) {
        v->first_signer = tb_xstrdup(opts->first_signer);
        if ((v->office = read_one_cert(opts->first_signer, err)) == NULL)
            goto fail;
    }
    return v;
fail:
    ERR_clear_error();
    pdfsig_verifier_free(v);
    return NULL;
}

void
pdfsig_verifier_free(pdfsig_verifier *v)
{
    if (v == NULL)
        return;
    X509_STORE_free(v->store);
    X509_free(v->office);
    free(v->trust_pem);
    free(v->first_signer);
    free(v);
}

tb_code
pdfsig_verify(const unsigned char *pdf, size_t len, const pdfsig_verify_opts *opts,
              pdfsig_info *out, tb_err *err)
{
    if (out == NULL)
        return tb_err_set(err, TB_EINVAL, "pdfsig_verify: missing argument");
    memset(out, 0, sizeof *out);
    pdfsig_verifier *v = pdfsig_verifier_new(opts, err);
    if (v == NULL)
        return err ? err->code : TB_EINVAL;
    tb_code rc = pdfsig_verifier_check(v, pdf, len, out, err);
    pdfsig_verifier_free(v);
    return rc;
}

/* The first signature's /Reason (a PDF text string: UTF-16BE after FE FF, else taken as
 * PDFDocEncoding's ASCII part) as UTF-8 into out; characters it cannot map become '?'. */
static void
text_string(const pdfobj_doc *d, const pdfobj_val *v, char *out, size_t cap)
{
    out[0] = '\0';
    if (v->kind != PDFOBJ_HEX && v->kind != PDFOBJ_STRING)
        return;
    size_t n = 0;
    unsigned char *b = NULL;
    if (v->kind == PDFOBJ_HEX) {
        b = hex_decode(d, v, &n);
    } else { /* literal: our writer never uses one; escapes are kept as they are */
        n = v->end - v->start - 2;
        b = tb_xmalloc(n + 1);
        memcpy(b, d->p + v->start + 1, n);
    }
    tb_buf u = TB_BUF_INIT;
    if (n >= 2 && b[0] == 0xFE && b[1] == 0xFF) {
        for (size_t i = 2; i + 1 < n; i += 2) {
            unsigned c = (unsigned)b[i] << 8 | b[i + 1];
            if (c >= 0xD800 && c < 0xDC00 && i + 3 < n) {
                unsigned lo = (unsigned)b[i + 2] << 8 | b[i + 3];
                if (lo >= 0xDC00 && lo < 0xE000) {
                    c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                    i += 2;
                }
            }
            if ((c >= 0xD800 && c < 0xE000) || c == 0)
                c = '?';
            unsigned char e[4];
            size_t k = 0;
            if (c < 0x80) {
                e[k++] = (unsigned char)c;
            } else if (c < 0x800) {
                e[k++] = (unsigned char)(0xC0 | c >> 6);
                e[k++] = (unsigned char)(0x80 | (c & 0x3F));
            } else if (c < 0x10000) {
                e[k++] = (unsigned char)(0xE0 | c >> 12);
                e[k++] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
                e[k++] = (unsigned char)(0x80 | (c & 0x3F));
            } else {
                e[k++] = (unsigned char)(0xF0 | c >> 18);
                e[k++] = (unsigned char)(0x80 | (c >> 12 & 0x3F));
                e[k++] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
                e[k++] = (unsigned char)(0x80 | (c & 0x3F));
            }
            tb_buf_append(&u, e, k);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            unsigned char c = b[i] >= 0x20 && b[i] < 0x7F ? b[i] : '?';
            tb_buf_append(&u, &c, 1);
        }
    }
    if (u.data != NULL)
        tb_utf8_copy(out, cap, (const char *)u.data, u.len);
    tb_buf_release(&u);
    free(b);
}

tb_code
pdfsig_verifier_check(const pdfsig_verifier *v, const unsigned char *pdf, size_t len,
                      pdfsig_info *out, tb_err *err)
{
    pdfobj_doc d;
    bool doc_open = false;
    X509_STORE *store = v ? v->store : NULL;
    X509 *office = v ? v->office : NULL;
    tb_buf detail = TB_BUF_INIT;
    sig_entry *sigs = NULL;
    obj_state *st = NULL;
    EVP_MD_CTX *run = NULL, *tail = NULL;
    int nsigs = 0;
    tb_code rc = TB_OK;
    if (out == NULL)
        return tb_err_set(err, TB_EINVAL, "pdfsig_verify: missing argument");
    memset(out, 0, sizeof *out);
    if (pdf == NULL || v == NULL) {
        rc = tb_err_set(err, TB_EINVAL, "pdfsig_verify: missing argument");
        goto done;
    }
    if (len > PDFSIG_MAX_INPUT) {
        rc = tb_err_set(err, TB_ELIMIT, "PDF to verify: %zu bytes, more than the limit of %d",
                        len, PDFSIG_MAX_INPUT);
        goto done;
    }
    if (store != NULL)
        tb_buf_printf(&detail, "certificates checked against %s at each signing time",
                      v->trust_pem);
    else
        tb_buf_append_str(&detail, "integrity only: no trust anchor given, signer certificates "
                                   "not checked");
    if ((rc = pdfobj_doc_open(&d, pdf, len, err)) != TB_OK)
        goto done;
    doc_open = true;
    out->revisions = (int)d.nsections;
    if ((rc = find_signatures(&d, &sigs, &nsigs, err)) != TB_OK)
        goto done;
    out->count = nsigs;

    /* Ranges, then one pass of SHA-256 over the file. */
    char why[320];
    bool all_ok = nsigs > 0, trusted = store != NULL, stamps_ok = true;
    for (int i = 0; i < nsigs; i++)
        if (!check_range(&d, &sigs[i], why, sizeof why))
            tb_buf_printf(&detail, "; signature %s: %s", sigs[i].field_name, why), all_ok = false;
    if (nsigs > 1) /* qsort(NULL, 0, …) is undefined */
        qsort(sigs, (size_t)nsigs, sizeof *sigs, sig_by_start);
    run = EVP_MD_CTX_new();
    tail = EVP_MD_CTX_new();
    if (run == NULL || tail == NULL || EVP_DigestInit_ex(run, EVP_sha256(), NULL) != 1) {
        rc = set_ssl_err(err, TB_ELIB, "verify: SHA-256");
        goto done;
    }
    size_t hashed = 0, prev_end = 0;
    for (int i = 0; i < nsigs; i++) {
        sig_entry *s = &sigs[i];
        if (!s->range_ok)
            continue;
        if (s->a < prev_end) {
            tb_buf_printf(&detail, "; signature %s: its range overlaps the one before",
                          s->field_name);
            s->range_ok = all_ok = false;
            continue;
        }
        prev_end = s->e;
        unsigned int n = 0;
        if (EVP_DigestUpdate(run, pdf + hashed, s->a - hashed) != 1 ||
            EVP_MD_CTX_copy_ex(tail, run) != 1 ||
            EVP_DigestUpdate(tail, pdf + s->b, s->e - s->b) != 1 ||
            EVP_DigestFinal_ex(tail, s->digest, &n) != 1) {
            rc = set_ssl_err(err, TB_ELIB, "verify: SHA-256");
            goto done;
        }
        hashed = s->a;
    }
    unsigned int n = 0;
    if (EVP_DigestUpdate(run, pdf + hashed, len - hashed) != 1 ||
        EVP_DigestFinal_ex(run, out->sha256, &n) != 1) {
        rc = set_ssl_err(err, TB_ELIB, "verify: SHA-256");
        goto done;
    }

    /* Each CMS. */
    size_t last_end = 0;
    int first_rev = -1, first_docmdp = 0;
    for (int i = 0; i < nsigs; i++) {
        sig_entry *s = &sigs[i];
        if (!s->range_ok)
            continue;
        pdfobj_val m;
        time_t when = 0;
        if (!pdfobj_dict_get(&d, &s->dict, "M", &m) || !parse_pdf_date(&d, &m, &when))
            when = 0;
        size_t nder;
        unsigned char *der = hex_decode(&d, &s->contents, &nder);
        cms_result cr;
        memset(&cr, 0, sizeof cr);
        check_cms(der, nder, s->digest, store, when, &cr); /* no /M: chain checked as of now */
        free(der);
        if (i == 0) {
            first_rev = s->revision;
            first_docmdp = s->docmdp;
            tb_utf8_copy(out->signer, sizeof out->signer, cr.signer, strlen(cr.signer));
            if (office != NULL) {
                out->first_signer_ok =
                    cr.subject != NULL &&
                    X509_NAME_cmp(cr.subject, X509_get_subject_name(office)) == 0 &&
                    X509_NAME_cmp(cr.issuer, X509_get_issuer_name(office)) == 0;
                if (!out->first_signer_ok)
                    tb_buf_printf(&detail, "; the first signature is not by the issuing office "
                                           "(%s)", v->first_signer);
            }
            pdfobj_val reason;
            if (pdfobj_dict_get(&d, &s->dict, "Reason", &reason))
                text_string(&d, &reason, out->reason, sizeof out->reason);
        }
        all_ok = all_ok && cr.valid;
        trusted = trusted && cr.trusted;
        if (s->e > last_end)
            last_end = s->e;
        char t[32] = "?";
        struct tm tm;
        if (when && gmtime_r(&when, &tm))
            strftime(t, sizeof t, "%Y-%m-%d %H:%M:%SZ", &tm);
        tb_buf_printf(&detail, "; signature %d %s (revision %d, bytes 0-%zu, %s, signed %s%s): %s",
                      i + 1, s->field_name, s->revision + 1, s->e,
                      cr.signer[0] ? cr.signer : "unknown signer", t,
                      s->docmdp ? ", certifies" : "", cr.why);
        if (cr.signing_time_attr)
            tb_buf_append_str(&detail, " (carries a signing-time attribute: not PAdES B-B)");
        if (cr.timestamp == 1 && gmtime_r(&cr.stamped_at, &tm)) {
            strftime(t, sizeof t, "%Y-%m-%d %H:%M:%SZ", &tm);
            tb_buf_printf(&detail, "; signature %d %s: time-stamped %s (RFC 3161 token over the "
                          "signature value, %s)", i + 1, s->field_name, t,
                          store ? "TSA trusted, the signer's chain checked at that time"
                                : "TSA not checked");
            out->timestamps++;
        } else if (cr.timestamp == -1) {
            tb_buf_printf(&detail, "; signature %d %s: time stamp NOT VALID: %s", i + 1,
                          s->field_name, cr.stamp_why);
            stamps_ok = false;
        }
        X509_NAME_free(cr.subject);
        X509_NAME_free(cr.issuer);
    }
    out->all_valid = all_ok;
    out->timestamps_ok = stamps_ok;
    out->trusted = store != NULL && nsigs > 0 && trusted;
    bool tail_is_eol = last_end <= len && len - last_end <= 2; /* the last %%EOF's line end */
    for (size_t i = last_end; tail_is_eol && i < len; i++)
        tail_is_eol = pdf[i] == '\r' || pdf[i] == '\n';
    /* The last signature alone decides this: an unreadable earlier one does not uncover it. */
    out->covers_whole_file = nsigs > 0 && tail_is_eol && sigs[nsigs - 1].range_ok &&
                             sigs[nsigs - 1].revision == (int)d.nsections - 1;

    /* Revisions after the first signature. */
    out->unmodified = nsigs > 0 && first_rev >= 0;
    if (first_rev >= 0) {
        st = tb_xcalloc(d.xref_len + 1, sizeof *st);
        pdfobj_val root;
        long long root_num = pdfobj_dict_get(&d, &d.sections[first_rev].trailer, "Root", &root) &&
                                     root.kind == PDFOBJ_REF
                                 ? root.num
                                 : -1;
        for (size_t r = 0; r < d.nsections; r++) {
            if ((int)r <= first_rev) {
                const pdfobj_xentry *en = d.entries + d.sections[r].first;
                for (size_t i = 0; i < d.sections[r].count; i++)
                    if ((size_t)en[i].num < d.xref_len)
                        st[en[i].num] = (obj_state){en[i].offset, en[i].gen, en[i].in_use};
                continue;
            }
            tb_buf_printf(&detail, "; revision %zu:", r + 1);
            rev_report rr = {&detail, 0, 0};
            if (first_docmdp == 1)
                rev_mod(&rr, "the first signature certifies the document with no changes "
                             "allowed (DocMDP P=1)");
            analyse_revision(&d, r, st, root_num, &rr);
            if (rr.mods == 0 && rr.sig_fields == 0)
                tb_buf_append_str(&detail, " no changes");
            bool signed_rev = false;
            for (int i = 0; i < nsigs; i++)
                signed_rev = signed_rev || sigs[i].revision == (int)r;
            if (!signed_rev)
                tb_buf_append_str(&detail, " (not signed)");
            if (rr.mods > 0)
                out->unmodified = false;
        }
    }
    if (nsigs == 0)
        tb_buf_append_str(&detail, "; no signatures found");
    else if (!out->covers_whole_file)
        tb_buf_append_str(&detail, "; the file was changed after the last signature");
    out->ok = out->all_valid && out->timestamps_ok && out->covers_whole_file && out->unmodified &&
              (store == NULL || out->trusted) && (office == NULL || out->first_signer_ok);
    rc = TB_OK;
done:
    if (rc != TB_OK) { /* no partial verdicts */
        out->count = 0;
        out->all_valid = out->covers_whole_file = out->unmodified = out->trusted = false;
        out->first_signer_ok = out->ok = out->timestamps_ok = false;
        out->timestamps = 0;
        out->signer[0] = out->reason[0] = '\0';
    }
    if (detail.data != NULL) {
        if (detail.len >= sizeof out->detail)
            detail.len = sizeof out->detail - 8; /* "…" marks the cut */
        tb_utf8_copy(out->detail, sizeof out->detail - 4, (const char *)detail.data, detail.len);
        if (detail.len == sizeof out->detail - 8)
            strcat(out->detail, "…");
    }
    if (doc_open)
        pdfobj_doc_close(&d);
    free(sigs);
    free(st);
    EVP_MD_CTX_free(run);
    EVP_MD_CTX_free(tail);
    tb_buf_release(&detail);
    ERR_clear_error();
    return rc;
}
