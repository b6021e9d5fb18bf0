/* Map panels: the office's imagery catalogue and vector layers, which image each frame shows,
 * and the frame itself (layers in drawing order, then decorations).
 *
 * Every frame is drawn in the CGCS2000 Gauss-Krüger zone of its subject at a round scale, so a
 * before/after pair shows the same ground at the same place whatever CRS each raster has. */
#include "tb_features.h"

#include "map_panel.h"

#include "map_int.h"

#include "cn_date.h"

#include <cpl_error.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <pango/pangocairo.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAP_MAX_FEATURES 500000  /* per vector layer */
#define MAP_MIN_EXTENT_M 20.0    /* a point-like patch still gets a readable map */
#define MAP_PAIR_GAP_PT 6.0

/* ---- the context -------------------------------------------------------------------------- */

typedef struct map_feature {
    OGRGeometryH g; /* EPSG:4490 lon/lat */
    OGREnvelope env;
    char *key, *label;
} map_feature;

typedef struct map_layer {
    map_layer_source src;
    char *name, *title;
    map_feature *features;
    size_t count;
} map_layer;

typedef struct map_image {
    map_basemap *bm;
    cn_date date; /* year 0: undated */
    char *label;
} map_image;

struct map_ctx {
    map_image *images;
    size_t image_count;
    map_layer *layers;
    size_t layer_count;
    map_grid_units grid;
    const patch *const *neighbours;
    size_t neighbour_count;
    PangoContext *label_context;        /* the document's fonts (map_ctx_set_label_font) */
    PangoFontDescription *label_font;   /* family and weight; NULL: MAP_FONT, Pango's default */
};

static void
layer_release(map_layer *l)
{
    for (size_t i = 0; i < l->count; i++) {
        OGR_G_DestroyGeometry(l->features[i].g);
        free(l->features[i].key);
        free(l->features[i].label);
    }
    free(l->features);
    free(l->name);
    free(l->title);
}

void
map_ctx_close(map_ctx *mc)
{
    if (mc == NULL)
        return;
    for (size_t i = 0; i < mc->image_count; i++) {
        map_basemap_close(mc->images[i].bm);
        free(mc->images[i].label);
    }
    for (size_t i = 0; i < mc->layer_count; i++)
        layer_release(&mc->layers[i]);
    free(mc->images);
    free(mc->layers);
    if (mc->label_context)
        g_object_unref(mc->label_context);
    if (mc->label_font)
        pango_font_description_free(mc->label_font);
    free(mc);
}

void
map_ctx_set_label_font(map_ctx *mc, PangoContext *context, const PangoFontDescription *font)
{
    if (mc->label_context)
        g_object_unref(mc->label_context);
    if (mc->label_font)
        pango_font_description_free(mc->label_font);
    mc->label_context = context ? g_object_ref(context) : NULL;
    mc->label_font = context && font ? pango_font_description_copy(font) : NULL;
}

static char *
field_copy(OGRFeatureH f, const char *field)
{
    if (field == NULL)
        return NULL;
    int i = OGR_F_GetFieldIndex(f, field);
    if (i < 0 || !OGR_F_IsFieldSetAndNotNull(f, i))
        return NULL;
    return tb_xstrdup(OGR_F_GetFieldAsString(f, i));
}

