#include "tb_features.h"

#include "zip.h"

#include <string.h>
#include <zlib.h>

static void
le16(tb_buf *b, unsigned v)
{
    unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    tb_buf_append(b, x, 2);
}

static void
le32(tb_buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    tb_buf_append(b, x, 4);
}

void
zip_add(zip_writer *z, const char *name, const void *data, size_t len)
{
    uint32_t crc = (uint32_t)crc32(0L, data, (uInt)len);
    uint32_t offset = (uint32_t)z->out.len;
    size_t name_len = strlen(name);
    /* local file header: version 2.0, UTF-8 names, stored, no time (1980-01-01) */
    le32(&z->out, 0x04034b50);
    le16(&z->out, 20);
    le16(&z->out, 1u << 11);
    le16(&z->out, 0);
    le16(&z->out, 0);
    le16(&z->out, 0x21);
    le32(&z->out, crc);
    le32(&z->out, (uint32_t)len);
    le32(&z->out, (uint32_t)len);
    le16(&z->out, (unsigned)name_len);
    le16(&z->out, 0);
    tb_buf_append(&z->out, name, name_len);
    tb_buf_append(&z->out, data, len);
    /* its central directory entry */
    le32(&z->central, 0x02014b50);
    le16(&z->central, 20);
    le16(&z->central, 20);
    le16(&z->central, 1u << 11);
    le16(&z->central, 0);
    le16(&z->central, 0);
    le16(&z->central, 0x21);
    le32(&z->central, crc);
    le32(&z->central, (uint32_t)len);
    le32(&z->central, (uint32_t)len);
    le16(&z->central, (unsigned)name_len);
    le16(&z->central, 0);
    le16(&z->central, 0);
    le16(&z->central, 0);
    le16(&z->central, 0);
    le32(&z->central, 0);
    le32(&z->central, offset);
    tb_buf_append(&z->central, name, name_len);
    z->count++;
}

void
zip_finish(zip_writer *z)
{
    uint32_t offset = (uint32_t)z->out.len;
    if (z->central.len)
        tb_buf_append(&z->out, z->central.data, z->central.len);
    le32(&z->out, 0x06054b50);
    le16(&z->out, 0);
    le16(&z->out, 0);
    le16(&z->out, z->count);
    le16(&z->out, z->count);
    le32(&z->out, (uint32_t)z->central.len);
    le32(&z->out, offset);
    le16(&z->out, 0);
}
