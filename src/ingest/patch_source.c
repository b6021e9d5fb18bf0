/* DESIGN: the field map is a table of standard names, each with its aliases (pinyin codes used
 * by the Ministry's and the provinces' exports, and Chinese column titles), which a mapping
 * profile can extend.  Opening a file resolves every standard name to a column once; reading a
 * record converts and checks values, collecting every problem of the record into the report
 * instead of stopping at the first, so a clerk can fix a file in one pass.  Geometries are
 * checked (GEOS through OGR), optionally repaired, transformed to EPSG:4490 (lon, lat) and
 * measured on the CGCS2000 ellipsoid here, so the rest of the program never sees another CRS. */
#include "tb_features.h"

#include "patch_source.h"

#include "tb_buf.h"
#include "tb_strset.h"
#include "tb_utf8.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <ctype.h>
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum { MAX_VERTICES = 1000000 }; /* per patch: beyond this a record is refused (TB_ELIMIT) */

typedef enum field_id {
    F_ID, F_ADMIN_CODE, F_ADMIN_NAME, F_YEAR, F_QUARTER, F_AREA, F_FARMLAND, F_BASIC_FARMLAND,
    F_IMAGE_BEFORE, F_IMAGE_AFTER, F_KIND, F_LEGALITY, F_VIOLATION, F_APPROVAL, F_MEASURE,
    F_STATE, F_DEADLINE, F_RURAL_HOUSING, F_EARLIER_ID, F_MILITARY, F_COUNT
} field_id;

static const struct field_spec {
    const char *name;
    bool required;
    const char *aliases[6]; /* NULL-terminated */
} field_specs[F_COUNT] = {
    [F_ID] = {"JCBH", true, {"TBBH", "YSTBBH", "监测编号", "图斑编号", NULL}},
    [F_ADMIN_CODE] = {"XZQDM", true, {"XDM", "SDM", "CDM", "行政区代码", NULL}},
    [F_ADMIN_NAME] = {"XZQMC", false, {"XMC", "行政区名称", NULL}},
    [F_YEAR] = {"NF", false, {"年份", NULL}},
    [F_QUARTER] = {"JD", false, {"季度", NULL}},
    [F_AREA] = {"JCMJ", true, {"监测面积", NULL}},
    [F_FARMLAND] = {"JCGDMJ", false, {"GDMJ", "监测耕地面积", "耕地面积", NULL}},
    [F_BASIC_FARMLAND] = {"YJJBNTMJ", false, {"永久基本农田面积", NULL}},
    [F_IMAGE_BEFORE] = {"QSX", false, {"前时相", NULL}},
    [F_IMAGE_AFTER] = {"HSX", false, {"后时相", NULL}},
    [F_KIND] = {"TBLX", false, {"图斑类型", NULL}},
    [F_LEGALITY] = {"PDJG", true, {"PDLX", "HFXPD", "合法性判定结果", "判定结果", NULL}},
    [F_VIOLATION] = {"WFLX", false, {"违法类型", NULL}},
    [F_APPROVAL] = {"PZWH", false, {"批准文号", NULL}},
    [F_MEASURE] = {"ZGCS", false, {"整改措施", NULL}},
    [F_STATE] = {"ZGZT", false, {"整改状态", NULL}},
    [F_DEADLINE] = {"ZGQX", false, {"整改期限", NULL}},
    [F_RURAL_HOUSING] = {"SFNCLZGDJF", false, {"是否农村乱占耕地建房", NULL}},
    [F_EARLIER_ID] = {"TYWZJCTBWQBH", false, {"TYWZJCTBWQ", "同一位置往期图斑编号", NULL}},
    [F_MILITARY] = {"SFJYTD", false, {"是否军用土地", "军用土地", NULL}},
};

#define GEOMETRY_FIELD "geometry"

struct patch_source {
    char *path;
    GDALDatasetH ds;
    OGRLayerH layer;                 /* borrowed from ds */
    OGRCoordinateTransformationH ct; /* NULL when the layer is already EPSG:4490 */
    int field_index[F_COUNT];        /* -1 = absent */
    const field_mapping *mapping;
    bool repair;
    long record;                     /* records read so far */
};

/* ---- report --------------------------------------------------------------------------------- */

ingest_report *
ingest_report_new(tb_arena *a)
{
    ingest_report *r = tb_arena_alloc(a, sizeof *r);
    r->arena = a;
    return r;
}

