/* The imagery catalogue: parsed like every profile (tpl_xml_parse), then checked for what a
 * schema cannot say (a footprint's order, a stretch's direction) and copied into arena-owned
 * map_sources so nothing of libxml2 escapes. */
#include "tb_features.h"

#include "tpl_imagery.h"

#include "tb_buf.h"
#include "tb_fs.h"
#include "tpl_int.h"
#include "tpl_schemas.h"

#include <libxml/tree.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_CATALOGUE_BYTES = 1 << 20 };

static const char *
prop(xmlNodePtr n, const char *name, tb_arena *a)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    char *r = v ? tb_arena_strdup(a, (const char *)v) : NULL;
    xmlFree(v);
    return r;
}

/* Up to max numbers separated by blanks; returns how many were read. */
static size_t
numbers(const char *s, double *out, size_t max)
{
    size_t n = 0;
    char *end;
    while (s != NULL && n < max) {
        double v = strtod(s, &end);
        if (end == s)
            break;
        out[n++] = v;
        s = end;
    }
    return n;
}

/* A data path: absolute, or relative to the catalogue's folder.  Imagery is shared data an
 * administrator places anywhere on the machine, but never behind a GDAL virtual file system or
 * a URL (no network at run time). */
static const char *
data_path(xmlNodePtr n, const char *name, const char *base_dir, tb_arena *a, tb_err *err)
{
    const char *p = prop(n, "path", a);
    if (strncmp(p, "/vsi", 4) == 0 || strstr(p, "://") != NULL) {
        tb_err_set(err, TB_EFORMAT, "%s line %d: path '%s': only local files (no GDAL virtual "
                   "or network file systems)", name, n->line, p);
        return NULL;
    }
    return p[0] == '/' ? p : tb_arena_printf(a, "%s/%s", base_dir, p);
}

static bool
image_from(xmlNodePtr n, const char *name, const char *base_dir, map_image_source *im,
           tb_arena *a, tb_err *err)
{
    if (!(im->path = data_path(n, name, base_dir, a, err)))
        return false;
    const char *date = prop(n, "date", a);
    if (!cn_date_parse(date, &im->date)) {
        tb_err_set(err, TB_EFORMAT, "%s line %d: image %s: date '%s' is not a date", name,
                   n->line, im->path, date);
        return false;
    }
    im->label = prop(n, "label", a);
    double v[4];
    const char *fp = prop(n, "footprint", a);
    if (fp != NULL) {
        numbers(fp, v, 4);
        if (!(v[0] >= -180 && v[2] <= 180 && v[1] >= -90 && v[3] <= 90 && v[0] < v[2] &&
              v[1] < v[3])) {
            tb_err_set(err, TB_EFORMAT, "%s line %d: image %s: footprint '%s' is not min-lon "
                       "min-lat max-lon max-lat in degrees", name, n->line, im->path, fp);
            return false;
        }
        im->has_footprint = true;
        im->min_lon = v[0], im->min_lat = v[1], im->max_lon = v[2], im->max_lat = v[3];
    }
    const char *bands = prop(n, "bands", a);
    if (bands != NULL) {
        size_t k = numbers(bands, v, 3);
        for (size_t c = 0; c < 3; c++)
            im->bands[c] = (int)v[k == 1 ? 0 : c];
    }
    const char *stretch = prop(n, "stretch", a);
    if (stretch != NULL) {
        numbers(stretch, v, 2);
        if (!(v[1] > v[0]) || !isfinite(v[0]) || !isfinite(v[1])) {
            tb_err_set(err, TB_EFORMAT, "%s line %d: image %s: stretch '%s' must be a low and "
                       "a higher value", name, n->line, im->path, stretch);
            return false;
        }
        im->has_stretch = true;
        im->stretch_lo = v[0], im->stretch_hi = v[1];
    }
    return true;
}

