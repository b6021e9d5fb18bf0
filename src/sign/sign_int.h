/* Private to src/sign: helpers shared by signing (pdfsig.c) and verification (pdfverify.c). */
#ifndef TB_SIGN_INT_H
#define TB_SIGN_INT_H

#include "tb_buf.h"
#include "tb_err.h"

#include <openssl/x509.h>

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Records an error whose cause is on the OpenSSL error queue (then clears the queue). */
tb_code set_ssl_err(tb_err *err, tb_code code, const char *fmt, ...) TB_PRINTF(3, 4);

/* Subject CN of x as UTF-8, or the whole subject (RFC 2253) when there is no CN. */
void cert_name(const X509 *x, char *out, size_t cap);

/* Asks the RFC 3161 time-stamp authority at url (http or https) for a token over imprint (a
 * SHA-256); appends the token (DER ContentInfo, SignedData over TSTInfo) to token.  The reply must
 * grant the request and echo its imprint and nonce.  TB_EIO, naming the TSA, when it cannot be
 * reached or refuses; TB_ELIB for an OpenSSL failure. */
tb_code tsa_timestamp(const char *url, const unsigned char imprint[32], tb_buf *token,
                      tb_err *err);

/* Checks a time-stamp token (DER): its imprint must equal imprint and, when store is given, its
 * signature must verify with a TSA certificate that chains to store for time stamping.  On
 * success *gen_time is the token's genTime; otherwise why says what failed. */
bool tsa_check_token(const unsigned char *der, size_t n, const unsigned char imprint[32],
                     X509_STORE *store, time_t *gen_time, char *why, size_t cap);

#endif
