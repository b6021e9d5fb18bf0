/* DESIGN: parse with every dangerous libxml2 feature off (no DTD loading, no entity
 * substitution, no network) and refuse any document carrying a DTD at all, then validate the
 * tree against the compiled-in RelaxNG schema, then copy what we need into arena-owned plain
 * structs so nothing of libxml2 escapes this file. */
#include "tb_features.h"

#include "tpl.h"

#include "tb_buf.h"
#include "tb_fs.h"
#include "tpl_int.h"
#include "tpl_schemas.h"

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_XML_BYTES = 1 << 20 };

#define XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA)

static void
free_xml_doc(void *p)
{
    xmlFreeDoc(p);
}

/* Collects libxml2's structured errors into one message (the first error wins). */
struct xml_errors {
    tb_buf msg;
    int count;
};

static void
collect_error(void *ctx, const xmlError *e)
{
    struct xml_errors *xe = ctx;
    if (xe->count++ > 0)
        return;
    char *m = e->message ? e->message : "";
    size_t n = strlen(m);
    while (n > 0 && m[n - 1] == '\n')
        n--;
    tb_buf_printf(&xe->msg, "line %d: %.*s", e->line, (int)n, m);
}

static void
collect_error_cb(void *ctx, xmlErrorPtr e)
{
    collect_error(ctx, e);
}

static xmlDocPtr
parse_and_validate(const char *xml, size_t len, const char *name, const char *schema,
                   tb_arena *a, tb_err *err)
{
    struct xml_errors xe = {TB_BUF_INIT, 0};
    xmlDocPtr doc = NULL;
    xmlRelaxNGParserCtxtPtr pctx = NULL;
    xmlRelaxNGPtr rng = NULL;
    xmlRelaxNGValidCtxtPtr vctx = NULL;

    if (len > MAX_XML_BYTES || len > (size_t)INT32_MAX) {
        tb_err_set(err, TB_ELIMIT, "%s: template larger than %d bytes", name, MAX_XML_BYTES);
        goto done;
    }
    xmlParserCtxtPtr ctx = xmlNewParserCtxt();
    xmlSetStructuredErrorFunc(&xe, collect_error_cb);
    doc = xmlCtxtReadMemory(ctx, xml, (int)len, name, "UTF-8", XML_OPTIONS);
    xmlFreeParserCtxt(ctx);
    if (doc == NULL) {
        tb_err_set(err, TB_EFORMAT, "%s: not well-formed XML: %s", name,
                   xe.count ? (char *)xe.msg.data : "empty document");
        goto done;
    }
    if (doc->intSubset != NULL || doc->extSubset != NULL) {
        tb_err_set(err, TB_EFORMAT, "%s: a DOCTYPE is not allowed in templates", name);
        xmlFreeDoc(doc);
        doc = NULL;
        goto done;
    }
    pctx = xmlRelaxNGNewMemParserCtxt(schema, (int)strlen(schema));
    rng = xmlRelaxNGParse(pctx);
    TB_ASSERT(rng != NULL); /* the schemas are ours: a broken one is a bug */
    vctx = xmlRelaxNGNewValidCtxt(rng);
    xmlRelaxNGSetValidStructuredErrors(vctx, collect_error_cb, &xe);
    if (xmlRelaxNGValidateDoc(vctx, doc) != 0) {
        tb_err_set(err, TB_EFORMAT, "%s: does not match its schema: %s", name,
                   xe.count ? (char *)xe.msg.data : "invalid");
        xmlFreeDoc(doc);
        doc = NULL;
        goto done;
    }
    tb_arena_defer(a, free_xml_doc, doc);

done:
    xmlSetStructuredErrorFunc(NULL, NULL);
    xmlRelaxNGFreeValidCtxt(vctx);
    xmlRelaxNGFree(rng);
    xmlRelaxNGFreeParserCtxt(pctx);
    tb_buf_release(&xe.msg);
    return doc;
}

static xmlDocPtr
load_file(const char *path, const char *schema, tb_arena *a, tb_err *err)
{
    tb_buf buf = TB_BUF_INIT;
    xmlDocPtr doc = NULL;
    if (tb_fs_read(path, MAX_XML_BYTES, &buf, err) == TB_OK)
        doc = parse_and_validate((const char *)buf.data, buf.len, path, schema, a, err);
    tb_buf_release(&buf);
    return doc;
}

static bool
is_element(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr
child(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr n = parent->children; n; n = n->next)
        if (is_element(n, name))
            return n;
    return NULL;
}

