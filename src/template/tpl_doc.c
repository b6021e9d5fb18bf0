/* DESIGN: a template is read in one walk over the validated XML tree that builds a small tree
 * of template nodes and, as it goes, parses and type-checks every expression in the scope it
 * will be evaluated in (the kind's data, then <let> and <for> names).  So every error a
 * template can have is found at load time, with file:line:column, and binding a document is a
 * second walk that only evaluates: loops append blocks, rows, cells or panels to whatever the
 * enclosing element collects, so the same <for>/<if>/<let> work in the body, in tables and in
 * figures.  Headings are numbered while binding, so a condition that drops one leaves no
 * gap. */
#include "tb_features.h"

#include "tpl_doc.h"

#include "tb_buf.h"
#include "tpl.h"
#include "tpl_expr.h"
#include "tpl_int.h"
#include "tpl_schemas.h"

#include <libxml/tree.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the template tree ------------------------------------------------------------------ */

typedef enum piece_kind { PC_TEXT, PC_EXPR, PC_BREAK, PC_IF } piece_kind;

typedef struct inline_text inline_text;

typedef struct piece {
    piece_kind kind;
    const char *text; /* PC_TEXT */
    tpl_expr *expr;   /* PC_EXPR; PC_IF: the test */
    unsigned flags;   /* DT_RUN_BOLD, DT_RUN_NOBREAK */
    const inline_text *then; /* PC_IF: the text shown when the test holds */
} piece;

/* Text with {expr} references and inline <if>s: element content or an attribute. */
struct inline_text {
    piece *items;
    size_t count;
};

typedef enum node_kind {
    N_BLOCK,      /* title, addressee, p, note, section: text into a dt_block */
    N_HEADING,    /* h1..h4, numbered when bound */
    N_ATTACHMENT_NOTE, N_SIGNATURE, N_ATTACHMENT, N_TABLE, N_FIGURE, N_SPACE, N_PAGE_BREAK,
    N_CONTENTS,
    N_LET, N_FOR, N_IF, N_CHOOSE, N_WHEN,
    N_ROW, N_CELL, N_MAP, N_CHART, N_PHOTO,
} node_kind;

typedef struct tnode tnode;

typedef struct node_list {
    tnode *items;
    size_t count;
} node_list;

struct tnode {
    node_kind kind;
    const char *file;
    int line;
    const char *fields; /* the expressions its text shows ("p.id, p.wflx"), for dt_origin */
    dt_block_kind block;
    int level;
    dt_align align;
    bool numbered, seal;
    dt_orientation orientation;
    inline_text text;      /* content */
    inline_text attr_text; /* signature date, attachment title */
    node_list children;    /* for, if, when, attachment, choose (whens), tr, figure */
    /* let, for */
    const char *name, *index_name;
    tpl_expr *value, *where, *sort; /* let value / for each */
    bool descending;
    tpl_expr *test; /* if, when (NULL: otherwise) */
    /* table */
    dt_column *columns;
    size_t column_count;
    double font_pt;
    bool borderless;
    node_list sections[3]; /* thead, tbody, tfoot */
    /* td */
    int colspan, rowspan;
    /* figure */
    double height_mm;
    inline_text caption;
    bool has_caption;
    /* map */
    tpl_expr *of;
    const char **attr_names;
    inline_text *attr_values;
    size_t attr_count;
};

enum { HEAD_COPY, HEAD_SECRECY, HEAD_URGENCY, HEAD_MARK, HEAD_DOCNO, HEAD_SIGNER, HEAD_COUNT };
static const char *const head_elements[HEAD_COUNT] = {
    "copy-number", "secrecy", "urgency", "mark", "docno", "signer",
};
enum { COLO_CC, COLO_ISSUER, COLO_DATE, COLO_COUNT };
static const char *const colophon_elements[COLO_COUNT] = {"cc", "issuer", "print-date"};

struct tpl_doc {
    const char *path;
    dt_format format;
    bool duplex;
    int page_limit;
    inline_text watermark;
    bool has_watermark;
    inline_text head[HEAD_COUNT];
    bool has_head[HEAD_COUNT];
    bool has_colophon;
    inline_text colophon[COLO_COUNT];
    bool has_colophon_part[COLO_COUNT];
    node_list body;
    const tv_type *type;
};

const char *
tpl_doc_path(const tpl_doc *t)
{
    return t->path;
}

/* ---- reading: one walk that builds and checks -------------------------------------------- */

typedef struct source {
    const char *file, *text;
    size_t len;
} source;

typedef struct reader {
    const source *src;
    const tpl_office *office;
    int include_depth, depth;
    tb_arena *a;
    tb_err *err;
} reader;

static int
line_of(xmlNodePtr n)
{
    long l = xmlGetLineNo(n);
    return l > 0 ? (int)l : 1;
}

static tb_code TB_PRINTF(4, 5)
fail_node(const reader *r, xmlNodePtr n, tb_code code, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = line_of(n), column = 1;
    char needle[80];
    snprintf(needle, sizeof needle, "<%s", n->name ? (const char *)n->name : "");
    int l2, c2;
    if (tpl_locate(r->src->text, r->src->len, line, needle, &l2, &c2) && l2 == line)
        column = c2;
    return tb_err_set(r->err, code, "%s:%d:%d: %s", r->src->file, line, column, msg);
}

/* Where an expression's text is: searched in the source from its element's line. */
static tpl_loc
locate(const reader *r, xmlNodePtr element, const char *needle)
{
    tpl_loc l = {r->src->file, line_of(element), 1};
    int line, column;
    if (tpl_locate(r->src->text, r->src->len, l.line, needle, &line, &column))
        l.line = line, l.column = column;
    return l;
}

static tpl_expr *
read_expr(const reader *r, xmlNodePtr element, const char *text, const tpl_tscope *scope)
{
    tpl_expr *e = tpl_expr_parse(text, strlen(text), locate(r, element, text), r->a, r->err);
    return e && tpl_expr_check(e, scope, r->a, r->err) ? e : NULL;
}

/* A growable array in the arena. */
static void *
grow(void *items, size_t count, size_t *cap, size_t size, tb_arena *a)
{
    if (count < *cap)
        return items;
    size_t n = *cap ? *cap * 2 : 8;
    void *bigger = tb_arena_array(a, n, size);
    if (count)
        memcpy(bigger, items, count * size);
    *cap = n;
    return bigger;
}

typedef struct piece_builder {
    piece *items;
    size_t count, cap;
} piece_builder;

static void
add_piece(piece_builder *pb, piece p, tb_arena *a)
{
    pb->items = grow(pb->items, pb->count, &pb->cap, sizeof *pb->items, a);
    pb->items[pb->count++] = p;
}

