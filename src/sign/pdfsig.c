/* DESIGN: signing appends one incremental update after the original bytes:
 *
 *     <original file>  [\n]
 *     R g obj  catalog copy + /AcroForm << /Fields [.. F 0 R] /SigFlags 3 >>
 *              (or, if the catalog refers to an AcroForm object, a new version of that object)
 *     P g obj  page copy + /Annots [.. F 0 R]
 *     F 0 obj  merged field + widget  (/FT /Sig /V S 0 R /AP << /N A 0 R >>)
 *     A 0 obj  empty appearance stream
 *     S 0 obj  /Sig dictionary: /ByteRange [0 a b c] /Contents <00..00>
 *     xref, trailer (/Prev, /ID), startxref, %%EOF
 *
 * Dictionaries are copied entry by entry (key and value text verbatim, comments dropped) with the
 * changed entries replaced, so no PDF writer is needed.  /ByteRange is written as fixed-width
 * space-padded text and /Contents as a fixed-size hex string, so filling them in moves nothing.
 * The CMS is computed over the two ranges straight from the buffer with CMS_dataInit. */
#include "tb_features.h"

#include "pdfsig.h"

#include "tb_utf8.h"

#include "pdfobj.h"
#include "sign_int.h"
#include "tb_fs.h"

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <zlib.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    MAX_PEM_BYTES = 1024 * 1024,
    MAX_FIELD_NAME = 64,
    MAX_TEXT_BYTES = 2048,  /* reason, location */
    BYTERANGE_WIDTH = 32,   /* "a b c" of up to 10 digits each, space padded */
    MAX_SIGNATURES = 10000, /* per verified file */
};

struct pdfsig_signer {
    EVP_PKEY *key;
    X509 *cert;
    STACK_OF(X509) *chain;
    char name[256];
    size_t cms_room; /* DER bytes reserved for this signer's CMS without a time stamp */
};

/* What a CMS holds besides its certificates, the signature value and the issuer's name (twice:
 * signer identifier and signing-certificate-v2): algorithm identifiers, content type, message
 * digest, serial numbers, DER headers; about 250 bytes measured, twice that allowed. */
#define CMS_OVERHEAD 512

static tb_code cms_create(const pdfsig_signer *s, const unsigned char *p, size_t a, size_t b,
                          size_t total, const char *tsa_url, tb_buf *der, tb_err *err);

tb_code
set_ssl_err(tb_err *err, tb_code code, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    char why[256] = "no details from OpenSSL";
    unsigned long e = ERR_peek_last_error();
    if (e != 0)
        ERR_error_string_n(e, why, sizeof why);
    ERR_clear_error();
    return tb_err_set(err, code, "%s: %s", what, why);
}

void
cert_name(const X509 *x, char *out, size_t cap)
{
    out[0] = '\0';
    const X509_NAME *nm = X509_get_subject_name(x);
    int i = X509_NAME_get_index_by_NID(nm, NID_commonName, -1);
    if (i >= 0) {
        const ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i));
        unsigned char *u = NULL;
        int n = ASN1_STRING_to_UTF8(&u, data);
        if (n >= 0)
            tb_utf8_copy(out, cap, (const char *)u, (size_t)n);
        OPENSSL_free(u);
    } else {
        BIO *b = BIO_new(BIO_s_mem());
        if (b != NULL && X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253) >= 0) {
            char *p;
            long n = BIO_get_mem_data(b, &p);
            if (n > 0)
                tb_utf8_copy(out, cap, p, (size_t)n);
        }
        BIO_free(b);
    }
    ERR_clear_error();
}

/* Reads a file that must be private to its owner: the check is made on the open file (fstat),
 * before a byte is read, so the file cannot be swapped between the check and the read. */
static tb_code
read_private_file(const char *path, const char *beneath, const char *what, size_t max,
                  tb_buf *out, tb_err *err)
{
    int fd = beneath ? tb_fs_open_beneath(beneath, path, O_RDONLY, err)
                     : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 && beneath)
        return err ? err->code : TB_EIO;
    if (fd < 0)
        return tb_err_set(err, errno == ENOENT ? TB_ENOTFOUND : TB_EIO, "%s: cannot open %s: %s",
                          path, what, strerror(errno));
    struct stat st;
    tb_code rc = TB_OK;
    if (fstat(fd, &st) != 0) {
        rc = tb_err_set(err, TB_EIO, "%s: %s: %s", path, what, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rc = tb_err_set(err, TB_EINVAL, "%s: %s is not a regular file", path, what);
    } else if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        rc = tb_err_set(err, TB_EINVAL, "%s: %s is accessible by group or others (mode %03o; "
                        "chmod 600 it)", path, what, (unsigned)(st.st_mode & 0777));
    } else if ((size_t)st.st_size > max) {
        rc = tb_err_set(err, TB_ELIMIT, "%s: %s larger than %zu bytes", path, what, max);
    } else {
        tb_buf_reserve(out, (size_t)st.st_size + 1);
        for (;;) {
            tb_buf_reserve(out, 4096);
            ssize_t n = read(fd, out->data + out->len, out->cap - out->len - 1);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                rc = tb_err_set(err, TB_EIO, "%s: reading %s: %s", path, what, strerror(errno));
                break;
            }
            if (n == 0)
                break;
            out->len += (size_t)n;
            if (out->len > max) {
                rc = tb_err_set(err, TB_ELIMIT, "%s: %s larger than %zu bytes", path, what, max);
                break;
            }
        }
        out->data[out->len] = '\0';
    }
    close(fd);
    return rc;
}

/* The key's passphrase from ko (a private file's first line, or an environment variable) into
 * pass (NUL-terminated); pass[0] = 0 when none is configured. */
static tb_code
read_passphrase(const pdfsig_key_opts *ko, char *pass, size_t cap, tb_err *err)
{
    pass[0] = '\0';
    if (ko == NULL)
        return TB_OK;
    if (ko->passphrase_file != NULL) {
        tb_buf b = TB_BUF_INIT;
        tb_code rc = read_private_file(ko->passphrase_file, ko->beneath, "passphrase file",
                                       cap - 1, &b, err);
        if (rc == TB_OK) {
            size_t n = 0;
            while (n < b.len && b.data[n] != '\n' && b.data[n] != '\r')
                n++;
            memcpy(pass, b.data, n);
            pass[n] = '\0';
        }
        if (b.data != NULL)
            OPENSSL_cleanse(b.data, b.cap);
        tb_buf_release(&b);
        return rc;
    }
    if (ko->passphrase_env != NULL) {
        const char *v = getenv(ko->passphrase_env);
        if (v == NULL || v[0] == '\0')
            return tb_err_set(err, TB_EINVAL, "the key's passphrase variable %s is not set",
                              ko->passphrase_env);
        if (strlen(v) >= cap)
            return tb_err_set(err, TB_ELIMIT, "the passphrase in %s is too long",
                              ko->passphrase_env);
        memcpy(pass, v, strlen(v) + 1);
    }
    return TB_OK;
}

/* PEM password callback: hands over the configured passphrase, notes that one was asked for. */
struct pem_pass {
    const char *pass;
    bool asked;
};

static int
pem_password(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    struct pem_pass *pp = u;
    pp->asked = true;
    size_t n = strlen(pp->pass);
    if (n == 0 || n >= (size_t)size)
        return -1;
    memcpy(buf, pp->pass, n);
    return (int)n;
}