ingest_problem *
ingest_report_add(ingest_report *r, ingest_severity sev, long record, const char *patch_id,
                  const char *field, const char *fmt, ...)
{
    if (sev == INGEST_ERROR)
        r->errors++;
    else if (sev == INGEST_WARNING)
        r->warnings++;
    else
        r->repaired++;
    if (r->count >= INGEST_REPORT_MAX)
        return NULL; /* counted, not kept: the first ten thousand are enough to act on */
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        ingest_problem *items = tb_arena_array(r->arena, cap, sizeof *items);
        if (r->count)
            memcpy(items, r->items, r->count * sizeof *items);
        r->items = items;
        r->cap = cap;
    }
    ingest_problem *p = &r->items[r->count++];
    p->severity = sev;
    p->record = record;
    p->patch_id = tb_arena_strdup(r->arena, patch_id);
    p->field = field;
    va_list ap;
    va_start(ap, fmt);
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* Messages quote the file's own text, which may not decode, and may be cut mid-character. */
    char *clean = tb_utf8_sanitize(buf);
    p->message = tb_arena_strdup(r->arena, clean);
    free(clean);
    return p;
}

/* ---- GDAL messages -------------------------------------------------------------------------- */

/* Collects GDAL warnings (GEOS validity reasons, recoding failures) while a call runs. */
struct gdal_messages {
    char first[256];
    int count;
};

static void CPL_STDCALL
collect_gdal_message(CPLErr level, CPLErrorNum num, const char *msg)
{
    (void)num;
    struct gdal_messages *m = CPLGetErrorHandlerUserData();
    if (level < CE_Warning || m == NULL)
        return;
    if (m->count++ == 0)
        snprintf(m->first, sizeof m->first, "%s", msg);
}

static void
messages_begin(struct gdal_messages *m)
{
    m->first[0] = '\0';
    m->count = 0;
    CPLPushErrorHandlerEx(collect_gdal_message, m);
}

static void
messages_end(void)
{
    CPLPopErrorHandler();
}

/* ---- opening -------------------------------------------------------------------------------- */

static bool
name_matches(const char *column, const char *name)
{
    return strcasecmp(column, name) == 0;
}

static int
find_column(OGRFeatureDefnH defn, const char *name)
{
    for (int i = 0; i < OGR_FD_GetFieldCount(defn); i++)
        if (name_matches(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)), name))
            return i;
    return -1;
}

static tb_code
map_fields(patch_source *src, const field_mapping *mapping, tb_err *err)
{
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(src->layer);
    for (int f = 0; f < F_COUNT; f++) {
        src->field_index[f] = find_column(defn, field_specs[f].name);
        for (int k = 0; src->field_index[f] < 0 && field_specs[f].aliases[k]; k++)
            src->field_index[f] = find_column(defn, field_specs[f].aliases[k]);
    }
    /* A profile's renames win over the defaults. */
    for (size_t i = 0; mapping && i < mapping->rename_count; i++) {
        const field_rename *r = &mapping->renames[i];
        int f;
        for (f = 0; f < F_COUNT; f++)
            if (strcmp(field_specs[f].name, r->field) == 0)
                break;
        if (f == F_COUNT)
            return tb_err_set(err, TB_EFORMAT, "mapping profile %s: '%s' is not a standard "
                              "field name", mapping->name, r->field);
        int col = find_column(defn, r->column);
        if (col < 0)
            return tb_err_set(err, TB_EFORMAT, "mapping profile %s: %s maps to column '%s', "
                              "which %s does not have", mapping->name, r->field, r->column,
                              src->path);
        src->field_index[f] = col;
    }
    tb_buf missing = TB_BUF_INIT;
    for (int f = 0; f < F_COUNT; f++)
        if (src->field_index[f] < 0 && field_specs[f].required)
            tb_buf_printf(&missing, "%s%s", missing.len ? ", " : "", field_specs[f].name);
    if (missing.len == 0)
        return TB_OK;
    tb_buf have = TB_BUF_INIT;
    for (int i = 0; i < OGR_FD_GetFieldCount(defn); i++)
        tb_buf_printf(&have, "%s%s", i ? ", " : "",
                      OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)));
    tb_code rc = tb_err_set(err, TB_EFORMAT,
                            "%s: missing required field(s) %s; the file has: %s", src->path,
                            (char *)missing.data, have.len ? (char *)have.data : "(no fields)");
    tb_buf_release(&missing);
    tb_buf_release(&have);
    return rc;
}