/* Splits literal text and {expr} references ("{{" and "}}" are literal braces); line breaks
 * of the XML and the indentation after them vanish (Chinese has no spaces between words). */
static bool
read_text(const reader *r, xmlNodePtr element, const char *s, unsigned flags,
          const tpl_tscope *scope, piece_builder *pb)
{
    tb_buf lit = TB_BUF_INIT;
    bool ok = true;
#define FLUSH()                                                                              \
    do {                                                                                     \
        if (lit.len)                                                                         \
            add_piece(pb, (piece){.kind = PC_TEXT,                                    \
                                  .text = tb_arena_strndup(r->a, (char *)lit.data, lit.len), \
                                  .flags = flags}, r->a);                                       \
        tb_buf_reset(&lit);                                                                  \
    } while (0)
    while (*s && ok) {
        if (*s == '\n' || *s == '\r') {
            while (*s == '\n' || *s == '\r' || *s == ' ' || *s == '\t')
                s++;
            continue;
        }
        if ((s[0] == '{' && s[1] == '{') || (s[0] == '}' && s[1] == '}')) {
            tb_buf_append(&lit, s, 1);
            s += 2;
            continue;
        }
        if (*s == '}') {
            tpl_loc l = locate(r, element, "}");
            tb_err_set(r->err, TB_EFORMAT, "%s:%d:%d: unmatched '}' (write '}}' for a brace)",
                       l.file, l.line, l.column);
            ok = false;
            break;
        }
        if (*s != '{') {
            tb_buf_append(&lit, s++, 1);
            continue;
        }
        const char *end = strchr(s, '}');
        if (end == NULL) {
            tpl_loc l = locate(r, element, "{");
            tb_err_set(r->err, TB_EFORMAT, "%s:%d:%d: unclosed '{' (write '{{' for a brace)",
                       l.file, l.line, l.column);
            ok = false;
            break;
        }
        FLUSH();
        const char *text = tb_arena_strndup(r->a, s + 1, (size_t)(end - s - 1));
        tpl_loc at = locate(r, element, tb_arena_strndup(r->a, s, (size_t)(end - s + 1)));
        at.column++; /* onto the expression, past '{' */
        tpl_expr *e = tpl_expr_parse(text, strlen(text), at, r->a, r->err);
        if (e == NULL || !tpl_expr_check(e, scope, r->a, r->err)) {
            ok = false;
            break;
        }
        add_piece(pb, (piece){.kind = PC_EXPR, .expr = e, .flags = flags}, r->a);
        s = end + 1;
    }
    if (ok)
        FLUSH();
#undef FLUSH
    tb_buf_release(&lit);
    return ok;
}

static bool
read_inline_into(const reader *r, xmlNodePtr n, unsigned flags, const tpl_tscope *scope,
                 piece_builder *pb)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (!read_text(r, n, (const char *)c->content, flags, scope, pb))
                return false;
        } else if (tpl_is_element(c, "br")) {
            add_piece(pb, (piece){.kind = PC_BREAK, .flags = DT_RUN_BREAK}, r->a);
        } else if (tpl_is_element(c, "b")) {
            if (!read_inline_into(r, c, flags | DT_RUN_BOLD, scope, pb))
                return false;
        } else if (tpl_is_element(c, "nobreak")) {
            if (!read_inline_into(r, c, flags | DT_RUN_NOBREAK, scope, pb))
                return false;
        } else if (tpl_is_element(c, "if")) {
            tpl_expr *test = read_expr(r, c, tpl_attr(c, "test", r->a), scope);
            piece_builder sub = {NULL, 0, 0};
            if (test == NULL || !read_inline_into(r, c, flags, scope, &sub))
                return false;
            inline_text *then = tb_arena_alloc(r->a, sizeof *then);
            *then = (inline_text){sub.items, sub.count};
            add_piece(pb, (piece){.kind = PC_IF, .expr = test, .flags = flags, .then = then}, r->a);
        }
    }
    return true;
}

/* Trims blanks at both ends of the whole text. */
static void
trim_pieces(piece_builder *pb, tb_arena *a)
{
    if (pb->count && pb->items[0].kind == PC_TEXT) {
        const char *s = pb->items[0].text;
        while (*s == ' ' || *s == '\t')
            s++;
        pb->items[0].text = s;
    }
    if (pb->count && pb->items[pb->count - 1].kind == PC_TEXT) {
        char *s = tb_arena_strdup(a, pb->items[pb->count - 1].text);
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            s[--n] = '\0';
        pb->items[pb->count - 1].text = s;
    }
}

static bool
read_inline(const reader *r, xmlNodePtr n, const tpl_tscope *scope, inline_text *out)
{
    piece_builder pb = {NULL, 0, 0};
    if (!read_inline_into(r, n, 0, scope, &pb))
        return false;
    trim_pieces(&pb, r->a);
    *out = (inline_text){pb.items, pb.count};
    return true;
}

static bool
read_attr_text(const reader *r, xmlNodePtr n, const char *name, const tpl_tscope *scope,
               inline_text *out)
{
    const char *v = tpl_attr(n, name, r->a);
    piece_builder pb = {NULL, 0, 0};
    if (v && !read_text(r, n, v, 0, scope, &pb))
        return false;
    *out = (inline_text){pb.items, pb.count};
    return true;
}

/* The sources of the expressions in a text, joined ("p.id, p.jcmj|mu"); NULL when none. */
static void
add_fields(tb_buf *b, const inline_text *in)
{
    for (size_t i = 0; i < in->count; i++) {
        const piece *p = &in->items[i];
        if (p->kind == PC_EXPR)
            tb_buf_printf(b, "%s%s", b->len ? ", " : "", tpl_expr_source(p->expr));
        else if (p->kind == PC_IF)
            add_fields(b, p->then);
    }
}

static const char *
fields_of(const inline_text *in, tb_arena *a)
{
    tb_buf b = TB_BUF_INIT;
    add_fields(&b, in);
    const char *s = b.len ? tb_arena_strndup(a, (char *)b.data, b.len) : NULL;
    tb_buf_release(&b);
    return s;
}

static bool read_nodes(reader *r, xmlNodePtr parent, const tpl_tscope *scope, node_list *out);

static dt_align
align_of(const char *s)
{
    return s == NULL ? DT_ALIGN_DEFAULT
           : strcmp(s, "left") == 0   ? DT_ALIGN_LEFT
           : strcmp(s, "center") == 0 ? DT_ALIGN_CENTER
                                      : DT_ALIGN_RIGHT;
}

static bool
yes(const char *s, bool dflt)
{
    return s == NULL ? dflt : strcmp(s, "yes") == 0;
}

static const tpl_tscope *
push_type(const char *name, const tv_type *type, const tpl_tscope *up, tb_arena *a)
{
    tpl_tscope *s = tb_arena_alloc(a, sizeof *s);
    *s = (tpl_tscope){name, type, up};
    return s;
}