/* Only keys a PAdES validator accepts: RSA of at least 2048 bits, or ECDSA on P-256. */
static tb_code
check_key_kind(const EVP_PKEY *key, const char *path, tb_err *err)
{
    if (EVP_PKEY_is_a(key, "RSA")) {
        if (EVP_PKEY_get_bits(key) < 2048)
            return tb_err_set(err, TB_EINVAL, "%s: RSA key of %d bits; at least 2048 needed",
                              path, EVP_PKEY_get_bits(key));
        return TB_OK;
    }
    if (EVP_PKEY_is_a(key, "EC")) {
        char group[64] = "";
        size_t n = 0;
        if (EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &n) == 1 &&
            (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0))
            return TB_OK;
        ERR_clear_error();
        return tb_err_set(err, TB_EINVAL, "%s: EC key on curve %s; only P-256 is supported", path,
                          group[0] ? group : "?");
    }
    return tb_err_set(err, TB_EINVAL, "%s: key type %s; only RSA and ECDSA P-256 are supported",
                      path, EVP_PKEY_get0_type_name(key));
}

/* Reads every certificate of a PEM file: the first into *first (if first is not NULL), the rest
 * (or all, if first is NULL) onto rest, skipping copies of *first, of skip (may be NULL) and of
 * certificates already on rest.  At least one certificate is required. */
static tb_code
read_certs(const char *path, const char *beneath, X509 **first, const X509 *skip,
           STACK_OF(X509) *rest, tb_err *err)
{
    tb_buf pem = TB_BUF_INIT;
    BIO *bio = NULL;
    tb_code rc = beneath ? tb_fs_read_beneath(beneath, path, MAX_PEM_BYTES, &pem, err)
                         : tb_fs_read(path, MAX_PEM_BYTES, &pem, err);
    if (rc != TB_OK)
        goto done;
    bio = BIO_new_mem_buf(pem.data, (int)pem.len);
    if (bio == NULL) {
        rc = set_ssl_err(err, TB_ELIB, "%s: BIO_new_mem_buf", path);
        goto done;
    }
    for (int n = 0;; n++) {
        X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (x == NULL) {
            unsigned long e = ERR_peek_last_error();
            if (n > 0 && ERR_GET_LIB(e) == ERR_LIB_PEM &&
                ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
                ERR_clear_error(); /* end of file */
                break;
            }
            rc = set_ssl_err(err, TB_EFORMAT, "%s: cannot read PEM certificate %d", path, n + 1);
            goto done;
        }
        bool dup = (first != NULL && *first != NULL && X509_cmp(*first, x) == 0) ||
                   (skip != NULL && X509_cmp(skip, x) == 0);
        for (int i = 0; !dup && i < sk_X509_num(rest); i++)
            dup = X509_cmp(sk_X509_value(rest, i), x) == 0;
        if (n == 0 && first != NULL) {
            *first = x;
        } else if (dup) { /* CMS refuses duplicate certificates; fullchain files repeat them */
            X509_free(x);
        } else if (!sk_X509_push(rest, x)) {
            X509_free(x);
            rc = set_ssl_err(err, TB_ELIB, "%s: sk_X509_push", path);
            goto done;
        }
    }
done:
    BIO_free(bio);
    tb_buf_release(&pem);
    return rc;
}

static bool
is_pkcs12_path(const char *path)
{
    size_t n = strlen(path);
    return (n > 4 && (strcmp(path + n - 4, ".p12") == 0 || strcmp(path + n - 4, ".pfx") == 0));
}

/* Key, certificate and chain from a PKCS#12 file. */
static tb_code
load_pkcs12(pdfsig_signer *s, const char *path, const tb_buf *der, const char *pass, tb_err *err)
{
    const unsigned char *pp = der->data;
    PKCS12 *p12 = d2i_PKCS12(NULL, &pp, (long)der->len);
    if (p12 == NULL)
        return set_ssl_err(err, TB_EFORMAT, "%s: not a PKCS#12 file", path);
    STACK_OF(X509) *ca = NULL;
    tb_code rc = TB_OK;
    if (PKCS12_parse(p12, pass, &s->key, &s->cert, &ca) != 1) {
        rc = set_ssl_err(err, TB_EINVAL, "%s: cannot open the PKCS#12 file (%s)", path,
                         pass[0] ? "wrong passphrase?" : "no passphrase configured");
    } else if (s->key == NULL || s->cert == NULL) {
        rc = tb_err_set(err, TB_EFORMAT, "%s: PKCS#12 file without a key and its certificate",
                        path);
    }
    for (int i = 0; ca != NULL && i < sk_X509_num(ca); i++) {
        X509 *x = sk_X509_value(ca, i);
        if (rc == TB_OK && X509_cmp(x, s->cert) != 0 && sk_X509_push(s->chain, x)) {
            X509_up_ref(x);
        }
    }
    sk_X509_pop_free(ca, X509_free);
    PKCS12_free(p12);
    return rc;
}

pdfsig_signer *
pdfsig_signer_load(const char *key_path, const char *cert_path, const char *chain_path,
                   const pdfsig_key_opts *ko, tb_err *err)
{
    pdfsig_signer *s = NULL;
    tb_buf pem = TB_BUF_INIT;
    BIO *bio = NULL;
    bool ok = false;
    char pass[1024];
    pass[0] = '\0';
    const bool p12 = key_path != NULL && is_pkcs12_path(key_path);
    if (key_path == NULL || (cert_path == NULL && !p12)) {
        tb_err_set(err, TB_EINVAL, "signer: a key file and a certificate file are required");
        goto done;
    }
    const char *beneath = ko ? ko->beneath : NULL;
    if (read_private_file(key_path, beneath, "private key file", MAX_PEM_BYTES, &pem, err) !=
            TB_OK ||
        read_passphrase(ko, pass, sizeof pass, err) != TB_OK)
        goto done;
    s = tb_xcalloc(1, sizeof *s);
    s->chain = sk_X509_new_null();
    bio = BIO_new_mem_buf(pem.data, (int)pem.len);
    if (s->chain == NULL || bio == NULL) {
        set_ssl_err(err, TB_ELIB, "%s: allocation", key_path);
        goto done;
    }
    if (p12) {
        if (load_pkcs12(s, key_path, &pem, pass, err) != TB_OK)
            goto done;
    } else {
        struct pem_pass pp = {pass, false};
        s->key = PEM_read_bio_PrivateKey(bio, NULL, pem_password, &pp);
        if (s->key == NULL) {
            if (pp.asked && pass[0] == '\0') {
                ERR_clear_error();
                tb_err_set(err, TB_EINVAL, "%s: private key is encrypted and no passphrase is "
                           "configured (passphrase-file or passphrase-env in <signing>)",
                           key_path);
            } else if (pp.asked) {
                set_ssl_err(err, TB_EINVAL, "%s: cannot decrypt the private key (wrong "
                            "passphrase?)", key_path);
            } else {
                set_ssl_err(err, TB_EFORMAT, "%s: cannot read a PEM private key", key_path);
            }
            goto done;
        }
    }
    if (check_key_kind(s->key, key_path, err) != TB_OK)
        goto done;
    if (cert_path != NULL && read_certs(cert_path, beneath, s->cert ? NULL : &s->cert, s->cert,
                                        s->chain, err) != TB_OK)
        goto done;
    if (chain_path != NULL &&
        read_certs(chain_path, beneath, NULL, s->cert, s->chain, err) != TB_OK)
        goto done;
    if (X509_check_private_key(s->cert, s->key) != 1) {
        ERR_clear_error();
        tb_err_set(err, TB_EINVAL, "%s: private key does not match the certificate in %s",
                   key_path, cert_path ? cert_path : key_path);
        goto done;
    }
    cert_name(s->cert, s->name, sizeof s->name);
    /* /Contents is reserved to this signer's CMS, not to the largest any signer could need
     * (about 2 KB instead of 16 KB, twice over as hex, in every document).  The room is counted
     * from sizes that do not change between signatures (an ECDSA value's DER length does), so
     * that a document's bytes do not depend on the run; a CMS over an empty input checks it. */
    int room = i2d_X509(s->cert, NULL) + EVP_PKEY_get_size(s->key) +
               2 * i2d_X509_NAME(X509_get_issuer_name(s->cert), NULL) + CMS_OVERHEAD;
    for (int i = 0; i < sk_X509_num(s->chain); i++)
        room += i2d_X509(sk_X509_value(s->chain, i), NULL);
    tb_buf probe = TB_BUF_INIT;
    tb_code probed = cms_create(s, (const unsigned char *)"", 0, 0, 0, NULL, &probe, err);
    s->cms_room = probe.len > (size_t)room ? probe.len + CMS_OVERHEAD : (size_t)room;
    tb_buf_release(&probe);
    if (probed != TB_OK)
        goto done;
    ok = true;
done:
    if (!ok) {
        pdfsig_signer_free(s);
        s = NULL;
    }
    OPENSSL_cleanse(pass, sizeof pass);
    BIO_free(bio);
    if (pem.data != NULL)
        OPENSSL_cleanse(pem.data, pem.cap);
    tb_buf_release(&pem);
    return s;
}

