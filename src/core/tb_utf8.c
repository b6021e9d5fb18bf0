#include "tb_features.h"

#include "tb_utf8.h"

#include "tb_err.h"

#include <string.h>

/* Length of the well-formed UTF-8 sequence at s (s < end), or 0 when there is none. */
static size_t
sequence_length(const unsigned char *s, const unsigned char *end)
{
    unsigned c = *s;
    if (c < 0x80)
        return 1;
    size_t extra;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF)
        extra = 1, min = 0x80, c &= 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        extra = 2, min = 0x800, c &= 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        extra = 3, min = 0x10000, c &= 0x07;
    else
        return 0;
    if ((size_t)(end - s) <= extra)
        return 0;
    for (size_t i = 1; i <= extra; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0; /* overlong, out of range, or a surrogate */
    return extra + 1;
}

bool
tb_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + len;
    while (s < end) {
        size_t n = sequence_length(s, end);
        if (n == 0)
            return false;
        s += n;
    }
    return true;
}

char *
tb_utf8_sanitize(const char *str)
{
    size_t len = strlen(str);
    char *out = tb_xmalloc(len + 1);
    const unsigned char *s = (const unsigned char *)str, *end = s + len;
    char *o = out;
    while (s < end) {
        size_t n = sequence_length(s, end);
        if (n == 0) {
            *o++ = '?';
            s++;
            continue;
        }
        memcpy(o, s, n);
        o += n, s += n;
    }
    *o = '\0';
    return out;
}

void
tb_utf8_copy(char *out, size_t cap, const char *s, size_t n)
{
    if (cap == 0)
        return;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--; /* back to the start of the sequence that would be cut */
    }
    memcpy(out, s, n);
    out[n] = '\0';
}
