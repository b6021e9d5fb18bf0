/* libFuzzer target: an on-site photo (untrusted JPEG, EXIF) through photo_read_mem (GDAL's JPEG
 * driver and tuban's EXIF value parsing), and the EXIF value parsers on raw text: an input not
 * starting with a JPEG marker is read as "<datetime>\n<dms>\n<ref>". */
#include "photo.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
parse_text(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    char *dms = strchr(s, '\n');
    char *ref = dms ? strchr(dms + 1, '\n') : NULL;
    if (dms)
        *dms++ = '\0';
    if (ref)
        *ref++ = '\0';
    cn_date d;
    int h, m, sec;
    if (photo_parse_datetime(s, &d, &h, &m, &sec) &&
        (!cn_date_valid(d) || h < 0 || h > 23 || m < 0 || m > 59))
        __builtin_trap(); /* the parser promised a valid time */
    double v;
    for (int lat = 0; lat < 2; lat++)
        if (photo_parse_dms(dms ? dms : s, ref ? ref : "N", lat, &v) &&
            (!isfinite(v) || fabs(v) > (lat ? 90 : 180)))
            __builtin_trap();
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || data[0] != 0xFF) {
        parse_text(data, size);
        return 0;
    }
    tb_arena *a = tb_arena_new(0);
    tb_err err = {0};
    photo ph;
    if (photo_read_mem("fuzz.jpg", data, size, &ph, a, &err) == TB_OK) {
        if (ph.width < 1 || ph.height < 1 || ph.jpeg_len != size ||
            (ph.has_place && (fabs(ph.lat) > 90 || fabs(ph.lon) > 180)) ||
            (ph.has_time && !cn_date_valid(ph.date)))
            __builtin_trap();
        /* The inside test on a unit square around the origin. */
        static const unsigned char square[] = {
            1, 3, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0xF0, 0xBF, 0, 0, 0, 0, 0, 0, 0xF0, 0xBF,
            0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0, 0, 0, 0, 0, 0, 0xF0, 0xBF,
            0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F,
            0, 0, 0, 0, 0, 0, 0xF0, 0xBF, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F,
            0, 0, 0, 0, 0, 0, 0xF0, 0xBF, 0, 0, 0, 0, 0, 0, 0xF0, 0xBF,
        };
        patch p = {.id = "fuzz", .wkb = square, .wkb_len = sizeof square};
        (void)photo_inside(&ph, &p);
    } else if (err.code == TB_OK) {
        __builtin_trap(); /* a failure always says why */
    }
    tb_arena_free(a);
    return 0;
}