static bool
layer_from(xmlNodePtr n, const char *name, const char *base_dir, map_layer_source *l,
           tb_arena *a, tb_err *err)
{
    static const char *const reserved[] = {"imagery", "outline", "neighbours", "township",
                                           "farmland"};
    const char *role = prop(n, "role", a);
    l->role = strcmp(role, "township") == 0   ? MAP_LAYER_TOWNSHIP
              : strcmp(role, "farmland") == 0 ? MAP_LAYER_FARMLAND
                                              : MAP_LAYER_OTHER;
    l->name = prop(n, "name", a);
    if (l->role != MAP_LAYER_OTHER) {
        l->name = role;
    } else if (l->name == NULL) {
        tb_err_set(err, TB_EFORMAT, "%s line %d: a layer of role other needs a name (the word "
                   "panels use in layers=\"…\")", name, n->line);
        return false;
    } else {
        for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
            if (strcmp(l->name, reserved[i]) == 0) {
                tb_err_set(err, TB_EFORMAT, "%s line %d: layer name '%s' is reserved for a "
                           "built-in layer", name, n->line, l->name);
                return false;
            }
    }
    l->title = prop(n, "title", a);
    if (l->title == NULL)
        l->title = l->role == MAP_LAYER_TOWNSHIP   ? "乡镇界"
                   : l->role == MAP_LAYER_FARMLAND ? "永久基本农田"
                                                   : l->name;
    if (!(l->path = data_path(n, name, base_dir, a, err)))
        return false;
    l->layer = prop(n, "layer", a);
    l->key_field = prop(n, "key-field", a);
    l->label_field = prop(n, "label-field", a);
    const char *colour = prop(n, "colour", a);
    l->colour = colour != NULL ? (unsigned)strtoul(colour + 1, NULL, 16) : 0x0050C8;
    return true;
}

map_sources *
tpl_imagery_parse(const char *xml, size_t len, const char *name, const char *base_dir,
                  tb_arena *a, tb_err *err)
{
    xmlDocPtr doc = tpl_xml_parse(xml, len, name, tpl_schema_imagery, a, err);
    if (doc == NULL)
        return NULL;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    map_sources *ms = tb_arena_alloc(a, sizeof *ms);
    const char *grid = prop(root, "grid", a);
    ms->grid = grid != NULL && strcmp(grid, "metres") == 0 ? MAP_GRID_METRES : MAP_GRID_DEGREES;
    size_t ni = 0, nl = 0;
    for (xmlNodePtr n = root->children; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE)
            *(strcmp((const char *)n->name, "image") == 0 ? &ni : &nl) += 1;
    map_image_source *images = tb_arena_array(a, ni + 1, sizeof *images);
    map_layer_source *layers = tb_arena_array(a, nl + 1, sizeof *layers);
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        bool ok = strcmp((const char *)n->name, "image") == 0
                      ? image_from(n, name, base_dir, &images[ms->image_count++], a, err)
                      : layer_from(n, name, base_dir, &layers[ms->layer_count++], a, err);
        if (!ok)
            return NULL;
    }
    ms->images = images;
    ms->layers = layers;
    return ms;
}

map_sources *
tpl_imagery_load(const char *path, const char *beneath, tb_arena *a, tb_err *err)
{
    tb_buf buf = TB_BUF_INIT;
    map_sources *ms = NULL;
    tb_code rc = beneath ? tb_fs_read_beneath(beneath, path, MAX_CATALOGUE_BYTES, &buf, err)
                         : tb_fs_read(path, MAX_CATALOGUE_BYTES, &buf, err);
    if (rc == TB_OK) {
        const char *slash = strrchr(path, '/');
        const char *dir = slash != NULL ? tb_arena_strndup(a, path, (size_t)(slash - path)) : ".";
        ms = tpl_imagery_parse((const char *)buf.data, buf.len, path, dir, a, err);
    }
    tb_buf_release(&buf);
    return ms;
}