/* <for each="p in patches" where=… sort=… order=… index=…>: the list is checked in the outer
 * scope, the rest in the loop's. */
static bool
read_for(reader *r, xmlNodePtr n, const tpl_tscope *scope, tnode *t)
{
    const char *each = tpl_attr(n, "each", r->a);
    const char *s = each;
    while (*s == ' ' || *s == '\t')
        s++;
    const char *name_end = s;
    while (*name_end && *name_end != ' ' && *name_end != '\t')
        name_end++;
    t->name = tb_arena_strndup(r->a, s, (size_t)(name_end - s));
    const char *in = strstr(name_end, "in");
    const char *list = in + 2;
    while (*list == ' ' || *list == '\t')
        list++;
    t->value = read_expr(r, n, list, scope);
    if (t->value == NULL)
        return false;
    tpl_loc l = tpl_expr_loc(t->value);
    const tv_type *type = tpl_expr_type(t->value);
    if (type->kind != TV_LIST) {
        char buf[64];
        tb_err_set(r->err, TB_EFORMAT, "%s:%d:%d: <for each>: '%s' is a %s, not a list",
                   l.file, l.line, l.column, list, tv_type_describe(type, buf, sizeof buf));
        return false;
    }
    const tpl_tscope *inner = push_type(t->name, type->item, scope, r->a);
    t->index_name = tpl_attr(n, "index", r->a);
    if (t->index_name)
        inner = push_type(t->index_name, &tv_number_type, inner, r->a);
    const char *where = tpl_attr(n, "where", r->a), *sort = tpl_attr(n, "sort", r->a);
    if (where && !(t->where = read_expr(r, n, where, inner)))
        return false;
    if (sort && !(t->sort = read_expr(r, n, sort, inner)))
        return false;
    const char *order = tpl_attr(n, "order", r->a);
    t->descending = order && strcmp(order, "desc") == 0;
    return read_nodes(r, n, inner, &t->children);
}

static bool
read_table(reader *r, xmlNodePtr n, const tpl_tscope *scope, tnode *t)
{
    const char *font = tpl_attr(n, "font-pt", r->a);
    t->font_pt = font ? strtod(font, NULL) : 0;
    t->borderless = yes(tpl_attr(n, "borderless", r->a), false);
    for (xmlNodePtr c = n->children; c; c = c->next)
        t->column_count += tpl_is_element(c, "col");
    t->columns = tb_arena_array(r->a, t->column_count, sizeof *t->columns);
    size_t i = 0;
    static const char *const sections[3] = {"thead", "tbody", "tfoot"};
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (tpl_is_element(c, "col")) {
            const char *w = tpl_attr(c, "width", r->a);
            t->columns[i++] = (dt_column){w ? strtod(w, NULL) : 0,
                                          align_of(tpl_attr(c, "align", r->a))};
            continue;
        }
        for (int s = 0; s < 3; s++)
            if (tpl_is_element(c, sections[s]) && !read_nodes(r, c, scope, &t->sections[s]))
                return false;
    }
    return true;
}

/* <map> and <chart>: of names the record the panel draws (its native object is the datum);
 * every other attribute goes to the drawer. */
static bool
read_panel(reader *r, xmlNodePtr n, const tpl_tscope *scope, tnode *t)
{
    const char *of = tpl_attr(n, "of", r->a);
    if (of == NULL) {
        fail_node(r, n, TB_EFORMAT, t->kind == N_MAP
                  ? "<map> needs of=\"…\": the record it shows (of=\"p\")"
                  : t->kind == N_PHOTO ? "<photo> needs of=\"…\": the photo it shows (of=\"ph\")"
                  : "<chart> needs of=\"…\": the figures it shows (of=\"chart\")");
        return false;
    }
    if (!(t->of = read_expr(r, n, of, scope)))
        return false;
    const tv_type *type = tpl_expr_type(t->of);
    /* The map drawer reads the datum as a patch or, for view="overview", as a township, the
     * chart drawer as a chart: what `of` names must be the one the view says, so a template
     * cannot make a drawer read one as another. */
    const char *view = t->kind == N_MAP ? tpl_attr(n, "view", r->a) : NULL;
    bool overview = view && strcmp(view, "overview") == 0;
    const char *want = t->kind == N_CHART   ? "chart"
                       : t->kind == N_PHOTO ? "photo"
                       : overview           ? "township"
                                            : "patch";
    if (type->kind != TV_RECORD || type->name == NULL || strcmp(type->name, want) != 0) {
        char buf[64];
        tpl_loc l = tpl_expr_loc(t->of);
        if (t->kind == N_CHART)
            tb_err_set(r->err, TB_EFORMAT, "%s:%d:%d: <chart of>: '%s' is a %s; a chart shows "
                       "a chart record (the kind's figures)", l.file, l.line, l.column, of,
                       tv_type_describe(type, buf, sizeof buf));
        else if (t->kind == N_PHOTO)
            tb_err_set(r->err, TB_EFORMAT, "%s:%d:%d: <photo of>: '%s' is a %s; a photo panel "
                       "shows a photo record (an acceptance verdict's photos)", l.file, l.line,
                       l.column, of, tv_type_describe(type, buf, sizeof buf));
        else
            tb_err_set(r->err, TB_EFORMAT, "%s:%d:%d: <map of>: '%s' is a %s; a map with "
                       "view=\"%s\" shows a %s", l.file, l.line, l.column, of,
                       tv_type_describe(type, buf, sizeof buf), view ? view : "(none)", want);
        return false;
    }
    if (view && strchr(view, '{')) {
        fail_node(r, n, TB_EFORMAT, "<map view>: write the view out (location, before, after, "
                  "overview): it decides what the map shows");
        return false;
    }
    for (xmlAttrPtr at = n->properties; at; at = at->next)
        t->attr_count += strcmp((const char *)at->name, "of") != 0;
    t->attr_names = tb_arena_array(r->a, t->attr_count + 1, sizeof *t->attr_names);
    t->attr_values = tb_arena_array(r->a, t->attr_count + 1, sizeof *t->attr_values);
    size_t i = 0;
    for (xmlAttrPtr at = n->properties; at; at = at->next) {
        const char *name = (const char *)at->name;
        if (strcmp(name, "of") == 0)
            continue;
        t->attr_names[i] = tb_arena_strdup(r->a, name);
        if (!read_attr_text(r, n, name, scope, &t->attr_values[i++]))
            return false;
    }
    xmlNodePtr cap = tpl_child(n, "caption");
    if (cap && !read_inline(r, cap, scope, &t->caption))
        return false;
    t->has_caption = cap != NULL;
    return true;
}

