/* A ZIP archive of stored (uncompressed) members, built in memory: job results are PDFs, which
 * are compressed already.  Names are UTF-8 (general-purpose flag bit 11). */
#ifndef TB_SERVER_ZIP_H
#define TB_SERVER_ZIP_H

#include "tb_buf.h"

#include <stdint.h>

typedef struct zip_writer {
    tb_buf out;       /* the archive so far */
    tb_buf central;   /* the central directory, appended by zip_finish */
    uint16_t count;
} zip_writer;

/* Adds one member (at most 65535 members, each under 4 GiB). */
void zip_add(zip_writer *z, const char *name, const void *data, size_t len);

/* Appends the central directory; z->out is then the whole archive.  Release both buffers. */
void zip_finish(zip_writer *z);

#endif
