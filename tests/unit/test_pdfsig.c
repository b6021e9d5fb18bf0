/* Unit tests for src/sign: PAdES signing by incremental update and verification.
 *
 * The fixture makes a throwaway PKI with the OpenSSL API (root CA -> intermediate -> signer, plus
 * an unrelated CA) in a temporary directory under $TMPDIR, and a two-page PDF with Cairo.
 * If TB_PDFSIG_SAMPLE_DIR is set, a doubly signed sample (signed.pdf) and the root (ca.pem) are
 * written there for checking with pdfsig / qpdf / openssl. */
#include "tb_features.h"

#include "pdfsig.h"
#include "tb_buf.h"
#include "tb_err.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h> /* cmocka needs these first three */
#include <cmocka.h>

#define SIGNER_CN "Tuban Prüfstelle – Siegel"
#define FIXED_TIME ((time_t)1717243200) /* 2024-06-01 12:00:00 UTC */

static struct fixture {
    char dir[256];
    char key[300], cert[300], chain[300], ca[300], other_ca[300], ca_key[300];
    tb_buf pdf; /* unsigned two-page Cairo PDF */
} fx;

/* ---- PKI ------------------------------------------------------------------------------------ */

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(e);
    assert_int_equal(X509_add_ext(x, e, -1), 1);
    X509_EXTENSION_free(e);
}

