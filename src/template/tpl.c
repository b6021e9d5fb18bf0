/* DESIGN: an office profile is read element by element, one small function per element (a
 * table), first from the built-in templates/_base/office.xml and then from the office's own
 * file, each value the office gives replacing the default.  Everything is copied into
 * arena-owned plain structs so nothing of libxml2 escapes src/template. */
#include "tb_features.h"

#include "tpl.h"

#include "tb_buf.h"
#include "tpl_int.h"
#include "tpl_schemas.h"

#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

/* Joins a path from the profile to the office directory.  The schema already forbids a leading
 * '/', this forbids ".." components (a clear message early); symbolic links out of the folder
 * (keys/ pointing at another office's keys) are refused when the file is opened, beneath the
 * folder (tb_fs_open_beneath), not checked here and opened later by name. */
static const char *
inside(const char *dir, const char *rel, const char *what, tb_arena *a, tb_err *err)
{
    for (const char *p = rel; *p; p = strchr(p, '/') ? strchr(p, '/') + 1 : p + strlen(p))
        if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0')) {
            tb_err_set(err, TB_EFORMAT, "%s/office.xml: %s path '%s' leaves the office "
                       "directory", dir, what, rel);
            return NULL;
        }
    return tb_arena_printf(a, "%s/%s", dir, rel);
}

/* All Fandol (TeX Live): a document's fonts are subset from their whole CFF tables, which Cairo
 * reads twice per document and font; Noto CJK's are 15-24 MB against Fandol's 5-7 MB (issue
 * 11: a quarter of the CPU time and 60 MB of peak memory). */
static const font_choice default_fonts[FONT_ROLE_COUNT] = {
    [FONT_XIAOBIAOSONG] = {"FandolSong", true},
    [FONT_FANGSONG] = {"FandolFang", false},
    [FONT_HEITI] = {"FandolHei", false},
    [FONT_KAITI] = {"FandolKai", false},
    [FONT_SONGTI] = {"FandolSong", false},
};

static const char *const font_role_names[FONT_ROLE_COUNT] = {
    "xiaobiaosong", "fangsong", "heiti", "kaiti", "songti",
};

/* What one element handler gets. */
typedef struct office_reader {
    tpl_office *o;
    const char *dir;  /* NULL while reading _base: it names no files */
    const char *path; /* for messages */
    tb_arena *a;
    tb_err *err;
} office_reader;

#define TEXT(n) tpl_text_of((n), r->a)
#define ATTR(n, name) tpl_attr((n), (name), r->a)

/* Elements whose text is the value (<name>, <mark>, <issuer> …), with the field they fill;
 * elements with more to read have a function each (office_elements). */
static const struct office_text {
    const char *element;
    size_t field;
} office_texts[] = {
    {"name", offsetof(tpl_office, name)},         {"short-name", offsetof(tpl_office, short_name)},
    {"mark", offsetof(tpl_office, mark)},         {"issuer", offsetof(tpl_office, issuer)},
    {"signer", offsetof(tpl_office, signer)},     {"contact", offsetof(tpl_office, contact)},
    {"addressee", offsetof(tpl_office, addressee)}, {"cc", offsetof(tpl_office, cc)},
};

static bool
office_docno_prefix(office_reader *r, xmlNodePtr n)
{
    const char *kind = ATTR(n, "kind"), *prefix = TEXT(n);
    if (kind == NULL) {
        r->o->docno_prefix = prefix;
        return true;
    }
    tpl_office *o = r->o;
    tpl_docno_prefix *p = tb_arena_array(r->a, o->prefix_count + 1, sizeof *p);
    if (o->prefix_count)
        memcpy(p, o->prefixes, o->prefix_count * sizeof *p);
    p[o->prefix_count++] = (tpl_docno_prefix){kind, prefix};
    o->prefixes = p;
    return true;
}

static bool
office_county(office_reader *r, xmlNodePtr n)
{
    r->o->county_code = ATTR(n, "code");
    r->o->county_name = TEXT(n);
    return true;
}