/* Text content, trimmed of surrounding white space and with inner line breaks (from
 * pretty-printed XML) removed: Chinese text has no spaces between words.  A <br/> element is
 * an intended line break ("\n"), e.g. where a long title should break. */
static void
append_text(xmlNodePtr n, tb_buf *out)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, "br") == 0) {
            tb_buf_append(out, "\n", 1);
            continue;
        }
        if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) {
            append_text(c, out);
            continue;
        }
        for (const char *s = (const char *)c->content; s && *s;) {
            if (*s == '\n' || *s == '\r') {
                while (*s == '\n' || *s == '\r' || *s == ' ' || *s == '\t')
                    s++;
                continue;
            }
            tb_buf_append(out, s++, 1);
        }
    }
}

static char *
text_of(xmlNodePtr n, tb_arena *a)
{
    tb_buf out = TB_BUF_INIT;
    append_text(n, &out);
    size_t b = 0, e = out.len;
    while (b < e && (out.data[b] == ' ' || out.data[b] == '\t'))
        b++;
    while (e > b && (out.data[e - 1] == ' ' || out.data[e - 1] == '\t'))
        e--;
    char *r = tb_arena_strndup(a, out.len ? (char *)out.data + b : "", e - b);
    tb_buf_release(&out);
    return r;
}

static char *
attr(xmlNodePtr n, const char *name, tb_arena *a)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    char *r = v ? tb_arena_strdup(a, (const char *)v) : NULL;
    xmlFree(v);
    return r;
}

/* Joins a path from the profile to the office directory and makes sure it stays inside: the
 * schema already forbids a leading '/', this forbids ".." components, and resolving symbolic
 * links catches keys/ pointing at another office's keys.  (A path that does not exist yet is
 * left as joined: opening it will fail with its name.) */
static const char *
inside(const char *dir, const char *rel, const char *what, tb_arena *a, tb_err *err)
{
    for (const char *p = rel; *p; p = strchr(p, '/') ? strchr(p, '/') + 1 : p + strlen(p))
        if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0')) {
            tb_err_set(err, TB_EFORMAT, "%s/office.xml: %s path '%s' leaves the office "
                       "directory", dir, what, rel);
            return NULL;
        }
    const char *joined = tb_arena_printf(a, "%s/%s", dir, rel);
    char *real_dir = realpath(dir, NULL), *real = realpath(joined, NULL);
    bool outside = false;
    if (real_dir && real) {
        size_t n = strlen(real_dir);
        outside = strncmp(real, real_dir, n) != 0 || (real[n] != '/' && real[n] != '\0');
    }
    if (outside)
        tb_err_set(err, TB_EFORMAT, "%s/office.xml: %s path '%s' resolves to %s, outside the "
                   "office directory", dir, what, rel, real);
    free(real_dir);
    free(real);
    return outside ? NULL : joined;
}

static const font_choice default_fonts[FONT_ROLE_COUNT] = {
    [FONT_XIAOBIAOSONG] = {"Noto Serif CJK SC", true},
    [FONT_FANGSONG] = {"FandolFang", false},
    [FONT_HEITI] = {"Noto Sans CJK SC", false},
    [FONT_KAITI] = {"FandolKai", false},
    [FONT_SONGTI] = {"FandolSong", false},
};

static const char *const font_role_names[FONT_ROLE_COUNT] = {
    "xiaobiaosong", "fangsong", "heiti", "kaiti", "songti",
};

