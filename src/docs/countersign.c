#include "tb_features.h"

#include "countersign.h"

#include "docs_int.h"
#include "units.h"

enum { MAX_SEALS = 16 }; /* seals looked at when finding room for one more */

static bool
overlaps(const pdfsig_place *a, int page, double x, double y, double d)
{
    return a->page == page && x < a->x_pt + a->w_pt && a->x_pt < x + d && y < a->y_pt + a->h_pt &&
           a->y_pt < y + d;
}

/* Beside the first seal: left of it at its height (the township's side of a form), else right,
 * else further left, else above or below; the first spot inside the page's margins (20 mm) that
 * no seal covers goes into f.  f is left as it was when there is no seal or no room. */
static tb_code
beside_first(const tb_buf *pdf, double d, pdfsig_field *f, tb_err *err)
{
    pdfsig_place seals[MAX_SEALS];
    int n = 0;
    tb_code rc = pdfsig_places(pdf->data, pdf->len, seals, MAX_SEALS, &n, err);
    if (rc != TB_OK || n == 0)
        return rc;
    const pdfsig_place *s = &seals[0];
    const double gap = units_mm_to_pt(4), margin = units_mm_to_pt(20);
    const double mid_y = s->y_pt + (s->h_pt - d) / 2;
    const double spots[][2] = {
        {s->x_pt - gap - d, mid_y},
        {s->x_pt + s->w_pt + gap, mid_y},
        {s->x_pt - 2 * (gap + d), mid_y},
        {s->x_pt + (s->w_pt - d) / 2, s->y_pt + s->h_pt + gap},
        {s->x_pt + (s->w_pt - d) / 2, s->y_pt - gap - d},
    };
    for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
        double x = spots[i][0], y = spots[i][1];
        if (x < margin || y < margin || x + d > GW_PAGE_W_PT - margin ||
            y + d > GW_PAGE_H_PT - margin)
            continue;
        bool free = true;
        for (int k = 0; k < n && free; k++)
            free = !overlaps(&seals[k], s->page, x, y, d);
        if (free) {
            f->page = s->page, f->x_pt = x, f->y_pt = y;
            break;
        }
    }
    return TB_OK;
}

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
    if (opt->beside && (rc = beside_first(pdf, d, &f, err)) != TB_OK)
        goto done;
    rc = pdfsig_sign(pdf, signer, &f, err);
done:
    pdfsig_signer_free(signer);
    pdfsig_image_free(seal);
    tb_arena_free(a);
    return rc;
}
