#include "tb_features.h"

#include "photo.h"

#include "tb_buf.h"
#include "tb_fs.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_vsi.h>
#include <dirent.h>
#include <gdal.h>
#include <math.h>
#include <pthread.h>
#include <ogr_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool
photo_parse_datetime(const char *s, cn_date *d, int *h, int *m, int *sec)
{
    int Y, M, D, hh, mm, ss;
    char tail;
    if (s == NULL || sscanf(s, "%4d:%2d:%2d %2d:%2d:%2d%c", &Y, &M, &D, &hh, &mm, &ss, &tail) != 6)
        return false;
    cn_date date = {Y, M, D};
    if (!cn_date_valid(date) || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60)
        return false;
    *d = date, *h = hh, *m = mm, *sec = ss;
    return true;
}

/* One "(x)" of GDAL's rational triple: a finite, non-negative number. */
static const char *
parse_part(const char *s, double *out)
{
    while (*s == ' ')
        s++;
    if (*s++ != '(')
        return NULL;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != ')' || !isfinite(v) || v < 0)
        return NULL;
    *out = v;
    return end + 1;
}

bool
photo_parse_dms(const char *s, const char *ref, bool latitude, double *out)
{
    double dms[3];
    if (s == NULL || ref == NULL)
        return false;
    for (int i = 0; i < 3; i++)
        if (!(s = parse_part(s, &dms[i])))
            return false;
    while (*s == ' ')
        s++;
    if (*s || dms[1] >= 60 || dms[2] >= 60)
        return false;
    double v = dms[0] + dms[1] / 60 + dms[2] / 3600;
    const char *pos = latitude ? "N" : "E", *neg = latitude ? "S" : "W";
    if (strcmp(ref, neg) == 0)
        v = -v;
    else if (strcmp(ref, pos) != 0)
        return false;
    if (fabs(v) > (latitude ? 90 : 180))
        return false;
    *out = v;
    return true;
}

static void
register_drivers(void)
{
    GDALAllRegister();
}

tb_code
photo_read_mem(const char *path, const unsigned char *data, size_t len, photo *out, tb_arena *a,
               tb_err *err)
{
    memset(out, 0, sizeof *out);
    if (len < 4 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF)
        return tb_err_set(err, TB_EFORMAT, "%s: not a JPEG photo (a photo must be a .jpg file)",
                          path);
    if (len > PHOTO_MAX_BYTES)
        return tb_err_set(err, TB_ELIMIT, "%s: %zu bytes: a photo may have at most %d MiB",
                          path, len, PHOTO_MAX_BYTES >> 20);
    /* A private in-memory file over the caller's bytes: GDAL reads it with the JPEG driver
     * only, never another. */
    char vsi[64];
    snprintf(vsi, sizeof vsi, "/vsimem/tuban-photo-%p.jpg", (const void *)data);
    VSILFILE *f = VSIFileFromMemBuffer(vsi, (GByte *)data, (vsi_l_offset)len, FALSE);
    if (f == NULL)
        return tb_err_set(err, TB_EIO, "%s: cannot read the photo", path);
    VSIFCloseL(f);
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_drivers);
    static const char *const drivers[] = {"JPEG", NULL};
    CPLPushErrorHandler(CPLQuietErrorHandler);
    GDALDatasetH ds = GDALOpenEx(vsi, GDAL_OF_RASTER | GDAL_OF_READONLY, drivers, NULL, NULL);
    tb_code code = TB_OK;
    if (ds == NULL) {
        code = tb_err_set(err, TB_EFORMAT, "%s: not a readable JPEG photo", path);
        goto done;
    }
    out->width = GDALGetRasterXSize(ds), out->height = GDALGetRasterYSize(ds);
    if (out->width < 1 || out->height < 1 || out->width > PHOTO_MAX_SIDE ||
        out->height > PHOTO_MAX_SIDE) {
        code = tb_err_set(err, TB_ELIMIT, "%s: %d × %d pixels: a photo may have at most %d on "
                                          "a side", path, out->width, out->height,
                          PHOTO_MAX_SIDE);
        goto done;
    }
    const char *when = GDALGetMetadataItem(ds, "EXIF_DateTimeOriginal", NULL);
    if (when == NULL)
        when = GDALGetMetadataItem(ds, "EXIF_DateTime", NULL);
    out->has_time = photo_parse_datetime(when, &out->date, &out->hour, &out->minute,
                                         &out->second);
    out->has_place =
        photo_parse_dms(GDALGetMetadataItem(ds, "EXIF_GPSLatitude", NULL),
                        GDALGetMetadataItem(ds, "EXIF_GPSLatitudeRef", NULL), true, &out->lat) &&
        photo_parse_dms(GDALGetMetadataItem(ds, "EXIF_GPSLongitude", NULL),
                        GDALGetMetadataItem(ds, "EXIF_GPSLongitudeRef", NULL), false, &out->lon);
    out->path = tb_arena_strdup(a, path);
    const char *slash = strrchr(out->path, '/');
    out->name = slash ? slash + 1 : out->path;
    out->jpeg_len = len;

