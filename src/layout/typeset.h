/* Typesetting a bound document (model/doctree.h) onto GB/T 9704 pages: the one entry point the
 * document builders use.  The tree says what each element is; this module decides where it goes
 * (DESIGN §6) and writes the PDF.  Pictures (maps, charts) are drawn by the caller's drawer into
 * the rectangle the typesetter gives them. */
#ifndef TB_TYPESET_H
#define TB_TYPESET_H

#include "doctree.h"
#include "gongwen.h" /* page geometry, gw_rect */
#include "tb_buf.h"
#include "tb_err.h"
#include "typeface.h"

#include <cairo.h>

/* Draws one panel of a figure into the rectangle (cairo user space, origin top-left, points).
 * cr's state is saved and restored around the call. */
typedef tb_code typeset_draw_fn(void *user, cairo_t *cr, const dt_panel *panel, double x_pt,
                                double y_pt, double w_pt, double h_pt, tb_err *err);

typedef struct typeset_options {
    typeset_draw_fn *draw;   /* NULL: figures are left blank */
    void *draw_user;
    cairo_surface_t *seal;   /* drawn into the seal's place when not NULL (borrowed) */
    double seal_diameter_mm; /* the seal's size, for its place even when seal is NULL */
} typeset_options;

typedef struct typeset_result {
    int page_count;
    gw_rect seal; /* the seal's place (PDF user space); page 0 when the document has none */
} typeset_result;

/* Sets doc and appends the PDF to out.  Errors name the element (and its record and field) that
 * could not be set: a document over its page limit is TB_ELIMIT. */
tb_code typeset_doc(const typeface *tf, const dt_doc *doc, const typeset_options *opt,
                    tb_buf *out, typeset_result *res, tb_err *err) TB_MUST_CHECK;

#endif
