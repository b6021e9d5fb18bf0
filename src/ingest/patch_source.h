/* Reading patches from any OGR vector file (GeoPackage, Shapefile, GeoJSON, FileGDB, CSV+WKT)
 * with the standard field names or their aliases (DESIGN §4).  Geometries come out in CGCS2000
 * lon/lat (EPSG:4490) whatever the file's CRS; a Shapefile's .cpg is honoured (GDAL recodes to
 * UTF-8).  GDAL vector lives only in this module. */
#ifndef TB_PATCH_SOURCE_H
#define TB_PATCH_SOURCE_H

#include "patch.h"
#include "tb_arena.h"
#include "tb_err.h"

typedef struct patch_source patch_source; /* opaque: hides GDAL handles */

/* Opens path (layer_name NULL = first layer) and maps its fields.  A missing required field is
 * TB_EFORMAT with a message listing the fields the file does have.  Owned: patch_source_close. */
patch_source *patch_source_open(const char *path, const char *layer_name, tb_err *err);

/* Reads the next record into *out (strings and geometry owned by a).  Returns 1 when a patch was
 * read, 0 at the end, -1 on error (err names file, record, patch id and field). */
int patch_source_next(patch_source *src, tb_arena *a, patch *out, tb_err *err);

/* Number of records in the layer, or -1 if the driver cannot tell cheaply. */
long patch_source_count(patch_source *src);

void patch_source_close(patch_source *src); /* NULL ok */

/* A loaded set of patches (the whole file, checked). */
typedef struct patch_set {
    patch *items;
    size_t count;
} patch_set;

/* Reads every record of path into a (all-or-nothing: on error nothing is returned, and err
 * names the first bad record). */
patch_set *patch_set_load(const char *path, const char *layer_name, tb_arena *a, tb_err *err);

#endif