static bool
read_figure(reader *r, xmlNodePtr n, const tpl_tscope *scope, tnode *t)
{
    const char *h = tpl_attr(n, "height", r->a);
    t->height_mm = h ? strtod(h, NULL) : 0;
    xmlNodePtr cap = tpl_child(n, "caption");
    if (cap && !read_inline(r, cap, scope, &t->caption))
        return false;
    t->has_caption = cap != NULL;
    return read_nodes(r, n, scope, &t->children); /* panels; the caption is skipped there */
}

static bool read_include(reader *r, xmlNodePtr n, const tpl_tscope *scope, node_list *out,
                         size_t *cap);

static const struct {
    const char *element;
    dt_block_kind block;
} text_blocks[] = {
    {"title", DT_TITLE}, {"addressee", DT_ADDRESSEE}, {"p", DT_PARAGRAPH},
    {"note", DT_NOTE},   {"section", DT_SECTION},
};

/* One element into t; *scope advances past a <let>. */
static bool
read_node(reader *r, xmlNodePtr n, const tpl_tscope **scope, tnode *t)
{
    const char *name = (const char *)n->name;
    t->file = r->src->file;
    t->line = line_of(n);
    for (size_t i = 0; i < sizeof text_blocks / sizeof text_blocks[0]; i++)
        if (strcmp(name, text_blocks[i].element) == 0) {
            t->kind = N_BLOCK;
            t->block = text_blocks[i].block;
            t->align = align_of(tpl_attr(n, "align", r->a));
            const char *level = tpl_attr(n, "level", r->a);
            t->level = level ? atoi(level) : 1;
            return read_inline(r, n, *scope, &t->text);
        }
    if (name[0] == 'h' && name[1] >= '1' && name[1] <= '4' && name[2] == '\0') {
        t->kind = N_HEADING;
        t->level = name[1] - '0';
        t->numbered = yes(tpl_attr(n, "number", r->a), true);
        return read_inline(r, n, *scope, &t->text);
    }
    if (strcmp(name, "attachment-note") == 0)
        return t->kind = N_ATTACHMENT_NOTE, true;
    if (strcmp(name, "contents") == 0)
        return t->kind = N_CONTENTS, true;
    if (strcmp(name, "signature") == 0) {
        t->kind = N_SIGNATURE;
        t->seal = yes(tpl_attr(n, "seal", r->a), true);
        return read_inline(r, n, *scope, &t->text) &&
               read_attr_text(r, n, "date", *scope, &t->attr_text);
    }
    if (strcmp(name, "attachment") == 0) {
        t->kind = N_ATTACHMENT;
        const char *o = tpl_attr(n, "orientation", r->a);
        t->orientation = o && strcmp(o, "landscape") == 0 ? DT_LANDSCAPE : DT_PORTRAIT;
        return read_attr_text(r, n, "title", *scope, &t->attr_text) &&
               read_nodes(r, n, *scope, &t->children);
    }
    if (strcmp(name, "space") == 0) {
        t->kind = N_SPACE;
        t->level = atoi(tpl_attr(n, "lines", r->a));
        return true;
    }
    if (strcmp(name, "page-break") == 0) {
        t->kind = N_PAGE_BREAK;
        const char *o = tpl_attr(n, "orientation", r->a);
        t->orientation = o && strcmp(o, "landscape") == 0 ? DT_LANDSCAPE : DT_PORTRAIT;
        return true;
    }
    if (strcmp(name, "table") == 0)
        return t->kind = N_TABLE, read_table(r, n, *scope, t);
    if (strcmp(name, "figure") == 0)
        return t->kind = N_FIGURE, read_figure(r, n, *scope, t);
    if (strcmp(name, "map") == 0)
        return t->kind = N_MAP, read_panel(r, n, *scope, t);
    if (strcmp(name, "chart") == 0)
        return t->kind = N_CHART, read_panel(r, n, *scope, t);
    if (strcmp(name, "photo") == 0)
        return t->kind = N_PHOTO, read_panel(r, n, *scope, t);
    if (strcmp(name, "tr") == 0)
        return t->kind = N_ROW, read_nodes(r, n, *scope, &t->children);
    if (strcmp(name, "td") == 0) {
        t->kind = N_CELL;
        const char *cs = tpl_attr(n, "colspan", r->a), *rs = tpl_attr(n, "rowspan", r->a);
        t->colspan = cs ? atoi(cs) : 1;
        t->rowspan = rs ? atoi(rs) : 1;
        t->align = align_of(tpl_attr(n, "align", r->a));
        return read_inline(r, n, *scope, &t->text);
    }
    if (strcmp(name, "let") == 0) {
        t->kind = N_LET;
        t->name = tpl_attr(n, "name", r->a);
        if (!(t->value = read_expr(r, n, tpl_attr(n, "value", r->a), *scope)))
            return false;
        *scope = push_type(t->name, tpl_expr_type(t->value), *scope, r->a);
        return true;
    }
    if (strcmp(name, "for") == 0)
        return t->kind = N_FOR, read_for(r, n, *scope, t);
    if (strcmp(name, "if") == 0 || strcmp(name, "when") == 0) {
        t->kind = name[0] == 'i' ? N_IF : N_WHEN;
        return (t->test = read_expr(r, n, tpl_attr(n, "test", r->a), *scope)) != NULL &&
               read_nodes(r, n, *scope, &t->children);
    }
    if (strcmp(name, "otherwise") == 0) {
        t->kind = N_WHEN; /* test NULL */
        return read_nodes(r, n, *scope, &t->children);
    }
    if (strcmp(name, "choose") == 0)
        return t->kind = N_CHOOSE, read_nodes(r, n, *scope, &t->children);
    fail_node(r, n, TB_EFORMAT, "<%s> is not expected here", name);
    return false;
}

/* A row's fields are its cells'. */
static void
set_fields(tnode *t, tb_arena *a)
{
    if (t->kind != N_ROW) {
        t->fields = fields_of(&t->text, a);
        return;
    }
    tb_buf b = TB_BUF_INIT;
    for (size_t i = 0; i < t->children.count; i++)
        if (t->children.items[i].kind == N_CELL)
            add_fields(&b, &t->children.items[i].text);
    t->fields = b.len ? tb_arena_strndup(a, (char *)b.data, b.len) : NULL;
    tb_buf_release(&b);
}

