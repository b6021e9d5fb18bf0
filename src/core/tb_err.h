/* One error type for the whole library (STYLE R11): a code plus a message that names the file,
 * record and field.  The first error wins, so deep code can fill it in and callers add nothing. */
#ifndef TB_ERR_H
#define TB_ERR_H

#include "tb_features.h"

#include <stddef.h>

typedef enum tb_code {
    TB_OK = 0,
    TB_EINVAL,    /* bad argument or request parameter              -> exit 2, HTTP 400 */
    TB_ENOTFOUND, /* no such file, template, layer, patch           -> exit 2, HTTP 404 */
    TB_ELIMIT,    /* input exceeded a configured limit              -> exit 2, HTTP 413 */
    TB_EFORMAT,   /* malformed XML / geodata / PDF                  -> exit 2, HTTP 422 */
    TB_EIO,       /* filesystem, SQLite I/O                         -> exit 1, HTTP 500 */
    TB_ELIB,      /* a dependency failed; the message names which   -> exit 1, HTTP 500 */
} tb_code;

typedef struct tb_err {
    tb_code code;
    char msg[512];
} tb_err;

/* Records the first error only and returns its code (the first one's, if one was already set),
 * so callers can write `return tb_err_set(err, TB_EFORMAT, "...")`.  Break here to catch every
 * error.  err may be NULL. */
tb_code tb_err_set(tb_err *err, tb_code code, const char *fmt, ...) TB_PRINTF(3, 4);

/* Short name of a code ("bad input", "I/O error", ...). */
const char *tb_code_name(tb_code code);

/* Process exit status for a code (DESIGN §7): 0 ok, 2 bad usage or input, 1 failure at work. */
int tb_code_exit_status(tb_code code);

/* Always-on invariant check (STYLE R15): prints file and line, then aborts. */
#define TB_ASSERT(x) ((x) ? (void)0 : tb_assert_fail(#x, __FILE__, __LINE__))
TB_NORETURN void tb_assert_fail(const char *what, const char *file, int line);

/* Allocation that aborts on out-of-memory (STYLE R15): never returns NULL. */
void *tb_xmalloc(size_t size);
void *tb_xcalloc(size_t count, size_t size);
void *tb_xrealloc(void *p, size_t size);
void *tb_xmalloc_array(size_t count, size_t size); /* overflow-checked */
char *tb_xstrdup(const char *s);

#endif
