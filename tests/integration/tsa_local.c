/* Test helper for PAdES B-T: a local RFC 3161 time-stamp authority, and the edits an attacker
 * would make to the time-stamp token inside a signed PDF.
 *
 *   tsa_local serve CERT KEY CHAIN PORTFILE [MODE]
 *       answers time-stamp requests over HTTP on 127.0.0.1 (an ephemeral port, written to
 *       PORTFILE) with OpenSSL's TS_RESP_CTX, signing with CERT/KEY (CHAIN goes in the token).
 *       MODE: "good" (default); "refuse" (a granted-not reply: status rejection); "other"
 *       (a token over a different imprint than the one asked for).  Runs until killed.
 *   tsa_local token PDF OUT.der
 *       writes the last signature's time-stamp token and prints the SHA-256 (hex) of that
 *       signature's value, the imprint the token must carry (for `openssl ts -verify -digest`).
 *   tsa_local graft DONOR.pdf TARGET.pdf OUT.pdf
 *       OUT is TARGET with its last signature's token replaced by DONOR's (a token for another
 *       signature; unsigned attributes are outside what the signer signed).
 *   tsa_local tamper PDF OUT.pdf
 *       OUT is PDF with one digit of the token's genTime changed.
 * Exit 0 on success, 1 on failure (with a message). */
#define _GNU_SOURCE

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static void
die(const char *what)
{
    fprintf(stderr, "tsa_local: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

static unsigned char *
read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        die(path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)len + 1);
    if (p == NULL || fread(p, 1, (size_t)len, f) != (size_t)len)
        die(path);
    fclose(f);
    p[len] = 0;
    *n = (size_t)len;
    return p;
}

static void
write_file(const char *path, const unsigned char *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0)
        die(path);
}

/* ---- the server ------------------------------------------------------------------------------ */

static ASN1_INTEGER *
serial_cb(TS_RESP_CTX *ctx, void *data)
{
    (void)ctx;
    static long serial;
    (void)data;
    ASN1_INTEGER *s = ASN1_INTEGER_new();
    ASN1_INTEGER_set(s, ++serial);
    return s;
}

static TS_RESP *
answer(TS_RESP_CTX *ctx, const char *mode, unsigned char *body, size_t n)
{
    if (strcmp(mode, "refuse") == 0) {
        TS_RESP *r = TS_RESP_new();
        TS_STATUS_INFO *si = TS_STATUS_INFO_new();
        TS_STATUS_INFO_set_status(si, TS_STATUS_REJECTION);
        TS_RESP_set_status_info(r, si);
        TS_STATUS_INFO_free(si);
        return r;
    }
    unsigned char *der = NULL;
    int nder = (int)n;
    if (strcmp(mode, "other") == 0) { /* answer for other data than asked */
        const unsigned char *pp = body;
        TS_REQ *req = d2i_TS_REQ(NULL, &pp, (long)n);
        if (req == NULL)
            return NULL;
        ASN1_OCTET_STRING *msg = TS_MSG_IMPRINT_get_msg(TS_REQ_get_msg_imprint(req));
        unsigned char *m = (unsigned char *)ASN1_STRING_get0_data(msg);
        m[0] ^= 0x55;
        nder = i2d_TS_REQ(req, &der);
        TS_REQ_free(req);
        body = der;
    }
    BIO *in = BIO_new_mem_buf(body, nder);
    TS_RESP *r = TS_RESP_create_response(ctx, in);
    BIO_free(in);
    OPENSSL_free(der);
    return r;
}

