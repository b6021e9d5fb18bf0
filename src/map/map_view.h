/* Map imagery: an opened raster, ready to be drawn into map frames.  GDAL stays behind this
 * header; map_panel.h draws the frames. */
#ifndef MAP_VIEW_H
#define MAP_VIEW_H

#include "map_sources.h"
#include "tb_err.h"
#include "tb_features.h"

#include <stdbool.h>
#include <stddef.h>

/* An opened raster (GeoTIFF/COG, GeoPackage tiles, MBTiles: any GDAL raster), reusable across
 * many frames.  Keeps the dataset open and caches one warped view per drawing CRS.  Not
 * thread-safe: use one per thread. */
typedef struct map_basemap map_basemap;

/* Opens src->path with src's band order and stretch and checks that it can serve as a picture:
 * TB_ENOTFOUND if the file does not exist; TB_EFORMAT, with a sentence naming the file and what
 * is wrong, if GDAL cannot read it, it has no georeferencing, its coordinate system cannot be
 * taken to CGCS2000, a configured band does not exist, or it is one floating-point band (an
 * elevation model) without a declared stretch.  Returns NULL on failure. */
map_basemap *map_basemap_open_source(const map_image_source *src, tb_err *err) TB_MUST_CHECK;

/* The same with automatic bands and stretch. */
map_basemap *map_basemap_open(const char *path, tb_err *err) TB_MUST_CHECK;

/* Closes the raster and every cached view.  NULL ok. */
void map_basemap_close(map_basemap *bm);

/* Whether the footprint (declared, else the raster's extent) contains the lon/lat box. */
bool map_basemap_covers(const map_basemap *bm, double min_lon, double min_lat, double max_lon,
                        double max_lat);

#endif