static tb_code
setup_transform(patch_source *src, const char *srs_override, ingest_report *report,
                tb_err *err)
{
    OGRSpatialReferenceH from = OGR_L_GetSpatialRef(src->layer); /* borrowed */
    OGRSpatialReferenceH given = NULL;
    if (srs_override) {
        given = OSRNewSpatialReference(NULL);
        if (OSRSetFromUserInput(given, srs_override) != OGRERR_NONE) {
            OSRDestroySpatialReference(given);
            return tb_err_set(err, TB_EINVAL, "--srs %s: not a coordinate reference system GDAL "
                              "knows", srs_override);
        }
        if (from && !OSRIsSame(from, given))
            ingest_report_add(report, INGEST_WARNING, 0, NULL, GEOMETRY_FIELD,
                              "the file declares a different CRS; --srs %s was used instead",
                              srs_override);
        from = given;
    }
    if (from == NULL)
        return tb_err_set(err, TB_EFORMAT,
                          "%s: the layer has no coordinate reference system (a Shapefile needs "
                          "its .prj; give one with --srs EPSG:n)",
                          src->path);
    const char *auth = OSRGetAuthorityName(from, NULL), *code = OSRGetAuthorityCode(from, NULL);
    report->srs = auth && code ? tb_arena_printf(report->arena, "%s:%s", auth, code)
                               : tb_arena_strdup(report->arena, OSRGetName(from));
    OGRSpatialReferenceH to = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(to, 4490);
    OSRSetAxisMappingStrategy(to, OAMS_TRADITIONAL_GIS_ORDER);
    tb_code rc = TB_OK;
    OGRSpatialReferenceH from_gis = OSRClone(from);
    OSRSetAxisMappingStrategy(from_gis, OAMS_TRADITIONAL_GIS_ORDER);
    if (!OSRIsSame(from_gis, to)) {
        CPLErrorReset();
        src->ct = OCTNewCoordinateTransformation(from_gis, to);
        if (src->ct == NULL)
            rc = tb_err_set(err, TB_EFORMAT, "%s: cannot transform from %s to CGCS2000 "
                            "(EPSG:4490): %s", src->path, report->srs, CPLGetLastErrorMsg());
    }
    OSRDestroySpatialReference(from_gis);
    OSRDestroySpatialReference(to);
    if (given)
        OSRDestroySpatialReference(given);
    return rc;
}