void
pdfsig_signer_free(pdfsig_signer *s)
{
    if (s == NULL)
        return;
    EVP_PKEY_free(s->key);
    X509_free(s->cert);
    sk_X509_pop_free(s->chain, X509_free);
    free(s);
}

const char *
pdfsig_signer_name(const pdfsig_signer *s)
{
    return s->name;
}

/* ---- the seal image -------------------------------------------------------------------------- */

struct pdfsig_image {
    int width, height;         /* of the alpha mask: the seal's shape */
    int rgb_width, rgb_height; /* 1 x 1 for a seal of one ink colour, else width x height */
    tb_buf rgb, alpha;         /* zlib (FlateDecode) streams */
};

static tb_code
deflate_into(tb_buf *out, const unsigned char *p, size_t n, tb_err *err)
{
    uLongf cap = compressBound((uLong)n);
    tb_buf_reserve(out, cap);
    if (compress2(out->data, &cap, p, (uLong)n, 6) != Z_OK)
        return tb_err_set(err, TB_ELIB, "seal image: zlib compress2 failed");
    out->len = cap;
    return TB_OK;
}

/* A seal is one ink: when every pixel that shows (alpha >= 1/4) has the alpha-weighted mean
 * colour within SEAL_INK_TOLERANCE per channel, the colour image is that one pixel and only the
 * soft mask carries the shape (PDF maps both onto the unit square, so their sizes may differ):
 * about half the seal's bytes in every document.  Faint edge pixels are left out of the test:
 * their colour, recovered from premultiplied values, is noise. */
#define SEAL_INK_TOLERANCE 16

static bool
one_ink(const unsigned char *rgba, size_t px, unsigned char ink[3])
{
    double sum[3] = {0, 0, 0}, wsum = 0;
    for (size_t i = 0; i < px; i++) {
        double a = rgba[4 * i + 3];
        for (int k = 0; k < 3; k++)
            sum[k] += a * rgba[4 * i + k];
        wsum += a;
    }
    if (wsum <= 0)
        return false;
    for (int k = 0; k < 3; k++)
        ink[k] = (unsigned char)(sum[k] / wsum + 0.5);
    for (size_t i = 0; i < px; i++) {
        if (rgba[4 * i + 3] < 64)
            continue;
        for (int k = 0; k < 3; k++)
            if (abs((int)rgba[4 * i + k] - (int)ink[k]) > SEAL_INK_TOLERANCE)
                return false;
    }
    return true;
}

pdfsig_image *
pdfsig_image_new(const unsigned char *rgba, int width, int height, tb_err *err)
{
    if (rgba == NULL || width < 1 || height < 1 || width > 8192 || height > 8192) {
        tb_err_set(err, TB_EINVAL, "seal image: bad size %dx%d", width, height);
        return NULL;
    }
    size_t px = (size_t)width * (size_t)height;
    unsigned char ink[3], *alpha = tb_xmalloc(px), *rgb = NULL;
    for (size_t i = 0; i < px; i++)
        alpha[i] = rgba[4 * i + 3];
    pdfsig_image *im = tb_xcalloc(1, sizeof *im);
    im->width = width;
    im->height = height;
    im->rgb = (tb_buf)TB_BUF_INIT;
    im->alpha = (tb_buf)TB_BUF_INIT;
    tb_code rc;
    if (one_ink(rgba, px, ink)) {
        im->rgb_width = im->rgb_height = 1;
        rc = deflate_into(&im->rgb, ink, 3, err);
    } else {
        im->rgb_width = width;
        im->rgb_height = height;
        rgb = tb_xmalloc_array(px, 3);
        for (size_t i = 0; i < px; i++)
            memcpy(rgb + 3 * i, rgba + 4 * i, 3);
        rc = deflate_into(&im->rgb, rgb, 3 * px, err);
    }
    if (rc == TB_OK)
        rc = deflate_into(&im->alpha, alpha, px, err);
    free(rgb);
    free(alpha);
    if (rc != TB_OK) {
        pdfsig_image_free(im);
        return NULL;
    }
    return im;
}

void
pdfsig_image_free(pdfsig_image *im)
{
    if (im == NULL)
        return;
    tb_buf_release(&im->rgb);
    tb_buf_release(&im->alpha);
    free(im);
}

void
pdfsig_sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    SHA256(p, n, md);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

bool
pdfsig_random_hex(size_t n, char *out)
{
    unsigned char b[64];
    if (n > sizeof b || RAND_bytes(b, (int)n) != 1) {
        ERR_clear_error();
        return false;
    }
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02X", b[i]);
    return true;
}

/* ---- text helpers --------------------------------------------------------------------------- */

/* Appends a number with at most 3 decimals, independent of the C locale. */
static void
buf_num(tb_buf *b, double v)
{
    long long m = (long long)(v * 1000.0 + (v < 0 ? -0.5 : 0.5));
    unsigned long long a = m < 0 ? 0 - (unsigned long long)m : (unsigned long long)m;
    tb_buf_printf(b, "%s%llu.%03llu", m < 0 ? "-" : "", a / 1000, a % 1000);
}

