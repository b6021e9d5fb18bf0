/* Reading patches from any OGR vector file (GeoPackage, Shapefile, GeoJSON, FileGDB, CSV with a
 * WKT column) with the standard field names or their aliases (DESIGN §4), or a mapping profile's.
 * Geometries come out in CGCS2000 lon/lat (EPSG:4490) whatever the file's CRS, with their area
 * computed on the CGCS2000 ellipsoid.  Text is UTF-8: a Shapefile's .cpg is honoured, without
 * one GBK vs UTF-8 is detected from the bytes, --encoding overrides; text that does not decode is
 * an error.  Every problem of a record is reported (not just the first) with file, record
 * number, patch id and field.  GDAL vector lives only in this module. */
#ifndef TB_PATCH_SOURCE_H
#define TB_PATCH_SOURCE_H

#include "field_mapping.h"
#include "patch.h"
#include "tb_arena.h"
#include "tb_err.h"

#include <stdbool.h>

typedef struct ingest_options {
    const char *layer;            /* NULL = the first layer */
    const char *srs;              /* e.g. "EPSG:4548": assigned to a file without a CRS */
    const char *encoding;         /* "GBK" or "UTF-8": overrides .cpg and detection */
    const field_mapping *mapping; /* NULL = standard names and aliases only */
    bool repair;                  /* make invalid geometries valid (GEOS MakeValid) */
    const char *const *drivers;   /* OGR driver short names allowed to open the file, NULL-
                                   * terminated; NULL = any (uploads pass a short list: a VRT
                                   * or /vsicurl/ must never be followed) */
} ingest_options;

typedef enum ingest_severity { INGEST_ERROR, INGEST_WARNING, INGEST_REPAIRED } ingest_severity;

typedef struct ingest_problem {
    ingest_severity severity;
    long record;          /* 1-based; 0 = the file as a whole */
    const char *patch_id; /* NULL when unknown */
    const char *field;    /* standard field name, "geometry", or NULL */
    const char *message;
    double area_before_m2, area_after_m2; /* INGEST_REPAIRED only */
} ingest_problem;

/* What reading a file found: file facts, and every error, warning and repair. */
typedef struct ingest_report {
    const char *file, *layer, *driver, *srs;
    const char *encoding;      /* how text was decoded */
    const char *encoding_note; /* how that was decided ("from .cpg", "detected", "--encoding") */
    long records;              /* records read */
    long errors, warnings, repaired;
    ingest_problem *items;     /* the first INGEST_REPORT_MAX problems */
    size_t count, cap;
    tb_arena *arena;           /* owns everything above */
} ingest_report;

enum { INGEST_REPORT_MAX = 10000 };

ingest_report *ingest_report_new(tb_arena *a);
/* Adds a problem (counted always; kept while fewer than INGEST_REPORT_MAX are): returns the kept
 * item, or NULL. */
ingest_problem *ingest_report_add(ingest_report *r, ingest_severity sev, long record,
                                  const char *patch_id, const char *field, const char *fmt, ...)
    TB_PRINTF(6, 7);

typedef struct patch_source patch_source; /* opaque: hides GDAL handles */

/* Opens path and maps its fields; file-level facts go into report.  A file that cannot be read
 * at all (missing, not vector, missing required fields — listing the fields the file has, no
 * CRS without --srs) is NULL with err set.  Owned: patch_source_close. */
patch_source *patch_source_open(const char *path, const ingest_options *opt,
                                ingest_report *report, tb_err *err);

/* Reads the next record into *out (strings and geometry owned by a).  Returns 1 when a good
 * patch was read, 2 when the record had errors (all of them added to report; *out is partial),
 * 0 at the end, -1 when reading failed (err set). */
int patch_source_next(patch_source *src, tb_arena *a, patch *out, ingest_report *report,
                      tb_err *err);

/* Number of records in the layer, or -1 if the driver cannot tell cheaply. */
long patch_source_count(patch_source *src);

void patch_source_close(patch_source *src); /* NULL ok */

/* Area of a WKB (Multi)Polygon in lon/lat on the CGCS2000 ellipsoid, in m² (holes subtracted). */
double ingest_ellipsoid_area_m2(const unsigned char *wkb, size_t wkb_len);

/* A loaded set of patches (the whole file, checked). */
typedef struct patch_set {
    patch *items;
    size_t count;
} patch_set;

/* Reads and checks every record of path into a, refusing duplicate ids: all-or-nothing.  On
 * error err holds the first problem and how many more there are. */
patch_set *patch_set_load(const char *path, const char *layer_name, tb_arena *a, tb_err *err);

#endif