static bool
read_nodes_into(reader *r, xmlNodePtr parent, const tpl_tscope *scope, node_list *out,
                size_t *cap)
{
    if (++r->depth > TPL_MAX_NESTING) {
        fail_node(r, parent, TB_ELIMIT, "elements nested deeper than %d", TPL_MAX_NESTING);
        return false;
    }
    for (xmlNodePtr n = parent->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || tpl_is_element(n, "caption"))
            continue;
        if (tpl_is_element(n, "include")) {
            if (!read_include(r, n, scope, out, cap))
                return false;
            continue;
        }
        out->items = grow(out->items, out->count, cap, sizeof *out->items, r->a);
        tnode *t = &out->items[out->count];
        memset(t, 0, sizeof *t);
        if (!read_node(r, n, &scope, t))
            return false;
        set_fields(t, r->a);
        out->count++;
    }
    r->depth--;
    return true;
}

static bool
read_nodes(reader *r, xmlNodePtr parent, const tpl_tscope *scope, node_list *out)
{
    size_t cap = 0;
    *out = (node_list){NULL, 0};
    return read_nodes_into(r, parent, scope, out, &cap);
}

/* <include href="part.xml"/>: a <fragment> from the office folder, else from _base, read in
 * place (same scope), its messages naming its own file. */
static bool
read_include(reader *r, xmlNodePtr n, const tpl_tscope *scope, node_list *out, size_t *cap)
{
    const char *href = tpl_attr(n, "href", r->a);
    if (r->include_depth >= TPL_MAX_INCLUDE_DEPTH) {
        fail_node(r, n, TB_ELIMIT, "includes nested deeper than %d (does '%s' include itself?)",
                  TPL_MAX_INCLUDE_DEPTH, href);
        return false;
    }
    source src = {NULL, NULL, 0};
    xmlDocPtr doc = NULL;
    const char *path = r->office ? tb_arena_printf(r->a, "%s/%s", r->office->dir, href) : NULL;
    if (path && access(path, F_OK) == 0) {
        src.file = path;
        doc = tpl_xml_load(path, r->office->dir, tpl_schema_template, &src.text, &src.len,
                           r->a, r->err);
        if (doc == NULL)
            return false;
    } else if ((src.text = tpl_base_file(href)) != NULL) {
        src.file = tb_arena_printf(r->a, "templates/_base/%s", href);
        src.len = strlen(src.text);
        doc = tpl_xml_parse(src.text, src.len, src.file, tpl_schema_template, r->a, r->err);
        if (doc == NULL)
            return false;
    } else {
        fail_node(r, n, TB_ENOTFOUND, "include '%s': no such file in the office folder%s or "
                  "in templates/_base", href, r->office ? "" : " (none given)");
        return false;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!tpl_is_element(root, "fragment")) {
        fail_node(r, n, TB_EFORMAT, "include '%s': an included file is a <fragment>, not a "
                  "<%s>", href, (const char *)root->name);
        return false;
    }
    reader sub = *r;
    sub.src = &src;
    sub.include_depth++;
    bool ok = read_nodes_into(&sub, root, scope, out, cap);
    return ok;
}

static const tpl_tscope *
root_scope(const tv_type *type, tb_arena *a)
{
    const tpl_tscope *s = NULL;
    for (size_t i = type->field_count; i-- > 0;)
        s = push_type(type->fields[i].name, type->fields[i].type, s, a);
    return s;
}

static tpl_doc *
read_template(const source *src, xmlDocPtr doc, const tpl_office *office,
              const tv_type *data_type, tb_arena *a, tb_err *err)
{
    reader r = {src, office, 0, 0, a, err};
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!tpl_is_element(root, "template")) {
        fail_node(&r, root, TB_EFORMAT, "a document template's root is <template>, not <%s> "
                  "(a <fragment> can only be included)", (const char *)root->name);
        return NULL;
    }
    tpl_doc *t = tb_arena_alloc(a, sizeof *t);
    t->path = src->file;
    t->type = data_type;
    const tpl_tscope *scope = root_scope(data_type, a);
    const char *format = tpl_attr(root, "format", a);
    t->format = format == NULL || strcmp(format, "file") == 0 ? DT_FORMAT_FILE
                : strcmp(format, "letter") == 0              ? DT_FORMAT_LETTER
                                                             : DT_FORMAT_PLAIN;
    t->duplex = yes(tpl_attr(root, "duplex", a), false);
    const char *limit = tpl_attr(root, "page-limit", a);
    t->page_limit = limit ? atoi(limit) : 0;
    if ((t->has_watermark = tpl_attr(root, "watermark", a) != NULL) &&
        !read_attr_text(&r, root, "watermark", scope, &t->watermark))
        return NULL;
    for (xmlNodePtr n = root->children; n; n = n->next) {
        bool head = tpl_is_element(n, "head"), colophon = tpl_is_element(n, "colophon");
        if (!head && !colophon)
            continue;
        t->has_colophon |= colophon;
        for (xmlNodePtr c = n->children; c; c = c->next)
            for (int k = 0; k < (head ? HEAD_COUNT : COLO_COUNT); k++) {
                if (!tpl_is_element(c, head ? head_elements[k] : colophon_elements[k]))
                    continue;
                inline_text *slot = head ? &t->head[k] : &t->colophon[k];
                if (!read_inline(&r, c, scope, slot))
                    return NULL;
                (head ? t->has_head : t->has_colophon_part)[k] = true;
            }
    }
    /* the body: everything but <head> and <colophon> */
    size_t cap = 0;
    r.depth = 0;
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || tpl_is_element(n, "head") ||
            tpl_is_element(n, "colophon"))
            continue;
        if (tpl_is_element(n, "include")) {
            if (!read_include(&r, n, scope, &t->body, &cap))
                return NULL;
            continue;
        }
        t->body.items = grow(t->body.items, t->body.count, &cap, sizeof *t->body.items, a);
        tnode *node = &t->body.items[t->body.count];
        memset(node, 0, sizeof *node);
        if (!read_node(&r, n, &scope, node))
            return NULL;
        set_fields(node, a);
        t->body.count++;
    }
    return t;
}

tpl_doc *
tpl_doc_parse(const char *xml, size_t len, const char *name, const tpl_office *office,
              const tv_type *data_type, tb_arena *a, tb_err *err)
{
    xmlDocPtr doc = tpl_xml_parse(xml, len, name, tpl_schema_template, a, err);
    if (doc == NULL)
        return NULL;
    source src = {tb_arena_strdup(a, name), tb_arena_strndup(a, xml, len), len};
    source *s = tb_arena_alloc(a, sizeof *s);
    *s = src;
    return read_template(s, doc, office, data_type, a, err);
}