/* Appends UTF-8 s as a PDF text string <FEFF...> (UTF-16BE).  False on invalid UTF-8. */
static bool
buf_text_string(tb_buf *b, const char *s)
{
    static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    const unsigned char *u = (const unsigned char *)s;
    tb_buf_append_str(b, "<FEFF");
    while (*u) {
        uint32_t cp;
        int n;
        if (u[0] < 0x80) {
            cp = u[0];
            n = 1;
        } else if ((u[0] & 0xE0) == 0xC0) {
            cp = u[0] & 0x1F;
            n = 2;
        } else if ((u[0] & 0xF0) == 0xE0) {
            cp = u[0] & 0x0F;
            n = 3;
        } else if ((u[0] & 0xF8) == 0xF0) {
            cp = u[0] & 0x07;
            n = 4;
        } else {
            return false;
        }
        for (int i = 1; i < n; i++) { /* a NUL fails this test, so we never read past it */
            if ((u[i] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (u[i] & 0x3F);
        }
        if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            tb_buf_printf(b, "%04X%04X", (unsigned)(0xD800 + (cp >> 10)),
                          (unsigned)(0xDC00 + (cp & 0x3FF)));
        } else {
            tb_buf_printf(b, "%04X", (unsigned)cp);
        }
        u += n;
    }
    tb_buf_append_str(b, ">");
    return true;
}

static void
buf_hex(tb_buf *b, const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";
    tb_buf_reserve(b, 2 * n);
    for (size_t i = 0; i < n; i++) {
        b->data[b->len++] = (unsigned char)digits[p[i] >> 4];
        b->data[b->len++] = (unsigned char)digits[p[i] & 15];
    }
    b->data[b->len] = '\0';
}

/* Appends the bytes of a parsed value verbatim. */
static void
buf_val(tb_buf *b, const pdfobj_doc *d, const pdfobj_val *v)
{
    tb_buf_append(b, d->p + v->start, v->end - v->start);
}

/* Appends " /Key value" for every entry of dict except the keys listed in skip (NULL-ended). */
static void
copy_entries(tb_buf *b, const pdfobj_doc *d, const pdfobj_val *dict, const char *const *skip)
{
    size_t cur = 0;
    pdfobj_val k, v;
    while (pdfobj_dict_next(d, dict, &cur, &k, &v)) {
        bool skipped = false;
        for (const char *const *s = skip; *s && !skipped; s++)
            skipped = pdfobj_is_name(d, &k, *s);
        if (skipped)
            continue;
        tb_buf_append_str(b, " ");
        buf_val(b, d, &k);
        tb_buf_append_str(b, " ");
        buf_val(b, d, &v);
    }
}

/* ---- signing -------------------------------------------------------------------------------- */

static tb_code
check_field(const pdfsig_field *f, tb_err *err)
{
    if (f->page < 0)
        return tb_err_set(err, TB_EINVAL, "signature field: page %d is not a page number",
                          f->page);
    if (f->name == NULL)
        return TB_OK; /* named by pdfsig_sign */
    size_t n = strlen(f->name);
    if (n == 0 || n > MAX_FIELD_NAME)
        return tb_err_set(err, TB_EINVAL, "signature field: name must have 1 to %d characters",
                          MAX_FIELD_NAME);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)f->name[i];
        if (c < 0x20 || c > 0x7e || c == '.' || c == '(' || c == ')' || c == '\\')
            return tb_err_set(err, TB_EINVAL,
                              "signature field: name \"%.64s\" has a character other than "
                              "printable ASCII without . ( ) \\",
                              f->name);
    }
    const double r[] = {f->x_pt, f->y_pt, f->w_pt, f->h_pt};
    for (size_t i = 0; i < 4; i++)
        if (!isfinite(r[i]) || r[i] > 1e6 || r[i] < -1e6 || (i >= 2 && r[i] < 0))
            return tb_err_set(err, TB_EINVAL, "signature field %s: bad rectangle", f->name);
    const char *texts[] = {f->reason, f->location};
    for (size_t i = 0; i < 2; i++)
        if (texts[i] != NULL && strlen(texts[i]) > MAX_TEXT_BYTES)
            return tb_err_set(err, TB_EINVAL, "signature field %s: %s longer than %d bytes",
                              f->name, i ? "location" : "reason", MAX_TEXT_BYTES);
    return TB_OK;
}

/* Finds 1-based page number page in the page tree (iterative, depth capped). */
static tb_code
find_page(const pdfobj_doc *d, const pdfobj_val *catalog, int page, long long *num, int *gen,
          pdfobj_val *dict, tb_err *err)
{
    pdfobj_val ref, node, total;
    if (!pdfobj_dict_get(d, catalog, "Pages", &ref) || ref.kind != PDFOBJ_REF)
        return tb_err_set(err, TB_EFORMAT, "PDF: catalog has no /Pages reference");
    tb_code rc = pdfobj_load(d, ref.num, &node, NULL, err);
    if (rc != TB_OK)
        return rc;
    long long pages = -1;
    if (node.kind == PDFOBJ_DICT && pdfobj_dict_get(d, &node, "Count", &total) && total.is_int)
        pages = total.num;
    long long remaining = page - 1;
    for (int depth = 0; depth <= PDFOBJ_MAX_DEPTH; depth++) {
        pdfobj_val kids, kid;
        if (node.kind != PDFOBJ_DICT || !pdfobj_dict_get(d, &node, "Kids", &kids) ||
            kids.kind != PDFOBJ_ARRAY)
            return tb_err_set(err, TB_EFORMAT, "PDF: page tree node at offset %zu has no /Kids",
                              node.start);
        size_t cur = 0;
        bool descended = false;
        while (!descended && pdfobj_array_next(d, &kids, &cur, &kid)) {
            pdfobj_val kd, type, count;
            int kg;
            if (kid.kind != PDFOBJ_REF)
                return tb_err_set(err, TB_EFORMAT, "PDF: /Kids item at offset %zu is not a "
                                                   "reference", kid.start);
            rc = pdfobj_load(d, kid.num, &kd, &kg, err);
            if (rc != TB_OK)
                return rc;
            if (kd.kind != PDFOBJ_DICT)
                return tb_err_set(err, TB_EFORMAT, "PDF: page object %lld is not a dictionary",
                                  kid.num);
            if (pdfobj_dict_get(d, &kd, "Type", &type) && pdfobj_is_name(d, &type, "Pages")) {
                if (!pdfobj_dict_get(d, &kd, "Count", &count) || !count.is_int || count.num < 0)
                    return tb_err_set(err, TB_EFORMAT, "PDF: page tree node %lld has no /Count",
                                      kid.num);
                if (remaining < count.num) {
                    node = kd;
                    descended = true;
                } else {
                    remaining -= count.num;
                }
            } else if (remaining-- == 0) {
                *num = kid.num;
                *gen = kg;
                *dict = kd;
                return TB_OK;
            }
        }
        if (!descended)
            return tb_err_set(err, TB_EINVAL, "signature field: no page %d (the document has "
                                              "%lld pages)", page, pages);
    }
    return tb_err_set(err, TB_EFORMAT, "PDF: page tree deeper than %d levels", PDFOBJ_MAX_DEPTH);
}

/* The 1-based number of page object num, 0 if it is none of the first PDFSIG_MAX_PLACE_PAGES
 * pages (find_page for each: our documents have tens of pages). */
enum { PDFSIG_MAX_PLACE_PAGES = 500 };
static int
page_index(const pdfobj_doc *d, const pdfobj_val *catalog, long long num)
{
    for (int i = 1; i <= PDFSIG_MAX_PLACE_PAGES; i++) {
        long long n;
        int g;
        pdfobj_val dict;
        tb_err e = {0};
        if (find_page(d, catalog, i, &n, &g, &dict, &e) != TB_OK)
            return 0;
        if (n == num)
            return i;
    }
    return 0;
}

