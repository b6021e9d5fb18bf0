#include "tb_features.h"

#include "docno.h"

#include <stdio.h>
#include <string.h>

#define LBRACKET "\u3014" /* 〔 */
#define RBRACKET "\u3015" /* 〕 */

bool
docno_format(const char *prefix, int year, int seq, char *out, size_t out_len)
{
    if (out_len > 0)
        out[0] = '\0';
    if (prefix == NULL || prefix[0] == '\0' || year < 1000 || year > 9999 || seq < 1)
        return false;
    int n = snprintf(out, out_len, "%s" LBRACKET "%d" RBRACKET "%d号", prefix, year, seq);
    if (n < 0 || (size_t)n >= out_len) {
        if (out_len > 0)
            out[0] = '\0';
        return false;
    }
    return true;
}

bool
docno_parse(const char *s, char *prefix_out, size_t prefix_len, int *year, int *seq)
{
    const char *lb = strstr(s, LBRACKET);
    if (lb == NULL || lb == s || (size_t)(lb - s) >= prefix_len)
        return false;
    const char *p = lb + strlen(LBRACKET);
    int y = 0, digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        y = y * 10 + (*p - '0');
    if (digits != 4 || strncmp(p, RBRACKET, strlen(RBRACKET)) != 0)
        return false;
    p += strlen(RBRACKET);
    if (*p < '1' || *p > '9') /* no leading zero, no 第 */
        return false;
    long n = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        if ((n = n * 10 + (*p - '0')) > 999999)
            return false;
    if (strcmp(p, "号") != 0)
        return false;
    memcpy(prefix_out, s, (size_t)(lb - s));
    prefix_out[lb - s] = '\0';
    *year = y;
    *seq = (int)n;
    return true;
}