static bool
office_seal(office_reader *r, xmlNodePtr n)
{
    if (r->dir == NULL)
        return true;
    r->o->seal_path = inside(r->dir, ATTR(n, "image"), "seal", r->a, r->err);
    r->o->seal_diameter_mm = strtod(ATTR(n, "diameter-mm"), NULL);
    return r->o->seal_path != NULL;
}

static bool
office_signing(office_reader *r, xmlNodePtr n)
{
    if (r->dir == NULL)
        return true;
    tpl_office *o = r->o;
    o->key_path = inside(r->dir, ATTR(n, "key"), "key", r->a, r->err);
    o->cert_path = inside(r->dir, ATTR(n, "cert"), "cert", r->a, r->err);
    const char *chain = ATTR(n, "chain");
    o->chain_path = chain ? inside(r->dir, chain, "chain", r->a, r->err) : NULL;
    const char *pass_file = ATTR(n, "passphrase-file");
    o->passphrase_file = pass_file ? inside(r->dir, pass_file, "passphrase-file", r->a, r->err)
                                   : NULL;
    o->passphrase_env = ATTR(n, "passphrase-env");
    o->tsa_url = ATTR(n, "tsa");
    const char *certify = ATTR(n, "certify");
    o->certify = certify && strcmp(certify, "true") == 0;
    return o->key_path && o->cert_path && (chain == NULL || o->chain_path) &&
           (pass_file == NULL || o->passphrase_file);
}

static bool
office_imagery(office_reader *r, xmlNodePtr n)
{
    if (r->dir == NULL)
        return true;
    /* Imagery is shared data kept outside the office, so it may be anywhere the profile's
     * author (an administrator) says; templates cannot name paths at all. */
    const char *p = ATTR(n, "path");
    if (strncmp(p, "/vsi", 4) == 0 || strstr(p, "://") != NULL) {
        tb_err_set(r->err, TB_EFORMAT, "%s: imagery '%s': only local files (no GDAL virtual or "
                   "network file systems)", r->path, p);
        return false;
    }
    r->o->imagery_path = p[0] == '/' ? p : tb_arena_printf(r->a, "%s/%s", r->dir, p);
    return true;
}

static bool
office_imagery_catalogue(office_reader *r, xmlNodePtr n)
{
    if (r->dir == NULL)
        return true;
    r->o->imagery_catalogue_path = inside(r->dir, ATTR(n, "path"), "imagery-catalogue", r->a,
                                          r->err);
    return r->o->imagery_catalogue_path != NULL;
}

static bool
office_font(office_reader *r, xmlNodePtr n)
{
    const char *role = ATTR(n, "role"), *weight = ATTR(n, "weight");
    for (int k = 0; k < FONT_ROLE_COUNT; k++)
        if (strcmp(role, font_role_names[k]) == 0) {
            r->o->fonts[k].family = ATTR(n, "family");
            r->o->fonts[k].bold = weight && strcmp(weight, "bold") == 0;
        }
    return true;
}

/* <rules><rule name value/></rules>: the office's rule replaces _base's of the same name. */
static bool
office_rules(office_reader *r, xmlNodePtr n)
{
    tpl_office *o = r->o;
    size_t extra = 0, flags = 0;
    for (xmlNodePtr c = n->children; c; c = c->next)
        extra += tpl_is_element(c, "rule"), flags += tpl_is_element(c, "interview-flag");
    named_number *rules = tb_arena_array(r->a, o->rule_count + extra + 1, sizeof *rules);
    if (o->rule_count)
        memcpy(rules, o->rules, o->rule_count * sizeof *rules);
    interview_flag *f = tb_arena_array(r->a, o->interview_flag_count + flags + 1, sizeof *f);
    if (o->interview_flag_count)
        memcpy(f, o->interview_flags, o->interview_flag_count * sizeof *f);
    o->interview_flags = f;
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (tpl_is_element(c, "interview-flag")) {
            f[o->interview_flag_count++] =
                (interview_flag){ATTR(c, "township"), ATTR(c, "reason")};
            continue;
        }
        if (!tpl_is_element(c, "rule"))
            continue;
        const char *name = ATTR(c, "name");
        double value = strtod(ATTR(c, "value"), NULL);
        size_t k = 0;
        while (k < o->rule_count && strcmp(rules[k].name, name) != 0)
            k++;
        rules[k] = (named_number){name, value};
        if (k == o->rule_count)
            o->rule_count++;
    }
    o->rules = rules;
    return true;
}