done:
    if (ds)
        GDALClose(ds);
    CPLPopErrorHandler();
    VSIUnlink(vsi);
    return code;
}

tb_code
photo_read(const char *path, photo *out, tb_arena *a, tb_err *err)
{
    tb_buf buf = TB_BUF_INIT;
    tb_code code = tb_fs_read(path, PHOTO_MAX_BYTES, &buf, err);
    if (code == TB_OK)
        code = photo_read_mem(path, buf.data, buf.len, out, a, err);
    tb_buf_release(&buf);
    return code;
}

static bool
is_jpeg_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return name[0] != '.' && dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0);
}

static int
by_name(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

tb_code
photo_read_dir(const char *dir, photo **out, size_t *count, tb_arena *a, tb_err *err)
{
    *out = NULL, *count = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return TB_OK; /* no photos of this patch */
    size_t n = 0, cap = 8;
    char **names = tb_xmalloc_array(cap, sizeof *names);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_jpeg_name(e->d_name))
            continue;
        if (n == cap)
            names = tb_xrealloc(names, (cap *= 2) * sizeof *names);
        names[n++] = tb_xstrdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    photo *photos = tb_arena_array(a, n + 1, sizeof *photos);
    tb_code code = TB_OK;
    for (size_t i = 0; i < n && code == TB_OK; i++)
        code = photo_read(tb_arena_printf(a, "%s/%s", dir, names[i]), &photos[i], a, err);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (code == TB_OK)
        *out = photos, *count = n;
    return code;
}

bool
photo_inside(const photo *ph, const patch *p)
{
    if (!ph->has_place || p->wkb == NULL)
        return false;
    OGRGeometryH poly = NULL;
    if (OGR_G_CreateFromWkb(p->wkb, NULL, &poly, (int)p->wkb_len) != OGRERR_NONE)
        return false;
    OGRGeometryH pt = OGR_G_CreateGeometry(wkbPoint);
    OGR_G_SetPoint_2D(pt, 0, ph->lon, ph->lat);
    bool inside = OGR_G_Intersects(poly, pt); /* on the edge counts as inside */
    OGR_G_DestroyGeometry(pt);
    OGR_G_DestroyGeometry(poly);
    return inside;
}

tb_code
photo_draw(cairo_t *cr, const photo *ph, double x, double y, double w, double h, tb_err *err)
{
    /* The bytes are read again here, not kept from photo_read, so a run holds one photo at a
     * time however many it shows; a file changed since (another size) is refused. */
    tb_buf buf = TB_BUF_INIT;
    tb_arena *a = tb_arena_new(0);
    photo now;
    tb_code code = tb_fs_read(ph->path, PHOTO_MAX_BYTES, &buf, err);
    if (code == TB_OK)
        code = photo_read_mem(ph->path, buf.data, buf.len, &now, a, err);
    tb_arena_free(a);
    if (code == TB_OK && (now.width != ph->width || now.height != ph->height))
        code = tb_err_set(err, TB_EFORMAT, "%s: the photo changed while the forms were made",
                          ph->path);
    if (code != TB_OK) {
        tb_buf_release(&buf);
        return code;
    }
    /* The PDF gets the JPEG's own bytes (mime data, freed by cairo when it is done with them);
     * the surface's pixels are never painted into a PDF, and untouched, they cost address
     * space, not memory. */
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, ph->width, ph->height);
    if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS ||
        cairo_surface_set_mime_data(img, CAIRO_MIME_TYPE_JPEG, buf.data, buf.len, free,
                                    buf.data) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(img);
        tb_buf_release(&buf);
        return tb_err_set(err, TB_ELIB, "%s: cairo cannot take the photo", ph->path);
    }
    double s = fmin(w / ph->width, h / ph->height);
    double dw = ph->width * s, dh = ph->height * s;
    cairo_save(cr);
    cairo_translate(cr, x + (w - dw) / 2, y + (h - dh) / 2);
    cairo_scale(cr, s, s);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_paint(cr);
    cairo_restore(cr);
    cairo_surface_destroy(img);
    return TB_OK;
}
