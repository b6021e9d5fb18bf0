/* UTF-8: text that does not decode is refused, never stored as mojibake, and text that is cut to
 * fit a buffer is cut between characters. */
#ifndef TB_UTF8_H
#define TB_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or values > U+10FFFF). */
bool tb_utf8_valid(const char *s, size_t len);

/* A malloc'd copy of s with every byte that is not part of a well-formed sequence replaced by
 * '?': for file names and messages on their way into JSON. */
char *tb_utf8_sanitize(const char *s);

/* Copies at most cap - 1 bytes of s[0..n) into out (NUL-terminated) without splitting a
 * character. */
void tb_utf8_copy(char *out, size_t cap, const char *s, size_t n);

#endif