/* A certificate for key named cn, issued by issuer/issuer_key (self-signed if NULL). */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, bool ca, long serial)
{
    X509 *x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    ASN1_TIME_set(X509_getm_notBefore(x), FIXED_TIME - 86400L * 365); /* valid at FIXED_TIME */
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
    X509_set_pubkey(x, key);
    X509_NAME *nm = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_UTF8, (const unsigned char *)"Tuban Tests", -1,
                               -1, 0);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : nm);
    X509 *iss = issuer ? issuer : x;
    add_ext(x, iss, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_ext(x, iss, NID_key_usage,
            ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,nonRepudiation");
    add_ext(x, iss, NID_subject_key_identifier, "hash");
    add_ext(x, iss, NID_authority_key_identifier, "keyid:always");
    assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
    return x;
}

static FILE *
open_private(const char *path, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    assert_int_equal(fchmod(fd, mode), 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    return f;
}

static void
write_key(const char *path, EVP_PKEY *key)
{
    FILE *f = open_private(path, 0600);
    assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
    assert_int_equal(fclose(f), 0);
}

static void
write_certs(const char *path, X509 *a, X509 *b)
{
    FILE *f = open_private(path, 0644);
    assert_int_equal(PEM_write_X509(f, a), 1);
    if (b)
        assert_int_equal(PEM_write_X509(f, b), 1);
    assert_int_equal(fclose(f), 0);
}

/* ---- PDFs ----------------------------------------------------------------------------------- */

static cairo_status_t
write_to_buf(void *closure, const unsigned char *data, unsigned int len)
{
    tb_buf_append(closure, data, len);
    return CAIRO_STATUS_SUCCESS;
}

static void
make_cairo_pdf(tb_buf *out)
{
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(write_to_buf, out, 595, 842);
    cairo_pdf_surface_restrict_to_version(s, CAIRO_PDF_VERSION_1_5);
    cairo_t *cr = cairo_create(s);
    for (int page = 1; page <= 2; page++) {
        char text[64];
        snprintf(text, sizeof text, "Official document, page %d", page);
        cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
        cairo_set_font_size(cr, 18);
        cairo_move_to(cr, 72, 100);
        cairo_show_text(cr, text);
        cairo_rectangle(cr, 380, 700, 150, 60);
        cairo_stroke(cr);
        cairo_show_page(cr);
    }
    cairo_destroy(cr);
    cairo_surface_finish(s);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    cairo_surface_destroy(s);
}

/* Builds a classic-xref PDF from object bodies (object i + 1 = bodies[i]); root is object 1. */
static void
make_raw_pdf(tb_buf *out, const char *const *bodies, size_t n)
{
    size_t offs[32];
    assert_true(n < 32);
    tb_buf_append_str(out, "%PDF-1.4\n");
    for (size_t i = 0; i < n; i++) {
        offs[i] = out->len;
        tb_buf_printf(out, "%zu 0 obj\n%s\nendobj\n", i + 1, bodies[i]);
    }
    size_t xref = out->len;
    tb_buf_printf(out, "xref\n0 %zu\n0000000000 65535 f \n", n + 1);
    for (size_t i = 0; i < n; i++)
        tb_buf_printf(out, "%010zu 00000 n \n", offs[i]);
    tb_buf_printf(out, "trailer\n<< /Size %zu /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", n + 1,
                  xref);
}

static pdfsig_signer *
load_signer(void)
{
    tb_err err = {0};
    pdfsig_signer *s = pdfsig_signer_load(fx.key, fx.cert, fx.chain, NULL, &err);
    if (s == NULL)
        fail_msg("pdfsig_signer_load: %s", err.msg);
    return s;
}

static pdfsig_field
field(int page, const char *name)
{
    pdfsig_field f = {
        .page = page,
        .x_pt = 380,
        .y_pt = 82,
        .w_pt = 150,
        .h_pt = 60,
        .name = name,
        .reason = "Amtliche Beglaubigung – Grundbuchauszug",
        .location = "Zürich",
        .signing_time = FIXED_TIME,
    };
    return f;
}

static void
sign_ok(tb_buf *pdf, const pdfsig_signer *s, int page, const char *name)
{
    tb_err err = {0};
    pdfsig_field f = field(page, name);
    tb_code rc = pdfsig_sign(pdf, s, &f, &err);
    if (rc != TB_OK)
        fail_msg("pdfsig_sign(%s): %s", name, err.msg);
}

static void
copy_buf(tb_buf *dst, const tb_buf *src)
{
    tb_buf_reset(dst);
    tb_buf_append(dst, src->data, src->len);
}

static pdfsig_info
verify(const tb_buf *pdf, const char *trust)
{
    tb_err err = {0};
    pdfsig_info info;
    pdfsig_verify_opts opts = {.trust_pem = trust};
    tb_code rc = pdfsig_verify(pdf->data, pdf->len, &opts, &info, &err);
    if (rc != TB_OK)
        fail_msg("pdfsig_verify: %s", err.msg);
    return info;
}

static void
write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* ---- fixture -------------------------------------------------------------------------------- */

static int
group_setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(fx.dir, sizeof fx.dir, "%s/tb_pdfsig_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(fx.dir) == NULL)
        return -1;
    snprintf(fx.key, sizeof fx.key, "%s/signer.key", fx.dir);
    snprintf(fx.cert, sizeof fx.cert, "%s/signer.pem", fx.dir);
    snprintf(fx.chain, sizeof fx.chain, "%s/chain.pem", fx.dir);
    snprintf(fx.ca, sizeof fx.ca, "%s/ca.pem", fx.dir);
    snprintf(fx.other_ca, sizeof fx.other_ca, "%s/other-ca.pem", fx.dir);
    snprintf(fx.ca_key, sizeof fx.ca_key, "%s/ca.key", fx.dir);

    EVP_PKEY *root_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *inter_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *signer_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *other_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!root_key || !inter_key || !signer_key || !other_key)
        return -1;
    X509 *root = make_cert(root_key, "Tuban Test Root CA", NULL, NULL, true, 1);
    X509 *inter = make_cert(inter_key, "Tuban Test Issuing CA", root, root_key, true, 2);
    X509 *signer = make_cert(signer_key, SIGNER_CN, inter, inter_key, false, 3);
    X509 *other = make_cert(other_key, "Unrelated CA", NULL, NULL, true, 4);
    write_key(fx.key, signer_key);
    write_key(fx.ca_key, root_key);
    write_certs(fx.cert, signer, NULL);
    write_certs(fx.chain, inter, NULL);
    write_certs(fx.ca, root, NULL);
    write_certs(fx.other_ca, other, NULL);
    X509_free(root);
    X509_free(inter);
    X509_free(signer);
    X509_free(other);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(inter_key);
    EVP_PKEY_free(signer_key);
    EVP_PKEY_free(other_key);

    make_cairo_pdf(&fx.pdf);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    const char *files[] = {fx.key, fx.cert, fx.chain, fx.ca, fx.other_ca, fx.ca_key};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        unlink(files[i]);
    rmdir(fx.dir);
    tb_buf_release(&fx.pdf);
    cairo_debug_reset_static_data();
    return 0;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void
test_sign_and_verify(void **state)
{
    (void)state;
    pdfsig_signer *s = load_signer();
    assert_string_equal(pdfsig_signer_name(s), SIGNER_CN);
    tb_buf pdf = TB_BUF_INIT, again = TB_BUF_INIT;
    copy_buf(&pdf, &fx.pdf);
    sign_ok(&pdf, s, 1, "Seal1");
    assert_true(pdf.len > fx.pdf.len);
    assert_memory_equal(pdf.data, fx.pdf.data, fx.pdf.len); /* earlier bytes untouched */
    assert_non_null(memmem(pdf.data, pdf.len, "/SubFilter /ETSI.CAdES.detached", 31));

    pdfsig_info info = verify(&pdf, fx.ca);
    assert_int_equal(info.count, 1);
    assert_true(info.all_valid);
    assert_true(info.covers_whole_file);
    assert_string_equal(info.signer, SIGNER_CN);
    assert_non_null(strstr(info.detail, "valid"));
    assert_true(info.trusted);
    assert_true(info.unmodified);
    assert_true(info.ok);
    assert_int_equal(info.revisions, 2);
    assert_null(strstr(info.detail, "signing-time")); /* PAdES B-B: the time is in /M */

    info = verify(&pdf, NULL); /* integrity only */
    assert_true(info.all_valid);
    assert_non_null(strstr(info.detail, "integrity only"));

    assert_false(info.trusted);
    assert_true(info.ok); /* nothing asked beyond integrity */

    info = verify(&pdf, fx.other_ca); /* wrong trust anchor */
    assert_int_equal(info.count, 1);
    assert_true(info.all_valid); /* the cryptography holds ... */
    assert_false(info.trusted);  /* ... but the signer is not trusted */
    assert_false(info.ok);
    assert_non_null(strstr(info.detail, "does not chain"));

    info = verify(&fx.pdf, fx.ca); /* unsigned */
    assert_int_equal(info.count, 0);
    assert_false(info.all_valid);

    /* Reproducible: same input, key and time give the same bytes (RSA PKCS#1 v1.5). */
    copy_buf(&again, &fx.pdf);
    sign_ok(&again, s, 1, "Seal1");
    assert_int_equal(again.len, pdf.len);
    assert_memory_equal(again.data, pdf.data, pdf.len);

    /* Anything appended after signing is reported. */
    tb_buf_append_str(&again, "% appended\n");
    info = verify(&again, fx.ca);
    assert_true(info.all_valid);
    assert_false(info.covers_whole_file);

    tb_buf_release(&pdf);
    tb_buf_release(&again);
    pdfsig_signer_free(s);
}

static void
test_tamper(void **state)
{
    (void)state;
    pdfsig_signer *s = load_signer();
    tb_buf pdf = TB_BUF_INIT;
    copy_buf(&pdf, &fx.pdf);
    sign_ok(&pdf, s, 1, "Seal1");

    /* A byte of the first content stream (first range). */
    unsigned char *st = memmem(pdf.data, pdf.len, "stream\n", 7);
    assert_non_null(st);
    st[10] ^= 0x01;
    pdfsig_info info = verify(&pdf, fx.ca);
    assert_int_equal(info.count, 1);
    assert_false(info.all_valid);
    assert_false(info.ok);
    assert_non_null(strstr(info.detail, "signed bytes were changed"));
    st[10] ^= 0x01;
    assert_true(verify(&pdf, fx.ca).all_valid);

    /* A hex digit of the new /ID in the trailer (second range). */
    unsigned char *id = NULL;
    for (unsigned char *p = pdf.data; (p = memmem(p, pdf.len - (size_t)(p - pdf.data), "/ID [ <",
                                                  7)) != NULL; p++)
        id = p;
    assert_non_null(id);
    id[7] = id[7] == 'A' ? 'B' : 'A';
    info = verify(&pdf, fx.ca);
    assert_int_equal(info.count, 1);
    assert_false(info.all_valid);

    tb_buf_release(&pdf);
    pdfsig_signer_free(s);
}

static void
test_sign_twice(void **state)
{
    (void)state;
    pdfsig_signer *s = load_signer();
    tb_buf pdf = TB_BUF_INIT, first = TB_BUF_INIT;
    copy_buf(&pdf, &fx.pdf);
    sign_ok(&pdf, s, 1, "Seal1");
    copy_buf(&first, &pdf);
    sign_ok(&pdf, s, 2, "Seal2");
    assert_memory_equal(pdf.data, first.data, first.len);
    pdfsig_info info = verify(&pdf, fx.ca);
    assert_int_equal(info.count, 2);
    assert_true(info.all_valid);
    assert_true(info.covers_whole_file);
    assert_string_equal(info.signer, SIGNER_CN);

    /* A duplicate name is refused and leaves the PDF as it was. */
    tb_err err = {0};
    pdfsig_field f = field(1, "Seal1");
    size_t len = pdf.len;
    assert_int_equal(pdfsig_sign(&pdf, s, &f, &err), TB_EINVAL);
    assert_non_null(strstr(err.msg, "Seal1"));
    assert_int_equal(pdf.len, len);

    /* A third on page 1 again: appends to the /Annots our first update wrote. */
    sign_ok(&pdf, s, 1, "Seal3");
    info = verify(&pdf, fx.ca);
    assert_int_equal(info.count, 3);
    assert_true(info.all_valid);
    assert_true(info.covers_whole_file);

    const char *sample = getenv("TB_PDFSIG_SAMPLE_DIR");
    if (sample != NULL && *sample) {
        tb_buf two = TB_BUF_INIT;
        copy_buf(&two, &first);
        sign_ok(&two, s, 2, "Seal2");
        write_file(sample, "unsigned.pdf", fx.pdf.data, fx.pdf.len);
        write_file(sample, "signed1.pdf", first.data, first.len);
        write_file(sample, "signed.pdf", two.data, two.len);
        tb_buf ca = TB_BUF_INIT;
        FILE *fp = fopen(fx.ca, "rb");
        assert_non_null(fp);
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
            tb_buf_append(&ca, chunk, n);
        fclose(fp);
        write_file(sample, "ca.pem", ca.data, ca.len);
        tb_buf_release(&ca);
        tb_buf_release(&two);
    }
    tb_buf_release(&pdf);
    tb_buf_release(&first);
    pdfsig_signer_free(s);
}

static void
test_signer_refusals(void **state)
{
    (void)state;
    tb_err err = {0};
    assert_int_equal(chmod(fx.key, 0644), 0);
    assert_null(pdfsig_signer_load(fx.key, fx.cert, fx.chain, NULL, &err));
    assert_int_equal(err.code, TB_EINVAL);
    assert_non_null(strstr(err.msg, fx.key));
    assert_null(strstr(err.msg, "PRIVATE"));
    assert_int_equal(chmod(fx.key, 0600), 0);

    err = (tb_err){0};
    assert_null(pdfsig_signer_load(fx.ca_key, fx.cert, fx.chain, NULL, &err)); /* wrong key */
    assert_int_equal(err.code, TB_EINVAL);
    assert_non_null(strstr(err.msg, "does not match"));

    err = (tb_err){0};
    assert_null(pdfsig_signer_load(fx.key, fx.key, NULL, NULL, &err)); /* a key is no certificate */
    assert_int_equal(err.code, TB_EFORMAT);
    assert_null(strstr(err.msg, "BEGIN"));

    err = (tb_err){0};
    char missing[400];
    snprintf(missing, sizeof missing, "%s/missing.key", fx.dir);
    assert_null(pdfsig_signer_load(missing, fx.cert, NULL, NULL, &err));
    assert_int_equal(err.code, TB_ENOTFOUND);

    err = (tb_err){0};
    assert_null(pdfsig_signer_load(fx.cert, fx.cert, NULL, NULL, &err)); /* a cert is no key */
    assert_int_not_equal(err.code, TB_OK);

    pdfsig_signer_free(NULL);
}

/* Reads the signer key of the fixture. */
static EVP_PKEY *
fixture_key(void)
{
    FILE *f = fopen(fx.key, "r");
    assert_non_null(f);
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(k);
    return k;
}

static void
write_text(const char *path, const char *text, mode_t mode)
{
    FILE *f = open_private(path, mode);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void
test_key_sources(void **state)
{
    (void)state;
    tb_err err = {0};
    char path[400], pass[400], p12[400];
    EVP_PKEY *key = fixture_key();

    /* Group-readable: refused from the open file's mode, before anything is read. */
    snprintf(path, sizeof path, "%s/group.key", fx.dir);
    write_key(path, key);
    assert_int_equal(chmod(path, 0640), 0);
    assert_null(pdfsig_signer_load(path, fx.cert, fx.chain, NULL, &err));
    assert_non_null(strstr(err.msg, "accessible by group or others"));

    /* An encrypted PEM key: its passphrase from a private file or an environment variable. */
    snprintf(path, sizeof path, "%s/encrypted.key", fx.dir);
    FILE *f = open_private(path, 0600);
    assert_int_equal(PEM_write_PrivateKey(f, key, EVP_aes_256_cbc(), (unsigned char *)"s3cret",
                                          6, NULL, NULL), 1);
    fclose(f);
    err = (tb_err){0};
    assert_null(pdfsig_signer_load(path, fx.cert, fx.chain, NULL, &err));
    assert_non_null(strstr(err.msg, "no passphrase is configured"));
    snprintf(pass, sizeof pass, "%s/passphrase", fx.dir);
    write_text(pass, "s3cret\n", 0600);
    pdfsig_key_opts ko = {.passphrase_file = pass};
    pdfsig_signer *s = pdfsig_signer_load(path, fx.cert, fx.chain, &ko, &err);
    assert_non_null(s);
    pdfsig_signer_free(s);
    assert_int_equal(chmod(pass, 0644), 0);
    err = (tb_err){0};
    assert_null(pdfsig_signer_load(path, fx.cert, fx.chain, &ko, &err));
    assert_non_null(strstr(err.msg, "passphrase file is accessible by group or others"));
    write_text(pass, "wrong\n", 0600);
    err = (tb_err){0};
    assert_null(pdfsig_signer_load(path, fx.cert, fx.chain, &ko, &err));
    assert_non_null(strstr(err.msg, "wrong passphrase"));
    assert_null(strstr(err.msg, "s3cret"));
    setenv("TB_TEST_PASSPHRASE", "s3cret", 1);
    ko = (pdfsig_key_opts){.passphrase_env = "TB_TEST_PASSPHRASE"};
    s = pdfsig_signer_load(path, fx.cert, fx.chain, &ko, &err);
    assert_non_null(s);
    pdfsig_signer_free(s);
    unsetenv("TB_TEST_PASSPHRASE");
    err = (tb_err){0};
    assert_null(pdfsig_signer_load(path, fx.cert, fx.chain, &ko, &err));
    assert_non_null(strstr(err.msg, "TB_TEST_PASSPHRASE is not set"));

    /* PKCS#12: key, certificate and chain in one file. */
    FILE *cf = fopen(fx.cert, "r");
    X509 *cert = PEM_read_X509(cf, NULL, NULL, NULL);
    fclose(cf);
    FILE *chf = fopen(fx.chain, "r");
    X509 *inter = PEM_read_X509(chf, NULL, NULL, NULL);
    fclose(chf);
    STACK_OF(X509) *chain = sk_X509_new_null();
    sk_X509_push(chain, inter);
    PKCS12 *bundle = PKCS12_create("s3cret", "office", key, cert, chain, 0, 0, 0, 0, 0);
    assert_non_null(bundle);
    snprintf(p12, sizeof p12, "%s/office.p12", fx.dir);
    f = open_private(p12, 0600);
    assert_int_equal(i2d_PKCS12_fp(f, bundle), 1);
    fclose(f);
    PKCS12_free(bundle);
    ko = (pdfsig_key_opts){.passphrase_file = pass};
    write_text(pass, "s3cret", 0600);
    s = pdfsig_signer_load(p12, NULL, NULL, &ko, &err);
    if (s == NULL)
        fail_msg("PKCS#12: %s", err.msg);
    assert_string_equal(pdfsig_signer_name(s), SIGNER_CN);
    tb_buf pdf = TB_BUF_INIT;
    copy_buf(&pdf, &fx.pdf);
    sign_ok(&pdf, s, 1, "Seal1");
    assert_true(verify(&pdf, fx.ca).ok); /* the chain came from the PKCS#12 file */
    tb_buf_release(&pdf);
    pdfsig_signer_free(s);

    /* RSA below 2048 bits is refused. */
    EVP_PKEY *weak = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    snprintf(path, sizeof path, "%s/weak.key", fx.dir);
    write_key(path, weak);
    err = (tb_err){0};
    assert_null(pdfsig_signer_load(path, fx.cert, NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "at least 2048"));
    EVP_PKEY_free(weak);
    sk_X509_pop_free(chain, X509_free);
    X509_free(cert);
    EVP_PKEY_free(key);
}

static void
test_pades_and_docmdp(void **state)
{
    (void)state;
    pdfsig_signer *s = load_signer();
    tb_buf pdf = TB_BUF_INIT;
    tb_err err = {0};

    /* A signing time outside the certificate's validity is refused. */
    copy_buf(&pdf, &fx.pdf);
    pdfsig_field f = field(1, "Seal1");
    f.signing_time = FIXED_TIME - 2 * 365 * 86400L;
    assert_int_equal(pdfsig_sign(&pdf, s, &f, &err), TB_EINVAL);
    assert_non_null(strstr(err.msg, "outside the validity"));
    assert_int_equal(pdf.len, fx.pdf.len);

    /* B-B signed attributes: content-type, message-digest, signing-certificate-v2, and no
     * signing-time; the time is /M. */
    f = field(1, "Seal1");
    f.certify = true;
    err = (tb_err){0};
    assert_int_equal(pdfsig_sign(&pdf, s, &f, &err), TB_OK);
    const unsigned char *ct = memmem(pdf.data, pdf.len, "/Contents <", 11);
    assert_non_null(ct);
    ct += 11;
    size_t n = 0;
    unsigned char *der = malloc(PDFSIG_CONTENTS_MAX);
    for (; n < PDFSIG_CONTENTS_MAX && ct[2 * n] != '>'; n++) {
        unsigned v;
        sscanf((const char *)ct + 2 * n, "%2x", &v);
        der[n] = (unsigned char)v;
    }
    const unsigned char *pp = der;
    CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &pp, (long)n);
    assert_non_null(cms);
    CMS_SignerInfo *si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
    assert_true(CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1) < 0);
    assert_true(CMS_signed_get_attr_by_NID(si, NID_pkcs9_contentType, -1) >= 0);
    assert_true(CMS_signed_get_attr_by_NID(si, NID_pkcs9_messageDigest, -1) >= 0);
    assert_true(CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, -1) >= 0);
    CMS_ContentInfo_free(cms);
    free(der);
    assert_non_null(memmem(pdf.data, pdf.len, "/M (D:20240601120000Z)", 22));

    /* Certified (DocMDP P=2): a later signature is allowed, a second certification is not. */
    assert_non_null(memmem(pdf.data, pdf.len, "/Perms << /DocMDP", 17));
    pdfsig_info info = verify(&pdf, fx.ca);
    assert_true(info.ok);
    assert_non_null(strstr(info.detail, "certifies"));
    f = field(2, "Seal2");
    f.certify = true;
    err = (tb_err){0};
    assert_int_equal(pdfsig_sign(&pdf, s, &f, &err), TB_EINVAL);
    assert_non_null(strstr(err.msg, "only the first signature"));
    f.certify = false;
    f.pkcs7 = true; /* adbe.pkcs7.detached for older readers */
    assert_int_equal(pdfsig_sign(&pdf, s, &f, &err), TB_OK);
    assert_non_null(memmem(pdf.data, pdf.len, "/SubFilter /adbe.pkcs7.detached", 31));
    info = verify(&pdf, fx.ca);
    assert_int_equal(info.count, 2);
    assert_true(info.unmodified);
    assert_true(info.ok);

    /* Certified with no changes allowed (P=1, written by hand): any later revision is a
     * modification. */
    tb_buf p1 = TB_BUF_INIT;
    copy_buf(&p1, &pdf);
    unsigned char *pv = memmem(p1.data, p1.len, "/P 2 /V /1.2", 12);
    assert_non_null(pv);
    pv[3] = '1';
    info = verify(&p1, NULL);
    assert_false(info.all_valid); /* the first signature covers its /P */
    tb_buf_release(&p1);
    tb_buf_release(&pdf);
    pdfsig_signer_free(s);
}

