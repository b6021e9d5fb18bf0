/* Map panels: the frames a document's figures ask for (dt_panel of kind "map"), drawn straight
 * into the page's cairo context: imagery as JPEG at the panel's resolution, everything else
 * vector.  No document knowledge here: the panel's attributes say what to draw. */
#ifndef MAP_PANEL_H
#define MAP_PANEL_H

#include "doctree.h"
#include "map_sources.h"
#include "patch.h"
#include "tb_err.h"
#include "tb_features.h"

#include <cairo.h>
#include <pango/pango.h>
#include <stddef.h>

/* The office's imagery and layers, opened once for many documents.  Not thread-safe. */
typedef struct map_ctx map_ctx;

/* Opens every raster of src's catalogue and basemap_path (an undated basemap; NULL = none) and
 * reads every vector layer (into memory, as CGCS2000 lon/lat).  src may be NULL.  Imagery that
 * cannot serve as a picture is refused as map_basemap_open_source says; a vector layer that
 * cannot be read is TB_ENOTFOUND / TB_EFORMAT naming the file and layer. */
map_ctx *map_ctx_open(const map_sources *src, const char *basemap_path, tb_err *err)
    TB_MUST_CHECK;
void map_ctx_close(map_ctx *mc);

/* Labels, scale bar and legend set in font (family and weight; sizes are the map's own) from
 * context's font map: the document's 黑体, so a PDF carries one subset of it, not a second one
 * from Pango's default font map.  Both are referenced/copied; context NULL = MAP_FONT from the
 * default font map (the panel's cairo context). */
void map_ctx_set_label_font(map_ctx *mc, PangoContext *context, const PangoFontDescription *font);

/* Whether the catalogue has dated images (then a panel without attributes is a before/after
 * pair). */
bool map_ctx_has_dates(const map_ctx *mc);

/* Patches drawn as neighbours (thin, with their ids) in patch frames; the array and patches
 * must outlive the draws that follow.  NULL / 0 = none. */
void map_ctx_set_neighbours(map_ctx *mc, const patch *const *patches, size_t count);

/* Draws panel (kind "map") into rectangle (x, y, w, h) of cr, in cr's user units (points).
 * panel->datum is the const patch * (views location, before, after) or the const map_township *
 * (view overview).  Attributes, all optional (see docs/maps.md):
 *   view        location | before | after | overview; none: a before/after pair side by side
 *               when the catalogue has dated images, else location
 *   scale       fit | 1:N (fit: the next round scale that shows the subject with its margin)
 *   margin      fit margin on each side, as a fraction of the subject's size (default 0.35)
 *   layers      space-separated: imagery outline neighbours township farmland, and the names of
 *               the office's other layers (default: all but the other layers)
 *   decorations space-separated: scale north grid legend inset caption (default: all; inset
 *               only for single frames)
 *   dpi         resolution of the imagery at print size, 50..600 (default 200)
 * An unknown attribute or value is TB_EFORMAT naming it.  A frame whose imagery does not cover
 * the subject is drawn grey with a visible 无影像覆盖.  cr's state is restored on return. */
tb_code map_panel_draw(map_ctx *mc, cairo_t *cr, const dt_panel *panel, double x, double y,
                       double w, double h, tb_err *err) TB_MUST_CHECK;

#endif
