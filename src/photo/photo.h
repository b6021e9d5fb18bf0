/* On-site photos (举证 / 验收照片): a JPEG's time and place from its EXIF (read through GDAL's
 * JPEG driver, which exposes EXIF_DateTimeOriginal and EXIF_GPS* as metadata), whether it was
 * taken inside a patch (an OGR geometry test in the patch's CRS, CGCS2000 lon/lat, to which a
 * GPS fix in WGS 84 is equal within centimetres), and drawing it into a figure panel with the
 * JPEG itself embedded (cairo mime data), never re-encoded. */
#ifndef TB_PHOTO_H
#define TB_PHOTO_H

#include "cn_date.h"
#include "patch.h"
#include "tb_arena.h"
#include "tb_err.h"

#include <cairo.h>
#include <stdbool.h>

enum { PHOTO_MAX_BYTES = 32 << 20, PHOTO_MAX_SIDE = 20000 };

typedef struct photo {
    const char *path, *name;   /* name: the file's name without its folder */
    size_t jpeg_len;           /* bytes; photo_draw reads them again from path */
    int width, height;         /* pixels */
    bool has_time;             /* EXIF DateTimeOriginal (else DateTime) was readable */
    cn_date date;
    int hour, minute, second;
    bool has_place;            /* EXIF GPS latitude and longitude were readable */
    double lon, lat;           /* degrees, east and north positive */
} photo;

/* Reads a JPEG photo of len bytes (path for messages; data is not kept).  Returns TB_EFORMAT naming the file when
 * it is not a JPEG GDAL can open or is too large; missing or malformed EXIF is no error (the
 * photo just has no time or place). */
tb_code photo_read_mem(const char *path, const unsigned char *data, size_t len, photo *out,
                       tb_arena *a, tb_err *err) TB_MUST_CHECK;

/* photo_read_mem of a file. */
tb_code photo_read(const char *path, photo *out, tb_arena *a, tb_err *err) TB_MUST_CHECK;

/* The photos of a folder (*.jpg, *.jpeg in any case), by name; a folder that does not exist
 * holds none.  *out is in the arena. */
tb_code photo_read_dir(const char *dir, photo **out, size_t *count, tb_arena *a,
                       tb_err *err) TB_MUST_CHECK;

/* EXIF values as GDAL prints them: "2025:03:20 10:15:32", "(35) (12) (21.465)" with ref "N".
 * Exposed for the fuzz target and the tests. */
bool photo_parse_datetime(const char *s, cn_date *d, int *h, int *m, int *sec);
bool photo_parse_dms(const char *s, const char *ref, bool latitude, double *out);

/* Whether the photo's place lies inside (or on the edge of) the patch's polygon. */
bool photo_inside(const photo *ph, const patch *p);

/* Draws the photo (read again from its path) fitted into the box, aspect kept, centred. */
tb_code photo_draw(cairo_t *cr, const photo *ph, double x, double y, double w, double h,
                   tb_err *err) TB_MUST_CHECK;

#endif
