#include "tb_features.h"

#include "docs_int.h"

#include "tb_fs.h"
#include "tpl_imagery.h"

#include <stdio.h>
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

render_office *
render_office_open(const char *office_dir, tb_err *err)
{
    render_office *ro = tb_xcalloc(1, sizeof *ro);
    ro->arena = tb_arena_new(0);
    ro->dir = tb_xstrdup(office_dir);
    if (!(ro->office = tpl_office_load(office_dir, ro->arena, err)))
        goto fail;
    /* Every template is loaded and checked against its kind's data now, before any document. */
    office_data od = tpl_office_data(ro->office, "notice");
    ro->office_type = docdata_office_type(&od, ro->arena);
    ro->notice_type = docdata_notice_type(ro->office_type, ro->arena);
    if (!(ro->notice = tpl_doc_load(ro->office, "notice", ro->notice_type, ro->arena, err)))
        goto fail;
    ro->monthly_type = docdata_monthly_type(ro->office_type, ro->arena);
    if (!(ro->monthly = tpl_doc_load(ro->office, "monthly", ro->monthly_type, ro->arena, err)))
        goto fail;
    ro->tables_type = docdata_tables_type(ro->office_type, ro->arena);
    if (!(ro->tables = tpl_doc_load(ro->office, "tables", ro->tables_type, ro->arena, err)))
        goto fail;
    if (docs_office_signing(ro->office, &ro->signer, &ro->seal_image, err) != TB_OK)
        goto fail;
    if (ro->office->imagery_catalogue_path &&
        !(ro->catalogue = tpl_imagery_load(ro->office->imagery_catalogue_path, ro->arena, err)))
        goto fail;
    return ro;

fail:
    render_office_close(ro);
    return NULL;
}

void
render_office_close(render_office *ro)
{
    if (ro == NULL)
        return;
    pdfsig_signer_free(ro->signer);
    pdfsig_image_free(ro->seal_image);
    tb_arena_free(ro->arena);
    free(ro->dir);
    free(ro);
}

const tpl_office *
render_office_profile(const render_office *ro)
{
    return ro->office;
}

render_ctx *
render_ctx_for(const render_office *ro, const char *imagery_path, tb_err *err)
{
    render_ctx *rc = tb_xcalloc(1, sizeof *rc);
    rc->office = ro->office;
    rc->office_type = ro->office_type;
    rc->notice_type = ro->notice_type;
    rc->notice = ro->notice;
    rc->monthly_type = ro->monthly_type;
    rc->monthly = ro->monthly;
    rc->tables_type = ro->tables_type;
    rc->tables = ro->tables;
    rc->signer = ro->signer;
    rc->seal_image = ro->seal_image;
    char *office_fonts = tb_xmalloc(strlen(ro->dir) + 8);
    sprintf(office_fonts, "%s/fonts", ro->dir);
    const char *fonts[] = {office_fonts, system_font_files[0], system_font_files[1],
                           system_font_files[2], system_font_files[3], NULL};
    rc->tf = typeface_new(ro->office->fonts, fonts, err);
    free(office_fonts);
    if (rc->tf == NULL)
        goto fail;
    const char *imagery = imagery_path ? imagery_path : ro->office->imagery_path;
    if (!(rc->maps = map_ctx_open(ro->catalogue, imagery, err)))
        goto fail;
    return rc;

fail:
    render_ctx_close(rc);
    return NULL;
}

render_ctx *
render_ctx_open(const char *office_dir, const char *imagery_path, tb_err *err)
{
    render_office *ro = render_office_open(office_dir, err);
    if (ro == NULL)
        return NULL;
    render_ctx *rc = render_ctx_for(ro, imagery_path, err);
    if (rc == NULL) {
        render_office_close(ro);
        return NULL;
    }
    rc->own = ro;
    return rc;
}

void
render_ctx_close(render_ctx *rc)
{
    if (rc == NULL)
        return;
    map_ctx_close(rc->maps);
    typeface_free(rc->tf);
    render_office_close(rc->own);
    free(rc);
}

const char *
render_ctx_signer_name(const render_ctx *rc)
{
    return pdfsig_signer_name(rc->signer);
}
