/* DESIGN: parse with every dangerous libxml2 feature off (no DTD loading, no entity
 * substitution, no network) and refuse any document carrying a DTD at all, then validate the
 * tree against the compiled-in RelaxNG schema.  Messages carry file:line:column: libxml2 gives
 * the line, the column is found in the source. */
#include "tb_features.h"

#include "tpl_int.h"

#include "tb_buf.h"
#include "tb_fs.h"
#include "tpl_expr.h"
#include "tpl_schemas.h"

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/xmlerror.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA)

static void
free_xml_doc(void *p)
{
    xmlFreeDoc(p);
}

/* The first error libxml2 reports, with where it is. */
struct xml_errors {
    tb_buf msg;
    int count, line, column;
    char element[64];
};

static void
collect_error(void *ctx, xmlErrorPtr e)
{
    struct xml_errors *xe = ctx;
    if (xe->count++ > 0)
        return;
    char *m = e->message ? e->message : "";
    size_t n = strlen(m);
    while (n > 0 && m[n - 1] == '\n')
        n--;
    tb_buf_printf(&xe->msg, "%.*s", (int)n, m);
    xe->line = e->line;
    xe->column = e->int2;
    xmlNodePtr node = e->node;
    if (node && node->type == XML_ELEMENT_NODE && node->name) {
        snprintf(xe->element, sizeof xe->element, "%s", (const char *)node->name);
        if (xe->line <= 0)
            xe->line = (int)xmlGetLineNo(node);
    }
}

bool
tpl_locate(const char *source, size_t len, int from_line, const char *needle, int *line,
           int *column)
{
    if (source == NULL || needle == NULL || needle[0] == '\0')
        return false;
    size_t pos = 0;
    int l = 1;
    while (pos < len && l < from_line)
        if (source[pos++] == '\n')
            l++;
    size_t k = strlen(needle);
    for (size_t p = pos; p + k <= len; p++) {
        if (memcmp(source + p, needle, k) != 0)
            continue;
        int ln = l, col = 1;
        for (size_t i = pos; i < p; i++)
            ln += source[i] == '\n';
        size_t b = p;
        while (b > 0 && source[b - 1] != '\n')
            b--;
        for (size_t i = b; i < p; i++)
            col += ((unsigned char)source[i] & 0xC0) != 0x80;
        *line = ln, *column = col;
        return true;
    }
    return false;
}

/* Known names, for "did you mean" on schema errors. */
static const char *const template_names[] = {
    "template", "fragment", "head", "copy-number", "secrecy", "urgency", "mark", "docno",
    "signer", "colophon", "cc", "issuer", "print-date", "title", "addressee", "p", "h1", "h2",
    "h3", "h4", "attachment-note", "signature", "note", "attachment", "table", "col", "thead",
    "tbody", "tfoot", "tr", "td", "figure", "map", "chart", "photo", "caption", "space", "page-break", "section",
    "contents", "include", "let", "for", "if", "choose", "when", "otherwise", "br", "b",
    "nobreak",
};

/* Names people reach for that the language spells otherwise. */
static const struct { const char *said, *meant; } synonyms[] = {
    {"paragraph", "p"}, {"para", "p"},      {"heading", "h1"},    {"image", "figure"},
    {"img", "figure"},  {"loop", "for"},    {"foreach", "for"},   {"else", "otherwise"},
    {"row", "tr"},      {"cell", "td"},     {"th", "td"},         {"body", "(nothing: blocks go "
                                                                   "straight in <template>)"},
};

static const char *
schema_hint(const char *element, tb_arena *a)
{
    if (!element[0])
        return "";
    for (size_t i = 0; i < sizeof synonyms / sizeof synonyms[0]; i++)
        if (strcmp(synonyms[i].said, element) == 0)
            return tb_arena_printf(a, " (did you mean <%s>?)", synonyms[i].meant);
    const char *best = NULL;
    size_t best_d = 99, n = strlen(element);
    for (size_t i = 0; i < sizeof template_names / sizeof template_names[0]; i++) {
        const char *c = template_names[i];
        if (strcmp(c, element) == 0)
            return " (see docs/templates.md for where it may go and what it holds)";
        size_t d = tpl_hint_distance(element, n, c, strlen(c));
        if (d < best_d)
            best = c, best_d = d;
    }
    if (best && best_d <= 1 + n / 3)
        return tb_arena_printf(a, " (did you mean <%s>?)", best);
    return " (not an element of the template language; see docs/templates.md)";
}

