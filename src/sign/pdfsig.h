/* PAdES signing and verification of the PDFs we write (Cairo 1.16 output), by incremental update.
 *
 * Signatures are PAdES baseline B-B: /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached (or
 * adbe.pkcs7.detached), a detached DER CMS SignedData over the two /ByteRange ranges, SHA-256,
 * with the signer certificate and chain and the signed attributes content-type, message-digest
 * and signing-certificate-v2 — no signing-time attribute: the time is the dictionary's /M.
 * poppler's pdfsig and `openssl cms -verify` both accept it.  OpenSSL is used only in src/sign. */
#ifndef TB_PDFSIG_H
#define TB_PDFSIG_H

#include "tb_buf.h"
#include "tb_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum {
    PDFSIG_CONTENTS_MAX = 16384,         /* most DER bytes reserved for a CMS in /Contents */
    PDFSIG_MAX_INPUT = 512 * 1024 * 1024, /* largest PDF accepted by pdfsig_sign / _verify */
    PDFSIG_MAX_SIGNATURES = 100          /* signature fields a verified file may have */
};

typedef struct pdfsig_signer pdfsig_signer; /* opaque: key + cert + chain */

/* Where the private key's passphrase comes from: never the command line. */
typedef struct pdfsig_key_opts {
    const char *passphrase_file; /* first line of this file (owner-only, like the key); or */
    const char *passphrase_env;  /* the value of this environment variable; both NULL: none */
    const char *beneath;         /* the office folder: key, certificate, chain and passphrase
                                    file are opened beneath it, refusing a symbolic link out of
                                    it (tb_fs_open_beneath); NULL: the paths as given */
} pdfsig_key_opts;

/* Loads a private key (PEM, encrypted or not, or a PKCS#12 file named *.p12 / *.pfx, which also
 * gives the certificate and chain), its PEM certificate (cert_path; may be NULL for PKCS#12) and
 * an optional PEM chain file (intermediate/CA certs; chain_path may be NULL).  Extra
 * certificates after the first one in cert_path are added to the chain too.  The key file is
 * opened and checked with fstat before it is read: one accessible by group or others is refused
 * (TB_EINVAL, naming the file), as is an encrypted key without its passphrase, a key that is not
 * RSA >= 2048 or ECDSA P-256, and a key that does not match the certificate.  ko may be NULL.
 * TB_ENOTFOUND / TB_EIO for unreadable files, TB_EFORMAT for unparseable files.  Never puts key
 * material or the passphrase in error messages.  Returns NULL on failure. */
pdfsig_signer *pdfsig_signer_load(const char *key_path, const char *cert_path,
                                  const char *chain_path, const pdfsig_key_opts *ko,
                                  tb_err *err);

/* Frees the signer (the key is freed by OpenSSL, which clears it).  NULL ok. */
void pdfsig_signer_free(pdfsig_signer *s);

/* Subject common name of the signer's certificate (borrowed, UTF-8; the whole subject in RFC 2253
 * form when it has no CN). */
const char *pdfsig_signer_name(const pdfsig_signer *s);

/* The visible seal, drawn as the signature widget's appearance (so that no copy shows the seal
 * without its signature): an RGB image with an alpha mask, compressed once and reused for every
 * document. */
typedef struct pdfsig_image pdfsig_image;

/* From 8-bit straight (not premultiplied) RGBA pixels, rows top first, stride 4 * width. */
pdfsig_image *pdfsig_image_new(const unsigned char *rgba, int width, int height, tb_err *err);
void pdfsig_image_free(pdfsig_image *im); /* NULL ok */

typedef struct pdfsig_field {
    int page;                      /* 1-based page that carries the signature widget; 0 = the
                                      last page */
    double x_pt, y_pt, w_pt, h_pt; /* widget rectangle in PDF user space (origin bottom-left) */
    const char *name;              /* field name, printable ASCII without '.', ( ) or '\',
                                      at most 64 chars, unique in the document, e.g. "Seal1";
                                      NULL = the first free one of Seal1, Seal2, ... */
    const char *reason, *location; /* UTF-8, may be NULL; written as UTF-16BE text strings */
    time_t signing_time;           /* 0 = now; tests pass a fixed time for reproducible output;
                                      refused outside the certificate's validity */
    const pdfsig_image *appearance; /* fills the rectangle; NULL = an empty appearance */
    bool certify;                  /* DocMDP P=2 (later signatures allowed, nothing else); only
                                      for the document's first signature */
    bool pkcs7;                    /* SubFilter adbe.pkcs7.detached (older readers) */
    const char *tsa_url;           /* RFC 3161 time-stamp authority (PAdES B-T): its token over
                                      the signature value is added as the unsigned attribute
                                      signatureTimeStampToken; NULL = none (B-B) */
} pdfsig_field;

/* Signs the PDF held in pdf in place by appending an incremental update: the signature field +
 * widget (an annotation whose appearance is f->appearance) on page f->page, an updated catalog with
 * /AcroForm (/SigFlags 3, the field appended to /Fields), the updated page with the widget
 * appended to /Annots, the /Sig dictionary with /ByteRange and /Contents (the
 * signer's CMS size plus a little, measured when it was loaded; PDFSIG_CONTENTS_MAX bytes with a
 * time-stamp authority), a new xref section and a trailer with /Prev and /ID.  Earlier bytes are never
 * modified, so signing the output again keeps the first signature valid.
 * Errors (pdf is left unchanged): TB_EINVAL bad field (no such page, bad or duplicate name, bad
 * rectangle, invalid UTF-8); TB_EFORMAT input it cannot parse or update (xref streams,
 * encryption, indirect /Annots or /Fields); TB_ELIMIT CMS larger than the reservation or input
 * larger than PDFSIG_MAX_INPUT; TB_EIO the time-stamp authority cannot be reached, refuses or
 * answers with a token that is not for this signature; TB_ELIB an OpenSSL failure. */