tpl_office *
tpl_office_load(const char *dir, tb_arena *a, tb_err *err)
{
    const char *path = tb_arena_printf(a, "%s/office.xml", dir);
    xmlDocPtr doc = load_file(path, tpl_schema_office, a, err);
    if (doc == NULL)
        return NULL;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    tpl_office *o = tb_arena_alloc(a, sizeof *o);
    o->dir = tb_arena_strdup(a, dir);
    o->id = attr(root, "id", a);
    o->name = text_of(child(root, "name"), a);
    o->mark = text_of(child(root, "mark"), a);
    o->docno_prefix = text_of(child(root, "docno-prefix"), a);
    xmlNodePtr county = child(root, "county");
    o->county_code = attr(county, "code", a);
    o->county_name = text_of(county, a);
    o->issuer = text_of(child(root, "issuer"), a);
    xmlNodePtr seal = child(root, "seal");
    o->seal_path = inside(dir, attr(seal, "image", a), "seal", a, err);
    o->seal_diameter_mm = strtod(attr(seal, "diameter-mm", a), NULL);
    xmlNodePtr sign = child(root, "signing");
    o->key_path = inside(dir, attr(sign, "key", a), "key", a, err);
    o->cert_path = inside(dir, attr(sign, "cert", a), "cert", a, err);
    const char *chain = attr(sign, "chain", a);
    o->chain_path = chain ? inside(dir, chain, "chain", a, err) : NULL;
    const char *pass_file = attr(sign, "passphrase-file", a);
    o->passphrase_file = pass_file ? inside(dir, pass_file, "passphrase-file", a, err) : NULL;
    o->passphrase_env = attr(sign, "passphrase-env", a);
    o->tsa_url = attr(sign, "tsa", a);
    const char *certify = attr(sign, "certify", a);
    o->certify = certify && strcmp(certify, "true") == 0;
    xmlNodePtr imagery = child(root, "imagery");
    if (imagery) {
        /* Imagery is shared data kept outside the office, so it may be anywhere the profile's
         * author (an administrator) says; templates cannot name paths at all. */
        const char *p = attr(imagery, "path", a);
        if (strncmp(p, "/vsi", 4) == 0 || strstr(p, "://") != NULL) {
            tb_err_set(err, TB_EFORMAT, "%s: imagery '%s': only local files (no GDAL virtual or "
                       "network file systems)", path, p);
            return NULL;
        }
        o->imagery_path = p[0] == '/' ? p : tb_arena_printf(a, "%s/%s", dir, p);
    }
    xmlNodePtr catalogue = child(root, "imagery-catalogue");
    if (catalogue && !(o->imagery_catalogue_path = inside(dir, attr(catalogue, "path", a),
                                                          "imagery-catalogue", a, err)))
        return NULL;
    memcpy(o->fonts, default_fonts, sizeof o->fonts);
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (!is_element(n, "font"))
            continue;
        const char *role = attr(n, "role", a), *weight = attr(n, "weight", a);
        for (int r = 0; r < FONT_ROLE_COUNT; r++)
            if (strcmp(role, font_role_names[r]) == 0) {
                o->fonts[r].family = attr(n, "family", a);
                o->fonts[r].bold = weight && strcmp(weight, "bold") == 0;
            }
    }
    return o->seal_path && o->key_path && o->cert_path && (chain == NULL || o->chain_path) &&
                   (pass_file == NULL || o->passphrase_file)
               ? o
               : NULL;
}

static tpl_notice *
notice_from_doc(xmlDocPtr doc, const char *name, tb_arena *a)
{
    xmlNodePtr root = xmlDocGetRootElement(doc), n;
    tpl_notice *t = tb_arena_alloc(a, sizeof *t);
    t->path = tb_arena_strdup(a, name);
    n = child(root, "title");
    t->title = text_of(n, a);
    t->title_line = (int)xmlGetLineNo(n);
    n = child(root, "addressee");
    t->addressee = text_of(n, a);
    t->addressee_line = (int)xmlGetLineNo(n);
    if ((n = child(root, "cc")) != NULL) {
        t->cc = text_of(n, a);
        t->cc_line = (int)xmlGetLineNo(n);
    }

    xmlNodePtr body = child(root, "body");
    for (n = body->children; n; n = n->next)
        t->block_count += n->type == XML_ELEMENT_NODE;
    t->blocks = tb_arena_array(a, t->block_count, sizeof *t->blocks);
    size_t i = 0;
    for (n = body->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        tpl_block *b = &t->blocks[i++];
        b->line = (int)xmlGetLineNo(n);
        if (is_element(n, "patch-list")) {
            b->kind = TPL_PATCH_LIST;
            continue;
        }
        b->kind = is_element(n, "h1") ? TPL_HEADING1
                  : is_element(n, "h2") ? TPL_HEADING2
                                        : TPL_PARAGRAPH;
        b->text = text_of(n, a);
    }

    xmlNodePtr atts = child(root, "attachments");
    if (atts) {
        for (n = atts->children; n; n = n->next)
            t->attachment_count += n->type == XML_ELEMENT_NODE;
        t->attachments = tb_arena_array(a, t->attachment_count, sizeof *t->attachments);
        i = 0;
        for (n = atts->children; n; n = n->next) {
            if (n->type != XML_ELEMENT_NODE)
                continue;
            tpl_attachment *at = &t->attachments[i++];
            const char *content = attr(n, "content", a);
            at->content = strcmp(content, "patch-maps") == 0 ? TPL_ATT_PATCH_MAPS
                                                             : TPL_ATT_PATCH_TABLE;
            at->title = text_of(n, a);
            at->line = (int)xmlGetLineNo(n);
        }
    }
    return t;
}

