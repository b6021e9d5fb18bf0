/* DESIGN: the field map is a table of canonical names, each with its aliases (pinyin codes used
 * by the Ministry's and the provinces' exports, and Chinese column titles).  Opening a file
 * resolves every canonical name to a field index once; reading a record then only converts
 * values.  Geometries are transformed to EPSG:4490 (lon, lat) here so the rest of the program
 * never sees another CRS. */
#include "tb_features.h"

#include "patch_source.h"

#include "tb_buf.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum field_id {
    F_ID, F_ADMIN_CODE, F_ADMIN_NAME, F_YEAR, F_QUARTER, F_AREA, F_FARMLAND, F_BASIC_FARMLAND,
    F_KIND, F_LEGALITY, F_VIOLATION, F_APPROVAL, F_MEASURE, F_STATE, F_DEADLINE,
    F_RURAL_HOUSING, F_EARLIER_ID, F_COUNT
} field_id;

static const struct field_spec {
    const char *canonical;
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
    [F_KIND] = {"TBLX", false, {"图斑类型", NULL}},
    [F_LEGALITY] = {"PDJG", true, {"PDLX", "HFXPD", "合法性判定结果", "判定结果", NULL}},
    [F_VIOLATION] = {"WFLX", false, {"违法类型", NULL}},
    [F_APPROVAL] = {"PZWH", false, {"批准文号", NULL}},
    [F_MEASURE] = {"ZGCS", false, {"整改措施", NULL}},
    [F_STATE] = {"ZGZT", false, {"整改状态", NULL}},
    [F_DEADLINE] = {"ZGQX", false, {"整改期限", NULL}},
    [F_RURAL_HOUSING] = {"SFNCLZGDJF", false, {"是否农村乱占耕地建房", NULL}},
    [F_EARLIER_ID] = {"TYWZJCTBWQBH", false, {"TYWZJCTBWQ", "同一位置往期图斑编号", NULL}},
};

struct patch_source {
    char *path;
    GDALDatasetH ds;
    OGRLayerH layer;                 /* borrowed from ds */
    OGRCoordinateTransformationH ct; /* NULL when the layer is already EPSG:4490 */
    int field_index[F_COUNT];        /* -1 = absent */
    long record;                     /* records read so far */
};

static void
init_gdal(void)
{
    /* GDALAllRegister is idempotent and cheap after the first call. */
    GDALAllRegister();
}

static int
find_field(OGRFeatureDefnH defn, const struct field_spec *spec)
{
    int i = OGR_FD_GetFieldIndex(defn, spec->canonical); /* case-insensitive in OGR */
    for (int k = 0; i < 0 && spec->aliases[k]; k++)
        i = OGR_FD_GetFieldIndex(defn, spec->aliases[k]);
    return i;
}