/* Reads the whole layer into l as lon/lat geometries. */
static tb_code
layer_load(map_layer *l, const map_layer_source *src, tb_err *err)
{
    tb_code rc = TB_OK;
    GDALDatasetH ds = NULL;
    OGRSpatialReferenceH geo = NULL, srs = NULL;
    OGRCoordinateTransformationH ct = NULL;
    size_t cap = 0;

    l->src = *src;
    l->name = tb_xstrdup(src->name);
    l->title = tb_xstrdup(src->title != NULL ? src->title : src->name);
    ds = GDALOpenEx(src->path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (ds == NULL) {
        rc = tb_err_set(err, CPLGetLastErrorNo() == CPLE_OpenFailed ? TB_ENOTFOUND : TB_EFORMAT,
                        "map layer %s (%s): cannot be opened as a vector file", src->name,
                        src->path);
        goto done;
    }
    OGRLayerH lay = src->layer != NULL ? GDALDatasetGetLayerByName(ds, src->layer)
                                       : GDALDatasetGetLayer(ds, 0);
    if (lay == NULL) {
        rc = tb_err_set(err, TB_EFORMAT, "map layer %s (%s): has no layer %s", src->name,
                        src->path, src->layer != NULL ? src->layer : "at all");
        goto done;
    }
    OGRSpatialReferenceH lsrs = OGR_L_GetSpatialRef(lay);
    if (lsrs == NULL) {
        rc = tb_err_set(err, TB_EFORMAT, "map layer %s (%s): has no coordinate system",
                        src->name, src->path);
        goto done;
    }
    srs = OSRClone(lsrs);
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    geo = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(geo, MAP_GEO_EPSG);
    OSRSetAxisMappingStrategy(geo, OAMS_TRADITIONAL_GIS_ORDER);
    if (!OSRIsSame(srs, geo) && (ct = OCTNewCoordinateTransformation(srs, geo)) == NULL) {
        rc = tb_err_set(err, TB_EFORMAT, "map layer %s (%s): its coordinate system cannot be "
                        "converted to CGCS2000 longitude and latitude", src->name, src->path);
        goto done;
    }
    const char *key_field = src->role == MAP_LAYER_TOWNSHIP
                                ? (src->key_field != NULL ? src->key_field : "XZQDM")
                                : src->key_field;
    OGR_L_ResetReading(lay);
    OGRFeatureH f;
    long record = 0;
    while ((f = OGR_L_GetNextFeature(lay)) != NULL) {
        record++;
        OGRGeometryH g = OGR_F_StealGeometry(f);
        if (g == NULL || OGR_G_IsEmpty(g)) {
            if (g != NULL)
                OGR_G_DestroyGeometry(g);
            OGR_F_Destroy(f);
            continue;
        }
        if (ct != NULL && OGR_G_Transform(g, ct) != OGRERR_NONE) {
            OGR_G_DestroyGeometry(g);
            OGR_F_Destroy(f);
            rc = tb_err_set(err, TB_EFORMAT, "map layer %s (%s) record %ld: cannot be converted "
                            "to CGCS2000 longitude and latitude", src->name, src->path, record);
            goto done;
        }
        if (l->count == MAP_MAX_FEATURES) {
            OGR_G_DestroyGeometry(g);
            OGR_F_Destroy(f);
            rc = tb_err_set(err, TB_ELIMIT, "map layer %s (%s): more than %d features",
                            src->name, src->path, MAP_MAX_FEATURES);
            goto done;
        }
        if (l->count == cap) {
            cap = cap ? 2 * cap : 64;
            l->features = tb_xrealloc(l->features, cap * sizeof *l->features);
        }
        map_feature *mf = &l->features[l->count++];
        mf->g = g;
        OGR_G_GetEnvelope(g, &mf->env);
        mf->key = field_copy(f, key_field);
        mf->label = field_copy(f, src->label_field);
        OGR_F_Destroy(f);
    }

done:
    if (ct != NULL)
        OCTDestroyCoordinateTransformation(ct);
    if (srs != NULL)
        OSRDestroySpatialReference(srs);
    if (geo != NULL)
        OSRDestroySpatialReference(geo);
    if (ds != NULL)
        GDALClose(ds);
    return rc;
}

map_ctx *
map_ctx_open(const map_sources *src, const char *basemap_path, tb_err *err)
{
    static const map_sources none = {0};
    if (src == NULL)
        src = &none;
    map_gdal_init();
    map_ctx *mc = tb_xcalloc(1, sizeof *mc);
    mc->grid = src->grid;
    mc->images = tb_xcalloc(src->image_count + 1, sizeof *mc->images);
    mc->layers = tb_xcalloc(src->layer_count + 1, sizeof *mc->layers);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    if (basemap_path != NULL) {
        map_image_source only = {.path = basemap_path};
        if ((mc->images[0].bm = map_basemap_open_source(&only, err)) == NULL)
            goto fail;
        mc->image_count = 1;
    }
    for (size_t i = 0; i < src->image_count; i++) {
        map_image *im = &mc->images[mc->image_count];
        if ((im->bm = map_basemap_open_source(&src->images[i], err)) == NULL)
            goto fail;
        im->date = src->images[i].date;
        im->label = src->images[i].label ? tb_xstrdup(src->images[i].label) : NULL;
        mc->image_count++;
    }
    for (size_t i = 0; i < src->layer_count; i++) {
        mc->layer_count++;
        if (layer_load(&mc->layers[i], &src->layers[i], err) != TB_OK)
            goto fail;
    }
    CPLPopErrorHandler();
    return mc;

fail:
    CPLPopErrorHandler();
    map_ctx_close(mc);
    return NULL;
}

bool
map_ctx_has_dates(const map_ctx *mc)
{
    for (size_t i = 0; i < mc->image_count; i++)
        if (mc->images[i].date.year != 0)
            return true;
    return false;
}

void
map_ctx_set_neighbours(map_ctx *mc, const patch *const *patches, size_t count)
{
    mc->neighbours = patches;
    mc->neighbour_count = patches != NULL ? count : 0;
}

static const map_layer *
layer_by_role(const map_ctx *mc, map_layer_role role)
{
    for (size_t i = 0; i < mc->layer_count; i++)
        if (mc->layers[i].src.role == role)
            return &mc->layers[i];
    return NULL;
}

static const map_layer *
layer_by_name(const map_ctx *mc, const char *name, size_t len)
{
    for (size_t i = 0; i < mc->layer_count; i++)
        if (mc->layers[i].src.role == MAP_LAYER_OTHER && strlen(mc->layers[i].name) == len &&
            memcmp(mc->layers[i].name, name, len) == 0)
            return &mc->layers[i];
    return NULL;
}

/* ---- which image --------------------------------------------------------------------------- */

typedef enum map_view_kind { VIEW_PAIR, VIEW_LOCATION, VIEW_BEFORE, VIEW_AFTER, VIEW_OVERVIEW } map_view_kind;

/* The latest dated image on or before `until` (year 0: any date) covering the box; for no
 * dated image at all, the undated basemap.  NULL if none. */
static const map_image *
image_pick(const map_ctx *mc, cn_date until, bool earliest, const double box[4])
{
    const map_image *best = NULL, *undated = NULL;
    for (size_t i = 0; i < mc->image_count; i++) {
        const map_image *im = &mc->images[i];
        if (im->date.year == 0) {
            undated = undated != NULL ? undated : im;
            continue;
        }
        if (until.year != 0 && cn_date_cmp(im->date, until) > 0)
            continue;
        if (!map_basemap_covers(im->bm, box[0], box[1], box[2], box[3]))
            continue;
        int c = best != NULL ? cn_date_cmp(im->date, best->date) : 0;
        if (best == NULL || (earliest ? c < 0 : c > 0))
            best = im;
    }
    return best != NULL ? best : undated;
}

/* ---- the frame's specification ------------------------------------------------------------ */

enum {
    LAYER_IMAGERY = 1u << 0,
    LAYER_OUTLINE = 1u << 1,
    LAYER_NEIGHBOURS = 1u << 2,
    LAYER_TOWNSHIP = 1u << 3,
    LAYER_FARMLAND = 1u << 4,
};
enum {
    DECO_SCALE = 1u << 0,
    DECO_NORTH = 1u << 1,
    DECO_GRID = 1u << 2,
    DECO_LEGEND = 1u << 3,
    DECO_INSET = 1u << 4,
    DECO_CAPTION = 1u << 5,
};
#define MAP_MAX_OTHER 16

typedef struct frame_spec {
    map_view_kind view;
    double scale_n; /* 0 = fit */
    double margin;
    unsigned layers, decorations;
    bool decorations_given;
    const map_layer *other[MAP_MAX_OTHER];
    size_t other_count;
    double dpi;
} frame_spec;

typedef struct word_name {
    const char *word;
    unsigned bit;
} word_name;

static const word_name layer_words[] = {
    {"imagery", LAYER_IMAGERY}, {"outline", LAYER_OUTLINE}, {"neighbours", LAYER_NEIGHBOURS},
    {"township", LAYER_TOWNSHIP}, {"farmland", LAYER_FARMLAND},
};
static const word_name deco_words[] = {
    {"scale", DECO_SCALE}, {"north", DECO_NORTH}, {"grid", DECO_GRID},
    {"legend", DECO_LEGEND}, {"inset", DECO_INSET}, {"caption", DECO_CAPTION},
};

static const char *
panel_where(const dt_panel *p)
{
    return p->origin.where != NULL ? p->origin.where : "map panel";
}

/* Parses a space-separated word list; other layer names go to spec->other when `others`. */
static tb_code
words_parse(const dt_panel *p, const char *attr, const char *value, const word_name *names,
            size_t n, const map_ctx *mc, frame_spec *spec, unsigned *bits, tb_err *err)
{
    *bits = 0;
    for (const char *s = value; *s != '\0';) {
        while (*s == ' ' || *s == '\t' || *s == '\n')
            s++;
        size_t len = strcspn(s, " \t\n");
        if (len == 0)
            break;
        bool known = false;
        for (size_t i = 0; i < n && !known; i++)
            if (strlen(names[i].word) == len && memcmp(names[i].word, s, len) == 0)
                *bits |= names[i].bit, known = true;
        const map_layer *other = !known && spec != NULL ? layer_by_name(mc, s, len) : NULL;
        if (other != NULL && spec->other_count < MAP_MAX_OTHER)
            spec->other[spec->other_count++] = other, known = true;
        if (!known)
            return tb_err_set(err, TB_EFORMAT, "%s: attribute %s=\"%s\": unknown %s '%.*s'",
                              panel_where(p), attr, value, spec != NULL ? "layer" : "decoration",
                              (int)len, s);
        s += len;
    }
    return TB_OK;
}

static bool
number_parse(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static tb_code
spec_parse(const map_ctx *mc, const dt_panel *p, frame_spec *spec, tb_err *err)
{
    memset(spec, 0, sizeof *spec);
    spec->view = map_ctx_has_dates(mc) ? VIEW_PAIR : VIEW_LOCATION;
    spec->margin = 0.35;
    spec->dpi = 200.0;
    spec->layers = LAYER_IMAGERY | LAYER_OUTLINE | LAYER_NEIGHBOURS | LAYER_TOWNSHIP |
                   LAYER_FARMLAND;
    spec->decorations = DECO_SCALE | DECO_NORTH | DECO_GRID | DECO_LEGEND | DECO_INSET |
                        DECO_CAPTION;
    for (size_t i = 0; i < p->attr_count; i++) {
        const char *name = p->attrs[i].name, *value = p->attrs[i].value;
        if (value == NULL)
            value = "";
        tb_code rc = TB_OK;
        if (strcmp(name, "view") == 0) {
            static const char *const views[] = {"location", "before", "after", "overview"};
            size_t k = 0;
            while (k < 4 && strcmp(value, views[k]) != 0)
                k++;
            if (k == 4)
                rc = tb_err_set(err, TB_EFORMAT, "%s: attribute view=\"%s\": not one of "
                                "location, before, after, overview", panel_where(p), value);
            spec->view = (map_view_kind)(VIEW_LOCATION + k);
        } else if (strcmp(name, "scale") == 0) {
            double n = 0;
            if (strcmp(value, "fit") == 0)
                spec->scale_n = 0;
            else if (strncmp(value, "1:", 2) == 0 && number_parse(value + 2, &n) && n >= 100 &&
                     n <= 10e6)
                spec->scale_n = n;
            else
                rc = tb_err_set(err, TB_EFORMAT, "%s: attribute scale=\"%s\": not fit or 1:N "
                                "(N from 100 to 10000000)", panel_where(p), value);
        } else if (strcmp(name, "margin") == 0) {
            if (!number_parse(value, &spec->margin) || spec->margin < 0 || spec->margin > 10)
                rc = tb_err_set(err, TB_EFORMAT, "%s: attribute margin=\"%s\": not a fraction "
                                "from 0 to 10", panel_where(p), value);
        } else if (strcmp(name, "dpi") == 0) {
            if (!number_parse(value, &spec->dpi) || spec->dpi < 50 || spec->dpi > 600)
                rc = tb_err_set(err, TB_EFORMAT, "%s: attribute dpi=\"%s\": not a resolution "
                                "from 50 to 600", panel_where(p), value);
        } else if (strcmp(name, "layers") == 0) {
            spec->other_count = 0;
            rc = words_parse(p, name, value, layer_words,
                             sizeof layer_words / sizeof layer_words[0], mc, spec,
                             &spec->layers, err);
        } else if (strcmp(name, "decorations") == 0) {
            rc = words_parse(p, name, value, deco_words, sizeof deco_words / sizeof deco_words[0],
                             mc, NULL, &spec->decorations, err);
            spec->decorations_given = true;
        } else if (strcmp(name, "of") != 0) { /* `of` names the bound datum */
            rc = tb_err_set(err, TB_EFORMAT, "%s: unknown map attribute %s (known: view, scale, "
                            "margin, layers, decorations, dpi)", panel_where(p), name);
        }
        if (rc != TB_OK)
            return rc;
    }
    if (!spec->decorations_given && (spec->view == VIEW_PAIR || spec->view == VIEW_BEFORE ||
                                     spec->view == VIEW_AFTER))
        spec->decorations &= ~(unsigned)DECO_INSET; /* half-width frames: no room */
    return TB_OK;
}

/* ---- geometry helpers --------------------------------------------------------------------- */

typedef struct frame {
    double x, y, w, h;  /* on the page, points */
    map_extent e;
    const map_view *v;
    double scale_n;
    double geo_box[4];  /* lon/lat box of the frame, for picking features */
    PangoLayout *lay;
    const PangoFontDescription *font; /* NULL: MAP_FONT */
} frame;

static void
to_frame(const frame *fr, double x, double y, double *px, double *py)
{
    *px = fr->e.x0 + (x - fr->e.minx) * fr->e.s;
    *py = fr->e.y0 + (fr->e.maxy - y) * fr->e.s;
}

static void
path_add_points(cairo_t *cr, const frame *fr, OGRGeometryH ring, bool close)
{
    int n = OGR_G_GetPointCount(ring);
    for (int i = 0; i < n; i++) {
        double px, py;
        to_frame(fr, OGR_G_GetX(ring, i), OGR_G_GetY(ring, i), &px, &py);
        if (i == 0)
            cairo_move_to(cr, px, py);
        else
            cairo_line_to(cr, px, py);
    }
    if (close && n > 0)
        cairo_close_path(cr);
}

/* Adds g (drawing CRS) to the current path: rings closed, lines open, points as small
 * circles. */
static void
path_add(cairo_t *cr, const frame *fr, OGRGeometryH g)
{
    switch (wkbFlatten(OGR_G_GetGeometryType(g))) {
    case wkbPoint: {
        double px, py;
        to_frame(fr, OGR_G_GetX(g, 0), OGR_G_GetY(g, 0), &px, &py);
        cairo_new_sub_path(cr);
        cairo_arc(cr, px, py, 1.8, 0, 2 * M_PI);
        break;
    }
    case wkbLineString:
        path_add_points(cr, fr, g, false);
        break;
    case wkbLinearRing:
        path_add_points(cr, fr, g, true);
        break;
    case wkbPolygon:
        for (int r = 0; r < OGR_G_GetGeometryCount(g); r++)
            path_add_points(cr, fr, OGR_G_GetGeometryRef(g, r), true);
        break;
    default: /* multi geometries and collections */
        for (int i = 0; i < OGR_G_GetGeometryCount(g); i++)
            path_add(cr, fr, OGR_G_GetGeometryRef(g, i));
        break;
    }
}

/* A copy of the lon/lat geometry in the frame's CRS, or NULL when it does not reach the frame
 * (or cannot be projected: such a feature is simply not drawn). */
static OGRGeometryH
project_if_near(const frame *fr, OGRGeometryH g, const OGREnvelope *env)
{
    if (env->MaxX < fr->geo_box[0] || env->MinX > fr->geo_box[2] || env->MaxY < fr->geo_box[1] ||
        env->MinY > fr->geo_box[3])
        return NULL;
    OGRGeometryH c = OGR_G_Clone(g);
    if (OGR_G_Transform(c, fr->v->from_geo) != OGRERR_NONE) {
        OGR_G_DestroyGeometry(c);
        return NULL;
    }
    return c;
}

/* The frame's rectangle in the drawing CRS. */
static OGRGeometryH
frame_rect(const frame *fr)
{
    OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
    const map_extent *e = &fr->e;
    OGR_G_AddPoint_2D(ring, e->minx, e->miny);
    OGR_G_AddPoint_2D(ring, e->maxx, e->miny);
    OGR_G_AddPoint_2D(ring, e->maxx, e->maxy);
    OGR_G_AddPoint_2D(ring, e->minx, e->maxy);
    OGR_G_AddPoint_2D(ring, e->minx, e->miny);
    OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
    OGR_G_AddGeometryDirectly(poly, ring);
    return poly;
}

/* ---- text --------------------------------------------------------------------------------- */

/* Sets the layout's text and size (user units); returns its logical box in *tw, *th. */
static void
text_set(const frame *fr, const char *text, double size, double *tw, double *th)
{
    PangoLayout *lay = fr->lay;
    PangoFontDescription *fd = fr->font ? pango_font_description_copy(fr->font)
                                        : pango_font_description_from_string(MAP_FONT);
    pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
    pango_layout_set_font_description(lay, fd);
    pango_font_description_free(fd);
    pango_layout_set_text(lay, text, -1);
    PangoRectangle log;
    pango_layout_get_extents(lay, NULL, &log);
    if (tw != NULL)
        *tw = (double)log.width / PANGO_SCALE;
    if (th != NULL)
        *th = (double)log.height / PANGO_SCALE;
}

/* Draws text so that point (ax, ay) of its box (0..1 each) is at (x, y); halo: a white outline
 * keeps it legible on imagery. */
static void
text_draw(cairo_t *cr, const frame *fr, const char *text, double size, double x, double y,
          double ax, double ay, bool halo)
{
    PangoLayout *lay = fr->lay;
    double w, h;
    text_set(fr, text, size, &w, &h);
    cairo_move_to(cr, x - ax * w, y - ay * h);
    if (halo) {
        cairo_save(cr);
        pango_cairo_layout_path(cr, lay);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_set_line_width(cr, 1.6);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
        cairo_stroke(cr);
        cairo_restore(cr);
        cairo_move_to(cr, x - ax * w, y - ay * h);
    }
    pango_cairo_show_layout(cr, lay);
}

static void
box_draw(cairo_t *cr, double x, double y, double w, double h)
{
    cairo_rectangle(cr, x, y, w, h);
    cairo_set_source_rgba(cr, 1.0, 1.0, 1.0, 0.88);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    cairo_set_line_width(cr, 0.4);
    cairo_stroke(cr);
}

static void
rgb_set(cairo_t *cr, unsigned rgb)
{
    cairo_set_source_rgb(cr, (rgb >> 16 & 0xff) / 255.0, (rgb >> 8 & 0xff) / 255.0,
                         (rgb & 0xff) / 255.0);
}

/* ---- styles (shared by the layers and the legend) ----------------------------------------- */

typedef enum style_kind { STYLE_LINE, STYLE_DASH, STYLE_HATCH, STYLE_FILL } style_kind;

typedef struct style {
    style_kind kind;
    unsigned rgb;
    double width;
} style;

static const style style_outline = {STYLE_LINE, 0xFF0000, 2.0};
static const style style_neighbour = {STYLE_LINE, 0xFFD200, 0.8};
static const style style_township = {STYLE_DASH, 0x8000A0, 1.2};
static const style style_farmland = {STYLE_HATCH, 0x10A040, 0.5};

static void
style_stroke(cairo_t *cr, const style *st)
{
    rgb_set(cr, st->rgb);
    cairo_set_line_width(cr, st->width);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    if (st->kind == STYLE_DASH) {
        static const double dash[] = {5.0, 1.5, 1.0, 1.5};
        cairo_set_dash(cr, dash, 4, 0);
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
}

/* Hatches the current path (fill rule even-odd) with diagonal lines; keeps the path. */
static void
hatch_path(cairo_t *cr, const frame *fr, const style *st)
{
    cairo_save(cr);
    cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
    cairo_clip_preserve(cr);
    cairo_path_t *path = cairo_copy_path(cr);
    cairo_new_path(cr);
    const double step = 3.5;
    for (double d = -fr->h; d < fr->w; d += step) {
        cairo_move_to(cr, fr->x + d, fr->y + fr->h);
        cairo_line_to(cr, fr->x + d + fr->h, fr->y);
    }
    rgb_set(cr, st->rgb);
    cairo_set_line_width(cr, st->width);
    cairo_stroke(cr);
    cairo_restore(cr);
    cairo_new_path(cr);
    cairo_append_path(cr, path);
    cairo_path_destroy(path);
}

/* ---- layers ------------------------------------------------------------------------------- */

/* Returns how many features reached the frame (the legend lists only what is there). */
static size_t
layer_draw(cairo_t *cr, const frame *fr, const map_layer *l, const style *st, bool labels)
{
    size_t drawn = 0;
    OGRGeometryH rect = frame_rect(fr);
    for (size_t i = 0; i < l->count; i++) {
        const map_feature *f = &l->features[i];
        OGRGeometryH g = project_if_near(fr, f->g, &f->env);
        if (g == NULL)
            continue;
        /* Seen in the frame: a hatched area anywhere in it, a line crossing it. */
        OGRGeometryH edge = st->kind == STYLE_HATCH ? NULL : OGR_G_Boundary(g);
        bool seen = OGR_G_Intersects(edge != NULL ? edge : g, rect);
        if (edge != NULL)
            OGR_G_DestroyGeometry(edge);
        if (!seen) {
            OGR_G_DestroyGeometry(g);
            continue;
        }
        cairo_new_path(cr);
        path_add(cr, fr, g);
        if (st->kind == STYLE_HATCH) {
            hatch_path(cr, fr, st);
            style outline = {STYLE_LINE, st->rgb, 0.7};
            style_stroke(cr, &outline);
        } else {
            style_stroke(cr, st);
        }
        if (labels && f->label != NULL) {
            OGREnvelope e;
            OGR_G_GetEnvelope(g, &e);
            double px, py;
            to_frame(fr, (e.MinX + e.MaxX) / 2, (e.MinY + e.MaxY) / 2, &px, &py);
            rgb_set(cr, st->rgb);
            text_draw(cr, fr, f->label, 6.0, px, py, 0.5, 0.5, true);
        }
        OGR_G_DestroyGeometry(g);
        drawn++;
    }
    OGR_G_DestroyGeometry(rect);
    return drawn;
}

static OGRGeometryH
patch_geometry(const patch *p)
{
    OGRGeometryH g = NULL;
    if (p->wkb == NULL || p->wkb_len > INT32_MAX ||
        OGR_G_CreateFromWkbEx(p->wkb, NULL, &g, p->wkb_len) != OGRERR_NONE)
        return NULL;
    return g;
}

static size_t
neighbours_draw(cairo_t *cr, const frame *fr, const map_ctx *mc, const patch *self)
{
    size_t drawn = 0;
    for (size_t i = 0; i < mc->neighbour_count; i++) {
        const patch *p = mc->neighbours[i];
        if (p == self || (self != NULL && p->id != NULL && self->id != NULL &&
                          strcmp(p->id, self->id) == 0))
            continue;
        OGREnvelope env = {p->min_lon, p->max_lon, p->min_lat, p->max_lat};
        if (env.MaxX < fr->geo_box[0] || env.MinX > fr->geo_box[2] ||
            env.MaxY < fr->geo_box[1] || env.MinY > fr->geo_box[3])
            continue; /* far away: not even parsed */
        OGRGeometryH g0 = patch_geometry(p);
        OGRGeometryH g = g0 != NULL ? project_if_near(fr, g0, &env) : NULL;
        if (g0 != NULL)
            OGR_G_DestroyGeometry(g0);
        if (g == NULL)
            continue;
        cairo_new_path(cr);
        path_add(cr, fr, g);
        style_stroke(cr, &style_neighbour);
        OGREnvelope e;
        OGR_G_GetEnvelope(g, &e);
        double px, py;
        to_frame(fr, (e.MinX + e.MaxX) / 2, e.MaxY, &px, &py);
        cairo_set_source_rgb(cr, 0.35, 0.25, 0);
        if (p->id != NULL)
            text_draw(cr, fr, p->id, 5.5, px, py - 1.0, 0.5, 1.0, true);
        OGR_G_DestroyGeometry(g);
        drawn++;
    }
    return drawn;
}

/* 整改状态 colours of the overview. */
static unsigned
state_rgb(rectify_state s)
{
    switch (s) {
    case RECTIFY_PENDING: return 0xE00000;
    case RECTIFY_ONGOING: return 0xF08000;
    case RECTIFY_DONE: return 0x0060E0;
    case RECTIFY_ACCEPTED: return 0x00A040;
    case RECTIFY_CARRIED: return 0x8000A0;
    case RECTIFY_NONE: break;
    }
    return 0x808080;
}

/* ---- decorations -------------------------------------------------------------------------- */

/* A round length (1, 2 or 5 x 10^n) near `target`. */
static double
round_length(double target)
{
    double p = pow(10.0, floor(log10(target)));
    static const double steps[] = {1, 2, 5, 10};
    double best = p, best_d = INFINITY;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        double d = fabs(log(steps[i] * p / target));
        if (d < best_d)
            best = steps[i] * p, best_d = d;
    }
    return best;
}

/* The smallest round scale denominator (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^n) >= n. */
static double
round_scale_up(double n)
{
    static const double steps[] = {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10};
    double p = pow(10.0, floor(log10(n)));
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (steps[i] * p >= n * (1 - 1e-9))
            return steps[i] * p;
    return 10 * p;
}

/* Metres on the ground per point on the page, at the frame's centre (geodesic, so the scale
 * bar is true where it matters; Gauss-Krüger scale error inside a 3-degree zone is < 0.04%). */
static double
metres_per_pt(const frame *fr)
{
    const map_view *v = fr->v;
    const map_extent *e = &fr->e;
    double cx = (e->minx + e->maxx) / 2, cy = (e->miny + e->maxy) / 2;
    double d = (e->maxx - e->minx) / 4;
    double xs[2] = {cx - d, cx + d}, ys[2] = {cy, cy};
    if (!OCTTransform(v->to_geo, 2, xs, ys, NULL))
        return v->unit_m / e->s;
    const double a = 6378137.0, f = 1 / 298.257222101, e2 = f * (2 - f);
    double phi = (ys[0] + ys[1]) / 2 * M_PI / 180;
    double w = sqrt(1 - e2 * sin(phi) * sin(phi));
    double m_rad = a * (1 - e2) / (w * w * w), n_rad = a / w;
    double dphi = (ys[1] - ys[0]) * M_PI / 180, dlam = (xs[1] - xs[0]) * M_PI / 180;
    double dist = hypot(m_rad * dphi, n_rad * cos(phi) * dlam);
    return dist > 0 ? dist / (2 * d) / e->s : v->unit_m / e->s;
}

static void
scalebar_draw(cairo_t *cr, const frame *fr, double inset)
{
    double m_per_pt = metres_per_pt(fr);
    double len_m = round_length(0.22 * fr->w * m_per_pt);
    double len = len_m / m_per_pt;
    bool km = len_m >= 10000.0;
    double div = km ? 1000.0 : 1.0;
    const double bar_h = 3.0, size = 6.5, pad = 3.0;
    char l1[32], l2[32], title[64];
    snprintf(l1, sizeof l1, "%g", len_m / 2 / div);
    snprintf(l2, sizeof l2, "%g", len_m / div);
    snprintf(title, sizeof title, "比例尺 1:%.0f", fr->scale_n);
    const char *unit = km ? "km" : "m";

    double tw2, th, tu, tt, th_title;
    text_set(fr, l2, size, &tw2, &th);
    text_set(fr, unit, size, &tu, NULL);
    text_set(fr, title, size, &tt, &th_title);
    double bx = fr->x + inset + pad + 3.0;
    double by = fr->y + fr->h - inset - pad - bar_h;
    double right = fmax(bx + len + tw2 / 2 + 2.0 + tu, bx - 3.0 + tt);
    double box_h = th_title + th + bar_h + 1.0 + 2 * pad;
    box_draw(cr, fr->x + inset, by + bar_h + pad - box_h, right + pad - (fr->x + inset), box_h);

    cairo_set_line_width(cr, 0.5);
    cairo_rectangle(cr, bx, by, len / 2, bar_h);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_fill_preserve(cr);
    cairo_stroke(cr);
    cairo_rectangle(cr, bx + len / 2, by, len / 2, bar_h);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_stroke(cr);

    double ty = by - 1.0;
    text_draw(cr, fr, "0", size, bx, ty, 0.5, 1.0, false);
    text_draw(cr, fr, l1, size, bx + len / 2, ty, 0.5, 1.0, false);
    text_draw(cr, fr, l2, size, bx + len, ty, 0.5, 1.0, false);
    text_draw(cr, fr, unit, size, bx + len + tw2 / 2 + 2.0, ty, 0.0, 1.0, false);
    text_draw(cr, fr, title, size, bx - 3.0, ty - th, 0.0, 1.0, false);
}

/* North arrow (grid north is up: Gauss-Krüger convergence near the zone's centre is < 1°). */
static void
north_draw(cairo_t *cr, const frame *fr, double right, double top)
{
    const double w = 14.0, h = 26.0;
    double x = right - w, y = top;
    box_draw(cr, x, y, w, h);
    double cx = x + w / 2, tip = y + 11.0, bot = y + h - 2.5, half = 4.0;
    cairo_set_line_width(cr, 0.5);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
    for (int side = -1; side <= 1; side += 2) {
        cairo_move_to(cr, cx, tip);
        cairo_line_to(cr, cx + side * half, bot);
        cairo_line_to(cr, cx, bot - 3.0);
        cairo_close_path(cr);
        cairo_set_source_rgb(cr, side < 0 ? 0 : 1, side < 0 ? 0 : 1, side < 0 ? 0 : 1);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_stroke(cr);
    }
    text_draw(cr, fr, "N", 7.5, cx, y + 0.5, 0.5, 0.0, false);
}

/* The grid value along an edge: easting / longitude on top and bottom, northing / latitude on
 * the left and right. */
static bool
grid_value(const frame *fr, map_grid_units units, bool vertical_edge, double px, double py,
           double *out)
{
    double x = fr->e.minx + (px - fr->e.x0) / fr->e.s;
    double y = fr->e.maxy - (py - fr->e.y0) / fr->e.s;
    if (units == MAP_GRID_DEGREES && !OCTTransform(fr->v->to_geo, 1, &x, &y, NULL))
        return false;
    *out = vertical_edge ? y : x;
    return true;
}

static void
grid_label(char *buf, size_t len, map_grid_units units, double value)
{
    if (units == MAP_GRID_METRES) {
        snprintf(buf, len, "%.0f", value);
        return;
    }
    long sec = lround(value * 3600.0);
    snprintf(buf, len, "%ld°%02ld′%02ld″", sec / 3600, sec / 60 % 60, sec % 60);
}

/* A round grid step: metres 1/2/5 x 10^n, degrees in whole seconds or minutes. */
static double
grid_step(map_grid_units units, double span)
{
    if (units == MAP_GRID_METRES)
        return round_length(span / 3.5);
    static const double secs[] = {1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600};
    double want = span / 3.5 * 3600.0, best = secs[0];
    for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++)
        if (fabs(log(secs[i] / want)) < fabs(log(best / want)))
            best = secs[i];
    return best / 3600.0;
}

/* Coordinate ticks on the four edges, labelled along the top and left edges (CGCS2000). */
static void
grid_draw(cairo_t *cr, const frame *fr, map_grid_units units)
{
    enum { SAMPLES = 256 };
    for (int edge = 0; edge < 4; edge++) { /* top, bottom, left, right */
        bool vertical = edge >= 2;
        double len = vertical ? fr->h : fr->w;
        double v0, v1;
        double fx = edge == 3 ? fr->x + fr->w : fr->x, fy = edge == 1 ? fr->y + fr->h : fr->y;
        if (!grid_value(fr, units, vertical, fx, fy, &v0) ||
            !grid_value(fr, units, vertical, vertical ? fx : fx + len,
                        vertical ? fy + len : fy, &v1))
            continue;
        double step = grid_step(units, fabs(v1 - v0));
        double prev = v0;
        for (int i = 1; i <= SAMPLES; i++) {
            double t = len * i / SAMPLES, val;
            double px = vertical ? fx : fx + t, py = vertical ? fy + t : fy;
            if (!grid_value(fr, units, vertical, px, py, &val))
                continue;
            double k = floor(fmax(prev, val) / step) * step;
            if (!(k > fmin(prev, val) && k <= fmax(prev, val))) {
                prev = val;
                continue;
            }
            /* Interpolate inside the sample: the grid is nearly linear along an edge. */
            double at = t - len / SAMPLES * (val - k) / (val - prev);
            double tx = vertical ? fx : fx + at, ty = vertical ? fy + at : fy;
            double dx = vertical ? (edge == 2 ? 1 : -1) : 0, dy = vertical ? 0 : (edge == 0 ? 1 : -1);
            cairo_move_to(cr, tx, ty);
            cairo_line_to(cr, tx + 5.0 * dx, ty + 5.0 * dy);
            cairo_set_source_rgb(cr, 0, 0, 0);
            cairo_set_line_width(cr, 0.6);
            cairo_stroke(cr);
            if ((edge == 0 || edge == 2) && at > 16.0 && at < len - 16.0) { /* corners: none */
                char label[48];
                grid_label(label, sizeof label, units, k);
                cairo_set_source_rgb(cr, 0, 0, 0);
                if (edge == 0) {
                    text_draw(cr, fr, label, 5.5, tx, ty + 5.5, 0.5, 0.0, true);
                } else {
                    cairo_save(cr);
                    cairo_translate(cr, tx + 5.5, ty);
                    cairo_rotate(cr, -M_PI / 2);
                    text_draw(cr, fr, label, 5.5, 0, 0, 0.5, 0.0, true);
                    cairo_restore(cr);
                }
            }
            prev = val;
        }
    }
}

typedef struct legend_item {
    style st;
    const char *text;
} legend_item;

static void
legend_draw(cairo_t *cr, const frame *fr, const legend_item *items, size_t n, double inset)
{
    if (n == 0)
        return;
    const double size = 6.5, row = 9.5, sym = 14.0, pad = 3.0;
    double maxw = 0;
    for (size_t i = 0; i < n; i++) {
        double tw;
        text_set(fr, items[i].text, size, &tw, NULL);
        maxw = fmax(maxw, tw);
    }
    double bw = pad + sym + 3.0 + maxw + pad, bh = 2 * pad + row * (double)n;
    double bx = fr->x + fr->w - inset - bw, by = fr->y + fr->h - inset - bh;
    box_draw(cr, bx, by, bw, bh);
    for (size_t i = 0; i < n; i++) {
        double y = by + pad + row * (double)i, cy = y + row / 2;
        const style *st = &items[i].st;
        frame sub = *fr;
        sub.x = bx + pad, sub.y = y + 1.5, sub.w = sym, sub.h = row - 3.0;
        cairo_new_path(cr);
        if (st->kind == STYLE_HATCH || st->kind == STYLE_FILL) {
            cairo_rectangle(cr, sub.x, sub.y, sub.w, sub.h);
            if (st->kind == STYLE_HATCH) {
                hatch_path(cr, &sub, st);
            } else {
                rgb_set(cr, st->rgb);
                cairo_fill_preserve(cr);
            }
            style edge = {STYLE_LINE, st->kind == STYLE_FILL ? 0x000000 : st->rgb, 0.5};
            style_stroke(cr, &edge);
        } else {
            cairo_move_to(cr, sub.x, cy);
            cairo_line_to(cr, sub.x + sym, cy);
            style_stroke(cr, st);
        }
        cairo_set_source_rgb(cr, 0, 0, 0);
        text_draw(cr, fr, items[i].text, size, bx + pad + sym + 3.0, cy, 0.0, 0.5, false);
    }
}

static void
caption_draw(cairo_t *cr, const frame *fr, const char *text, double inset)
{
    if (text == NULL || text[0] == '\0')
        return;
    const double pad = 2.5, size = 7.5;
    double tw, th, maxw = fr->w * 0.62;
    text_set(fr, text, size, &tw, &th);
    if (tw > maxw) {
        pango_layout_set_width(fr->lay, (int)(maxw * PANGO_SCALE));
        pango_layout_set_ellipsize(fr->lay, PANGO_ELLIPSIZE_END);
        tw = maxw;
    }
    box_draw(cr, fr->x + inset, fr->y + inset, tw + 2 * pad, th + 2 * pad);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, fr->x + inset + pad, fr->y + inset + pad);
    pango_cairo_show_layout(cr, fr->lay);
    pango_layout_set_width(fr->lay, -1);
    pango_layout_set_ellipsize(fr->lay, PANGO_ELLIPSIZE_NONE);
}

