#include "tb_features.h"

#include "tb_buf.h"

#include "tb_err.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
tb_buf_reserve(tb_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        TB_ASSERT(!"tb_buf size overflow");
    size_t need = b->len + extra + 1; /* +1 keeps room for a terminating NUL */
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    b->data = tb_xrealloc(b->data, cap);
    b->cap = cap;
}

void
tb_buf_append(tb_buf *b, const void *p, size_t len)
{
    tb_buf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, p, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void
tb_buf_append_str(tb_buf *b, const char *s)
{
    tb_buf_append(b, s, strlen(s));
}

void
tb_buf_printf(tb_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    TB_ASSERT(n >= 0);
    tb_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void
tb_buf_insert(tb_buf *b, size_t pos, const void *p, size_t len)
{
    TB_ASSERT(pos <= b->len);
    tb_buf_reserve(b, len);
    memmove(b->data + pos + len, b->data + pos, b->len - pos);
    memcpy(b->data + pos, p, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void
tb_buf_reset(tb_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void
tb_buf_release(tb_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
