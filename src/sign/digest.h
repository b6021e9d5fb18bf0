/* SHA-256 for callers outside src/sign (OpenSSL lives here only): document hashes, the daemon's
 * hashed bearer tokens and request fingerprints. */
#ifndef TB_DIGEST_H
#define TB_DIGEST_H

#include <stddef.h>

enum { DIGEST_SHA256_HEX = 65 }; /* 64 hex digits and a NUL */

/* Writes the lowercase hex SHA-256 of data into out. */
void digest_sha256_hex(const void *data, size_t len, char out[DIGEST_SHA256_HEX]);

/* Compares two NUL-terminated strings in time that depends only on their lengths (token
 * hashes: no early exit an attacker could time). */
int digest_equal(const char *a, const char *b);

#endif