static void
no_coverage_draw(cairo_t *cr, const frame *fr)
{
    double tw, th;
    text_set(fr, "无影像覆盖", 11.0, &tw, &th);
    double x = fr->x + (fr->w - tw) / 2, y = fr->y + fr->h * 0.62;
    box_draw(cr, x - 5.0, y - 3.0, tw + 10.0, th + 6.0);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_move_to(cr, x, y);
    pango_cairo_show_layout(cr, fr->lay);
}

/* The township the subject lies in (by code, else the one containing the point). */
static const map_feature *
township_of(const map_layer *l, const char *code, double lon, double lat)
{
    for (size_t i = 0; code != NULL && i < l->count; i++)
        if (l->features[i].key != NULL && strcmp(l->features[i].key, code) == 0)
            return &l->features[i];
    OGRGeometryH pt = OGR_G_CreateGeometry(wkbPoint);
    OGR_G_SetPoint_2D(pt, 0, lon, lat);
    const map_feature *hit = NULL;
    for (size_t i = 0; i < l->count && hit == NULL; i++)
        if (OGR_G_Contains(l->features[i].g, pt))
            hit = &l->features[i];
    OGR_G_DestroyGeometry(pt);
    return hit;
}

/* A locator: the township, small, with the subject marked; top-right, left of the arrow. */
static double
inset_draw(cairo_t *cr, const frame *fr, const map_feature *town, double lon, double lat,
           double right, double top)
{
    OGRGeometryH g = OGR_G_Clone(town->g);
    double cx = lon, cy = lat;
    if (OGR_G_Transform(g, fr->v->from_geo) != OGRERR_NONE ||
        !OCTTransform(fr->v->from_geo, 1, &cx, &cy, NULL)) {
        OGR_G_DestroyGeometry(g);
        return right;
    }
    OGREnvelope e;
    OGR_G_GetEnvelope(g, &e);
    double side = fmin(fr->w, fr->h) * 0.3, pad = 3.0;
    double s = fmin((side - 2 * pad) / (e.MaxX - e.MinX), (side - 2 * pad) / (e.MaxY - e.MinY));
    double bw = (e.MaxX - e.MinX) * s + 2 * pad, bh = (e.MaxY - e.MinY) * s + 2 * pad;
    double bx = right - bw, by = top;
    box_draw(cr, bx, by, bw, bh);
    frame sub = *fr;
    sub.e.minx = e.MinX, sub.e.maxy = e.MaxY, sub.e.s = s;
    sub.e.x0 = bx + pad, sub.e.y0 = by + pad;
    cairo_new_path(cr);
    path_add(cr, &sub, g);
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_fill_preserve(cr);
    style edge = {STYLE_LINE, style_township.rgb, 0.6};
    style_stroke(cr, &edge);
    double px, py;
    to_frame(&sub, cx, cy, &px, &py);
    cairo_arc(cr, px, py, 2.2, 0, 2 * M_PI);
    cairo_set_source_rgb(cr, 1, 0, 0);
    cairo_fill(cr);
    if (town->label != NULL) { /* which township: its name under the locator */
        cairo_set_source_rgb(cr, 0, 0, 0);
        text_draw(cr, fr, town->label, 6.0, bx + bw / 2, by + bh + 1.0, 0.5, 0.0, true);
    }
    OGR_G_DestroyGeometry(g);
    return bx;
}