static void
serve_one(int c, TS_RESP_CTX *ctx, const char *mode)
{
    char buf[65536];
    size_t got = 0;
    char *end = NULL;
    while (got < sizeof buf - 1 && end == NULL) {
        ssize_t k = read(c, buf + got, sizeof buf - 1 - got);
        if (k <= 0)
            return;
        got += (size_t)k;
        buf[got] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    if (end == NULL)
        return;
    size_t want = 0;
    for (char *line = buf; line < end; line = strstr(line, "\r\n") + 2)
        if (strncasecmp(line, "Content-Length:", 15) == 0)
            want = strtoul(line + 15, NULL, 10);
    size_t head = (size_t)(end + 4 - buf);
    if (want > sizeof buf - 1 - head)
        return;
    while (got < head + want) {
        ssize_t k = read(c, buf + got, head + want - got);
        if (k <= 0)
            return;
        got += (size_t)k;
    }
    TS_RESP *r = answer(ctx, mode, (unsigned char *)buf + head, want);
    unsigned char *der = NULL;
    int n = r ? i2d_TS_RESP(r, &der) : -1;
    char hdr[256];
    if (n <= 0) {
        const char *e = "HTTP/1.0 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
        (void)!write(c, e, strlen(e));
    } else {
        int h = snprintf(hdr, sizeof hdr, "HTTP/1.0 200 OK\r\nContent-Type: "
                         "application/timestamp-reply\r\nContent-Length: %d\r\n\r\n", n);
        (void)!write(c, hdr, (size_t)h);
        (void)!write(c, der, (size_t)n);
    }
    OPENSSL_free(der);
    TS_RESP_free(r);
    ERR_clear_error();
}

static _Noreturn void
serve(int argc, char **argv)
{
    if (argc < 6)
        die("usage: serve CERT KEY CHAIN PORTFILE [good|refuse|other]");
    const char *mode = argc > 6 ? argv[6] : "good";
    FILE *f = fopen(argv[2], "r");
    X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    f = fopen(argv[3], "r");
    EVP_PKEY *key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    STACK_OF(X509) *chain = sk_X509_new_null();
    f = fopen(argv[4], "r");
    X509 *x;
    while (f && (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
        sk_X509_push(chain, x);
    if (f)
        fclose(f);
    ERR_clear_error();
    if (cert == NULL || key == NULL)
        die("cannot read the TSA's certificate or key");
    TS_RESP_CTX *ctx = TS_RESP_CTX_new();
    if (!TS_RESP_CTX_set_signer_cert(ctx, cert) || !TS_RESP_CTX_set_signer_key(ctx, key) ||
        !TS_RESP_CTX_set_certs(ctx, chain) ||
        !TS_RESP_CTX_set_def_policy(ctx, OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1)) ||
        !TS_RESP_CTX_add_md(ctx, EVP_sha256()) ||
        !TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256()) ||
        !TS_RESP_CTX_set_ess_cert_id_digest(ctx, EVP_sha256()))
        die("TS_RESP_CTX");
    TS_RESP_CTX_set_serial_cb(ctx, serial_cb, NULL);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 16) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &al) != 0)
        die("cannot listen on 127.0.0.1");
    char port[16];
    snprintf(port, sizeof port, "%d\n", ntohs(a.sin_port));
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[5]);
    write_file(tmp, (unsigned char *)port, strlen(port));
    if (rename(tmp, argv[5]) != 0)
        die("cannot write the port file");
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        serve_one(c, ctx, mode);
        close(c);
    }
}

/* ---- tokens inside a signed PDF -------------------------------------------------------------- */

typedef struct last_sig {
    unsigned char *pdf;
    size_t len;
    size_t a, b; /* the /Contents hex string is pdf[a, b): "<...>" */
    CMS_ContentInfo *cms;
    CMS_SignerInfo *si;
} last_sig;

static void
open_last_sig(const char *path, last_sig *ls)
{
    ls->pdf = read_file(path, &ls->len);
    const char *at = NULL;
    for (const char *p = (const char *)ls->pdf; (p = memmem(p, ls->len - (size_t)(p - (const char *)ls->pdf),
                                                            "/ByteRange [0 ", 14)) != NULL; p++)
        at = p;
    if (at == NULL)
        die("no signature");
    unsigned long long a, b, c;
    if (sscanf(at + 14, "%llu %llu %llu", &a, &b, &c) != 3 || a >= b || b > ls->len)
        die("bad /ByteRange");
    ls->a = a, ls->b = b;
    size_t nhex = b - a - 2, n = nhex / 2;
    unsigned char *der = malloc(n);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf((const char *)ls->pdf + a + 1 + 2 * i, "%2x", &v) != 1)
            die("bad /Contents");
        der[i] = (unsigned char)v;
    }
    const unsigned char *pp = der;
    ls->cms = d2i_CMS_ContentInfo(NULL, &pp, (long)n);
    free(der);
    if (ls->cms == NULL)
        die("/Contents is not a CMS");
    ls->si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(ls->cms), 0);
}