static bool
has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* GBK or UTF-8, from the bytes of a .dbf's records: any byte sequence that is not UTF-8 means
 * GBK (the encoding of Chinese systems' exports). */
static const char *
detect_dbf_encoding(const char *dbf_path)
{
    FILE *f = fopen(dbf_path, "rb");
    if (f == NULL)
        return "UTF-8";
    unsigned char head[32];
    size_t header_len = 0;
    if (fread(head, 1, sizeof head, f) == sizeof head)
        header_len = head[8] | (head[9] << 8);
    fseek(f, (long)header_len, SEEK_SET);
    tb_buf bytes = TB_BUF_INIT;
    unsigned char chunk[65536];
    size_t n;
    while (bytes.len < (64u << 20) && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        tb_buf_append(&bytes, chunk, n);
    fclose(f);
    bool utf8 = bytes.len == 0 || tb_utf8_valid((const char *)bytes.data, bytes.len);
    tb_buf_release(&bytes);
    return utf8 ? "UTF-8" : "GBK";
}

/* Decides a Shapefile's text encoding and returns the open options saying it. */
static char **
shapefile_options(const char *path, const char *forced, ingest_report *report)
{
    char *base = tb_arena_strndup(report->arena, path, strlen(path) - 4);
    const char *cpg = tb_arena_printf(report->arena, "%s.cpg", base);
    if (access(cpg, R_OK) != 0)
        cpg = tb_arena_printf(report->arena, "%s.CPG", base);
    if (forced) {
        report->encoding = forced;
        report->encoding_note = "given with --encoding";
    } else if (access(cpg, R_OK) == 0) {
        char line[64] = "";
        FILE *f = fopen(cpg, "r");
        if (f && fgets(line, sizeof line, f))
            line[strcspn(line, "\r\n")] = '\0';
        if (f)
            fclose(f);
        char *clean = tb_utf8_sanitize(line[0] ? line : "(empty .cpg)");
        report->encoding = tb_arena_strdup(report->arena, clean);
        free(clean);
        report->encoding_note = "as its .cpg says";
        return NULL; /* GDAL reads the .cpg itself */
    } else {
        const char *dbf = tb_arena_printf(report->arena, "%s.dbf", base);
        if (access(dbf, R_OK) != 0)
            dbf = tb_arena_printf(report->arena, "%s.DBF", base);
        report->encoding = detect_dbf_encoding(dbf);
        report->encoding_note =
            strcmp(report->encoding, "GBK") == 0
                ? "no .cpg: assumed GBK because the text is not valid UTF-8"
                : "no .cpg: assumed UTF-8 because the text is valid UTF-8";
    }
    char **opts = CSLSetNameValue(NULL, "ENCODING", report->encoding);
    return opts;
}

patch_source *
patch_source_open(const char *path, const ingest_options *opt, ingest_report *report,
                  tb_err *err)
{
    static const ingest_options defaults = {0};
    if (opt == NULL)
        opt = &defaults;
    GDALAllRegister(); /* idempotent and cheap after the first call */
    patch_source *src = tb_xcalloc(1, sizeof *src);
    src->path = tb_xstrdup(path);
    src->mapping = opt->mapping;
    src->repair = opt->repair;
    report->file = tb_arena_strdup(report->arena, path);
    report->encoding = "UTF-8";
    report->encoding_note = "the format stores UTF-8";

    char **open_opts = NULL;
    if (has_suffix(path, ".shp") || has_suffix(path, ".dbf")) {
        open_opts = shapefile_options(path, opt->encoding, report);
    } else if (has_suffix(path, ".csv")) {
        /* A CSV's geometry is a WKT column; it has no CRS, so --srs is needed. */
        open_opts = CSLSetNameValue(open_opts, "GEOM_POSSIBLE_NAMES",
                                    "WKT,geometry,geom,the_geom,SHAPE,几何");
        open_opts = CSLSetNameValue(open_opts, "KEEP_GEOM_COLUMNS", "NO");
        if (opt->encoding && strcasecmp(opt->encoding, "UTF-8") != 0) {
            CSLDestroy(open_opts);
            tb_err_set(err, TB_EINVAL, "%s: --encoding %s: CSV files must be UTF-8 (convert "
                       "with iconv -f %s -t UTF-8)", path, opt->encoding, opt->encoding);
            goto fail;
        }
    } else if (opt->encoding && strcasecmp(opt->encoding, "UTF-8") != 0) {
        tb_err_set(err, TB_EINVAL, "%s: --encoding %s applies to Shapefiles only; this format "
                   "stores UTF-8", path, opt->encoding);
        goto fail;
    }
    CPLErrorReset();
    src->ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, opt->drivers,
                         (const char *const *)open_opts, NULL);
    CSLDestroy(open_opts);
    if (src->ds == NULL) {
        if (access(path, R_OK) != 0)
            tb_err_set(err, TB_ENOTFOUND, "%s: no such file or not readable", path);
        else
            tb_err_set(err, TB_EFORMAT, "%s: not a vector file GDAL can read (%s)", path,
                       CPLGetLastErrorMsg()[0] ? CPLGetLastErrorMsg() : "unknown format");
        goto fail;
    }
    report->driver = GDALGetDriverShortName(GDALGetDatasetDriver(src->ds));
    src->layer = opt->layer ? GDALDatasetGetLayerByName(src->ds, opt->layer)
                            : GDALDatasetGetLayer(src->ds, 0);
    if (src->layer == NULL) {
        tb_err_set(err, TB_ENOTFOUND, "%s: no layer '%s'", path, opt->layer ? opt->layer : "#0");
        goto fail;
    }
    report->layer = tb_arena_strdup(report->arena, OGR_L_GetName(src->layer));
    if (map_fields(src, opt->mapping, err) != TB_OK ||
        setup_transform(src, opt->srs, report, err) != TB_OK)
        goto fail;
    OGR_L_ResetReading(src->layer);
    return src;

fail:
    patch_source_close(src);
    return NULL;
}

long
patch_source_count(patch_source *src)
{
    GIntBig n = OGR_L_GetFeatureCount(src->layer, /*force*/ 0);
    return n < 0 ? -1 : (long)n;
}

void
patch_source_close(patch_source *src)
{
    if (src == NULL)
        return;
    if (src->ct)
        OCTDestroyCoordinateTransformation(src->ct);
    if (src->ds)
        GDALClose(src->ds);
    free(src->path);
    free(src);
}

/* ---- areas ---------------------------------------------------------------------------------- */

/* Areas on the CGCS2000 ellipsoid.  Latitudes go to authalic latitudes β on the sphere of
 * radius Rq, a mapping that preserves area exactly; the ring is then projected with the
 * spherical Lambert azimuthal equal-area projection centred on its first vertex (also exact for
 * area) and measured in the plane.  The only approximation is a straight edge in a projection
 * barely distorted over a patch instead of the geodesic: it agrees with PROJ's geodesic polygon
 * area (the unit test's reference) to that method's own precision, about 0.01 m², at a few
 * trigonometric calls per vertex instead of an iterative geodesic per edge. */
#define CGCS2000_A 6378137.0
#define CGCS2000_F (1 / 298.257222101)

static double
authalic_q(double sin_lat)
{
    const double e2 = CGCS2000_F * (2 - CGCS2000_F), e = sqrt(e2);
    double s = sin_lat;
    return (1 - e2) * (s / (1 - e2 * s * s) - log((1 - e * s) / (1 + e * s)) / (2 * e));
}

static double
ring_area(OGRGeometryH ring)
{
    int n = OGR_G_GetPointCount(ring);
    if (n < 3)
        return 0;
    const double deg = M_PI / 180, qp = authalic_q(1.0);
    const double rq = CGCS2000_A * sqrt(qp / 2);
    double sin_b0 = authalic_q(sin(OGR_G_GetY(ring, 0) * deg)) / qp;
    double cos_b0 = sqrt(1 - sin_b0 * sin_b0), lon0 = OGR_G_GetX(ring, 0) * deg;
    double sum = 0, px = 0, py = 0; /* the first vertex projects to (0, 0) */
    for (int i = 1; i <= n; i++) {
        int v = i % n;
        double sin_b = authalic_q(sin(OGR_G_GetY(ring, v) * deg)) / qp;
        double cos_b = sqrt(1 - sin_b * sin_b), dl = OGR_G_GetX(ring, v) * deg - lon0;
        double k = sqrt(2 / (1 + sin_b0 * sin_b + cos_b0 * cos_b * cos(dl)));
        double x = rq * k * cos_b * sin(dl);
        double y = rq * k * (cos_b0 * sin_b - sin_b0 * cos_b * cos(dl));
        sum += px * y - x * py;
        px = x, py = y;
    }
    return fabs(sum) / 2;
}

static double
polygon_area(OGRGeometryH poly)
{
    double area = 0;
    for (int i = 0; i < OGR_G_GetGeometryCount(poly); i++) {
        double a = ring_area(OGR_G_GetGeometryRef(poly, i));
        area += i == 0 ? a : -a; /* outer ring minus holes */
    }
    return area;
}

static double
geometry_area(OGRGeometryH geom)
{
    if (wkbFlatten(OGR_G_GetGeometryType(geom)) == wkbPolygon)
        return polygon_area(geom);
    double area = 0;
    for (int i = 0; i < OGR_G_GetGeometryCount(geom); i++)
        area += geometry_area(OGR_G_GetGeometryRef(geom, i));
    return area;
}

double
ingest_ellipsoid_area_m2(const unsigned char *wkb, size_t wkb_len)
{
    OGRGeometryH g = NULL;
    if (OGR_G_CreateFromWkb(wkb, NULL, &g, (int)wkb_len) != OGRERR_NONE || g == NULL)
        return 0;
    double area = geometry_area(g);
    OGR_G_DestroyGeometry(g);
    return area;
}

/* ---- reading one record --------------------------------------------------------------------- */

struct record_ctx {
    patch_source *src;
    OGRFeatureH feat;
    tb_arena *a;
    ingest_report *report;
    const char *id;
    int errors;
};

static void
record_error(struct record_ctx *c, field_id f, const char *fmt, ...) TB_PRINTF(3, 4);

static void
record_error(struct record_ctx *c, field_id f, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->errors++;
    ingest_report_add(c->report, INGEST_ERROR, c->src->record, c->id,
                      f < F_COUNT ? field_specs[f].name : GEOMETRY_FIELD, "%s", msg);
}

/* A value's text, with a profile's synonym applied; NULL when empty.  Text that is not UTF-8
 * (an undeclared encoding) is an error: we never store mojibake. */
static const char *
get_text(struct record_ctx *c, field_id f)
{
    int i = c->src->field_index[f];
    if (i < 0 || !OGR_F_IsFieldSetAndNotNull(c->feat, i))
        return NULL;
    const char *s = OGR_F_GetFieldAsString(c->feat, i);
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0)
        return NULL;
    if (!tb_utf8_valid(s, n)) {
        record_error(c, f, "text does not decode as %s (give the right --encoding)",
                     c->report->encoding);
        return NULL;
    }
    const field_mapping *m = c->src->mapping;
    for (size_t k = 0; m && k < m->synonym_count; k++)
        if (strcmp(m->synonyms[k].field, field_specs[f].name) == 0 &&
            strlen(m->synonyms[k].from) == n && strncmp(m->synonyms[k].from, s, n) == 0)
            return m->synonyms[k].to;
    return tb_arena_strndup(c->a, s, n);
}