/* ---- one frame ---------------------------------------------------------------------------- */

typedef struct subject {
    const patch *patch;           /* location / before / after */
    const map_township *township; /* overview */
    OGRGeometryH *geoms;          /* lon/lat: the patch, or the township's patches */
    size_t count;
    double box[4];                /* lon/lat box of the subject */
    const map_feature *town;      /* the township's boundary feature, if known */
} subject;

static int
zone_epsg(const subject *sub)
{
    double clon = (sub->box[0] + sub->box[2]) / 2;
    double cm = 3.0 * round(clon / 3.0);
    cm = cm < 75.0 ? 75.0 : cm > 135.0 ? 135.0 : cm;
    return MAP_GK_EPSG_75E + (int)((cm - 75.0) / 3.0);
}

/* Sets the frame's extent: the subject's box (in the drawing CRS) with its margin at the next
 * round scale, or at the given scale. */
static tb_code
extent_set(frame *fr, const frame_spec *spec, const subject *sub, tb_err *err)
{
    double xs[4] = {sub->box[0], sub->box[2], sub->box[0], sub->box[2]};
    double ys[4] = {sub->box[1], sub->box[1], sub->box[3], sub->box[3]};
    if (!OCTTransform(fr->v->from_geo, 4, xs, ys, NULL))
        return tb_err_set(err, TB_EFORMAT, "map: the subject at %.5f, %.5f cannot be projected "
                          "to CGCS2000 Gauss-Krüger", sub->box[0], sub->box[1]);
    double minx = fmin(fmin(xs[0], xs[1]), fmin(xs[2], xs[3]));
    double maxx = fmax(fmax(xs[0], xs[1]), fmax(xs[2], xs[3]));
    double miny = fmin(fmin(ys[0], ys[1]), fmin(ys[2], ys[3]));
    double maxy = fmax(fmax(ys[0], ys[1]), fmax(ys[2], ys[3]));
    double unit = fr->v->unit_m > 0 ? fr->v->unit_m : 1.0;
    double bw = fmax(maxx - minx, MAP_MIN_EXTENT_M / unit);
    double bh = fmax(maxy - miny, MAP_MIN_EXTENT_M / unit);
    const double pt_per_m_paper = 72.0 / 0.0254;
    double n = spec->scale_n;
    if (n == 0) {
        double need = fmax(bw * unit * (1 + 2 * spec->margin) / (fr->w / pt_per_m_paper),
                           bh * unit * (1 + 2 * spec->margin) / (fr->h / pt_per_m_paper));
        n = round_scale_up(fmax(need, 100.0));
    }
    fr->scale_n = n;
    map_extent *e = &fr->e;
    e->s = pt_per_m_paper / n * unit;
    double cx = (minx + maxx) / 2, cy = (miny + maxy) / 2;
    e->minx = cx - fr->w / e->s / 2, e->maxx = cx + fr->w / e->s / 2;
    e->miny = cy - fr->h / e->s / 2, e->maxy = cy + fr->h / e->s / 2;
    e->x0 = fr->x, e->y0 = fr->y;
    /* The frame's lon/lat box (with a little slack) for picking features. */
    double fx[4] = {e->minx, e->maxx, e->minx, e->maxx}, fy[4] = {e->miny, e->miny, e->maxy, e->maxy};
    if (!OCTTransform(fr->v->to_geo, 4, fx, fy, NULL))
        return tb_err_set(err, TB_ELIB, "map: cannot take the frame back to longitude and "
                          "latitude");
    double slack = 0.05 * fmax(fx[1] - fx[0], fy[2] - fy[0]);
    fr->geo_box[0] = fmin(fx[0], fx[2]) - slack, fr->geo_box[2] = fmax(fx[1], fx[3]) + slack;
    fr->geo_box[1] = fmin(fy[0], fy[1]) - slack, fr->geo_box[3] = fmax(fy[2], fy[3]) + slack;
    return TB_OK;
}

