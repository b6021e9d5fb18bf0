#include "tb_features.h"

#include "docs_int.h"

#include "tb_fs.h"
#include "tpl_imagery.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Fontconfig does not see TeX Live's Fandol fonts by default (DESIGN §8).  Only the Regular
 * files are added: the Bold ones declare a regular weight and would be picked for body text.
 * An office may also ship its own licensed fonts in <office>/fonts. */
#define FANDOL "/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol/"
static const char *const system_font_files[] = {
    FANDOL "FandolFang-Regular.otf", FANDOL "FandolKai-Regular.otf",
    FANDOL "FandolSong-Regular.otf", FANDOL "FandolHei-Regular.otf",
};

/* The seal is embedded in every document as a losslessly compressed image (cairo 1.16 has no
 * PNG pass-through), so its pixel count is paid for in every PDF: keep it at 300 dpi, print
 * resolution, rather than whatever the office supplied. */
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

static cairo_surface_t *
load_seal(const char *path, tb_err *err)
{
    if (!tb_fs_exists(path)) {
        tb_err_set(err, TB_ENOTFOUND, "%s: seal image not found", path);
        return NULL;
    }
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
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

render_ctx *
render_ctx_open(const char *office_dir, const char *imagery_path, tb_err *err)
{
    render_ctx *rc = tb_xcalloc(1, sizeof *rc);
    rc->arena = tb_arena_new(0);
    if (!(rc->office = tpl_office_load(office_dir, rc->arena, err)))
        goto fail;
    /* Every template is loaded and checked against its kind's data now, before any document. */
    office_data od = tpl_office_data(rc->office, "notice");
    rc->office_type = docdata_office_type(&od, rc->arena);
    rc->notice_type = docdata_notice_type(rc->office_type, rc->arena);
    if (!(rc->notice = tpl_doc_load(rc->office, "notice", rc->notice_type, rc->arena, err)))
        goto fail;
    const char *fonts[] = {tb_arena_printf(rc->arena, "%s/fonts", office_dir),
                           system_font_files[0], system_font_files[1], system_font_files[2],
                           system_font_files[3], NULL};
    if (!(rc->tf = typeface_new(rc->office->fonts, fonts, err)))
        goto fail;
    if (!(rc->seal = load_seal(rc->office->seal_path, err)))
        goto fail;
    rc->seal = seal_at_300dpi(rc->seal, rc->office->seal_diameter_mm);
    if (!tb_fs_exists(rc->office->key_path)) {
        tb_err_set(err, TB_ENOTFOUND, "%s: signing key not found (for the sample office, "
                   "scripts/make-sample-keys.sh makes one)", rc->office->key_path);
        goto fail;
    }
    pdfsig_key_opts ko = {rc->office->passphrase_file, rc->office->passphrase_env};
    if (!(rc->signer = pdfsig_signer_load(rc->office->key_path, rc->office->cert_path,
                                          rc->office->chain_path, &ko, err)))
        goto fail;
    if (!(rc->seal_image = seal_image_of(rc->seal, err)))
        goto fail;
    const char *imagery = imagery_path ? imagery_path : rc->office->imagery_path;
    const map_sources *catalogue = NULL;
    if (rc->office->imagery_catalogue_path &&
        !(catalogue = tpl_imagery_load(rc->office->imagery_catalogue_path, rc->arena, err)))
        goto fail;
    if (!(rc->maps = map_ctx_open(catalogue, imagery, err)))
        goto fail;
    return rc;

fail:
    render_ctx_close(rc);
    return NULL;
}

void
render_ctx_close(render_ctx *rc)
{
    if (rc == NULL)
        return;
    map_ctx_close(rc->maps);
    pdfsig_signer_free(rc->signer);
    pdfsig_image_free(rc->seal_image);
    if (rc->seal)
        cairo_surface_destroy(rc->seal);
    typeface_free(rc->tf);
    tb_arena_free(rc->arena);
    free(rc);
}
