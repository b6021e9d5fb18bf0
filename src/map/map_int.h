/* Private to src/map: the raster side (map_view.c) as the drawer (map_panel.c, map_draw.c)
 * uses it.  GDAL types appear here and nowhere outside src/map. */
#ifndef TB_MAP_INT_H
#define TB_MAP_INT_H

#include "map_view.h"

#include <cairo.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdbool.h>

#define MAP_MAX_VIEWS 8
#define MAP_MAX_PIXELS (40.0 * 1000 * 1000)
#define MAP_FONT "Noto Sans CJK SC"
#define MAP_GREY 0xD9            /* neutral grey: nodata, and frames without imagery */
#define MAP_JPEG_QUALITY "QUALITY=85"
#define MAP_GEO_EPSG 4490        /* CGCS2000 geographic */
#define MAP_GK_EPSG_75E 4534     /* CGCS2000 / 3-degree Gauss-Kruger CM 75E; +1 per 3 degrees */

typedef enum map_mode { MAP_RGB, MAP_GREY_BAND, MAP_PALETTE } map_mode;

/* One drawing CRS (a CGCS2000 Gauss-Krüger zone): the dataset to read in it and the transforms
 * to and from EPSG:4490. */
typedef struct map_view {
    int key;                               /* EPSG of the drawing CRS */
    GDALDatasetH ds;                       /* NULL without basemap */
    bool owns_ds;                          /* true for a warped VRT */
    double gt[6];
    int nx, ny;
    OGRCoordinateTransformationH from_geo; /* EPSG:4490 -> drawing CRS */
    OGRCoordinateTransformationH to_geo;   /* drawing CRS -> EPSG:4490 */
    double unit_m;                         /* metres per drawing CRS unit */
} map_view;

struct map_basemap {
    char *path;
    GDALDatasetH ds;
    OGRSpatialReferenceH srs; /* traditional GIS axis order */
    bool north_up; /* geotransform without rotation, rows going south */
    map_mode mode;
    int bands[3];  /* source bands for R, G, B (same band thrice for grey / palette) */
    int alpha;     /* source alpha band (last band only), 0 if none */
    double lo[3], gain[3]; /* linear stretch to 0..255 for non-Byte bands */
    unsigned char lut[256][3];
    double foot[4]; /* footprint: min lon, min lat, max lon, max lat (EPSG:4490) */
    map_view views[MAP_MAX_VIEWS];
    int nviews;
};

/* Where the map extent sits: drawing CRS extent and its mapping to the frame. */
typedef struct map_extent {
    double minx, miny, maxx, maxy;
    double s; /* points per CRS unit */
    double x0, y0;
} map_extent;

void map_gdal_init(void);    /* GDALAllRegister once per process */
const char *map_cpl_msg(void);

/* The view of bm in the drawing CRS epsg (cached); bm NULL: a view without imagery that the
 * caller releases with map_view_release. */
map_view *map_basemap_view(map_basemap *bm, int epsg, tb_err *err);
tb_code map_view_init(map_view *v, map_basemap *bm, int epsg, tb_err *err);
void map_view_release(map_view *v);

/* Fills surf (RGB24, pre-filled grey) with bm's imagery over extent e; *covered is set when any
 * imagery falls inside. */
tb_code map_image_read(map_basemap *bm, const map_view *v, const map_extent *e,
                       cairo_surface_t *surf, bool *covered, tb_err *err);
/* Encodes the RGB24 surface as JPEG and attaches it as the surface's JPEG mime data. */
tb_code map_image_attach_jpeg(cairo_surface_t *surf, tb_err *err);

#endif