tb_code
pdfsig_places(const unsigned char *pdf, size_t len, pdfsig_place *out, int cap, int *count,
              tb_err *err)
{
    pdfobj_doc d;
    *count = 0;
    if (len > PDFSIG_MAX_INPUT)
        return tb_err_set(err, TB_ELIMIT, "PDF: %zu bytes, more than the limit of %d", len,
                          PDFSIG_MAX_INPUT);
    tb_code rc = pdfobj_doc_open(&d, pdf, len, err);
    if (rc != TB_OK)
        return rc;
    pdfobj_val root, catalog, af_v, af, fields, item;
    if (!pdfobj_dict_get(&d, &d.trailer, "Root", &root) || root.kind != PDFOBJ_REF)
        rc = tb_err_set(err, TB_EFORMAT, "PDF: trailer has no /Root reference");
    else
        rc = pdfobj_load(&d, root.num, &catalog, NULL, err);
    if (rc != TB_OK || catalog.kind != PDFOBJ_DICT ||
        !pdfobj_dict_get(&d, &catalog, "AcroForm", &af_v) ||
        pdfobj_resolve(&d, &af_v, &af, NULL) != TB_OK || af.kind != PDFOBJ_DICT ||
        !pdfobj_dict_get(&d, &af, "Fields", &fields) || fields.kind != PDFOBJ_ARRAY)
        goto done; /* no form: no signatures */
    size_t cur = 0;
    while (*count < cap && pdfobj_array_next(&d, &fields, &cur, &item)) {
        pdfobj_val field, ft, value, rect, p, n;
        if (item.kind != PDFOBJ_REF || pdfobj_load(&d, item.num, &field, NULL, NULL) != TB_OK ||
            field.kind != PDFOBJ_DICT || !pdfobj_dict_get(&d, &field, "FT", &ft) ||
            !pdfobj_is_name(&d, &ft, "Sig") || !pdfobj_dict_get(&d, &field, "V", &value) ||
            !pdfobj_dict_get(&d, &field, "Rect", &rect) || rect.kind != PDFOBJ_ARRAY ||
            !pdfobj_dict_get(&d, &field, "P", &p) || p.kind != PDFOBJ_REF)
            continue;
        double r[4];
        int k = 0;
        size_t rc_cur = 0;
        while (k < 4 && pdfobj_array_next(&d, &rect, &rc_cur, &n) && n.kind == PDFOBJ_NUMBER) {
            char text[32];
            size_t nb = n.end - n.start < sizeof text - 1 ? n.end - n.start : sizeof text - 1;
            memcpy(text, d.p + n.start, nb);
            text[nb] = '\0';
            r[k++] = strtod(text, NULL);
        }
        int page = k == 4 ? page_index(&d, &catalog, p.num) : 0;
        if (page == 0)
            continue;
        out[(*count)++] = (pdfsig_place){page, fmin(r[0], r[2]), fmin(r[1], r[3]),
                                         fabs(r[2] - r[0]), fabs(r[3] - r[1])};
    }
done:
    pdfobj_doc_close(&d);
    return rc;
}

/* Refuses a field name already used by a top-level field in fields (an array or NONE). */
static tb_code
check_unique_name(const pdfobj_doc *d, const pdfobj_val *fields, const char *name, tb_err *err)
{
    size_t cur = 0, n = strlen(name);
    pdfobj_val item;
    while (pdfobj_array_next(d, fields, &cur, &item)) {
        pdfobj_val fd, t;
        tb_code rc = pdfobj_resolve(d, &item, &fd, err);
        if (rc != TB_OK)
            return rc;
        if (pdfobj_dict_get(d, &fd, "T", &t) && t.kind == PDFOBJ_STRING &&
            t.end - t.start == n + 2 && memcmp(d->p + t.start + 1, name, n) == 0)
            return tb_err_set(err, TB_EINVAL, "signature field: the document already has a "
                                              "field named %s", name);
    }
    return TB_OK;
}

/* Appends an AcroForm dictionary: af's entries (af may be NULL) with field_num appended to
 * /Fields and /SigFlags 3. */
static void
write_acroform(tb_buf *b, const pdfobj_doc *d, const pdfobj_val *af, const pdfobj_val *fields,
               long long field_num)
{
    static const char *const skip[] = {"Fields", "SigFlags", NULL};
    tb_buf_append_str(b, "<<");
    if (af != NULL)
        copy_entries(b, d, af, skip);
    tb_buf_append_str(b, " /Fields [");
    size_t cur = 0;
    pdfobj_val item;
    while (pdfobj_array_next(d, fields, &cur, &item)) {
        tb_buf_append_str(b, " ");
        buf_val(b, d, &item);
    }
    tb_buf_printf(b, " %lld 0 R ] /SigFlags 3 >>", field_num);
}

typedef struct xref_rec {
    long long num;
    int gen;
    size_t offset;
} xref_rec;

static int
xref_rec_cmp(const void *a, const void *b)
{
    const xref_rec *x = a, *y = b;
    return (x->num > y->num) - (x->num < y->num);
}

typedef struct der_item {
    unsigned char *p;
    int n;
} der_item;

static int
der_item_cmp(const void *x, const void *y)
{
    const der_item *a = x, *b = y;
    int c = memcmp(a->p, b->p, (size_t)(a->n < b->n ? a->n : b->n));
    return c ? c : (a->n > b->n) - (a->n < b->n);
}

/* Signs si's signed attributes (DER SET OF, sorted as DER requires and as they are written)
 * with key and stores the signature value in si. */
static tb_code
sign_attributes(CMS_SignerInfo *si, EVP_PKEY *key, tb_err *err)
{
    int count = CMS_signed_get_attr_count(si);
    der_item *items = tb_xcalloc((size_t)(count > 0 ? count : 1), sizeof *items);
    tb_buf set = TB_BUF_INIT;
    unsigned char *sig = NULL;
    EVP_MD_CTX *md = NULL;
    tb_code rc = TB_OK;
    size_t total = 0;
    for (int i = 0; i < count; i++) {
        items[i].n = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, i), &items[i].p);
        if (items[i].n <= 0) {
            rc = set_ssl_err(err, TB_ELIB, "signing: encoding a signed attribute");
            goto done;
        }
        total += (size_t)items[i].n;
    }
    qsort(items, (size_t)count, sizeof *items, der_item_cmp);
    tb_buf_append(&set, "\x31", 1);
    if (total < 128) {
        unsigned char l = (unsigned char)total;
        tb_buf_append(&set, &l, 1);
    } else {
        unsigned char l[5];
        int k = 0;
        for (size_t t = total; t; t >>= 8)
            k++;
        l[0] = (unsigned char)(0x80 | k);
        for (int j = 0; j < k; j++)
            l[1 + j] = (unsigned char)(total >> (8 * (k - 1 - j)));
        tb_buf_append(&set, l, (size_t)k + 1);
    }
    for (int i = 0; i < count; i++)
        tb_buf_append(&set, items[i].p, (size_t)items[i].n);
    size_t siglen = 0;
    md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(md, NULL, &siglen, set.data, set.len) != 1) {
        rc = set_ssl_err(err, TB_ELIB, "signing: EVP_DigestSign");
        goto done;
    }
    sig = OPENSSL_malloc(siglen);
    if (sig == NULL || EVP_DigestSign(md, sig, &siglen, set.data, set.len) != 1 ||
        ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), sig, (int)siglen) != 1) {
        rc = set_ssl_err(err, TB_ELIB, "signing: EVP_DigestSign");
        goto done;
    }