static double
get_area(struct record_ctx *c, field_id f)
{
    /* Numeric columns are read as numbers: formatting them to text and back (what
     * OGR_F_GetFieldAsString does) was a few per cent of a large import. */
    int i = c->src->field_index[f];
    if (i >= 0 && OGR_F_IsFieldSetAndNotNull(c->feat, i)) {
        OGRFieldType t = OGR_Fld_GetType(OGR_F_GetFieldDefnRef(c->feat, i));
        if (t == OFTReal || t == OFTInteger || t == OFTInteger64) {
            double v = OGR_F_GetFieldAsDouble(c->feat, i);
            if (!isfinite(v))
                record_error(c, f, "is not a finite number");
            else if (v < 0)
                record_error(c, f, "negative area %.2f", v);
            return isfinite(v) ? v : 0;
        }
    }
    const char *s = get_text(c, f);
    if (s == NULL) {
        if (field_specs[f].required)
            record_error(c, f, "is empty");
        return 0;
    }
    char *end;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (end == s || *end != '\0' || !isfinite(v)) {
        record_error(c, f, "'%s' is not a number", s);
        return 0;
    }
    if (v < 0)
        record_error(c, f, "negative area %s", s);
    return v;
}

static cn_date
get_date(struct record_ctx *c, field_id f)
{
    cn_date d = {0, 0, 0};
    const char *s = get_text(c, f);
    if (s && !cn_date_parse(s, &d))
        record_error(c, f, "'%s' is not a date (expected YYYY-MM-DD)", s);
    return d;
}