tpl_notice *
tpl_notice_parse(const char *xml, size_t len, const char *name, tb_arena *a, tb_err *err)
{
    xmlDocPtr doc = parse_and_validate(xml, len, name, tpl_schema_notice, a, err);
    return doc ? notice_from_doc(doc, name, a) : NULL;
}

tpl_notice *
tpl_notice_load(const tpl_office *office, tb_arena *a, tb_err *err)
{
    const char *path = tb_arena_printf(a, "%s/notice.xml", office->dir);
    xmlDocPtr doc = load_file(path, tpl_schema_notice, a, err);
    return doc ? notice_from_doc(doc, path, a) : NULL;
}

static field_mapping *
mapping_from_doc(xmlDocPtr doc, const char *name, tb_arena *a)
{
    xmlNodePtr root = xmlDocGetRootElement(doc), n;
    field_mapping *m = tb_arena_alloc(a, sizeof *m);
    const char *profile_name = attr(root, "name", a);
    m->name = profile_name ? profile_name : tb_arena_strdup(a, name);
    for (n = root->children; n; n = n->next) {
        m->rename_count += is_element(n, "field");
        m->synonym_count += is_element(n, "value");
    }
    field_rename *renames = tb_arena_array(a, m->rename_count + 1, sizeof *renames);
    value_synonym *synonyms = tb_arena_array(a, m->synonym_count + 1, sizeof *synonyms);
    size_t r = 0, v = 0;
    for (n = root->children; n; n = n->next) {
        if (is_element(n, "field")) {
            renames[r].field = attr(n, "name", a);
            renames[r++].column = attr(n, "column", a);
        } else if (is_element(n, "value")) {
            synonyms[v].field = attr(n, "field", a);
            synonyms[v].from = attr(n, "from", a);
            synonyms[v++].to = attr(n, "to", a);
        }
    }
    m->renames = renames;
    m->synonyms = synonyms;
    return m;
}

field_mapping *
tpl_mapping_parse(const char *xml, size_t len, const char *name, tb_arena *a, tb_err *err)
{
    xmlDocPtr doc = parse_and_validate(xml, len, name, tpl_schema_mapping, a, err);
    return doc ? mapping_from_doc(doc, name, a) : NULL;
}

field_mapping *
tpl_mapping_load(const char *path, tb_arena *a, tb_err *err)
{
    xmlDocPtr doc = load_file(path, tpl_schema_mapping, a, err);
    return doc ? mapping_from_doc(doc, path, a) : NULL;
}

char *
tpl_expand(const char *text, const tpl_var *vars, size_t var_count, const char *file, int line,
           tb_arena *a, tb_err *err)
{
    tb_buf out = TB_BUF_INIT;
    char *result = NULL;
    for (const char *s = text; *s;) {
        if ((s[0] == '{' && s[1] == '{') || (s[0] == '}' && s[1] == '}')) {
            tb_buf_append(&out, s, 1);
            s += 2;
            continue;
        }
        if (s[0] == '}') {
            tb_err_set(err, TB_EFORMAT, "%s:%d: unmatched '}' (write '}}' for a brace)", file,
                       line);
            goto done;
        }
        if (s[0] != '{') {
            tb_buf_append(&out, s++, 1);
            continue;
        }
        const char *end = strchr(s, '}');
        if (end == NULL) {
            tb_err_set(err, TB_EFORMAT, "%s:%d: unclosed '{' (write '{{' for a brace)", file,
                       line);
            goto done;
        }
        size_t n = (size_t)(end - s - 1);
        size_t k;
        for (k = 0; k < var_count; k++)
            if (strlen(vars[k].name) == n && strncmp(vars[k].name, s + 1, n) == 0)
                break;
        if (k == var_count) {
            tb_buf names = TB_BUF_INIT;
            for (size_t j = 0; j < var_count; j++)
                tb_buf_printf(&names, "%s%s", j ? ", " : "", vars[j].name);
            tb_err_set(err, TB_EFORMAT, "%s:%d: unknown variable {%.*s}; known: %s", file, line,
                       (int)(n > 64 ? 64 : n), s + 1, names.len ? (char *)names.data : "none");
            tb_buf_release(&names);
            goto done;
        }
        tb_buf_append_str(&out, vars[k].value ? vars[k].value : "");
        s = end + 1;
    }
    result = tb_arena_strndup(a, out.len ? (char *)out.data : "", out.len);
done:
    tb_buf_release(&out);
    return result;
}

xmlDocPtr
tpl_xml_parse(const char *xml, size_t len, const char *name, const char *schema, tb_arena *a,
              tb_err *err)
{
    return parse_and_validate(xml, len, name, schema, a, err);
}