static tb_code
imagery_draw(cairo_t *cr, frame *fr, const frame_spec *spec, map_basemap *bm, bool *covered,
             tb_err *err)
{
    tb_code rc = TB_OK;
    *covered = false;
    double pw = fmax(1.0, round(fr->w / 72.0 * spec->dpi));
    double ph = fmax(1.0, round(fr->h / 72.0 * spec->dpi));
    if (pw * ph > MAP_MAX_PIXELS)
        return tb_err_set(err, TB_ELIMIT, "map: image of %.0f x %.0f pixels is over the limit; "
                          "lower the dpi", pw, ph);
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)pw, (int)ph);
    if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
        rc = tb_err_set(err, TB_ELIB, "map: cairo: %s",
                        cairo_status_to_string(cairo_surface_status(img)));
        goto done;
    }
    cairo_surface_flush(img);
    memset(cairo_image_surface_get_data(img), MAP_GREY,
           (size_t)cairo_image_surface_get_stride(img) * (size_t)ph);
    if ((rc = map_image_read(bm, fr->v, &fr->e, img, covered, err)) != TB_OK)
        goto done;
    cairo_surface_mark_dirty(img);
    if (!*covered)
        goto done;
    if (cairo_surface_supports_mime_type(cairo_get_target(cr), CAIRO_MIME_TYPE_JPEG) &&
        (rc = map_image_attach_jpeg(img, err)) != TB_OK)
        goto done;
    cairo_save(cr);
    cairo_translate(cr, fr->x, fr->y);
    cairo_scale(cr, fr->w / pw, fr->h / ph);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
    cairo_paint(cr);
    cairo_restore(cr);