static long
count_vertices(OGRGeometryH g)
{
    long n = OGR_G_GetPointCount(g);
    for (int i = 0; i < OGR_G_GetGeometryCount(g); i++)
        n += count_vertices(OGR_G_GetGeometryRef(g, i));
    return n;
}

static void
read_geometry(struct record_ctx *c, patch *p)
{
    OGRGeometryH g = OGR_F_GetGeometryRef(c->feat); /* borrowed */
    if (g == NULL || OGR_G_IsEmpty(g)) {
        record_error(c, F_COUNT, "empty geometry");
        return;
    }
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t != wkbPolygon && t != wkbMultiPolygon) {
        record_error(c, F_COUNT, "%s is not a polygon", OGR_G_GetGeometryName(g));
        return;
    }
    long vertices = count_vertices(g);
    if (vertices > MAX_VERTICES) {
        record_error(c, F_COUNT, "%ld vertices, more than the limit of %d", vertices,
                     MAX_VERTICES);
        return;
    }
    OGRGeometryH geom = OGR_G_Clone(g);
    OGR_G_FlattenTo2D(geom);
    if (c->src->ct && OGR_G_Transform(geom, c->src->ct) != OGRERR_NONE) {
        record_error(c, F_COUNT, "cannot be transformed to CGCS2000 (EPSG:4490)");
        goto done;
    }
    struct gdal_messages why;
    messages_begin(&why);
    bool valid = OGR_G_IsValid(geom);
    messages_end();
    if (!valid) {
        const char *reason = why.count ? why.first : "invalid geometry";
        if (!c->src->repair) {
            record_error(c, F_COUNT, "invalid geometry: %s (--repair fixes it)", reason);
            goto done;
        }
        double before = geometry_area(geom);
        OGRGeometryH fixed = OGR_G_MakeValid(geom);
        OGRwkbGeometryType ft = fixed ? wkbFlatten(OGR_G_GetGeometryType(fixed)) : wkbUnknown;
        if (fixed == NULL || (ft != wkbPolygon && ft != wkbMultiPolygon)) {
            if (fixed)
                OGR_G_DestroyGeometry(fixed);
            record_error(c, F_COUNT, "invalid geometry: %s; repair did not give a polygon",
                         reason);
            goto done;
        }
        OGR_G_DestroyGeometry(geom);
        geom = fixed;
        double after = geometry_area(geom);
        ingest_problem *item =
            ingest_report_add(c->report, INGEST_REPAIRED, c->src->record, c->id, GEOMETRY_FIELD,
                              "repaired (%s): area %.2f m² before, %.2f m² after", reason,
                              before, after);
        if (item) {
            item->area_before_m2 = before;
            item->area_after_m2 = after;
        }
    }
    OGREnvelope env;
    OGR_G_GetEnvelope(geom, &env);
    p->min_lon = env.MinX, p->max_lon = env.MaxX, p->min_lat = env.MinY, p->max_lat = env.MaxY;
    p->area_ellipsoid_m2 = geometry_area(geom);
    p->wkb_len = (size_t)OGR_G_WkbSize(geom);
    unsigned char *wkb = tb_arena_alloc(c->a, p->wkb_len);
    OGR_G_ExportToWkb(geom, wkbNDR, wkb);
    p->wkb = wkb;
