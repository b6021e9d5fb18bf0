#include "tb_features.h"

#include "countersign.h"

#include "docs_int.h"
#include "units.h"

tb_code
countersign(const char *office_dir, tb_buf *pdf, const countersign_options *opt, tb_err *err)
{
    tb_arena *a = tb_arena_new(0);
    pdfsig_signer *signer = NULL;
    pdfsig_image *seal = NULL;
    tb_code rc;
    const tpl_office *o = tpl_office_load(office_dir, a, err);
    if (o == NULL) {
        rc = err->code;
        goto done;
    }
    if ((rc = docs_office_signing(o, &signer, &seal, err)) != TB_OK)
        goto done;
    double d = units_mm_to_pt(o->seal_diameter_mm);
    pdfsig_field f = {
        .page = opt->page,
        .x_pt = units_mm_to_pt(opt->x_mm),
        .y_pt = units_mm_to_pt(opt->y_mm),
        .w_pt = d,
        .h_pt = d,
        .name = NULL, /* the next free SealN */
        .reason = opt->reason,
        .location = o->county_name,
        .signing_time = opt->signing_time,
        .appearance = seal,
        .tsa_url = o->tsa_url,
    };
    rc = pdfsig_sign(pdf, signer, &f, err);
done:
    pdfsig_signer_free(signer);
    pdfsig_image_free(seal);
    tb_arena_free(a);
    return rc;
}