done:
    for (int i = 0; i < count; i++)
        OPENSSL_free(items[i].p);
    free(items);
    tb_buf_release(&set);
    OPENSSL_free(sig);
    EVP_MD_CTX_free(md);
    return rc;
}

/* PAdES B-T: the TSA's token over the signature value, as the unsigned attribute
 * id-aa-signatureTimeStampToken (RFC 3161 appendix A). */
static tb_code
add_timestamp(CMS_SignerInfo *si, const char *tsa_url, tb_err *err)
{
    const ASN1_OCTET_STRING *value = CMS_SignerInfo_get0_signature(si);
    unsigned char imprint[32];
    if (!EVP_Digest(ASN1_STRING_get0_data(value), (size_t)ASN1_STRING_length(value), imprint,
                    NULL, EVP_sha256(), NULL))
        return set_ssl_err(err, TB_ELIB, "signing: SHA-256 of the signature value");
    tb_buf token = TB_BUF_INIT;
    tb_code rc = tsa_timestamp(tsa_url, imprint, &token, err);
    if (rc == TB_OK &&
        !CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE,
                                       token.data, (int)token.len))
        rc = set_ssl_err(err, TB_ELIB, "signing: adding the time-stamp token");
    tb_buf_release(&token);
    return rc;
}

/* Computes the detached CMS over [0, a) and [b, total) of p into der: PAdES B-B signed
 * attributes content-type, message-digest and signing-certificate-v2, and no signing-time (the
 * time is the signature dictionary's /M).  OpenSSL always adds a signing-time when it signs, so
 * the attribute is removed afterwards and the attributes are signed again here.  With a TSA the
 * signature value is then time-stamped (B-T). */
static tb_code
cms_create(const pdfsig_signer *s, const unsigned char *p, size_t a, size_t b, size_t total,
           const char *tsa_url, tb_buf *der, tb_err *err)
{
    const unsigned flags = CMS_BINARY | CMS_DETACHED | CMS_PARTIAL | CMS_NOSMIMECAP | CMS_CADES;
    CMS_ContentInfo *cms = NULL;
    BIO *chain = NULL;
    unsigned char *out = NULL;
    tb_code rc = TB_OK;
    cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
    if (cms == NULL || !CMS_set_detached(cms, 1)) {
        rc = set_ssl_err(err, TB_ELIB, "signing: CMS_sign");
        goto done;
    }
    CMS_SignerInfo *si = CMS_add1_signer(cms, s->cert, s->key, EVP_sha256(), flags);
    if (si == NULL) {
        rc = set_ssl_err(err, TB_ELIB, "signing: CMS_add1_signer");
        goto done;
    }
    for (int i = 0; i < sk_X509_num(s->chain); i++) {
        if (!CMS_add1_cert(cms, sk_X509_value(s->chain, i))) {
            rc = set_ssl_err(err, TB_ELIB, "signing: CMS_add1_cert");
            goto done;
        }
    }
    chain = CMS_dataInit(cms, NULL);
    if (chain == NULL || BIO_write(chain, p, (int)a) != (int)a ||
        BIO_write(chain, p + b, (int)(total - b)) != (int)(total - b) || BIO_flush(chain) != 1 ||
        !CMS_dataFinal(cms, chain)) {
        rc = set_ssl_err(err, TB_ELIB, "signing: computing the CMS signature");
        goto done;
    }
    int at;
    while ((at = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1)) >= 0)
        X509_ATTRIBUTE_free(CMS_signed_delete_attr(si, at));
    if ((rc = sign_attributes(si, s->key, err)) != TB_OK)
        goto done;
    if (tsa_url != NULL && (rc = add_timestamp(si, tsa_url, err)) != TB_OK)
        goto done;
    int n = i2d_CMS_ContentInfo(cms, &out);
    if (n <= 0) {
        rc = set_ssl_err(err, TB_ELIB, "signing: i2d_CMS_ContentInfo");
        goto done;
    }
    tb_buf_append(der, out, (size_t)n);
done:
    OPENSSL_free(out);
    BIO_free_all(chain);
    CMS_ContentInfo_free(cms);
    return rc;
}