done:
    cairo_surface_destroy(img);
    return rc;
}

/* Draws one frame of subject with image im (NULL: none) and caption text. */
static tb_code
frame_draw(map_ctx *mc, cairo_t *cr, const frame_spec *spec, const subject *sub,
           const map_image *im, const char *caption, double x, double y, double w, double h,
           tb_err *err)
{
    tb_code rc = TB_OK;
    frame fr = {.x = x, .y = y, .w = w, .h = h};
    map_view tmp_view = {0};
    legend_item legend[8 + MAP_MAX_OTHER];
    size_t nlegend = 0;
    OGRGeometryH *drawn = tb_xcalloc(sub->count + 1, sizeof *drawn);

    if (!(w >= 20.0 && h >= 20.0 && isfinite(x) && isfinite(y) && w < 1e5 && h < 1e5)) {
        rc = tb_err_set(err, TB_EINVAL, "map: frame of %.1f x %.1f pt is too small", w, h);
        goto out;
    }
    int epsg = zone_epsg(sub);
    bool with_imagery = (spec->layers & LAYER_IMAGERY) && im != NULL;
    if (with_imagery) {
        fr.v = map_basemap_view(im->bm, epsg, err);
    } else if (map_view_init(&tmp_view, NULL, epsg, err) == TB_OK) {
        fr.v = &tmp_view;
    }
    if (fr.v == NULL) {
        rc = err != NULL && err->code != TB_OK ? err->code : TB_ELIB;
        goto out;
    }
    if ((rc = extent_set(&fr, spec, sub, err)) != TB_OK)
        goto out;
    for (size_t i = 0; i < sub->count; i++) {
        drawn[i] = OGR_G_Clone(sub->geoms[i]);
        if (OGR_G_Transform(drawn[i], fr.v->from_geo) != OGRERR_NONE) {
            rc = tb_err_set(err, TB_EFORMAT, "map: %s cannot be projected to CGCS2000 "
                            "Gauss-Krüger", sub->patch ? sub->patch->id : "a patch");
            goto out;
        }
    }

    cairo_save(cr);
    cairo_rectangle(cr, x, y, w, h);
    cairo_clip(cr);
    cairo_set_source_rgb(cr, MAP_GREY / 255.0, MAP_GREY / 255.0, MAP_GREY / 255.0);
    cairo_paint(cr);
    bool covered = false;
    if (with_imagery && (rc = imagery_draw(cr, &fr, spec, im->bm, &covered, err)) != TB_OK) {
        cairo_restore(cr);
        goto out;
    }
    /* Labels in the document's own 黑体 (its font map and faces): no second font subset. */
    fr.lay = mc->label_context ? pango_layout_new(mc->label_context)
                               : pango_cairo_create_layout(cr);
    fr.font = mc->label_font;

    const map_layer *farm = layer_by_role(mc, MAP_LAYER_FARMLAND);
    const map_layer *town = layer_by_role(mc, MAP_LAYER_TOWNSHIP);
    if ((spec->layers & LAYER_FARMLAND) && farm != NULL &&
        layer_draw(cr, &fr, farm, &style_farmland, false) > 0)
        legend[nlegend++] = (legend_item){style_farmland, farm->title};
    if ((spec->layers & LAYER_TOWNSHIP) && town != NULL &&
        layer_draw(cr, &fr, town, &style_township, spec->view == VIEW_OVERVIEW) > 0)
        legend[nlegend++] = (legend_item){style_township, town->title};
    for (size_t i = 0; i < spec->other_count; i++) {
        style st = {STYLE_LINE, spec->other[i]->src.colour, 1.0};
        if (layer_draw(cr, &fr, spec->other[i], &st, true) > 0)
            legend[nlegend++] = (legend_item){st, spec->other[i]->title};
    }
    if ((spec->layers & LAYER_NEIGHBOURS) && spec->view != VIEW_OVERVIEW &&
        neighbours_draw(cr, &fr, mc, sub->patch) > 0)
        legend[nlegend++] = (legend_item){style_neighbour, "相邻图斑"};
    if (spec->layers & LAYER_OUTLINE) {
        if (spec->view == VIEW_OVERVIEW) {
            unsigned seen = 0;
            for (size_t i = 0; i < sub->count; i++) {
                rectify_state st = sub->township->patches[i]->state;
                cairo_new_path(cr);
                path_add(cr, &fr, drawn[i]);
                style fill = {STYLE_FILL, state_rgb(st), 1.0};
                rgb_set(cr, fill.rgb);
                cairo_fill_preserve(cr);
                cairo_set_source_rgb(cr, 0, 0, 0);
                cairo_set_line_width(cr, 0.4);
                cairo_stroke(cr);
                if (!(seen & 1u << st) && nlegend < sizeof legend / sizeof legend[0]) {
                    seen |= 1u << st;
                    const char *name = rectify_state_name(st);
                    legend[nlegend++] = (legend_item){fill, name[0] != '\0' ? name : "无整改状态"};
                }
            }
        } else {
            cairo_new_path(cr);
            path_add(cr, &fr, drawn[0]);
            style_stroke(cr, &style_outline);
            legend[nlegend++] = (legend_item){style_outline, "图斑范围"};
        }
    }

    bool grid = (spec->decorations & DECO_GRID) != 0;
    if (grid)
        grid_draw(cr, &fr, mc->grid);
    double inset = grid ? 12.0 : 6.0;
    if (spec->decorations & DECO_SCALE)
        scalebar_draw(cr, &fr, inset);
    double right = x + w - inset;
    if ((spec->decorations & DECO_INSET) && town != NULL && sub->town != NULL &&
        spec->view != VIEW_OVERVIEW)
        right = inset_draw(cr, &fr, sub->town, (sub->box[0] + sub->box[2]) / 2,
                           (sub->box[1] + sub->box[3]) / 2, right, y + inset) - 4.0;
    if (spec->decorations & DECO_NORTH)
        north_draw(cr, &fr, right, y + inset);
    if (spec->decorations & DECO_LEGEND)
        legend_draw(cr, &fr, legend, nlegend, inset);
    if (spec->decorations & DECO_CAPTION)
        caption_draw(cr, &fr, caption, inset);
    if ((spec->layers & LAYER_IMAGERY) && !covered)
        no_coverage_draw(cr, &fr);
    g_object_unref(fr.lay);
    cairo_restore(cr);
    cairo_rectangle(cr, x, y, w, h);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 0.6);
    cairo_stroke(cr);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
        rc = tb_err_set(err, TB_ELIB, "map: cairo: %s", cairo_status_to_string(cairo_status(cr)));