/* <townships>: the office's unit rules are tried before _base's. */
static bool
office_townships(office_reader *r, xmlNodePtr n)
{
    tpl_office *o = r->o;
    size_t units = 0, towns = 0;
    for (xmlNodePtr c = n->children; c; c = c->next)
        units += tpl_is_element(c, "unit"), towns += tpl_is_element(c, "township");
    unit_rule *u = tb_arena_array(r->a, o->unit_count + units + 1, sizeof *u);
    township_entry *t = tb_arena_array(r->a, o->township_count + towns + 1, sizeof *t);
    size_t ui = 0, ti = 0;
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (tpl_is_element(c, "unit"))
            u[ui++] = (unit_rule){ATTR(c, "suffix"), ATTR(c, "addressee"), ATTR(c, "unit")};
        else if (tpl_is_element(c, "township"))
            t[ti++] = (township_entry){ATTR(c, "code"), ATTR(c, "name"), ATTR(c, "addressee")};
    }
    if (o->unit_count)
        memcpy(u + ui, o->units, o->unit_count * sizeof *u);
    if (o->township_count)
        memcpy(t + ti, o->townships, o->township_count * sizeof *t);
    o->units = u, o->unit_count += ui;
    o->townships = t, o->township_count += ti;
    return true;
}

static const struct office_element {
    const char *name;
    bool (*read)(office_reader *r, xmlNodePtr n);
} office_elements[] = {
    {"docno-prefix", office_docno_prefix}, {"county", office_county},
    {"seal", office_seal},                 {"signing", office_signing},
    {"imagery", office_imagery},           {"imagery-catalogue", office_imagery_catalogue},
    {"font", office_font},                 {"rules", office_rules},
    {"townships", office_townships},
};

static bool
read_office(office_reader *r, xmlDocPtr doc)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (r->dir)
        r->o->id = tpl_attr(root, "id", r->a);
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        for (size_t i = 0; i < sizeof office_texts / sizeof office_texts[0]; i++)
            if (strcmp((const char *)n->name, office_texts[i].element) == 0)
                *(const char **)(void *)((char *)r->o + office_texts[i].field) =
                    tpl_text_of(n, r->a);
        for (size_t i = 0; i < sizeof office_elements / sizeof office_elements[0]; i++)
            if (strcmp((const char *)n->name, office_elements[i].name) == 0 &&
                !office_elements[i].read(r, n))
                return false;
    }
    return true;
}

