/* What an office gives its maps (the imagery catalogue, imagery.xml): dated rasters and vector
 * layers, plus the township a township-overview map panel stands for.  Plain values, filled by
 * src/template from the office folder and read by src/map; strings are owned by the builder. */
#ifndef TB_MAP_SOURCES_H
#define TB_MAP_SOURCES_H

#include "cn_date.h"
#include "patch.h"

#include <stdbool.h>
#include <stddef.h>

/* One raster of the catalogue. */
typedef struct map_image_source {
    const char *path;      /* resolved; any raster GDAL reads (GeoTIFF/COG, GPKG tiles, MBTiles) */
    cn_date date;          /* acquisition date; year 0 = undated (a plain basemap) */
    const char *label;     /* sensor or source, e.g. "GF-2"; NULL = none */
    bool has_footprint;    /* else the raster's own extent is its footprint */
    double min_lon, min_lat, max_lon, max_lat; /* footprint, EPSG:4490 */
    int bands[3];          /* source bands shown as R, G, B; 0 = from the colour interpretation */
    bool has_stretch;      /* linear stretch of every shown band: lo -> 0, hi -> 255 */
    double stretch_lo, stretch_hi;
} map_image_source;

typedef enum map_layer_role {
    MAP_LAYER_TOWNSHIP,  /* 乡镇界: township boundaries, keyed by code */
    MAP_LAYER_FARMLAND,  /* 永久基本农田: hatched overlay */
    MAP_LAYER_OTHER      /* any other layer the office names (a panel asks for it by name) */
} map_layer_role;

/* One vector layer (any OGR source: GeoPackage, Shapefile, GeoJSON ...). */
typedef struct map_layer_source {
    map_layer_role role;
    const char *name;        /* the name a panel's layers="…" uses; "township" / "farmland" for
                              * those roles */
    const char *title;       /* legend text, e.g. 永久基本农田; NULL = name */
    const char *path;        /* resolved */
    const char *layer;       /* layer inside the source; NULL = the first */
    const char *key_field;   /* TOWNSHIP: the field holding the 9-digit code; NULL = XZQDM */
    const char *label_field; /* labels drawn at features; NULL = none */
    unsigned colour;         /* 0xRRGGBB */
} map_layer_source;

typedef enum map_grid_units { MAP_GRID_DEGREES = 0, MAP_GRID_METRES } map_grid_units;

typedef struct map_sources {
    const map_image_source *images;
    size_t image_count;
    const map_layer_source *layers;
    size_t layer_count;
    map_grid_units grid;     /* coordinate ticks: CGCS2000 degrees or Gauss-Krüger metres */
} map_sources;

/* The datum of a township-overview map panel (view="overview"): one township and its patches. */
typedef struct map_township {
    const char *code;        /* 9-digit XZQDM */
    const char *name;        /* 城关镇 */
    const patch *const *patches;
    size_t count;
} map_township;

#endif