done:
    OGR_G_DestroyGeometry(geom);
}

/* The supplied JCMJ and the area on the ellipsoid should agree to what the documents print:
 * 0.01 亩 (6.67 m²), or 0.1 % for large patches where vertex rounding and projection round trips
 * add up.  A larger difference means the geometry or the attribute was edited alone. */
static void
check_area(struct record_ctx *c, const patch *p)
{
    double diff = fabs(p->area_ellipsoid_m2 - p->area_m2);
    double tolerance = fmax(10000.0 / 15.0 / 100.0, p->area_m2 * 0.001);
    if (p->wkb && p->area_m2 > 0 && diff > tolerance)
        ingest_report_add(c->report, INGEST_WARNING, c->src->record, c->id, "JCMJ",
                          "JCMJ %.2f m² but the geometry measures %.2f m² on the CGCS2000 "
                          "ellipsoid (%.2f%% apart)",
                          p->area_m2, p->area_ellipsoid_m2, 100.0 * diff / p->area_m2);
}

static void
read_record(struct record_ctx *c, patch *p)
{
    memset(p, 0, sizeof *p);
    p->record = c->src->record;
    p->id = get_text(c, F_ID);
    c->id = p->id;
    if (p->id == NULL)
        record_error(c, F_ID, "the patch id is empty");
    p->admin_code = get_text(c, F_ADMIN_CODE);
    if (p->admin_code == NULL) {
        record_error(c, F_ADMIN_CODE, "is empty");
    } else {
        size_t n = strlen(p->admin_code);
        if (strspn(p->admin_code, "0123456789") != n || (n != 6 && n != 9 && n != 12))
            record_error(c, F_ADMIN_CODE, "'%s' is not a 6, 9 or 12-digit code",
                         p->admin_code);
    }
    p->admin_name = get_text(c, F_ADMIN_NAME);
    const char *year = get_text(c, F_YEAR);
    if (year) {
        char *end;
        long y = strtol(year, &end, 10);
        if (*end != '\0' || y < 1990 || y > 2100)
            record_error(c, F_YEAR, "'%s' is not a year", year);
        else
            p->year = (int)y;
    }
    p->quarter = get_text(c, F_QUARTER);
    p->area_m2 = get_area(c, F_AREA);
    p->farmland_m2 = get_area(c, F_FARMLAND);
    p->basic_farmland_m2 = get_area(c, F_BASIC_FARMLAND);
    if (p->farmland_m2 > p->area_m2 && p->area_m2 >= 0)
        record_error(c, F_FARMLAND, "cultivated area %.2f m² is larger than the patch's %.2f m² "
                     "(JCMJ)", p->farmland_m2, p->area_m2);
    if (p->basic_farmland_m2 > p->farmland_m2)
        record_error(c, F_BASIC_FARMLAND, "permanent basic farmland %.2f m² is larger than the "
                     "cultivated area %.2f m² (JCGDMJ)", p->basic_farmland_m2, p->farmland_m2);
    p->image_before = get_date(c, F_IMAGE_BEFORE);
    p->image_after = get_date(c, F_IMAGE_AFTER);
    p->kind = get_text(c, F_KIND);
    const char *legal = get_text(c, F_LEGALITY);
    if (legal && !legality_parse(legal, &p->legality))
        record_error(c, F_LEGALITY,
                     "unknown legality '%s' (expected 合法用地, 违法用地 or 其他用地)", legal);
    p->violation = get_text(c, F_VIOLATION);
    p->approval_no = get_text(c, F_APPROVAL);
    p->measure = get_text(c, F_MEASURE);
    const char *state = get_text(c, F_STATE);
    if (!rectify_state_parse(state, &p->state))
        record_error(c, F_STATE, "unknown rectification state '%s' (expected 未整改, 整改中, "
                     "已整改, 已验收 or 存违挂账)", state);
    p->deadline = get_date(c, F_DEADLINE);
    const char *rural = get_text(c, F_RURAL_HOUSING);
    p->rural_housing = rural && (strcmp(rural, "是") == 0 || strcmp(rural, "1") == 0);
    p->earlier_id = get_text(c, F_EARLIER_ID);
    /* Strict: a value misread as "no" would let a military patch's documents onto the network. */
    const char *mil = get_text(c, F_MILITARY);
    if (mil && (strcmp(mil, "是") == 0 || strcmp(mil, "1") == 0))
        p->military = true;
    else if (mil && strcmp(mil, "否") != 0 && strcmp(mil, "0") != 0)
        record_error(c, F_MILITARY, "unknown value '%s' (expected 是 or 否, 1 or 0)", mil);
    read_geometry(c, p);
    check_area(c, p);
}