xmlDocPtr
tpl_xml_parse(const char *xml, size_t len, const char *name, const char *schema, tb_arena *a,
              tb_err *err)
{
    struct xml_errors xe = {TB_BUF_INIT, 0, 0, 0, ""};
    xmlDocPtr doc = NULL;
    xmlRelaxNGParserCtxtPtr pctx = NULL;
    xmlRelaxNGPtr rng = NULL;
    xmlRelaxNGValidCtxtPtr vctx = NULL;

    if (len > TPL_MAX_XML_BYTES || len > (size_t)INT32_MAX) {
        tb_err_set(err, TB_ELIMIT, "%s: larger than %d bytes", name, TPL_MAX_XML_BYTES);
        goto done;
    }
    xmlParserCtxtPtr ctx = xmlNewParserCtxt();
    xmlSetStructuredErrorFunc(&xe, collect_error);
    doc = xmlCtxtReadMemory(ctx, xml, (int)len, name, "UTF-8", XML_OPTIONS);
    xmlFreeParserCtxt(ctx);
    if (doc == NULL) {
        tb_err_set(err, TB_EFORMAT, "%s:%d:%d: not well-formed XML: %s", name,
                   xe.count ? xe.line : 1, xe.column > 0 ? xe.column : 1, xe.count ? (char *)xe.msg.data : "empty");
        goto done;
    }
    if (doc->intSubset != NULL || doc->extSubset != NULL) {
        tb_err_set(err, TB_EFORMAT, "%s:1:1: a DOCTYPE is not allowed in templates (no DTD, "
                   "no entities)", name);
        xmlFreeDoc(doc);
        doc = NULL;
        goto done;
    }
    pctx = xmlRelaxNGNewMemParserCtxt(schema, (int)strlen(schema));
    rng = xmlRelaxNGParse(pctx);
    TB_ASSERT(rng != NULL); /* the schemas are ours: a broken one is a bug */
    vctx = xmlRelaxNGNewValidCtxt(rng);
    xmlRelaxNGSetValidStructuredErrors(vctx, collect_error, &xe);
    if (xmlRelaxNGValidateDoc(vctx, doc) != 0) {
        int line = xe.line > 0 ? xe.line : 1, column = 1;
        if (xe.element[0]) {
            char needle[80];
            snprintf(needle, sizeof needle, "<%s", xe.element);
            int l2, c2;
            if (tpl_locate(xml, len, line, needle, &l2, &c2) && l2 == line)
                column = c2;
        }
        tb_err_set(err, TB_EFORMAT, "%s:%d:%d: does not match the schema: %s%s", name, line,
                   column, xe.count ? (char *)xe.msg.data : "invalid",
                   strcmp(schema, tpl_schema_template) == 0 ? schema_hint(xe.element, a) : "");
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

xmlDocPtr
tpl_xml_load(const char *path, const char *beneath, const char *schema, const char **source,
             size_t *len, tb_arena *a, tb_err *err)
{
    tb_buf buf = TB_BUF_INIT;
    xmlDocPtr doc = NULL;
    tb_code rc = beneath ? tb_fs_read_beneath(beneath, path, TPL_MAX_XML_BYTES, &buf, err)
                         : tb_fs_read(path, TPL_MAX_XML_BYTES, &buf, err);
    if (rc == TB_OK) {
        doc = tpl_xml_parse((const char *)buf.data, buf.len, path, schema, a, err);
        if (source)
            *source = tb_arena_strndup(a, buf.len ? (char *)buf.data : "", buf.len);
        if (len)
            *len = buf.len;
    }
    tb_buf_release(&buf);
    return doc;
}

bool
tpl_is_element(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

xmlNodePtr
tpl_child(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr n = parent->children; n; n = n->next)
        if (tpl_is_element(n, name))
            return n;
    return NULL;
}

char *
tpl_attr(xmlNodePtr n, const char *name, tb_arena *a)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    char *r = v ? tb_arena_strdup(a, (const char *)v) : NULL;
    xmlFree(v);
    return r;
}

/* Text content with inner line breaks (from pretty-printed XML) and the indentation after them
 * removed: Chinese text has no spaces between words. */
char *
tpl_text_of(xmlNodePtr n, tb_arena *a)
{
    tb_buf out = TB_BUF_INIT;
    xmlChar *content = xmlNodeGetContent(n);
    for (const char *s = (const char *)content; s && *s;) {
        if (*s == '\n' || *s == '\r') {
            while (*s == '\n' || *s == '\r' || *s == ' ' || *s == '\t')
                s++;
            continue;
        }
        tb_buf_append(&out, s++, 1);
    }
    xmlFree(content);
    size_t b = 0, e = out.len;
    while (b < e && (out.data[b] == ' ' || out.data[b] == '\t'))
        b++;
    while (e > b && (out.data[e - 1] == ' ' || out.data[e - 1] == '\t'))
        e--;
    char *r = tb_arena_strndup(a, out.len ? (char *)out.data + b : "", e - b);
    tb_buf_release(&out);
    return r;
}