static ASN1_STRING *
token_of(last_sig *ls)
{
    int at = CMS_unsigned_get_attr_by_NID(ls->si, NID_id_smime_aa_timeStampToken, -1);
    if (at < 0)
        die("the last signature has no time-stamp token");
    ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(CMS_unsigned_get_attr(ls->si, at), 0);
    return t->value.sequence;
}

/* Writes ls->pdf with the CMS re-encoded into the same /Contents space. */
static void
save_with_token(last_sig *ls, const unsigned char *tok, int ntok, const char *out)
{
    int at = CMS_unsigned_get_attr_by_NID(ls->si, NID_id_smime_aa_timeStampToken, -1);
    X509_ATTRIBUTE_free(CMS_unsigned_delete_attr(ls->si, at));
    if (!CMS_unsigned_add1_attr_by_NID(ls->si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE,
                                       tok, ntok))
        die("cannot add the token");
    unsigned char *der = NULL;
    int n = i2d_CMS_ContentInfo(ls->cms, &der);
    if (n <= 0 || (size_t)(2 * n) > ls->b - ls->a - 2)
        die("the changed CMS does not fit /Contents");
    memset(ls->pdf + ls->a + 1, '0', ls->b - ls->a - 2);
    for (int i = 0; i < n; i++) {
        char h[3];
        snprintf(h, sizeof h, "%02X", der[i]);
        memcpy(ls->pdf + ls->a + 1 + 2 * i, h, 2);
    }
    OPENSSL_free(der);
    write_file(out, ls->pdf, ls->len);
}

static void
close_last_sig(last_sig *ls)
{
    CMS_ContentInfo_free(ls->cms);
    free(ls->pdf);
}

int
main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "serve") == 0)
        serve(argc, argv);
    last_sig ls = {0}, donor = {0};
    if (argc == 4 && strcmp(argv[1], "token") == 0) {
        open_last_sig(argv[2], &ls);
        ASN1_STRING *tok = token_of(&ls);
        write_file(argv[3], ASN1_STRING_get0_data(tok), (size_t)ASN1_STRING_length(tok));
        const ASN1_OCTET_STRING *v = CMS_SignerInfo_get0_signature(ls.si);
        unsigned char md[32];
        EVP_Digest(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), md, NULL,
                   EVP_sha256(), NULL);
        for (int i = 0; i < 32; i++)
            printf("%02x", md[i]);
        printf("\n");
    } else if (argc == 5 && strcmp(argv[1], "graft") == 0) {
        open_last_sig(argv[2], &donor);
        open_last_sig(argv[3], &ls);
        ASN1_STRING *tok = token_of(&donor);
        save_with_token(&ls, ASN1_STRING_get0_data(tok), ASN1_STRING_length(tok), argv[4]);
    } else if (argc == 4 && strcmp(argv[1], "tamper") == 0) {
        open_last_sig(argv[2], &ls);
        ASN1_STRING *tok = token_of(&ls);
        int n = ASN1_STRING_length(tok);
        unsigned char *copy = malloc((size_t)n);
        memcpy(copy, ASN1_STRING_get0_data(tok), (size_t)n);
        int i = 0;
        while (i + 16 < n && !(copy[i] == 0x18 && copy[i + 1] == 0x0f)) /* GeneralizedTime */
            i++;
        if (i + 16 >= n)
            die("no genTime in the token");
        copy[i + 2 + 13] = copy[i + 2 + 13] == '0' ? '1' : '0'; /* a digit of the seconds */
        save_with_token(&ls, copy, n, argv[3]);
        free(copy);
    } else {
        die("usage: serve CERT KEY CHAIN PORTFILE [MODE] | token PDF OUT | graft DONOR TARGET "
            "OUT | tamper PDF OUT");
    }
    close_last_sig(&ls);
    close_last_sig(&donor);
    return 0;
}
