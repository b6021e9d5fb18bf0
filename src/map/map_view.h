/* The patch map: a basemap raster window around one patch, drawn into a cairo context with the
 * patch outline, scale bar, north arrow and label.  GDAL stays behind this header. */
#ifndef MAP_VIEW_H
#define MAP_VIEW_H

#include "tb_err.h"
#include "tb_features.h"

#include <cairo.h>
#include <stddef.h>

/* An opened raster (GeoTIFF/COG/any GDAL raster), reusable across many frames.  Keeps the
 * dataset open and caches one warped view per drawing CRS.  Not thread-safe: use one per
 * thread. */
typedef struct map_basemap map_basemap;

/* Opens the raster at path (any GDAL raster name, /vsi paths included).  Fails with
 * TB_ENOTFOUND if path does not exist, TB_EFORMAT (naming the file) if GDAL cannot read it as a
 * raster or it has no CRS or no geotransform.  Returns NULL on failure.  Close with
 * map_basemap_close. */
map_basemap *map_basemap_open(const char *path, tb_err *err) TB_MUST_CHECK;

/* Closes the raster and every cached view.  NULL ok. */
void map_basemap_close(map_basemap *bm);

typedef struct map_frame {
    double x_pt, y_pt, w_pt, h_pt; /* where to draw on the cairo context (user units, origin
                                      top-left as cairo) */
    double dpi;                    /* resolution of the embedded image, e.g. 200 (0 -> 200) */
    double margin_ratio;           /* extra extent on each side of the patch bbox, as a fraction
                                      of its size, e.g. 0.35 (0 -> default 0.35) */
} map_frame;

/* Draws a map of one patch into frame f of cr:
 *   - the basemap window around the patch, read at the frame's pixel size (w_pt/72*dpi) with
 *     bilinear resampling; drawn in the basemap CRS if it is projected, else in the CGCS2000
 *     3-degree Gauss-Kruger zone of the patch (warped view, cached per zone).  When the target
 *     surface takes JPEG (PDF) the image is attached as JPEG (quality 85);
 *   - the patch outline in red, 2 pt, no fill;
 *   - a scale bar with a round length in metres (geodesic, at the map centre);
 *   - a north arrow (grid north, drawn up), a thin black border, and label_utf8 (may be NULL or
 *     empty) in a box at the top-left corner, in Noto Sans CJK SC.
 * wkb is an (ISO or OGC) Polygon or MultiPolygon in EPSG:4490, x = longitude, y = latitude.
 * bm may be NULL, and a patch outside the basemap is not an error: the frame is then grey with
 * the outline and the note "无影像".  cr's state is restored on return.
 * Errors: TB_EINVAL for a bad frame, TB_EFORMAT for bad WKB or a non-polygon, TB_ELIMIT for an
 * image over 40 megapixels, TB_ELIB when GDAL/PROJ/cairo fail. */
tb_code map_draw_patch(cairo_t *cr, map_basemap *bm, const unsigned char *wkb, size_t wkb_len,
                       const char *label_utf8, const map_frame *f, tb_err *err) TB_MUST_CHECK;

#endif