out:
    for (size_t i = 0; i < sub->count; i++)
        if (drawn[i] != NULL)
            OGR_G_DestroyGeometry(drawn[i]);
    free(drawn);
    map_view_release(&tmp_view);
    return rc;
}

/* ---- the panel ---------------------------------------------------------------------------- */

static void
subject_release(subject *s)
{
    for (size_t i = 0; i < s->count; i++)
        if (s->geoms[i] != NULL)
            OGR_G_DestroyGeometry(s->geoms[i]);
    free(s->geoms);
}

static tb_code
subject_add(subject *s, const patch *p, tb_err *err)
{
    const char *who = p->id != NULL ? p->id : "(no id)";
    OGRGeometryH g = patch_geometry(p);
    if (g == NULL)
        return tb_err_set(err, TB_EFORMAT, "map for patch %s: geometry is not valid WKB (%zu "
                          "bytes)", who, p->wkb_len);
    OGRwkbGeometryType type = wkbFlatten(OGR_G_GetGeometryType(g));
    OGREnvelope env;
    OGR_G_GetEnvelope(g, &env);
    if ((type != wkbPolygon && type != wkbMultiPolygon) || OGR_G_IsEmpty(g)) {
        OGR_G_DestroyGeometry(g);
        return tb_err_set(err, TB_EFORMAT, "map for patch %s: geometry is a %s, not a "
                          "non-empty polygon", who, OGRGeometryTypeToName(type));
    }
    if (!(env.MinX >= -180.0 && env.MaxX <= 180.0 && env.MinY >= -90.0 && env.MaxY <= 90.0)) {
        OGR_G_DestroyGeometry(g);
        return tb_err_set(err, TB_EFORMAT, "map for patch %s: coordinates (%.3f, %.3f) are "
                          "not EPSG:4490 longitude/latitude", who, env.MinX, env.MinY);
    }
    s->geoms[s->count++] = g;
    s->box[0] = fmin(s->box[0], env.MinX), s->box[1] = fmin(s->box[1], env.MinY);
    s->box[2] = fmax(s->box[2], env.MaxX), s->box[3] = fmax(s->box[3], env.MaxY);
    return TB_OK;
}