tpl_doc *
tpl_doc_load(const tpl_office *office, const char *kind, const tv_type *data_type, tb_arena *a,
             tb_err *err)
{
    const char *path = tb_arena_printf(a, "%s/%s.xml", office->dir, kind);
    source *s = tb_arena_alloc(a, sizeof *s);
    xmlDocPtr doc;
    if (access(path, F_OK) == 0) {
        s->file = path;
        doc = tpl_xml_load(path, office->dir, tpl_schema_template, &s->text, &s->len, a,
                           err);
    } else {
        const char *name = tb_arena_printf(a, "%s.xml", kind);
        if ((s->text = tpl_base_file(name)) == NULL) {
            tb_err_set(err, TB_ENOTFOUND, "%s: no %s template (and templates/_base has none)",
                       path, kind);
            return NULL;
        }
        s->file = tb_arena_printf(a, "templates/_base/%s", name);
        s->len = strlen(s->text);
        doc = tpl_xml_parse(s->text, s->len, s->file, tpl_schema_template, a, err);
    }
    return doc ? read_template(s, doc, office, data_type, a, err) : NULL;
}

/* ---- binding: the second walk, evaluating ------------------------------------------------ */

/* What a table, row or figure collects while its children are bound (rows, cells, panels):
 * a fresh one for each, the enclosing one put back after. */
typedef struct collector {
    void *items;
    size_t count, cap;
} collector;

static void
collect(collector *c, const void *item, size_t size, tb_arena *a)
{
    c->items = grow(c->items, c->count, &c->cap, size, a);
    memcpy((char *)c->items + c->count++ * size, item, size);
}

typedef struct binder {
    tb_arena *a;
    tb_err *err;
    dt_block *blocks;
    size_t block_count, block_cap;
    collector rows;   /* dt_row: of the table being bound */
    dt_row_role role;
    collector cells;  /* dt_cell: of the row being bound */
    collector panels; /* dt_panel: of the figure being bound */
    int counters[4];  /* heading numbers per level */
    dt_text *attachment_titles;
    size_t attachment_count, attachment_cap;
    size_t output;    /* items made, against TPL_MAX_OUTPUT_ITEMS */
    const char *record; /* origin of the innermost loop's record */
} binder;

static tb_code
count_output(binder *b, const tnode *t)
{
    if (++b->output <= TPL_MAX_OUTPUT_ITEMS)
        return TB_OK;
    return tb_err_set(b->err, TB_ELIMIT, "%s:%d: the document would hold more than %d blocks, "
                      "rows, cells and figures (a loop over too much data?)", t->file, t->line,
                      TPL_MAX_OUTPUT_ITEMS);
}

static dt_origin
origin_of(const binder *b, const tnode *t)
{
    return (dt_origin){b->record, t->fields, tb_arena_printf(b->a, "%s:%d", t->file, t->line)};
}

typedef struct run_builder {
    dt_run *runs;
    size_t count, cap;
} run_builder;

static tb_code
eval_pieces(binder *b, const inline_text *in, const tpl_vscope *scope, run_builder *rb)
{
    for (size_t i = 0; i < in->count; i++) {
        const piece *p = &in->items[i];
        const char *text = p->text;
        tv_value v;
        if (p->kind == PC_EXPR || p->kind == PC_IF) {
            tb_code code = tpl_expr_eval(p->expr, scope, &v, b->a, b->err);
            if (code != TB_OK)
                return code;
            if (p->kind == PC_IF) {
                if (tv_truthy(v) && (code = eval_pieces(b, p->then, scope, rb)) != TB_OK)
                    return code;
                continue;
            }
            text = tpl_value_text(v, b->a);
        }
        rb->runs = grow(rb->runs, rb->count, &rb->cap, sizeof *rb->runs, b->a);
        if (p->kind == PC_BREAK) {
            rb->runs[rb->count++] = (dt_run){"", DT_RUN_BREAK};
            continue;
        }
        if (text[0] == '\0')
            continue;
        dt_run *last = rb->count ? &rb->runs[rb->count - 1] : NULL;
        if (last && last->flags == p->flags) /* one run per stretch of equal flags */
            last->text = tb_arena_printf(b->a, "%s%s", last->text, text);
        else
            rb->runs[rb->count++] = (dt_run){text, p->flags};
    }
    return TB_OK;
}

static tb_code
eval_text(binder *b, const inline_text *in, const tpl_vscope *scope, dt_text *out)
{
    run_builder rb = {NULL, 0, 0};
    tb_code code = eval_pieces(b, in, scope, &rb);
    *out = (dt_text){rb.runs, rb.count};
    return code;
}

/* The text as one plain string (head and colophon fields, signature, metadata). */
static const char *
plain(const dt_text *t, bool keep_breaks, tb_arena *a)
{
    tb_buf buf = TB_BUF_INIT;
    for (size_t i = 0; i < t->count; i++)
        if (t->runs[i].flags & DT_RUN_BREAK) {
            if (keep_breaks)
                tb_buf_append_str(&buf, "\n");
        } else {
            tb_buf_append_str(&buf, t->runs[i].text);
        }
    const char *s = buf.len ? tb_arena_strndup(a, (char *)buf.data, buf.len) : NULL;
    tb_buf_release(&buf);
    return s;
}

static tb_code
eval_plain(binder *b, const inline_text *in, const tpl_vscope *scope, const char **out)
{
    dt_text t;
    tb_code code = eval_text(b, in, scope, &t);
    *out = code == TB_OK ? plain(&t, false, b->a) : NULL;
    return code;
}

static dt_block *
add_block(binder *b, dt_block_kind kind, const tnode *t)
{
    b->blocks = grow(b->blocks, b->block_count, &b->block_cap, sizeof *b->blocks, b->a);
    dt_block *blk = &b->blocks[b->block_count++];
    *blk = (dt_block){.kind = kind, .origin = origin_of(b, t)};
    return blk;
}

static tb_code bind_nodes(binder *b, const node_list *nodes, const tpl_vscope *scope);

static const char *
heading_number(int level, int n, tb_arena *a)
{
    static const char *const digit[] = {"", "一", "二", "三", "四", "五", "六", "七", "八", "九"};
    char cn[32];
    if (n < 10)
        snprintf(cn, sizeof cn, "%s", digit[n]);
    else if (n < 100)
        snprintf(cn, sizeof cn, "%s十%s", n / 10 == 1 ? "" : digit[n / 10], digit[n % 10]);
    else
        snprintf(cn, sizeof cn, "%d", n);
    switch (level) {
    case 1: return tb_arena_printf(a, "%s、", cn);
    case 2: return tb_arena_printf(a, "（%s）", cn);
    case 3: return tb_arena_printf(a, "%d.", n);
    default: return tb_arena_printf(a, "（%d）", n);
    }
}