int
patch_source_next(patch_source *src, tb_arena *a, patch *out, ingest_report *report,
                  tb_err *err)
{
    struct gdal_messages msgs;
    CPLErrorReset();
    messages_begin(&msgs);
    OGRFeatureH f = OGR_L_GetNextFeature(src->layer); /* owned */
    messages_end();
    if (f == NULL) {
        if (CPLGetLastErrorType() < CE_Failure)
            return 0;
        tb_err_set(err, TB_EFORMAT, "%s: after record %ld: %s", src->path, src->record,
                   CPLGetLastErrorMsg());
        return -1;
    }
    src->record++;
    report->records++;
    struct record_ctx c = {src, f, a, report, NULL, 0};
    if (msgs.count) /* e.g. "One or several characters couldn't be converted correctly" */
        record_error(&c, F_COUNT, "reading the record: %s", msgs.first);
    read_record(&c, out);
    OGR_F_Destroy(f);
    return c.errors ? 2 : 1;
}

/* ---- whole files ---------------------------------------------------------------------------- */

static void
first_problem(const ingest_report *r, tb_err *err)
{
    for (size_t i = 0; i < r->count; i++) {
        const ingest_problem *p = &r->items[i];
        if (p->severity != INGEST_ERROR)
            continue;
        long more = r->errors - 1;
        char tail[64] = "";
        if (more > 0)
            snprintf(tail, sizeof tail, " (and %ld more problem%s)", more, more > 1 ? "s" : "");
        tb_err_set(err, TB_EFORMAT, "%s: record %ld (patch %s), field %s: %s%s", r->file,
                   p->record, p->patch_id ? p->patch_id : "(no id)", p->field ? p->field : "-",
                   p->message, tail);
        return;
    }
}

patch_set *
patch_set_load(const char *path, const char *layer_name, tb_arena *a, tb_err *err)
{
    ingest_report *report = ingest_report_new(a);
    ingest_options opt = {.layer = layer_name};
    patch_source *src = patch_source_open(path, &opt, report, err);
    if (src == NULL)
        return NULL;
    size_t cap = 64, n = 0;
    patch *items = tb_xmalloc_array(cap, sizeof *items);
    tb_strset *ids = tb_strset_new();
    int r;
    while ((r = patch_source_next(src, a, &items[n], report, err)) > 0) {
        if (r == 2)
            continue;
        if (!tb_strset_add(ids, items[n].id)) {
            ingest_report_add(report, INGEST_ERROR, items[n].record, items[n].id, "JCBH",
                              "duplicate patch id");
            continue;
        }
        if (++n == cap)
            items = tb_xrealloc(items, (cap *= 2) * sizeof *items);
    }
    tb_strset_free(ids);
    patch_source_close(src);
    if (r != 0 || report->errors > 0) {
        if (r == 0)
            first_problem(report, err);
        free(items);
        return NULL;
    }
    /* The grown array becomes the set's: the arena frees it, no copy. */
    tb_arena_defer(a, free, items);
    patch_set *set = tb_arena_alloc(a, sizeof *set);
    set->items = items;
    set->count = n;
    return set;
}