tb_code pdfsig_sign(tb_buf *pdf, const pdfsig_signer *s, const pdfsig_field *f, tb_err *err);

/* Where a signature's widget sits: its page (1-based) and /Rect in PDF user space. */
typedef struct pdfsig_place {
    int page;
    double x_pt, y_pt, w_pt, h_pt;
} pdfsig_place;

/* The widgets of the document's signature fields that hold a signature, in the order of the
 * AcroForm's /Fields (the issuer's seal first), at most cap of them into out; *count says how
 * many.  Widgets without a usable /Rect or /P are skipped.  TB_EFORMAT for a file it cannot
 * read (as pdfsig_sign). */
tb_code pdfsig_places(const unsigned char *pdf, size_t len, pdfsig_place *out, int cap,
                      int *count, tb_err *err) TB_MUST_CHECK;

typedef struct pdfsig_verify_opts {
    const char *trust_pem;    /* PEM CA file: every signer must chain to it, checked at its
                                 signing time, with a certificate whose key usage allows signing
                                 (digitalSignature or nonRepudiation); NULL = integrity only */
    const char *first_signer; /* PEM certificate naming the issuing office: the first signer's
                                 certificate must have its subject and issuer; NULL = unchecked */
} pdfsig_verify_opts;

typedef struct pdfsig_info {
    int count;              /* signatures found (signature fields with a value) */
    int revisions;          /* revisions of the file (cross-reference sections) */
    bool all_valid;         /* count > 0, every CMS verified and its digest matches its range */
    int timestamps;         /* signatures with an RFC 3161 token that verifies (B-T) */
    bool timestamps_ok;     /* no signature carries a token that does not verify: one for other
                               data, altered, or (with trust_pem) from a TSA not chaining to it */
    bool covers_whole_file; /* the last signature's range ends at the end of the file */
    bool unmodified;        /* every revision after the first signature only added signatures,
                               their fields, widgets and appearances (what DocMDP allows) */
    bool trusted;           /* trust_pem given and every signer passed it */
    bool first_signer_ok;   /* first_signer given and the first signature is by it */
    bool ok;                /* the verdict: all of the above that were asked for */
    char signer[128];       /* subject CN of the first signature (the issuer) */
    char reason[256];       /* the first signature's /Reason, UTF-8 ("" when none) */
    unsigned char sha256[32]; /* of the whole file */
    char detail[4096];      /* what was checked and found, revision by revision */
} pdfsig_info;

/* Verifies pdf, in time linear in its size whatever the number of signatures (at most
 * PDFSIG_MAX_SIGNATURES; revisions at most PDFOBJ_MAX_XREF_SECTIONS).  Signatures are the values
 * of the catalog's /AcroForm signature fields.  For each: /ByteRange [0 a b c] whose gap [a, b) is
 * exactly its /Contents and whose end is the end of a revision; ranges of successive signatures
 * do not overlap; the CMS's message-digest equals SHA-256 of the ranges and its signature over the
 * signed attributes verifies with the signer's certificate.  Then every revision after the first
 * signature is compared with the state before it: new objects may only be signature
 * dictionaries, signature fields (widgets) and XObjects (their appearances); changed objects may
 * only be the catalog (/AcroForm, /Perms), the AcroForm (fields appended, /SigFlags) and pages
 * (widgets appended to /Annots); anything else, a deletion, or any revision after a DocMDP P=1
 * certification is a modification, named in detail.  opts may be NULL.
 * Returns TB_OK when the file could be examined (out says whether it holds); TB_EFORMAT when its
 * structure cannot be parsed; TB_ELIMIT over a cap; TB_EINVAL / TB_ENOTFOUND for a bad trust or
 * certificate file.  out is always cleared first, and on error holds no verdict. */
tb_code pdfsig_verify(const unsigned char *pdf, size_t len, const pdfsig_verify_opts *opts,
                      pdfsig_info *out, tb_err *err);

/* What pdfsig_verify reads for every call, read once for many files (the CLI's list, the
 * daemon): the trust file and the issuing office's certificate.  Read-only once made, so one
 * may serve several threads.  NULL with err set as pdfsig_verify says for a bad file. */
typedef struct pdfsig_verifier pdfsig_verifier;
pdfsig_verifier *pdfsig_verifier_new(const pdfsig_verify_opts *opts, tb_err *err);
void pdfsig_verifier_free(pdfsig_verifier *v); /* NULL ok */

/* pdfsig_verify with the trust and office of v. */
tb_code pdfsig_verifier_check(const pdfsig_verifier *v, const unsigned char *pdf, size_t len,
                              pdfsig_info *out, tb_err *err) TB_MUST_CHECK;

/* SHA-256 of p[0, n) as 64 lowercase hex digits (out: 65 bytes). */
void pdfsig_sha256_hex(const void *p, size_t n, char out[65]);

/* n random bytes from OpenSSL's CSPRNG as 2n uppercase hex digits (out: 2n + 1 bytes);
 * false if the generator failed. */
bool pdfsig_random_hex(size_t n, char *out);

#endif
