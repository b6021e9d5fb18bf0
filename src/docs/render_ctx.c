#include "tb_features.h"

#include "docs_int.h"

#include "tb_fs.h"
#include "tpl_imagery.h"

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
    rc->monthly_type = docdata_monthly_type(rc->office_type, rc->arena);
    if (!(rc->monthly = tpl_doc_load(rc->office, "monthly", rc->monthly_type, rc->arena, err)))
        goto fail;
    rc->tables_type = docdata_tables_type(rc->office_type, rc->arena);
    if (!(rc->tables = tpl_doc_load(rc->office, "tables", rc->tables_type, rc->arena, err)))
        goto fail;
    const char *fonts[] = {tb_arena_printf(rc->arena, "%s/fonts", office_dir),
                           system_font_files[0], system_font_files[1], system_font_files[2],
                           system_font_files[3], NULL};
    if (!(rc->tf = typeface_new(rc->office->fonts, fonts, err)))
        goto fail;
    if (docs_office_signing(rc->office, &rc->signer, &rc->seal_image, err) != TB_OK)
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
    typeface_free(rc->tf);
    tb_arena_free(rc->arena);
    free(rc);
}

const char *
render_ctx_signer_name(const render_ctx *rc)
{
    return pdfsig_signer_name(rc->signer);
}