static tb_code
bind_heading(binder *b, const tnode *t, const tpl_vscope *scope)
{
    dt_block *blk = add_block(b, DT_HEADING, t);
    blk->level = t->level;
    tb_code code = eval_text(b, &t->text, scope, &blk->text);
    if (code != TB_OK || !t->numbered)
        return code;
    b->counters[t->level - 1]++;
    for (int l = t->level; l < 4; l++)
        b->counters[l] = 0;
    dt_run *runs = tb_arena_array(b->a, blk->text.count + 1, sizeof *runs);
    runs[0] = (dt_run){heading_number(t->level, b->counters[t->level - 1], b->a), 0};
    if (blk->text.count)
        memcpy(runs + 1, blk->text.runs, blk->text.count * sizeof *runs);
    blk->text = (dt_text){runs, blk->text.count + 1};
    return TB_OK;
}

static tb_code
bind_table(binder *b, const tnode *t, const tpl_vscope *scope)
{
    collector outer = b->rows;
    dt_row_role outer_role = b->role;
    b->rows = (collector){NULL, 0, 0};
    static const dt_row_role roles[3] = {DT_ROW_HEAD, DT_ROW_BODY, DT_ROW_TOTAL};
    for (int s = 0; s < 3; s++) {
        b->role = roles[s];
        tb_code code = bind_nodes(b, &t->sections[s], scope);
        if (code != TB_OK)
            return code;
    }
    dt_table *table = tb_arena_alloc(b->a, sizeof *table);
    *table = (dt_table){.columns = t->columns, .column_count = t->column_count,
                        .rows = b->rows.items, .row_count = b->rows.count,
                        .font_pt = t->font_pt, .borderless = t->borderless};
    b->rows = outer;
    b->role = outer_role;
    add_block(b, DT_TABLE, t)->table = table;
    return TB_OK;
}

static tb_code
bind_row(binder *b, const tnode *t, const tpl_vscope *scope)
{
    collector outer = b->cells;
    b->cells = (collector){NULL, 0, 0};
    tb_code code = bind_nodes(b, &t->children, scope);
    if (code == TB_OK) {
        dt_row row = {.cells = b->cells.items, .count = b->cells.count, .role = b->role,
                      .origin = origin_of(b, t)};
        collect(&b->rows, &row, sizeof row, b->a);
    }
    b->cells = outer;
    return code;
}

static tb_code
bind_cell(binder *b, const tnode *t, const tpl_vscope *scope)
{
    dt_cell cell = {.colspan = t->colspan, .rowspan = t->rowspan, .align = t->align,
                    .origin = origin_of(b, t)};
    tb_code code = eval_text(b, &t->text, scope, &cell.text);
    if (code != TB_OK)
        return code;
    collect(&b->cells, &cell, sizeof cell, b->a);
    return TB_OK;
}

static tb_code
bind_figure(binder *b, const tnode *t, const tpl_vscope *scope)
{
    collector outer = b->panels;
    b->panels = (collector){NULL, 0, 0};
    dt_figure *fig = tb_arena_alloc(b->a, sizeof *fig);
    tb_code code = bind_nodes(b, &t->children, scope);
    if (code == TB_OK && t->has_caption)
        code = eval_text(b, &t->caption, scope, &fig->caption);
    if (code == TB_OK) {
        fig->panels = b->panels.items, fig->panel_count = b->panels.count;
        fig->height_mm = t->height_mm;
    }
    b->panels = outer;
    if (code == TB_OK && fig->panel_count > 0) /* a figure whose <if>s all failed is none */
        add_block(b, DT_FIGURE, t)->figure = fig;
    return code;
}

static tb_code
bind_panel(binder *b, const tnode *t, const tpl_vscope *scope)
{
    tv_value of;
    tb_code code = tpl_expr_eval(t->of, scope, &of, b->a, b->err);
    if (code != TB_OK)
        return code;
    static const char *const kinds[] = {[N_MAP] = "map", [N_CHART] = "chart", [N_PHOTO] = "photo"};
    dt_panel panel = {.kind = kinds[t->kind], .origin = origin_of(b, t)};
    if (of.kind == TV_RECORD) {
        panel.datum = of.u.rec->native;
        panel.origin.record = of.u.rec->origin;
    }
    dt_attr *attrs = tb_arena_array(b->a, t->attr_count + 1, sizeof *attrs);
    for (size_t i = 0; i < t->attr_count; i++) {
        attrs[i].name = t->attr_names[i];
        if ((code = eval_plain(b, &t->attr_values[i], scope, &attrs[i].value)) != TB_OK)
            return code;
        if (attrs[i].value == NULL)
            attrs[i].value = "";
    }
    panel.attrs = attrs, panel.attr_count = t->attr_count;
    if (t->has_caption && (code = eval_text(b, &t->caption, scope, &panel.caption)) != TB_OK)
        return code;
    collect(&b->panels, &panel, sizeof panel, b->a);
    return TB_OK;
}

typedef struct loop_item {
    tv_value value, key;
    size_t order;
    bool descending;
} loop_item;

static int
by_key(const void *x, const void *y)
{
    const loop_item *p = x, *q = y;
    int c = tv_compare(p->key, q->key);
    if (p->descending)
        c = -c;
    return c ? c : (p->order > q->order) - (p->order < q->order); /* stable */
}

static tb_code
bind_for(binder *b, const tnode *t, const tpl_vscope *scope)
{
    tv_value list;
    tb_code code = tpl_expr_eval(t->value, scope, &list, b->a, b->err);
    if (code != TB_OK)
        return code;
    size_t n = list.kind == TV_LIST ? list.u.list.count : 0;
    loop_item *items = tb_arena_array(b->a, n + 1, sizeof *items);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        tpl_vscope item = {t->name, list.u.list.items[i], scope};
        tpl_vscope index = {t->index_name ? t->index_name : "", tv_num((double)kept + 1), &item};
        const tpl_vscope *inner = t->index_name ? &index : &item;
        if (t->where) {
            tv_value keep;
            if ((code = tpl_expr_eval(t->where, inner, &keep, b->a, b->err)) != TB_OK)
                return code;
            if (!tv_truthy(keep))
                continue;
        }
        items[kept] = (loop_item){list.u.list.items[i], tv_null(), kept, t->descending};
        if (t->sort && (code = tpl_expr_eval(t->sort, inner, &items[kept].key, b->a,
                                             b->err)) != TB_OK)
            return code;
        kept++;
    }
    if (t->sort) {
        qsort(items, kept, sizeof *items, by_key);
    } else if (t->descending) {
        for (size_t i = 0; i < kept / 2; i++) {
            loop_item tmp = items[i];
            items[i] = items[kept - 1 - i];
            items[kept - 1 - i] = tmp;
        }
    }
    const char *outer_record = b->record;
    for (size_t i = 0; i < kept && code == TB_OK; i++) {
        tpl_vscope item = {t->name, items[i].value, scope};
        tpl_vscope index = {t->index_name ? t->index_name : "", tv_num((double)i + 1), &item};
        if (items[i].value.kind == TV_RECORD && items[i].value.u.rec->origin)
            b->record = items[i].value.u.rec->origin;
        code = bind_nodes(b, &t->children, t->index_name ? &index : &item);
    }
    b->record = outer_record;
    return code;
}