tb_code
pdfsig_sign(tb_buf *pdf, const pdfsig_signer *s, const pdfsig_field *f, tb_err *err)
{
    static const char *const skip_acroform[] = {"AcroForm", NULL};
    static const char *const skip_none[] = {NULL};
    static const char *const skip_annots[] = {"Annots", NULL};
    static const char *const skip_perms[] = {"Perms", NULL};
    static const char *const skip_acroform_perms[] = {"AcroForm", "Perms", NULL};
    pdfobj_doc d;
    bool doc_open = false;
    tb_buf upd = TB_BUF_INIT, der = TB_BUF_INIT;
    const size_t orig_len = pdf ? pdf->len : 0;
    bool appended = false;
    tb_code rc;
    if (pdf == NULL || pdf->data == NULL || s == NULL || f == NULL) {
        rc = tb_err_set(err, TB_EINVAL, "pdfsig_sign: missing argument");
        goto done;
    }
    if ((rc = check_field(f, err)) != TB_OK)
        goto done;
    pdfsig_field named = *f; /* with the page and name filled in when f leaves them to us */
    f = &named;
    if (pdf->len > PDFSIG_MAX_INPUT) {
        rc = tb_err_set(err, TB_ELIMIT, "PDF to sign: %zu bytes, more than the limit of %d",
                        pdf->len, PDFSIG_MAX_INPUT);
        goto done;
    }
    if ((rc = pdfobj_doc_open(&d, pdf->data, pdf->len, err)) != TB_OK)
        goto done;
    doc_open = true;

    pdfobj_val v, root, catalog, page, af_v, af, fields, annots;
    pdfobj_val none = {0};
    if (pdfobj_dict_get(&d, &d.trailer, "Encrypt", &v)) {
        rc = tb_err_set(err, TB_EFORMAT, "PDF: encrypted documents are not supported");
        goto done;
    }
    int root_gen = 0, page_gen = 0, af_gen = 0;
    long long page_num = 0;
    if (!pdfobj_dict_get(&d, &d.trailer, "Root", &root) || root.kind != PDFOBJ_REF) {
        rc = tb_err_set(err, TB_EFORMAT, "PDF: trailer has no /Root reference");
        goto done;
    }
    if ((rc = pdfobj_load(&d, root.num, &catalog, &root_gen, err)) != TB_OK)
        goto done;
    if (catalog.kind != PDFOBJ_DICT) {
        rc = tb_err_set(err, TB_EFORMAT, "PDF: catalog %lld is not a dictionary", root.num);
        goto done;
    }
    pdfobj_val pages_ref, pages, count;
    if (f->page == 0 && pdfobj_dict_get(&d, &catalog, "Pages", &pages_ref) &&
        pdfobj_resolve(&d, &pages_ref, &pages, NULL) == TB_OK &&
        pdfobj_dict_get(&d, &pages, "Count", &count) && count.is_int && count.num > 0 &&
        count.num < 1000000)
        named.page = (int)count.num; /* the last page */
    if ((rc = find_page(&d, &catalog, f->page, &page_num, &page_gen, &page, err)) != TB_OK)
        goto done;

    bool has_af = pdfobj_dict_get(&d, &catalog, "AcroForm", &af_v);
    af = none;
    if (has_af && af_v.kind == PDFOBJ_REF)
        rc = pdfobj_load(&d, af_v.num, &af, &af_gen, err);
    else if (has_af)
        af = af_v;
    if (rc != TB_OK)
        goto done;
    if (has_af && af.kind != PDFOBJ_DICT) {
        rc = tb_err_set(err, TB_EFORMAT, "PDF: /AcroForm is not a dictionary");
        goto done;
    }
    fields = none;
    if (has_af && pdfobj_dict_get(&d, &af, "Fields", &fields) && fields.kind != PDFOBJ_ARRAY) {
        rc = tb_err_set(err, TB_EFORMAT, "PDF: /AcroForm /Fields is not an inline array "
                                         "(indirect /Fields is not supported)");
        goto done;
    }
    char auto_name[32];
    for (int k = 1; f->name == NULL && k <= PDFSIG_MAX_SIGNATURES; k++) {
        snprintf(auto_name, sizeof auto_name, "Seal%d", k);
        if (check_unique_name(&d, &fields, auto_name, NULL) == TB_OK)
            named.name = auto_name;
    }
    if (f->name == NULL) {
        rc = tb_err_set(err, TB_ELIMIT, "PDF: no free signature field name (Seal1..Seal%d)",
                        PDFSIG_MAX_SIGNATURES);
        goto done;
    }
    if ((rc = check_unique_name(&d, &fields, f->name, err)) != TB_OK)
        goto done;
    annots = none;
    if (pdfobj_dict_get(&d, &page, "Annots", &annots) && annots.kind != PDFOBJ_ARRAY) {
        rc = tb_err_set(err, TB_EFORMAT, "PDF: page %d: /Annots is not an inline array "
                                         "(indirect /Annots is not supported)", f->page);
        goto done;
    }
    const int new_objects = f->appearance ? 5 : 3;
    if (d.size + new_objects > PDFOBJ_MAX_OBJECTS) {
        rc = tb_err_set(err, TB_ELIMIT, "PDF: too many objects to add a signature");
        goto done;
    }
    if (f->certify && fields.kind == PDFOBJ_ARRAY && pdfobj_array_next(&d, &fields, &(size_t){0},
                                                                       &v)) {
        rc = tb_err_set(err, TB_EINVAL, "signature field %s: only the first signature of a "
                        "document can certify it", f->name);
        goto done;
    }
    const long long sig_num = d.size, field_num = d.size + 1, ap_num = d.size + 2;
    const long long img_num = d.size + 3, mask_num = d.size + 4;
    const bool need_nl = pdf->data[orig_len - 1] != '\n' && pdf->data[orig_len - 1] != '\r';
    const size_t base = orig_len + (need_nl ? 1 : 0);
    xref_rec recs[8];
    size_t nrecs = 0;
    time_t when = f->signing_time ? f->signing_time : time(NULL);
    struct tm tm;
    if (gmtime_r(&when, &tm) == NULL || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 1950) {
        rc = tb_err_set(err, TB_EINVAL, "signature field %s: bad signing time", f->name);
        goto done;
    }
    if (X509_cmp_time(X509_get0_notBefore(s->cert), &when) > 0 ||
        X509_cmp_time(X509_get0_notAfter(s->cert), &when) < 0) {
        char t[32];
        strftime(t, sizeof t, "%Y-%m-%d %H:%M:%S UTC", &tm);
        rc = tb_err_set(err, TB_EINVAL, "signing time %s is outside the validity of the "
                        "certificate of %s", t, s->name);
        goto done;
    }

    /* Catalog (and the AcroForm object if it is indirect). */
    recs[nrecs++] = (xref_rec){root.num, root_gen, base + upd.len};
    tb_buf_printf(&upd, "%lld %d obj\n<<", root.num, root_gen);
    if (has_af && af_v.kind == PDFOBJ_REF) {
        copy_entries(&upd, &d, &catalog, f->certify ? skip_perms : skip_none);
        if (f->certify)
            tb_buf_printf(&upd, " /Perms << /DocMDP %lld 0 R >>", sig_num);
        tb_buf_append_str(&upd, " >>\nendobj\n");
        recs[nrecs++] = (xref_rec){af_v.num, af_gen, base + upd.len};
        tb_buf_printf(&upd, "%lld %d obj\n", af_v.num, af_gen);
        write_acroform(&upd, &d, &af, &fields, field_num);
        tb_buf_append_str(&upd, "\nendobj\n");
    } else {
        copy_entries(&upd, &d, &catalog, f->certify ? skip_acroform_perms : skip_acroform);
        tb_buf_append_str(&upd, " /AcroForm ");
        write_acroform(&upd, &d, has_af ? &af : NULL, &fields, field_num);
        if (f->certify)
            tb_buf_printf(&upd, " /Perms << /DocMDP %lld 0 R >>", sig_num);
        tb_buf_append_str(&upd, " >>\nendobj\n");
    }

    /* Page with the widget added to /Annots. */
    recs[nrecs++] = (xref_rec){page_num, page_gen, base + upd.len};
    tb_buf_printf(&upd, "%lld %d obj\n<<", page_num, page_gen);
    copy_entries(&upd, &d, &page, skip_annots);
    tb_buf_append_str(&upd, " /Annots [");
    size_t cur = 0;
    pdfobj_val item;
    while (pdfobj_array_next(&d, &annots, &cur, &item)) {
        tb_buf_append_str(&upd, " ");
        buf_val(&upd, &d, &item);
    }
    tb_buf_printf(&upd, " %lld 0 R ] >>\nendobj\n", field_num);

    /* Field + widget, and its (empty) appearance. */
    recs[nrecs++] = (xref_rec){field_num, 0, base + upd.len};
    tb_buf_printf(&upd,
                  "%lld 0 obj\n<< /Type /Annot /Subtype /Widget /FT /Sig /F 132 /T (%s) "
                  "/V %lld 0 R /P %lld %d R /Rect [ ",
                  field_num, f->name, sig_num, page_num, page_gen);
    buf_num(&upd, f->x_pt);
    tb_buf_append_str(&upd, " ");
    buf_num(&upd, f->y_pt);
    tb_buf_append_str(&upd, " ");
    buf_num(&upd, f->x_pt + f->w_pt);
    tb_buf_append_str(&upd, " ");
    buf_num(&upd, f->y_pt + f->h_pt);
    tb_buf_printf(&upd, " ] /AP << /N %lld 0 R >> >>\nendobj\n", ap_num);
    recs[nrecs++] = (xref_rec){ap_num, 0, base + upd.len};
    tb_buf_printf(&upd, "%lld 0 obj\n<< /Type /XObject /Subtype /Form /BBox [ 0 0 ", ap_num);
    buf_num(&upd, f->w_pt);
    tb_buf_append_str(&upd, " ");
    buf_num(&upd, f->h_pt);
    if (f->appearance == NULL) {
        tb_buf_append_str(&upd, " ] /Resources << >> /Length 0 >>\nstream\n\nendstream\nendobj\n");
    } else {
        /* The seal fills the widget: scale the unit image to the rectangle. */
        tb_buf content = TB_BUF_INIT;
        tb_buf_append_str(&content, "q /Ink gs ");
        buf_num(&content, f->w_pt);
        tb_buf_append_str(&content, " 0 0 ");
        buf_num(&content, f->h_pt);
        tb_buf_append_str(&content, " 0 0 cm /Seal Do Q\n");
        /* Multiplied onto the text under it, as a red ink seal on paper. */
        tb_buf_printf(&upd, " ] /Resources << /XObject << /Seal %lld 0 R >> /ExtGState << /Ink "
                      "<< /Type /ExtGState /BM /Multiply >> >> >> /Length %zu >>\nstream\n",
                      img_num, content.len);
        tb_buf_append(&upd, content.data, content.len);
        tb_buf_append_str(&upd, "endstream\nendobj\n");
        tb_buf_release(&content);
        const pdfsig_image *im = f->appearance;
        recs[nrecs++] = (xref_rec){img_num, 0, base + upd.len};
        tb_buf_printf(&upd, "%lld 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d "
                      "/ColorSpace /DeviceRGB /BitsPerComponent 8 /Interpolate true "
                      "/SMask %lld 0 R /Filter /FlateDecode /Length %zu >>\nstream\n",
                      img_num, im->rgb_width, im->rgb_height, mask_num, im->rgb.len);
        tb_buf_append(&upd, im->rgb.data, im->rgb.len);
        tb_buf_append_str(&upd, "\nendstream\nendobj\n");
        recs[nrecs++] = (xref_rec){mask_num, 0, base + upd.len};
        tb_buf_printf(&upd, "%lld 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d "
                      "/ColorSpace /DeviceGray /BitsPerComponent 8 /Interpolate true "
                      "/Filter /FlateDecode /Length %zu >>\nstream\n",
                      mask_num, im->width, im->height, im->alpha.len);
        tb_buf_append(&upd, im->alpha.data, im->alpha.len);
        tb_buf_append_str(&upd, "\nendstream\nendobj\n");
    }

    /* Signature dictionary with placeholders. */
    recs[nrecs++] = (xref_rec){sig_num, 0, base + upd.len};
    tb_buf_printf(&upd,
                  "%lld 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /%s"
                  " /M (D:%04d%02d%02d%02d%02d%02dZ) /Name ",
                  sig_num, f->pkcs7 ? "adbe.pkcs7.detached" : "ETSI.CAdES.detached", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    bool text_ok = buf_text_string(&upd, s->name);
    if (f->reason != NULL) {
        tb_buf_append_str(&upd, " /Reason ");
        text_ok = text_ok && buf_text_string(&upd, f->reason);
    }
    if (f->location != NULL) {
        tb_buf_append_str(&upd, " /Location ");
        text_ok = text_ok && buf_text_string(&upd, f->location);
    }
    if (!text_ok) {
        rc = tb_err_set(err, TB_EINVAL, "signature field %s: reason, location or signer name is "
                                        "not valid UTF-8", f->name);
        goto done;
    }
    if (f->certify)
        tb_buf_append_str(&upd, " /Reference [ << /Type /SigRef /TransformMethod /DocMDP "
                                "/TransformParams << /Type /TransformParams /P 2 /V /1.2 >> >> ]");
    tb_buf_append_str(&upd, " /ByteRange [0 ");
    const size_t br_at = upd.len;
    tb_buf_printf(&upd, "%*s] /Contents <", BYTERANGE_WIDTH, "");
    const size_t a = base + upd.len - 1; /* the '<' */
    /* A time stamp token's size is the TSA's (its certificates): the whole limit for it. */
    size_t reserved = f->tsa_url ? PDFSIG_CONTENTS_MAX : s->cms_room;
    if (reserved > PDFSIG_CONTENTS_MAX)
        reserved = PDFSIG_CONTENTS_MAX;
    tb_buf_reserve(&upd, 2 * reserved);
    memset(upd.data + upd.len, '0', 2 * reserved);
    upd.len += 2 * reserved;
    tb_buf_append_str(&upd, ">");
    const size_t b = base + upd.len; /* after the '>' */
    tb_buf_append_str(&upd, " >>\nendobj\n");

    /* Cross-reference section and trailer. */
    const size_t xref_at = base + upd.len;
    qsort(recs, nrecs, sizeof recs[0], xref_rec_cmp);
    tb_buf_append_str(&upd, "xref\n");
    for (size_t i = 0; i < nrecs;) {
        size_t j = i + 1;
        while (j < nrecs && recs[j].num == recs[j - 1].num + 1)
            j++;
        tb_buf_printf(&upd, "%lld %zu\n", recs[i].num, j - i);
        for (; i < j; i++)
            tb_buf_printf(&upd, "%010zu %05d n\r\n", recs[i].offset, recs[i].gen);
    }
    tb_buf_printf(&upd, "trailer\n<< /Size %lld /Root %lld %d R", d.size + new_objects,
                  root.num, root_gen);
    if (pdfobj_dict_get(&d, &d.trailer, "Info", &v)) {
        tb_buf_append_str(&upd, " /Info ");
        buf_val(&upd, &d, &v);
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    if (!EVP_Digest(pdf->data, orig_len, md, NULL, EVP_sha256(), NULL)) {
        rc = set_ssl_err(err, TB_ELIB, "signing: SHA-256 for /ID");
        goto done;
    }
    tb_buf_append_str(&upd, " /ID [ ");
    pdfobj_val id, id0;
    cur = 0;
    if (pdfobj_dict_get(&d, &d.trailer, "ID", &id) && pdfobj_array_next(&d, &id, &cur, &id0) &&
        (id0.kind == PDFOBJ_HEX || id0.kind == PDFOBJ_STRING)) {
        buf_val(&upd, &d, &id0); /* the first element is permanent */
    } else {
        tb_buf_append_str(&upd, "<");
        buf_hex(&upd, md, 16);
        tb_buf_append_str(&upd, ">");
    }
    tb_buf_append_str(&upd, " <");
    buf_hex(&upd, md + 16, 16);
    tb_buf_printf(&upd, "> ] /Prev %zu >>\nstartxref\n%zu\n%%%%EOF\n", d.startxref, xref_at);

    /* Fill in /ByteRange, append, sign, fill in /Contents. */
    const size_t total = base + upd.len;
    char br[BYTERANGE_WIDTH + 1];
    int n = snprintf(br, sizeof br, "%zu %zu %zu", a, b, total - b);
    TB_ASSERT(n > 0 && n <= BYTERANGE_WIDTH); /* total <= PDFSIG_MAX_INPUT + update size */
    memcpy(upd.data + br_at, br, (size_t)n);
    pdfobj_doc_close(&d); /* pdf->data may move from here on */
    doc_open = false;
    if (need_nl)
        tb_buf_append_str(pdf, "\n");
    tb_buf_append(pdf, upd.data, upd.len);
    appended = true;
    TB_ASSERT(pdf->len == total);
    if ((rc = cms_create(s, pdf->data, a, b, total, f->tsa_url, &der, err)) != TB_OK)
        goto done;
    if (der.len > reserved) {
        rc = tb_err_set(err, TB_ELIMIT, "signing: CMS signature of %zu bytes does not fit the "
                                        "%zu bytes reserved in /Contents (certificate chain too "
                                        "long?)", der.len, reserved);
        goto done;
    }
    tb_buf hex = TB_BUF_INIT;
    buf_hex(&hex, der.data, der.len);
    memcpy(pdf->data + a + 1, hex.data, hex.len);
    tb_buf_release(&hex);
    rc = TB_OK;
done:
    if (rc != TB_OK && appended) { /* leave the caller's PDF as it was */
        pdf->len = orig_len;
        pdf->data[orig_len] = '\0';
    }
    if (doc_open)
        pdfobj_doc_close(&d);
    tb_buf_release(&upd);
    tb_buf_release(&der);
    return rc;
}

