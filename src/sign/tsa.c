/* RFC 3161 time-stamp tokens (PAdES B-T): asking a time-stamp authority for a token over a
 * signature value, and checking a token found in a signature.
 *
 * The request goes over HTTP with libcurl (a dependency GDAL already brings); TSAs speak plain
 * HTTP (the token is signed, the channel need not be).  The token is checked at signing time only
 * for what proves it answers our request (status, imprint, nonce): the TSA's certificate is judged
 * by the verifier, against its trust file. */
#include "tb_features.h"

#include "sign_int.h"

#include "tb_buf.h"

#include <curl/curl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509_vfy.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

enum {
    TSA_MAX_REPLY = 64 * 1024,  /* a time-stamp reply is a few KB */
    TSA_CONNECT_TIMEOUT_S = 10,
    TSA_TIMEOUT_S = 30,
};

typedef struct reply_buf {
    tb_buf data;
    bool too_big;
} reply_buf;

static size_t
reply_write(char *p, size_t size, size_t n, void *user)
{
    reply_buf *r = user;
    size_t len = size * n;
    if (r->data.len + len > TSA_MAX_REPLY) {
        r->too_big = true;
        return 0; /* aborts the transfer */
    }
    tb_buf_append(&r->data, p, len);
    return len;
}

/* POSTs the DER request to url; the reply body in r. */
static tb_code
http_post(const char *url, const unsigned char *req, size_t nreq, reply_buf *r, tb_err *err)
{
    CURL *c = curl_easy_init();
    if (c == NULL)
        return tb_err_set(err, TB_ELIB, "time-stamp authority %s: libcurl failed to start", url);
    char curl_err[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/timestamp-query");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)req);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)nreq);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, reply_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)TSA_CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)TSA_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for name look-ups */
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*"); /* the office names its TSA; no detours */
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    if (r->too_big)
        return tb_err_set(err, TB_EIO, "time-stamp authority %s: reply larger than %d bytes", url,
                          TSA_MAX_REPLY);
    if (cc != CURLE_OK)
        return tb_err_set(err, TB_EIO, "time-stamp authority %s: %s", url,
                          curl_err[0] ? curl_err : curl_easy_strerror(cc));
    if (status != 200)
        return tb_err_set(err, TB_EIO, "time-stamp authority %s: HTTP status %ld", url, status);
    return TB_OK;
}

/* Why a granted-or-not reply was refused, from its PKIStatusInfo. */
static void
status_text(TS_RESP *resp, char *out, size_t cap)
{
    TS_STATUS_INFO *si = TS_RESP_get_status_info(resp);
    long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
    const STACK_OF(ASN1_UTF8STRING) *text = TS_STATUS_INFO_get0_text(si);
    const char *t = "";
    if (text != NULL && sk_ASN1_UTF8STRING_num(text) > 0)
        t = (const char *)ASN1_STRING_get0_data(sk_ASN1_UTF8STRING_value(text, 0));
    snprintf(out, cap, "status %ld%s%.120s", status, t[0] ? ": " : "", t);
}

tb_code
tsa_timestamp(const char *url, const unsigned char imprint[32], tb_buf *token, tb_err *err)
{
    TS_REQ *req = TS_REQ_new();
    TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
    X509_ALGOR *alg = X509_ALGOR_new();
    ASN1_INTEGER *nonce = NULL;
    BIGNUM *bn = BN_new();
    TS_RESP *resp = NULL;
    TS_VERIFY_CTX *vctx = NULL;
    unsigned char *der = NULL;
    reply_buf reply = {TB_BUF_INIT, false};
    tb_code rc = TB_OK;
    if (req == NULL || mi == NULL || alg == NULL || bn == NULL ||
        !X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) ||
        !TS_MSG_IMPRINT_set_algo(mi, alg) || !TS_MSG_IMPRINT_set_msg(mi, (unsigned char *)imprint, 32) ||
        !TS_REQ_set_version(req, 1) || !TS_REQ_set_msg_imprint(req, mi) ||
        !BN_rand(bn, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
        (nonce = BN_to_ASN1_INTEGER(bn, NULL)) == NULL || !TS_REQ_set_nonce(req, nonce) ||
        !TS_REQ_set_cert_req(req, 1)) {
        rc = set_ssl_err(err, TB_ELIB, "time-stamp request");
        goto done;
    }
    int n = i2d_TS_REQ(req, &der);
    if (n <= 0) {
        rc = set_ssl_err(err, TB_ELIB, "time-stamp request");
        goto done;
    }
    if ((rc = http_post(url, der, (size_t)n, &reply, err)) != TB_OK)
        goto done;
    const unsigned char *pp = reply.data.data;
    resp = pp ? d2i_TS_RESP(NULL, &pp, (long)reply.data.len) : NULL;
    if (resp == NULL) {
        ERR_clear_error();
        rc = tb_err_set(err, TB_EIO, "time-stamp authority %s: the reply is not an RFC 3161 "
                        "time-stamp response", url);
        goto done;
    }
    if (TS_RESP_get_token(resp) == NULL) {
        char why[160];
        status_text(resp, why, sizeof why);
        rc = tb_err_set(err, TB_EIO, "time-stamp authority %s refused the request (%s)", url, why);
        goto done;
    }
    /* Our imprint and nonce: the token answers this request, not another. */
    vctx = TS_REQ_to_TS_VERIFY_CTX(req, NULL);
    if (vctx == NULL) {
        rc = set_ssl_err(err, TB_ELIB, "time-stamp request");
        goto done;
    }
    TS_VERIFY_CTX_set_flags(vctx, TS_VFY_VERSION | TS_VFY_IMPRINT | TS_VFY_NONCE);
    if (TS_RESP_verify_response(vctx, resp) != 1) {
        rc = set_ssl_err(err, TB_EIO, "time-stamp authority %s: the token does not answer our "
                         "request", url);
        goto done;
    }
    unsigned char *tok = NULL;
    int nt = i2d_PKCS7(TS_RESP_get_token(resp), &tok);
    if (nt <= 0) {
        rc = set_ssl_err(err, TB_ELIB, "time-stamp token");
        goto done;
    }
    tb_buf_append(token, tok, (size_t)nt);
    OPENSSL_free(tok);
done:
    OPENSSL_free(der);
    tb_buf_release(&reply.data);
    TS_VERIFY_CTX_free(vctx);
    TS_RESP_free(resp);
    ASN1_INTEGER_free(nonce);
    BN_free(bn);
    X509_ALGOR_free(alg);
    TS_MSG_IMPRINT_free(mi);
    TS_REQ_free(req);
    ERR_clear_error();
    return rc;
}

bool
tsa_check_token(const unsigned char *der, size_t n, const unsigned char imprint[32],
                X509_STORE *store, time_t *gen_time, char *why, size_t cap)
{
    const unsigned char *pp = der;
    PKCS7 *token = d2i_PKCS7(NULL, &pp, (long)n);
    TS_TST_INFO *tst = token ? PKCS7_to_TS_TST_INFO(token) : NULL;
    TS_VERIFY_CTX *ctx = TS_VERIFY_CTX_new();
    bool ok = false;
    *gen_time = 0;
    if (tst == NULL || ctx == NULL || pp != der + n) {
        snprintf(why, cap, "the time-stamp token cannot be read");
        goto done;
    }
    const ASN1_GENERALIZEDTIME *gt = TS_TST_INFO_get_time(tst);
    struct tm tm;
    if (gt == NULL || ASN1_TIME_to_tm(gt, &tm) != 1) {
        snprintf(why, cap, "the time-stamp token has no readable time");
        goto done;
    }
    int flags = TS_VFY_VERSION | TS_VFY_IMPRINT;
    if (store != NULL) {
        /* The context frees its store: give it a reference of its own. */
        X509_STORE_up_ref(store);
        TS_VERIFY_CTX_set_store(ctx, store);
        flags |= TS_VFY_SIGNATURE;
    }
    TS_VERIFY_CTX_set_flags(ctx, flags);
    unsigned char *copy = OPENSSL_memdup(imprint, 32); /* the context frees it */
    if (copy == NULL || TS_VERIFY_CTX_set_imprint(ctx, copy, 32) == NULL) {
        snprintf(why, cap, "cannot check the time-stamp token");
        goto done;
    }
    if (TS_RESP_verify_token(ctx, token) != 1) {
        unsigned long e = ERR_peek_last_error();
        char ossl[160] = "";
        if (e != 0)
            ERR_error_string_n(e, ossl, sizeof ossl);
        int reason = ERR_GET_REASON(e);
        if (reason == TS_R_MESSAGE_IMPRINT_MISMATCH)
            snprintf(why, cap, "the time-stamp token is for other data, not this signature");
        else if (store != NULL && ERR_GET_LIB(e) == ERR_LIB_TS &&
                 (reason == TS_R_CERTIFICATE_VERIFY_ERROR || reason == TS_R_TSA_UNTRUSTED))
            snprintf(why, cap, "the time-stamp authority's certificate is not trusted (%s)", ossl);
        else
            snprintf(why, cap, "the time-stamp token does not verify (%s)", ossl);
        goto done;
    }
    *gen_time = timegm(&tm);
    ok = true;
done:
    ERR_clear_error();
    TS_VERIFY_CTX_free(ctx);
    TS_TST_INFO_free(tst);
    PKCS7_free(token);
    return ok;
}
