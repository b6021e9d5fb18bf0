/* UTF-8 checks: text that does not decode is refused, never stored as mojibake. */
#ifndef TB_UTF8_H
#define TB_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or values > U+10FFFF). */
bool tb_utf8_valid(const char *s, size_t len);

#endif
