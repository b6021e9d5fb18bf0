/* A growable byte buffer.  PDFs are built in memory, signed in place, then written atomically. */
#ifndef TB_BUF_H
#define TB_BUF_H

#include "tb_features.h"

#include <stddef.h>

typedef struct tb_buf {
    unsigned char *data; /* owned; NUL-terminated past len for convenience */
    size_t len;          /* bytes used */
    size_t cap;          /* bytes allocated */
} tb_buf;

#define TB_BUF_INIT {NULL, 0, 0}

void tb_buf_reserve(tb_buf *b, size_t extra); /* aborts on OOM */
void tb_buf_append(tb_buf *b, const void *p, size_t len);
void tb_buf_append_str(tb_buf *b, const char *s);
void tb_buf_printf(tb_buf *b, const char *fmt, ...) TB_PRINTF(2, 3);
/* Inserts len bytes at offset pos (pos <= b->len). */
void tb_buf_insert(tb_buf *b, size_t pos, const void *p, size_t len);
void tb_buf_reset(tb_buf *b);   /* len = 0, keeps memory */
void tb_buf_release(tb_buf *b); /* frees memory; NULL ok */

#endif
