/* Charts for documents (dt_panel of kind "chart"): grouped bar charts drawn straight into the
 * page's cairo context, all vector, in the office's body font so they print like the text around
 * them.  No document knowledge: the panel's datum is a model/chart_data.h value. */
#ifndef TB_CHART_H
#define TB_CHART_H

#include "chart_data.h"
#include "doctree.h"
#include "tb_err.h"

#include <cairo.h>
#include <pango/pangocairo.h>

/* Draws panel (kind "chart", datum a const chart_data *) into (x, y, w, h) of cr (points).
 * Attributes, all optional:
 *   type    bar (the only one so far)
 *   font    a font family for labels (default: Pango's "Sans")
 * Text is laid out with context (a Pango context of the caller's font map; NULL = one made from
 * cr).  Errors: TB_EFORMAT for an unknown attribute or value, a missing datum, or series whose
 * values are not finite or negative.  cr's state is restored on return. */
tb_code chart_panel_draw(cairo_t *cr, PangoContext *context, const dt_panel *panel, double x,
                         double y, double w, double h, tb_err *err) TB_MUST_CHECK;

/* The round step of an axis that shows 0..max in about `ticks` steps: 1, 2, 2.5 or 5 × 10^k. */
double chart_axis_step(double max, int ticks);

#endif
