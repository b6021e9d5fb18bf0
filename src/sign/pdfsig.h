/* PAdES signing and verification of the PDFs we write (Cairo 1.16 output), by incremental update.
 *
 * Signatures use /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached: a detached DER CMS
 * SignedData over the two /ByteRange ranges, SHA-256, with the signer certificate and chain and
 * the signed attributes content-type, message-digest, signing-time and signing-certificate-v2.
 * poppler's pdfsig and `openssl cms -verify` both accept it.  OpenSSL is used only in src/sign. */
#ifndef TB_PDFSIG_H
#define TB_PDFSIG_H

#include "tb_buf.h"
#include "tb_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum {
    PDFSIG_CONTENTS_MAX = 16384,        /* bytes of DER reserved for each CMS in /Contents */
    PDFSIG_MAX_INPUT = 512 * 1024 * 1024 /* largest PDF accepted by pdfsig_sign / _verify */
};

typedef struct pdfsig_signer pdfsig_signer; /* opaque: key + cert + chain */

/* Loads a PEM private key (unencrypted), its PEM certificate and an optional PEM chain file
 * (intermediate/CA certs; chain_path may be NULL).  Extra certificates after the first one in
 * cert_path are added to the chain too.  Refuses (TB_EINVAL, message naming the file) a key file
 * readable by group or others, an encrypted key, and a key that does not match the certificate.
 * TB_ENOTFOUND / TB_EIO for unreadable files, TB_EFORMAT for unparseable PEM.  Never puts key
 * material in error messages.  Returns NULL on failure. */
pdfsig_signer *pdfsig_signer_load(const char *key_path, const char *cert_path,
                                  const char *chain_path, tb_err *err);

/* Frees the signer (the key is freed by OpenSSL, which clears it).  NULL ok. */
void pdfsig_signer_free(pdfsig_signer *s);

/* Subject common name of the signer's certificate (borrowed, UTF-8; the whole subject in RFC 2253
 * form when it has no CN). */
const char *pdfsig_signer_name(const pdfsig_signer *s);

typedef struct pdfsig_field {
    int page;                      /* 1-based page that carries the signature widget */
    double x_pt, y_pt, w_pt, h_pt; /* widget rectangle in PDF user space (origin bottom-left) */
    const char *name;              /* field name, printable ASCII without '.', ( ) or '\',
                                      at most 64 chars, unique in the document, e.g. "Seal1" */
    const char *reason, *location; /* UTF-8, may be NULL; written as UTF-16BE text strings */
    time_t signing_time;           /* 0 = now; tests pass a fixed time for reproducible output */
} pdfsig_field;

/* Signs the PDF held in pdf in place by appending an incremental update: the signature field +
 * widget (an annotation with an empty appearance) on page f->page, an updated catalog with
 * /AcroForm (/SigFlags 3, the field appended to /Fields), the updated page with the widget
 * appended to /Annots, the /Sig dictionary with /ByteRange and /Contents (PDFSIG_CONTENTS_MAX
 * bytes reserved), a new xref section and a trailer with /Prev and /ID.  Earlier bytes are never
 * modified, so signing the output again keeps the first signature valid.
 * Errors (pdf is left unchanged): TB_EINVAL bad field (no such page, bad or duplicate name, bad
 * rectangle, invalid UTF-8); TB_EFORMAT input it cannot parse or update (xref streams,
 * encryption, indirect /Annots or /Fields); TB_ELIMIT CMS larger than the reservation or input
 * larger than PDFSIG_MAX_INPUT; TB_ELIB an OpenSSL failure. */
tb_code pdfsig_sign(tb_buf *pdf, const pdfsig_signer *s, const pdfsig_field *f, tb_err *err);

typedef struct pdfsig_info {
    int count;              /* signatures found */
    bool all_valid;         /* count > 0, every CMS verified and its digest matches its range */
    bool covers_whole_file; /* the last signature's ByteRange ends at end of file */
    char signer[128];       /* subject CN of the last signature */
    char detail[512];       /* human-readable summary of what was checked / what failed */
} pdfsig_info;

/* Verifies every signature in pdf: every object of the (newest) cross-reference table that is a
 * dictionary with /ByteRange and /Contents.  For each it checks that the ByteRange is
 * [0 a b c] with b + c <= len and that the gap [a, b) is exactly its /Contents hex string, then
 * checks the CMS with OpenSSL (CMS_verify, detached content = the two ranges).  With trust_pem
 * (a PEM CA file) the signer certificate must chain to it (any key purpose accepted); with
 * trust_pem NULL only integrity is checked (CMS_NO_SIGNER_CERT_VERIFY) and detail says so.
 * The "last" signature is the one whose range ends furthest into the file.
 * Returns TB_OK when the file could be examined (out says whether the signatures hold);
 * TB_EFORMAT when the PDF structure or any object in the xref table cannot be parsed;
 * TB_EINVAL / TB_ENOTFOUND for a bad trust file.  out is always cleared first, and on error
 * holds no verdict (count 0, all_valid false; detail may say how far it got). */
tb_code pdfsig_verify(const unsigned char *pdf, size_t len, const char *trust_pem,
                      pdfsig_info *out, tb_err *err);

#endif
