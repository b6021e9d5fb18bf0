/* An office's means of signing: its key and certificate, and its seal as the signature's
 * appearance.  Shared by rendering (render_ctx) and countersigning (tuban sign). */
#include "tb_features.h"

#include "docs_int.h"

#include "tb_fs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEAL_BYTES (16u << 20) /* a 300 dpi seal is well under 1 MB */

/* The seal is embedded in every document as a losslessly compressed image, so its pixel count
 * is paid for in every PDF: keep it at 300 dpi, print resolution, rather than whatever the
 * office supplied. */
static cairo_surface_t *
seal_at_300dpi(cairo_surface_t *s, double diameter_mm)
{
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    int target = (int)(diameter_mm / 25.4 * 300.0 + 0.5);
    if (w <= target || w <= 0 || h <= 0)
        return s;
    int th = (int)((double)h * target / w + 0.5);
    cairo_surface_t *small = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, target, th);
    cairo_t *cr = cairo_create(small);
    cairo_scale(cr, (double)target / w, (double)th / h);
    cairo_set_source_surface(cr, s, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BEST);
    cairo_paint(cr);
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    return small;
}

/* Cairo reads the PNG from memory: the file was opened beneath the office folder. */
typedef struct png_reader {
    const unsigned char *p;
    size_t left;
} png_reader;

static cairo_status_t
read_png(void *closure, unsigned char *data, unsigned int length)
{
    png_reader *r = closure;
    if (length > r->left)
        return CAIRO_STATUS_READ_ERROR;
    memcpy(data, r->p, length);
    r->p += length;
    r->left -= length;
    return CAIRO_STATUS_SUCCESS;
}

static cairo_surface_t *
load_seal(const char *dir, const char *path, tb_err *err)
{
    tb_buf png = TB_BUF_INIT;
    if (tb_fs_read_beneath(dir, path, MAX_SEAL_BYTES, &png, err) != TB_OK) {
        tb_buf_release(&png);
        return NULL;
    }
    png_reader r = {png.data, png.len};
    cairo_surface_t *s = cairo_image_surface_create_from_png_stream(read_png, &r);
    tb_buf_release(&png);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        tb_err_set(err, TB_EFORMAT, "%s: not a readable PNG seal image (%s)", path,
                   cairo_status_to_string(cairo_surface_status(s)));
        cairo_surface_destroy(s);
        return NULL;
    }
    return s;
}

/* The seal as the signature widget's appearance: straight RGBA from Cairo's premultiplied
 * ARGB32. */
static pdfsig_image *
seal_image_of(cairo_surface_t *s, tb_err *err)
{
    cairo_surface_flush(s);
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    int stride = cairo_image_surface_get_stride(s);
    const unsigned char *px = cairo_image_surface_get_data(s);
    if (px == NULL || cairo_image_surface_get_format(s) != CAIRO_FORMAT_ARGB32) {
        tb_err_set(err, TB_EFORMAT, "seal image: expected a PNG with an alpha channel");
        return NULL;
    }
    unsigned char *rgba = tb_xmalloc_array((size_t)w * (size_t)h, 4);
    for (int y = 0; y < h; y++) {
        const uint32_t *row = (const uint32_t *)(const void *)(px + (size_t)y * (size_t)stride);
        for (int x = 0; x < w; x++) {
            uint32_t v = row[x];
            unsigned a = v >> 24, c[3] = {(v >> 16) & 255, (v >> 8) & 255, v & 255};
            unsigned char *o = rgba + 4 * ((size_t)y * (size_t)w + (size_t)x);
            for (int k = 0; k < 3; k++)
                o[k] = (unsigned char)(a ? (c[k] * 255 + a / 2) / a : 0);
            o[3] = (unsigned char)a;
        }
    }
    pdfsig_image *im = pdfsig_image_new(rgba, w, h, err);
    free(rgba);
    return im;
}

tb_code
docs_office_signing(const tpl_office *o, pdfsig_signer **signer, pdfsig_image **seal,
                    tb_err *err)
{
    *signer = NULL;
    *seal = NULL;
    cairo_surface_t *png = load_seal(o->dir, o->seal_path, err);
    if (png == NULL)
        return err->code;
    png = seal_at_300dpi(png, o->seal_diameter_mm);
    *seal = seal_image_of(png, err);
    cairo_surface_destroy(png);
    if (*seal == NULL)
        return err->code;
    if (!tb_fs_exists(o->key_path)) {
        pdfsig_image_free(*seal);
        *seal = NULL;
        return tb_err_set(err, TB_ENOTFOUND, "%s: signing key not found (for the sample office, "
                          "scripts/make-sample-keys.sh makes one)", o->key_path);
    }
    pdfsig_key_opts ko = {o->passphrase_file, o->passphrase_env, o->dir};
    *signer = pdfsig_signer_load(o->key_path, o->cert_path, o->chain_path, &ko, err);
    if (*signer == NULL) {
        pdfsig_image_free(*seal);
        *seal = NULL;
        return err->code;
    }
    return TB_OK;
}