static void
test_bad_fields(void **state)
{
    (void)state;
    pdfsig_signer *s = load_signer();
    tb_buf pdf = TB_BUF_INIT;
    copy_buf(&pdf, &fx.pdf);
    const struct {
        int page;
        const char *name;
        double w;
        const char *reason;
    } cases[] = {
        {3, "Seal1", 10, NULL},  {-1, "Seal1", 10, NULL},    {1, "", 10, NULL},
        {1, "a.b", 10, NULL},    {1, "x(y)", 10, NULL},      {1, "Seal1", -5, NULL},
        {1, "S23456789012345678901234567890123456789012345678901234567890123456", 10, NULL},
        {1, "Seal1", 10, "\xff\xfe"}, {1, "Seal1", 10, "\xc3"},
        {1, "Seal1", 10, "\xed\xa0\x80"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tb_err err = {0};
        pdfsig_field f = field(cases[i].page, cases[i].name);
        f.w_pt = cases[i].w;
        f.reason = cases[i].reason;
        assert_int_equal(pdfsig_sign(&pdf, s, &f, &err), TB_EINVAL);
        assert_int_equal(pdf.len, fx.pdf.len);
        assert_memory_equal(pdf.data, fx.pdf.data, fx.pdf.len);
    }
    tb_buf_release(&pdf);
    pdfsig_signer_free(s);
}

static void
test_structures(void **state)
{
    (void)state;
    pdfsig_signer *s = load_signer();
    tb_buf pdf = TB_BUF_INIT;
    tb_err err = {0};

    /* Nested page tree, an existing inline AcroForm and inline /Annots. */
    const char *nested[] = {
        "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [ ] /DA (/Helv 0 Tf 0 g) >> >>",
        "<< /Type /Pages /Kids [ 3 0 R 5 0 R ] /Count 3 >>",
        "<< /Type /Pages /Parent 2 0 R /Kids [ 4 0 R ] /Count 1 >>",
        "<< /Type /Page /Parent 3 0 R /MediaBox [ 0 0 200 200 ] >>",
        "<< /Type /Pages /Parent 2 0 R /Kids [ 6 0 R 7 0 R ] /Count 2 >>",
        "<< /Type /Page /Parent 5 0 R /MediaBox [ 0 0 200 200 ] % comment\n /Annots [ ] >>",
        "<< /Type /Page /Parent 5 0 R /MediaBox [ 0 0 200 200 ] >>",
    };
    make_raw_pdf(&pdf, nested, 7);
    pdfsig_field f = field(2, "Seal1");
    assert_int_equal(pdfsig_sign(&pdf, s, &f, &err), TB_OK);
    assert_non_null(memmem(pdf.data, pdf.len, "/DA (/Helv 0 Tf 0 g)", 20));
    f = field(3, "Seal2");
    assert_int_equal(pdfsig_sign(&pdf, s, &f, &err), TB_OK);
    pdfsig_info info = verify(&pdf, fx.ca);
    assert_int_equal(info.count, 2);
    assert_true(info.all_valid);
    f = field(4, "Seal3");
    assert_int_equal(pdfsig_sign(&pdf, s, &f, &err), TB_EINVAL);

    /* Indirect /Annots and /Fields are refused. */
    const char *indirect_annots[] = {
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [ 3 0 R ] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /Annots 4 0 R >>",
        "[ ]",
    };
    tb_buf_reset(&pdf);
    make_raw_pdf(&pdf, indirect_annots, 4);
    err = (tb_err){0};
    f = field(1, "Seal1");
    assert_int_equal(pdfsig_sign(&pdf, s, &f, &err), TB_EFORMAT);
    assert_non_null(strstr(err.msg, "Annots"));

    const char *indirect_fields[] = {
        "<< /Type /Catalog /Pages 2 0 R /AcroForm 4 0 R >>",
        "<< /Type /Pages /Kids [ 3 0 R ] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R >>",
        "<< /Fields 5 0 R >>",
        "[ ]",
    };
    tb_buf_reset(&pdf);
    make_raw_pdf(&pdf, indirect_fields, 5);
    err = (tb_err){0};
    assert_int_equal(pdfsig_sign(&pdf, s, &f, &err), TB_EFORMAT);

    /* An indirect AcroForm dictionary is updated as its own object. */
    const char *indirect_af[] = {
        "<< /Type /Catalog /Pages 2 0 R /AcroForm 4 0 R >>",
        "<< /Type /Pages /Kids [ 3 0 R ] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R >>",
        "<< /Fields [ ] >>",
    };
    tb_buf_reset(&pdf);
    make_raw_pdf(&pdf, indirect_af, 4);
    err = (tb_err){0};
    assert_int_equal(pdfsig_sign(&pdf, s, &f, &err), TB_OK);
    assert_true(verify(&pdf, fx.ca).all_valid);

    /* A page tree that refers to itself ends at the depth cap. */
    const char *loop[] = {
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [ 2 0 R ] /Count 5 >>",
    };
    tb_buf_reset(&pdf);
    make_raw_pdf(&pdf, loop, 2);
    err = (tb_err){0};
    assert_int_equal(pdfsig_sign(&pdf, s, &f, &err), TB_EFORMAT);

    tb_buf_release(&pdf);
    pdfsig_signer_free(s);
}

static void
test_chain_files(void **state)
{
    (void)state;
    char full[400], big[400];
    snprintf(full, sizeof full, "%s/fullchain.pem", fx.dir);
    snprintf(big, sizeof big, "%s/bigchain.pem", fx.dir);
    tb_err err = {0};

    /* fullchain style: signer + intermediate in the cert file, the intermediate again (and the
     * signer) in the chain file: duplicates are dropped. */
    X509 *signer = NULL, *inter = NULL;
    FILE *f = fopen(fx.cert, "r");
    assert_non_null(f);
    signer = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    f = fopen(fx.chain, "r");
    assert_non_null(f);
    inter = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(signer);
    assert_non_null(inter);
    write_certs(full, signer, inter);
    pdfsig_signer *s = pdfsig_signer_load(fx.key, full, full, NULL, &err);
    if (s == NULL)
        fail_msg("%s", err.msg);
    tb_buf pdf = TB_BUF_INIT;
    copy_buf(&pdf, &fx.pdf);
    sign_ok(&pdf, s, 1, "Seal1");
    assert_true(verify(&pdf, fx.ca).all_valid);
    pdfsig_signer_free(s);

    /* A chain too big for the /Contents reservation gives TB_ELIMIT and no change. */
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(k);
    f = open_private(big, 0644);
    for (long i = 0; i < 48; i++) {
        char cn[64];
        snprintf(cn, sizeof cn, "Filler certificate number %ld", i);
        X509 *x = make_cert(k, cn, NULL, NULL, true, 100 + i);
        assert_int_equal(PEM_write_X509(f, x), 1);
        X509_free(x);
    }
    assert_int_equal(fclose(f), 0);
    EVP_PKEY_free(k);
    s = pdfsig_signer_load(fx.key, fx.cert, big, NULL, &err);
    if (s == NULL)
        fail_msg("%s", err.msg);
    copy_buf(&pdf, &fx.pdf);
    pdfsig_field fld = field(1, "Seal1");
    assert_int_equal(pdfsig_sign(&pdf, s, &fld, &err), TB_ELIMIT);
    assert_int_equal(pdf.len, fx.pdf.len);
    assert_memory_equal(pdf.data, fx.pdf.data, fx.pdf.len);
    pdfsig_signer_free(s);

    X509_free(signer);
    X509_free(inter);
    unlink(full);
    unlink(big);
    tb_buf_release(&pdf);
}

/* Both entry points on one input: must not crash; returns the sign result. */
static tb_code
try_both(const unsigned char *p, size_t n, const pdfsig_signer *s)
{
    tb_buf pdf = TB_BUF_INIT;
    tb_buf_append(&pdf, p, n);
    tb_err err = {0};
    pdfsig_field f = field(1, "Seal9");
    tb_code rc = pdfsig_sign(&pdf, s, &f, &err);
    if (rc != TB_OK)
        assert_int_equal(pdf.len, n);
    pdfsig_info info;
    tb_err verr = {0};
    tb_code vrc = pdfsig_verify(p, n, NULL, &info, &verr);
    if (vrc != TB_OK)
        assert_int_equal(vrc, TB_EFORMAT);
    tb_buf_release(&pdf);
    return rc;
}

static void
test_garbage(void **state)
{
    (void)state;
    pdfsig_signer *s = load_signer();
#define HDR "%PDF-1.5\n"
#define XREF0 HDR "xref\n0 1\n0000000000 65535 f \n"
    const char *bad[] = {
        "",
        "hello",
        HDR,
        HDR "startxref\n999999\n%%EOF\n",
        HDR "startxref\n9\n%%EOF\n",
        HDR "1 0 obj << /Type /XRef >> stream\nendstream\nendobj\nstartxref\n9\n%%EOF\n",
        HDR "xref\n0 99999999\ntrailer << /Size 1 >>\nstartxref\n9\n%%EOF\n",
        XREF0 "trailer << /Size 1 /Prev 9 >>\nstartxref\n9\n",
        XREF0 "trailer << /Size 2 /Root 1 0 R >>\nstartxref\n9\n",
        HDR "xref\ntrailer << /Size (unterminated\nstartxref\n9\n",
        HDR "xref\ntrailer << /Size <zz> >>\nstartxref\n9\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tb_code rc = try_both((const unsigned char *)bad[i], strlen(bad[i]), s);
        assert_int_equal(rc, TB_EFORMAT);
    }

    /* Nesting deeper than the cap. */
    tb_buf deep = TB_BUF_INIT;
    tb_buf_append_str(&deep, HDR "xref\ntrailer ");
    for (int i = 0; i < 100000; i++)
        tb_buf_append_str(&deep, "[");
    tb_buf_append_str(&deep, "\nstartxref\n9\n");
    assert_int_equal(try_both(deep.data, deep.len, s), TB_EFORMAT);
    tb_buf_release(&deep);
#undef XREF0
#undef HDR

    /* Truncations of a real and of a signed file. */
    tb_buf signed_pdf = TB_BUF_INIT;
    copy_buf(&signed_pdf, &fx.pdf);
    sign_ok(&signed_pdf, s, 1, "Seal1");
    for (size_t n = 0; n < fx.pdf.len; n += 97)
        (void)try_both(fx.pdf.data, n, s);
    for (size_t n = fx.pdf.len; n < signed_pdf.len; n += 1013)
        (void)try_both(signed_pdf.data, n, s);
    for (size_t n = signed_pdf.len - 300; n < signed_pdf.len; n++)
        (void)try_both(signed_pdf.data, n, s);
    assert_int_equal(try_both(fx.pdf.data, fx.pdf.len / 2, s), TB_EFORMAT);

    /* Random byte changes near the structure (xref, trailers, dictionaries). */
    uint32_t seed = 12345;
    tb_buf m = TB_BUF_INIT;
    for (int iter = 0; iter < 400; iter++) {
        copy_buf(&m, &signed_pdf);
        for (int k = 0; k < 4; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t pos = (seed >> 8) % m.len;
            if (iter % 2 == 0) /* half the time in the last 600 bytes: xref + trailer */
                pos = m.len - 1 - (seed >> 8) % 600;
            seed = seed * 1103515245u + 12345u;
            static const char pool[] = "0123456789 <>[]()/R%\n\\obj";
            m.data[pos] = (unsigned char)pool[(seed >> 16) % (sizeof pool - 1)];
        }
        (void)try_both(m.data, m.len, s);
    }
    tb_buf_release(&m);
    tb_buf_release(&signed_pdf);
    pdfsig_signer_free(s);
}

/* ---- the seal image ------------------------------------------------------------------------- */

#define SEAL_PX 200 /* the seal's pixels; drawn 100 pt wide */

/* A round seal: one ink (229, 0, 0) with an antialiased edge, or two inks (red left half, blue
 * right half), straight RGBA. */
static unsigned char *
seal_rgba(bool two_inks)
{
    unsigned char *px = calloc((size_t)SEAL_PX * SEAL_PX, 4);
    assert_non_null(px);
    for (int y = 0; y < SEAL_PX; y++)
        for (int x = 0; x < SEAL_PX; x++) {
            double d = hypot(x + 0.5 - SEAL_PX / 2.0, y + 0.5 - SEAL_PX / 2.0);
            double a = d < SEAL_PX / 2.0 - 1 ? 1.0 : d > SEAL_PX / 2.0 ? 0.0 : SEAL_PX / 2.0 - d;
            unsigned char *o = px + 4 * ((size_t)y * SEAL_PX + (size_t)x);
            bool blue = two_inks && x >= SEAL_PX / 2;
            o[0] = blue ? 0 : 229;
            o[2] = blue ? 200 : 0;
            o[3] = (unsigned char)(a * 255 + 0.5);
        }
    return px;
}

/* Page 1 of pdf rendered by poppler at 72 dpi (one pixel a point), read back with Cairo. */
static cairo_surface_t *
render_page1(const tb_buf *pdf, const char *name)
{
    char cmd[1024], png[600];
    write_file(fx.dir, name, pdf->data, pdf->len);
    snprintf(cmd, sizeof cmd, "pdftoppm -r 72 -f 1 -l 1 -singlefile -png '%s/%s' '%s/%s'",
             fx.dir, name, fx.dir, name);
    assert_int_equal(system(cmd), 0);
    snprintf(png, sizeof png, "%s/%s.png", fx.dir, name);
    cairo_surface_t *img = cairo_image_surface_create_from_png(png);
    assert_int_equal(cairo_surface_status(img), CAIRO_STATUS_SUCCESS);
    snprintf(cmd, sizeof cmd, "%s/%s", fx.dir, name);
    unlink(cmd);
    unlink(png);
    return img;
}

static void
assert_pixel(cairo_surface_t *img, int x, int y, int r, int g, int b)
{
    const unsigned char *row =
        cairo_image_surface_get_data(img) + (size_t)y * (size_t)cairo_image_surface_get_stride(img);
    uint32_t v = ((const uint32_t *)(const void *)row)[x];
    int got[3] = {(int)(v >> 16 & 255), (int)(v >> 8 & 255), (int)(v & 255)}, want[3] = {r, g, b};
    for (int k = 0; k < 3; k++)
        if (abs(got[k] - want[k]) > 8)
            fail_msg("pixel (%d, %d) is (%d, %d, %d), expected (%d, %d, %d)", x, y, got[0], got[1],
                     got[2], r, g, b);
}

/* A seal of one ink is written as a 1 x 1 colour image under its full-size soft mask; one of two
 * inks keeps every pixel.  Both must look the same as the pixels given (judged by poppler). */
static void
test_seal_image(void **state)
{
    (void)state;
    pdfsig_signer *s = load_signer();
    tb_buf pdf = TB_BUF_INIT;
    for (int two = 0; two <= 1; two++) {
        tb_err err = {0};
        unsigned char *rgba = seal_rgba(two);
        pdfsig_image *im = pdfsig_image_new(rgba, SEAL_PX, SEAL_PX, &err);
        free(rgba);
        assert_non_null(im);
        copy_buf(&pdf, &fx.pdf);
        pdfsig_field f = field(1, "Seal1");
        f.x_pt = 380, f.y_pt = 82, f.w_pt = 100, f.h_pt = 100;
        f.appearance = im;
        assert_int_equal(pdfsig_sign(&pdf, s, &f, &err), TB_OK);
        pdfsig_image_free(im);
        assert_true(verify(&pdf, fx.ca).all_valid);
        char colour[96], mask[96];
        snprintf(colour, sizeof colour, "/Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB",
                 two ? SEAL_PX : 1, two ? SEAL_PX : 1);
        snprintf(mask, sizeof mask, "/Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray",
                 SEAL_PX, SEAL_PX);
        assert_non_null(memmem(pdf.data, pdf.len, colour, strlen(colour)));
        assert_non_null(memmem(pdf.data, pdf.len, mask, strlen(mask)));

        /* The widget spans x 380..480, y 842-182..842-82 from the top. */
        cairo_surface_t *img = render_page1(&pdf, two ? "two-inks.pdf" : "one-ink.pdf");
        assert_pixel(img, 415, 710, 229, 0, 0);                       /* left of the centre */
        assert_pixel(img, 445, 710, two ? 0 : 229, 0, two ? 200 : 0); /* right of it */
        assert_pixel(img, 383, 663, 255, 255, 255);                   /* a corner: unmasked */
        assert_pixel(img, 476, 756, 255, 255, 255);                   /* the opposite corner */
        cairo_surface_destroy(img);
    }
    tb_buf_release(&pdf);
    pdfsig_signer_free(s);
}

/* /Contents is reserved to the signer's CMS size (about 2 KB for RSA-2048 with one chain
 * certificate), not to the 16 KB any signer might need: it is paid for twice, as hex, in every
 * document. */
static void
test_contents_reserved(void **state)
{
    (void)state;
    pdfsig_signer *s = load_signer();
    tb_buf pdf = TB_BUF_INIT;
    copy_buf(&pdf, &fx.pdf);
    sign_ok(&pdf, s, 1, "Seal1");
    const char *br = memmem(pdf.data, pdf.len, "/ByteRange [0 ", 14);
    assert_non_null(br);
    unsigned long long a = 0, b = 0;
    assert_int_equal(sscanf(br + 14, "%llu %llu", &a, &b), 2);
    assert_true(b > a + 2 && b <= pdf.len);
    assert_int_equal(pdf.data[a], '<');
    assert_int_equal(pdf.data[b - 1], '>');
    size_t hex = (size_t)(b - a - 2), used = hex;
    while (used > 0 && pdf.data[a + used] == '0') /* DER ends in a non-zero byte here */
        used--;
    if (hex > 2 * 4096 || hex - used > 2 * 512)
        fail_msg("/Contents reserves %zu hex digits for a CMS of about %zu", hex, used);
    assert_true(verify(&pdf, fx.ca).all_valid);
    tb_buf_release(&pdf);
    pdfsig_signer_free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_and_verify), cmocka_unit_test(test_tamper),
        cmocka_unit_test(test_sign_twice),      cmocka_unit_test(test_signer_refusals),
        cmocka_unit_test(test_bad_fields),      cmocka_unit_test(test_structures),
        cmocka_unit_test(test_chain_files),     cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_key_sources),     cmocka_unit_test(test_pades_and_docmdp),
        cmocka_unit_test(test_seal_image),      cmocka_unit_test(test_contents_reserved),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