static tb_code
map_fields(patch_source *src, tb_err *err)
{
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(src->layer);
    tb_buf missing = TB_BUF_INIT;
    for (int f = 0; f < F_COUNT; f++) {
        src->field_index[f] = find_field(defn, &field_specs[f]);
        if (src->field_index[f] < 0 && field_specs[f].required)
            tb_buf_printf(&missing, "%s%s", missing.len ? ", " : "", field_specs[f].canonical);
    }
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
setup_transform(patch_source *src, tb_err *err)
{
    OGRSpatialReferenceH from = OGR_L_GetSpatialRef(src->layer); /* borrowed */
    if (from == NULL)
        return tb_err_set(err, TB_EFORMAT,
                          "%s: the layer has no coordinate reference system (a Shapefile "
                          "needs its .prj)",
                          src->path);
    OGRSpatialReferenceH to = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(to, 4490);
    OSRSetAxisMappingStrategy(to, OAMS_TRADITIONAL_GIS_ORDER);
    tb_code rc = TB_OK;
    if (!OSRIsSame(from, to)) {
        OGRSpatialReferenceH from_gis = OSRClone(from);
        OSRSetAxisMappingStrategy(from_gis, OAMS_TRADITIONAL_GIS_ORDER);
        CPLErrorReset();
        src->ct = OCTNewCoordinateTransformation(from_gis, to);
        OSRDestroySpatialReference(from_gis);
        if (src->ct == NULL)
            rc = tb_err_set(err, TB_EFORMAT, "%s: cannot transform from the layer's CRS to "
                            "CGCS2000 (EPSG:4490): %s", src->path, CPLGetLastErrorMsg());
    }
    OSRDestroySpatialReference(to);
    return rc;
}

patch_source *
patch_source_open(const char *path, const char *layer_name, tb_err *err)
{
    init_gdal();
    patch_source *src = tb_xcalloc(1, sizeof *src);
    src->path = tb_xstrdup(path);
    CPLErrorReset();
    src->ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (src->ds == NULL) {
        if (access(path, R_OK) != 0)
            tb_err_set(err, TB_ENOTFOUND, "%s: no such file or not readable", path);
        else
            tb_err_set(err, TB_EFORMAT, "%s: not a vector file GDAL can read (%s)", path,
                       CPLGetLastErrorMsg()[0] ? CPLGetLastErrorMsg() : "unknown format");
        goto fail;
    }
    src->layer = layer_name ? GDALDatasetGetLayerByName(src->ds, layer_name)
                            : GDALDatasetGetLayer(src->ds, 0);
    if (src->layer == NULL) {
        tb_err_set(err, TB_ENOTFOUND, "%s: no layer '%s'", path, layer_name ? layer_name : "#0");
        goto fail;
    }
    if (map_fields(src, err) != TB_OK || setup_transform(src, err) != TB_OK)
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

/* Reading one record.  `ctx` carries what every message needs. */
struct record_ctx {
    patch_source *src;
    OGRFeatureH feat;
    tb_arena *a;
    const char *id; /* for messages; "(no id)" until known */
    tb_err *err;
};

static tb_code
record_error(struct record_ctx *c, field_id f, const char *fmt, const char *value)
{
    char what[256];
    snprintf(what, sizeof what, fmt, value ? value : "");
    return tb_err_set(c->err, TB_EFORMAT, "%s: record %ld (patch %s), field %s: %s",
                      c->src->path, c->src->record, c->id,
                      f < F_COUNT ? field_specs[f].canonical : "geometry", what);
}

static const char *
get_text(struct record_ctx *c, field_id f)
{
    int i = c->src->field_index[f];
    if (i < 0 || !OGR_F_IsFieldSetAndNotNull(c->feat, i))
        return NULL;
    const char *s = OGR_F_GetFieldAsString(c->feat, i);
    /* Trim blanks: desktop GIS exports often pad text columns. */
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        n--;
    return n ? tb_arena_strndup(c->a, s, n) : NULL;
}

static tb_code
get_area(struct record_ctx *c, field_id f, double *out)
{
    *out = 0;
    int i = c->src->field_index[f];
    if (i < 0 || !OGR_F_IsFieldSetAndNotNull(c->feat, i))
        return field_specs[f].required ? record_error(c, f, "%sis empty", "") : TB_OK;
    const char *s = OGR_F_GetFieldAsString(c->feat, i);
    char *end;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (end == s || *end != '\0')
        return record_error(c, f, "'%s' is not a number", s);
    if (v < 0)
        return record_error(c, f, "negative area %s", s);
    *out = v;
    return TB_OK;
}

static tb_code
get_geometry(struct record_ctx *c, patch *p)
{
    OGRGeometryH g = OGR_F_GetGeometryRef(c->feat); /* borrowed */
    if (g == NULL || OGR_G_IsEmpty(g))
        return record_error(c, F_COUNT, "%sempty geometry", "");
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t != wkbPolygon && t != wkbMultiPolygon)
        return record_error(c, F_COUNT, "%s is not a polygon", OGR_G_GetGeometryName(g));
    OGRGeometryH copy = OGR_G_Clone(g);
    OGR_G_FlattenTo2D(copy);
    if (c->src->ct && OGR_G_Transform(copy, c->src->ct) != OGRERR_NONE) {
        OGR_G_DestroyGeometry(copy);
        return record_error(c, F_COUNT, "%scannot be transformed to EPSG:4490", "");
    }
    OGREnvelope env;
    OGR_G_GetEnvelope(copy, &env);
    p->min_lon = env.MinX, p->max_lon = env.MaxX, p->min_lat = env.MinY, p->max_lat = env.MaxY;
    p->wkb_len = (size_t)OGR_G_WkbSize(copy);
    unsigned char *wkb = tb_arena_alloc(c->a, p->wkb_len);
    OGR_G_ExportToWkb(copy, wkbNDR, wkb);
    p->wkb = wkb;
    OGR_G_DestroyGeometry(copy);
    return TB_OK;
}

static tb_code
read_record(struct record_ctx *c, patch *p)
{
    memset(p, 0, sizeof *p);
    p->record = c->src->record;
    p->id = get_text(c, F_ID);
    if (p->id == NULL)
        return record_error(c, F_ID, "%sthe patch id is empty", "");
    c->id = p->id;
    p->admin_code = get_text(c, F_ADMIN_CODE);
    if (p->admin_code == NULL)
        return record_error(c, F_ADMIN_CODE, "%sis empty", "");
    size_t code_len = strlen(p->admin_code);
    if (strspn(p->admin_code, "0123456789") != code_len ||
        (code_len != 6 && code_len != 9 && code_len != 12))
        return record_error(c, F_ADMIN_CODE, "'%s' is not a 6, 9 or 12-digit code",
                            p->admin_code);
    p->admin_name = get_text(c, F_ADMIN_NAME);
    const char *year = get_text(c, F_YEAR);
    if (year) {
        char *end;
        long y = strtol(year, &end, 10);
        if (*end != '\0' || y < 1990 || y > 2100)
            return record_error(c, F_YEAR, "'%s' is not a year", year);
        p->year = (int)y;
    }
    p->quarter = get_text(c, F_QUARTER);
    if (get_area(c, F_AREA, &p->area_m2) || get_area(c, F_FARMLAND, &p->farmland_m2) ||
        get_area(c, F_BASIC_FARMLAND, &p->basic_farmland_m2))
        return c->err->code;
    p->kind = get_text(c, F_KIND);
    const char *legal = get_text(c, F_LEGALITY);
    if (legal && !legality_parse(legal, &p->legality))
        return record_error(c, F_LEGALITY,
                            "unknown legality '%s' (expected 合法用地, 违法用地 or 其他用地)", legal);
    p->violation = get_text(c, F_VIOLATION);
    p->approval_no = get_text(c, F_APPROVAL);
    p->measure = get_text(c, F_MEASURE);
    const char *state = get_text(c, F_STATE);
    if (!rectify_state_parse(state, &p->state))
        return record_error(c, F_STATE, "unknown rectification state '%s'", state);
    const char *deadline = get_text(c, F_DEADLINE);
    if (deadline && !cn_date_parse(deadline, &p->deadline))
        return record_error(c, F_DEADLINE, "'%s' is not a date (expected YYYY-MM-DD)",
                            deadline);
    const char *rural = get_text(c, F_RURAL_HOUSING);
    p->rural_housing = rural && (strcmp(rural, "是") == 0 || strcmp(rural, "1") == 0);
    p->earlier_id = get_text(c, F_EARLIER_ID);
    return get_geometry(c, p);
}

int
patch_source_next(patch_source *src, tb_arena *a, patch *out, tb_err *err)
{
    CPLErrorReset();
    OGRFeatureH f = OGR_L_GetNextFeature(src->layer); /* owned */
    if (f == NULL) {
        if (CPLGetLastErrorType() < CE_Failure)
            return 0;
        tb_err_set(err, TB_EFORMAT, "%s: after record %ld: %s", src->path, src->record,
                   CPLGetLastErrorMsg());
        return -1;
    }
    src->record++;
    struct record_ctx c = {src, f, a, "(no id)", err};
    tb_code rc = read_record(&c, out);
    OGR_F_Destroy(f);
    return rc == TB_OK ? 1 : -1;
}

patch_set *
patch_set_load(const char *path, const char *layer_name, tb_arena *a, tb_err *err)
{
    patch_source *src = patch_source_open(path, layer_name, err);
    if (src == NULL)
        return NULL;
    size_t cap = 64, n = 0;
    patch *items = tb_xmalloc_array(cap, sizeof *items);
    int r;
    while ((r = patch_source_next(src, a, &items[n], err)) == 1) {
        if (++n == cap)
            items = tb_xrealloc(items, (cap *= 2) * sizeof *items);
    }
    patch_source_close(src);
    if (r < 0) {
        free(items);
        return NULL;
    }
    patch_set *set = tb_arena_alloc(a, sizeof *set);
    set->items = tb_arena_array(a, n ? n : 1, sizeof *items);
    memcpy(set->items, items, n * sizeof *items);
    set->count = n;
    free(items);
    return set;
}