tpl_office *
tpl_office_load(const char *dir, tb_arena *a, tb_err *err)
{
    tpl_office *o = tb_arena_alloc(a, sizeof *o);
    o->dir = tb_arena_strdup(a, dir);
    memcpy(o->fonts, default_fonts, sizeof o->fonts);

    const char *base = tpl_base_file("office.xml");
    TB_ASSERT(base != NULL);
    xmlDocPtr doc = tpl_xml_parse(base, strlen(base), "templates/_base/office.xml",
                                  tpl_schema_office, a, err);
    TB_ASSERT(doc != NULL); /* built in: a broken one is a bug */
    office_reader r = {o, NULL, "templates/_base/office.xml", a, err};
    read_office(&r, doc);

    const char *path = tb_arena_printf(a, "%s/office.xml", dir);
    if (!(doc = tpl_xml_load(path, dir, tpl_schema_office, NULL, NULL, a, err)))
        return NULL;
    r = (office_reader){o, dir, path, a, err};
    if (!read_office(&r, doc))
        return NULL;
    static const struct { const char *element; size_t offset; } required[] = {
        {"name", offsetof(tpl_office, name)},
        {"mark", offsetof(tpl_office, mark)},
        {"docno-prefix", offsetof(tpl_office, docno_prefix)},
        {"county", offsetof(tpl_office, county_name)},
        {"issuer", offsetof(tpl_office, issuer)},
        {"seal", offsetof(tpl_office, seal_path)},
        {"signing", offsetof(tpl_office, key_path)},
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (*(const char **)((const char *)o + required[i].offset) == NULL) {
            tb_err_set(err, TB_EFORMAT, "%s: no <%s> (and templates/_base has none)", path,
                       required[i].element);
            return NULL;
        }
    return o;
}

const char *
tpl_office_prefix(const tpl_office *o, const char *kind)
{
    for (size_t i = 0; kind && i < o->prefix_count; i++)
        if (strcmp(o->prefixes[i].kind, kind) == 0)
            return o->prefixes[i].prefix;
    return o->docno_prefix;
}

static double
rule_value(const tpl_office *o, const char *name)
{
    for (size_t i = 0; i < o->rule_count; i++)
        if (strcmp(o->rules[i].name, name) == 0)
            return o->rules[i].value;
    TB_ASSERT(!"rule missing from templates/_base/office.xml");
    return 0;
}

interview_rules
tpl_office_interview_rules(const tpl_office *o)
{
    return (interview_rules){
        .farmland_ratio = rule_value(o, "interview_ratio"),
        .basic_case_mu = rule_value(o, "interview_basic_farmland_mu"),
        .general_case_mu = rule_value(o, "interview_farmland_mu"),
        .flags = o->interview_flags,
        .flag_count = o->interview_flag_count,
    };
}

office_data
tpl_office_data(const tpl_office *o, const char *kind)
{
    return (office_data){
        .name = o->name,
        .short_name = o->short_name,
        .mark = o->mark,
        .docno_prefix = tpl_office_prefix(o, kind),
        .county = o->county_name,
        .county_code = o->county_code,
        .issuer = o->issuer,
        .signer = o->signer,
        .contact = o->contact,
        .addressee = o->addressee,
        .cc = o->cc,
        .rules = o->rules,
        .rule_count = o->rule_count,
    };
}

static field_mapping *
mapping_from_doc(xmlDocPtr doc, const char *name, tb_arena *a)
{
    xmlNodePtr root = xmlDocGetRootElement(doc), n;
    field_mapping *m = tb_arena_alloc(a, sizeof *m);
    const char *profile_name = tpl_attr(root, "name", a);
    m->name = profile_name ? profile_name : tb_arena_strdup(a, name);
    for (n = root->children; n; n = n->next) {
        m->rename_count += tpl_is_element(n, "field");
        m->synonym_count += tpl_is_element(n, "value");
    }
    field_rename *renames = tb_arena_array(a, m->rename_count + 1, sizeof *renames);
    value_synonym *synonyms = tb_arena_array(a, m->synonym_count + 1, sizeof *synonyms);
    size_t r = 0, v = 0;
    for (n = root->children; n; n = n->next) {
        if (tpl_is_element(n, "field")) {
            renames[r].field = tpl_attr(n, "name", a);
            renames[r++].column = tpl_attr(n, "column", a);
        } else if (tpl_is_element(n, "value")) {
            synonyms[v].field = tpl_attr(n, "field", a);
            synonyms[v].from = tpl_attr(n, "from", a);
            synonyms[v++].to = tpl_attr(n, "to", a);
        }
    }
    m->renames = renames;
    m->synonyms = synonyms;
    return m;
}

field_mapping *
tpl_mapping_parse(const char *xml, size_t len, const char *name, tb_arena *a, tb_err *err)
{
    xmlDocPtr doc = tpl_xml_parse(xml, len, name, tpl_schema_mapping, a, err);
    return doc ? mapping_from_doc(doc, name, a) : NULL;
}

field_mapping *
tpl_mapping_load(const char *path, tb_arena *a, tb_err *err)
{
    xmlDocPtr doc = tpl_xml_load(path, NULL, tpl_schema_mapping, NULL, NULL, a, err);
    return doc ? mapping_from_doc(doc, path, a) : NULL;
}