static char *
date_caption(const char *what, const map_image *im, char *buf, size_t len)
{
    char d[32] = "";
    if (im == NULL)
        snprintf(buf, len, "%s 无影像", what);
    else if (im->date.year == 0)
        snprintf(buf, len, "%s", what);
    else
        snprintf(buf, len, "%s %s%s%s", what, cn_date_format(im->date, d, sizeof d),
                 im->label ? " " : "", im->label ? im->label : "");
    return buf;
}

tb_code
map_panel_draw(map_ctx *mc, cairo_t *cr, const dt_panel *panel, double x, double y, double w,
               double h, tb_err *err)
{
    tb_code rc = TB_OK;
    frame_spec spec;
    subject sub = {.box = {INFINITY, INFINITY, -INFINITY, -INFINITY}};

    if (mc == NULL || cr == NULL || panel == NULL || panel->datum == NULL)
        return tb_err_set(err, TB_EINVAL, "map panel: nothing to draw (no data bound)");
    if ((rc = spec_parse(mc, panel, &spec, err)) != TB_OK)
        return rc;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    cairo_save(cr);
    const char *code = NULL;
    if (spec.view == VIEW_OVERVIEW) {
        sub.township = panel->datum;
        code = sub.township->code;
        sub.geoms = tb_xcalloc(sub.township->count + 1, sizeof *sub.geoms);
        for (size_t i = 0; i < sub.township->count && rc == TB_OK; i++)
            rc = subject_add(&sub, sub.township->patches[i], err);
    } else {
        sub.patch = panel->datum;
        code = sub.patch->admin_code;
        sub.geoms = tb_xcalloc(1, sizeof *sub.geoms);
        rc = subject_add(&sub, sub.patch, err);
    }
    if (rc != TB_OK)
        goto done;
    const map_layer *town = layer_by_role(mc, MAP_LAYER_TOWNSHIP);
    if (town != NULL)
        sub.town = township_of(town, code, (sub.box[0] + sub.box[2]) / 2,
                               (sub.box[1] + sub.box[3]) / 2);
    if (spec.view == VIEW_OVERVIEW && sub.town != NULL) { /* the whole township */
        sub.box[0] = fmin(sub.box[0], sub.town->env.MinX);
        sub.box[1] = fmin(sub.box[1], sub.town->env.MinY);
        sub.box[2] = fmax(sub.box[2], sub.town->env.MaxX);
        sub.box[3] = fmax(sub.box[3], sub.town->env.MaxY);
    }
    if (sub.count == 0) {
        rc = tb_err_set(err, TB_EINVAL, "map panel: township %s has no patches to show",
                        code != NULL ? code : "?");
        goto done;
    }

    char cap[160], cap2[160];
    static const cn_date any = {0, 0, 0};
    const patch *p = sub.patch;
    switch (spec.view) {
    case VIEW_PAIR:
    case VIEW_BEFORE:
    case VIEW_AFTER: {
        /* 前时相: the latest image on or before QSX; 后时相: on or before HSX.  A patch without
         * those dates gets the earliest and the latest covering image. */
        bool has_qsx = p->image_before.year != 0, has_hsx = p->image_after.year != 0;
        const map_image *before = image_pick(mc, has_qsx ? p->image_before : any, !has_qsx, sub.box);
        const map_image *after = image_pick(mc, has_hsx ? p->image_after : any, false, sub.box);
        date_caption("前时相", before, cap, sizeof cap);
        date_caption("后时相", after, cap2, sizeof cap2);
        if (spec.view == VIEW_BEFORE) {
            rc = frame_draw(mc, cr, &spec, &sub, before, cap, x, y, w, h, err);
        } else if (spec.view == VIEW_AFTER) {
            rc = frame_draw(mc, cr, &spec, &sub, after, cap2, x, y, w, h, err);
        } else {
            double fw = (w - MAP_PAIR_GAP_PT) / 2;
            rc = frame_draw(mc, cr, &spec, &sub, before, cap, x, y, fw, h, err);
            if (rc == TB_OK)
                rc = frame_draw(mc, cr, &spec, &sub, after, cap2, x + fw + MAP_PAIR_GAP_PT, y,
                                fw, h, err);
        }
        break;
    }
    case VIEW_LOCATION: {
        const map_image *im = image_pick(mc, any, false, sub.box);
        char d[32];
        if (im != NULL && im->date.year != 0)
            snprintf(cap, sizeof cap, "%s  影像 %s", p->id ? p->id : "",
                     cn_date_format(im->date, d, sizeof d));
        else
            snprintf(cap, sizeof cap, "%s", p->id ? p->id : "");
        rc = frame_draw(mc, cr, &spec, &sub, im, cap, x, y, w, h, err);
        break;
    }
    case VIEW_OVERVIEW: {
        const map_image *im = image_pick(mc, any, false, sub.box);
        snprintf(cap, sizeof cap, "%s 图斑分布（%zu个）",
                 sub.township->name ? sub.township->name : sub.township->code, sub.count);
        rc = frame_draw(mc, cr, &spec, &sub, im, cap, x, y, w, h, err);
        break;
    }
    }
    if (rc != TB_OK && err != NULL && p != NULL && p->id != NULL && strstr(err->msg, p->id) == NULL) {
        /* name the patch: the frame's messages do not know it */
        char msg[sizeof err->msg];
        int n = snprintf(msg, sizeof msg, "map for patch %.60s: ", p->id);
        snprintf(msg + n, sizeof msg - (size_t)n, "%.*s", (int)(sizeof msg - (size_t)n - 1),
                 err->msg);
        memcpy(err->msg, msg, sizeof msg);
    }

done:
    cairo_restore(cr);
    CPLPopErrorHandler();
    subject_release(&sub);
    return rc;
}