static tb_code
bind_node(binder *b, const tnode *t, const tpl_vscope **scope)
{
    tb_code code = count_output(b, t);
    if (code != TB_OK)
        return code;
    switch (t->kind) {
    case N_BLOCK: {
        dt_block *blk = add_block(b, t->block, t);
        blk->align = t->align;
        blk->level = t->level;
        return eval_text(b, &t->text, *scope, &blk->text);
    }
    case N_HEADING: return bind_heading(b, t, *scope);
    case N_ATTACHMENT_NOTE: add_block(b, DT_ATTACHMENT_NOTE, t); return TB_OK;
    case N_CONTENTS: add_block(b, DT_CONTENTS, t); return TB_OK;
    case N_SIGNATURE: {
        dt_block *blk = add_block(b, DT_SIGNATURE, t);
        blk->seal = t->seal;
        if ((code = eval_plain(b, &t->text, *scope, &blk->label)) != TB_OK)
            return code;
        return eval_plain(b, &t->attr_text, *scope, &blk->date);
    }
    case N_ATTACHMENT: {
        dt_block *blk = add_block(b, DT_ATTACHMENT, t);
        blk->orientation = t->orientation;
        if ((code = eval_text(b, &t->attr_text, *scope, &blk->text)) != TB_OK)
            return code;
        b->attachment_titles = grow(b->attachment_titles, b->attachment_count,
                                    &b->attachment_cap, sizeof *b->attachment_titles, b->a);
        b->attachment_titles[b->attachment_count++] = blk->text;
        memset(b->counters, 0, sizeof b->counters); /* an attachment numbers its own headings */
        return bind_nodes(b, &t->children, *scope);
    }
    case N_TABLE: return bind_table(b, t, *scope);
    case N_FIGURE: return bind_figure(b, t, *scope);
    case N_SPACE: add_block(b, DT_SPACE, t)->level = t->level; return TB_OK;
    case N_PAGE_BREAK: add_block(b, DT_PAGE_BREAK, t)->orientation = t->orientation; return TB_OK;
    case N_ROW: return bind_row(b, t, *scope);
    case N_CELL: return bind_cell(b, t, *scope);
    case N_MAP:
    case N_CHART:
    case N_PHOTO: return bind_panel(b, t, *scope);
    case N_LET: {
        tpl_vscope *s = tb_arena_alloc(b->a, sizeof *s);
        s->name = t->name, s->up = *scope;
        if ((code = tpl_expr_eval(t->value, *scope, &s->value, b->a, b->err)) != TB_OK)
            return code;
        *scope = s;
        return TB_OK;
    }
    case N_FOR: return bind_for(b, t, *scope);
    case N_IF:
    case N_WHEN: {
        tv_value v = tv_boolean(true);
        if (t->test && (code = tpl_expr_eval(t->test, *scope, &v, b->a, b->err)) != TB_OK)
            return code;
        return tv_truthy(v) ? bind_nodes(b, &t->children, *scope) : TB_OK;
    }
    case N_CHOOSE:
        for (size_t i = 0; i < t->children.count; i++) {
            const tnode *w = &t->children.items[i];
            tv_value v = tv_boolean(true);
            if (w->test && (code = tpl_expr_eval(w->test, *scope, &v, b->a, b->err)) != TB_OK)
                return code;
            if (tv_truthy(v))
                return bind_nodes(b, &w->children, *scope);
        }
        return TB_OK;
    }
    return TB_OK;
}

static tb_code
bind_nodes(binder *b, const node_list *nodes, const tpl_vscope *scope)
{
    for (size_t i = 0; i < nodes->count; i++) {
        tb_code code = bind_node(b, &nodes->items[i], &scope);
        if (code != TB_OK)
            return code;
    }
    return TB_OK;
}

tb_code
tpl_doc_bind(const tpl_doc *t, tv_value data, dt_doc *out, tb_arena *a, tb_err *err)
{
    TB_ASSERT(data.kind == TV_RECORD && data.u.rec->type->field_count == t->type->field_count);
    const tpl_vscope *scope = NULL;
    for (size_t i = t->type->field_count; i-- > 0;) {
        tpl_vscope *s = tb_arena_alloc(a, sizeof *s);
        *s = (tpl_vscope){t->type->fields[i].name, data.u.rec->fields[i], scope};
        scope = s;
    }
    binder b = {.a = a, .err = err};
    tb_code code = bind_nodes(&b, &t->body, scope);
    if (code != TB_OK)
        return code;

    /* 附件说明 lists every attachment; one attachment is 附件, several 附件1, 附件2 … */
    size_t k = 0;
    for (size_t i = 0; i < b.block_count; i++) {
        dt_block *blk = &b.blocks[i];
        if (blk->kind == DT_ATTACHMENT_NOTE) {
            blk->items = b.attachment_titles;
            blk->item_count = b.attachment_count;
        } else if (blk->kind == DT_ATTACHMENT) {
            k++;
            blk->label = b.attachment_count == 1 ? "附件" : tb_arena_printf(a, "附件%zu", k);
        }
    }
    *out = (dt_doc){.format = t->format, .duplex = t->duplex, .page_limit = t->page_limit,
                    .blocks = b.blocks, .block_count = b.block_count};
    const char **head[HEAD_COUNT] = {
        [HEAD_COPY] = &out->head.copy_number, [HEAD_SECRECY] = &out->head.secrecy,
        [HEAD_URGENCY] = &out->head.urgency,  [HEAD_MARK] = &out->head.mark,
        [HEAD_DOCNO] = &out->head.docno,      [HEAD_SIGNER] = &out->head.signer,
    };
    for (int i = 0; i < HEAD_COUNT; i++)
        if (t->has_head[i] && (code = eval_plain(&b, &t->head[i], scope, head[i])) != TB_OK)
            return code;
    if (t->has_colophon) {
        dt_colophon *c = tb_arena_alloc(a, sizeof *c);
        const char **part[COLO_COUNT] = {&c->cc, &c->issuer, &c->print_date};
        for (int i = 0; i < COLO_COUNT; i++)
            if (t->has_colophon_part[i] &&
                (code = eval_plain(&b, &t->colophon[i], scope, part[i])) != TB_OK)
                return code;
        out->colophon = c;
    }
    if (t->has_watermark && (code = eval_plain(&b, &t->watermark, scope, &out->watermark)))
        return code;
    for (size_t i = 0; i < b.block_count; i++)
        if (b.blocks[i].kind == DT_TITLE) {
            out->title = plain(&b.blocks[i].text, false, a);
            break;
        }
    return TB_OK;
}
