#include "tb_features.h"

#include "tb_utf8.h"

bool
tb_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + len;
    while (s < end) {
        unsigned c = *s++;
        if (c < 0x80)
            continue;
        int extra;
        unsigned min;
        if (c >= 0xC2 && c <= 0xDF)
            extra = 1, min = 0x80, c &= 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            extra = 2, min = 0x800, c &= 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            extra = 3, min = 0x10000, c &= 0x07;
        else
            return false;
        if (end - s < extra)
            return false;
        for (int i = 0; i < extra; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return false;
            c = (c << 6) | (s[i] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return false;
        s += extra;
    }
    return true;
}
