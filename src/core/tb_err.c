#include "tb_features.h"

#include "tb_err.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tb_code
tb_err_set(tb_err *err, tb_code code, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    if (err->code != TB_OK) /* the first error is the cause; later ones are consequences */
        return err->code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

const char *
tb_code_name(tb_code code)
{
    static const char *const names[] = {
        [TB_OK] = "ok",
        [TB_EINVAL] = "bad argument",
        [TB_ENOTFOUND] = "not found",
        [TB_ELIMIT] = "over limit",
        [TB_EFORMAT] = "bad input",
        [TB_EIO] = "I/O error",
        [TB_ELIB] = "library error",
    };
    if ((unsigned)code < sizeof names / sizeof names[0])
        return names[code];
    return "unknown error";
}

int
tb_code_exit_status(tb_code code)
{
    switch (code) {
    case TB_OK:
        return 0;
    case TB_EINVAL:
    case TB_ENOTFOUND:
    case TB_ELIMIT:
    case TB_EFORMAT:
        return 2;
    default:
        return 1;
    }
}

void
tb_assert_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "tuban: assertion failed: %s (%s:%d)\n", what, file, line);
    abort();
}

static void *
oom(size_t size)
{
    fprintf(stderr, "tuban: out of memory allocating %zu bytes\n", size);
    abort();
}

void *
tb_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    return p ? p : oom(size);
}

void *
tb_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    return p ? p : oom(count * size);
}

void *
tb_xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    return q ? q : oom(size);
}

void *
tb_xmalloc_array(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return oom(SIZE_MAX);
    return tb_xmalloc(count * size);
}

char *
tb_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(tb_xmalloc(n), s, n);
}
