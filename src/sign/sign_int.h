/* Private to src/sign: helpers shared by signing (pdfsig.c) and verification (pdfverify.c). */
#ifndef TB_SIGN_INT_H
#define TB_SIGN_INT_H

#include "tb_err.h"

#include <openssl/x509.h>

#include <stddef.h>

/* Records an error whose cause is on the OpenSSL error queue (then clears the queue). */
tb_code set_ssl_err(tb_err *err, tb_code code, const char *fmt, ...) TB_PRINTF(3, 4);

/* Subject CN of x as UTF-8, or the whole subject (RFC 2253) when there is no CN. */
void cert_name(const X509 *x, char *out, size_t cap);

#endif
