/* DESIGN: expressions are parsed into a small tree once, when the template is loaded, and
 * type-checked there against the document kind's static data types (tvalue.h); the binder
 * then evaluates the same tree per document.  Functions and filters are tables (name, check,
 * apply) so adding one is one entry. */
#include "tb_features.h"

#include "tpl_expr.h"

#include "tb_buf.h"
#include "units.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum expr_kind {
    E_NUM, E_STR, E_NAME, E_FIELD, E_CALL, E_NEG, E_NOT, E_BIN, E_FILTER
} expr_kind;

/* Binary operators, by their source spelling. */
enum { OP_ADD = '+', OP_SUB = '-', OP_MUL = '*', OP_DIV = '/', OP_LT = '<', OP_GT = '>',
       OP_LE = 'l', OP_GE = 'g', OP_EQ = '=', OP_NE = '!', OP_AND = '&', OP_OR = '|' };

struct tpl_expr {
    expr_kind kind;
    int op;
    double num;
    const char *str;   /* literal, name, field, function or filter name */
    size_t str_len;
    tpl_expr *a, *b;   /* operands; E_FIELD/E_FILTER: a is the object/input */
    tpl_expr **args;
    size_t nargs;
    size_t offset;     /* in the source text, for messages */
    const tpl_expr *root; /* the whole expression (its source and location) */
    const char *src;
    tpl_loc at;
    /* filled by the checker */
    const tv_type *type;
    int field;         /* E_FIELD: index in the record type */
    bool mapped;       /* E_FIELD over a list of records: yields a list */
    const struct builtin *fn;
};

/* file:line:column of offset in the expression's source. */
static tpl_loc
loc_of(const tpl_expr *e)
{
    tpl_loc l = e->at;
    for (size_t i = 0; i < e->offset && e->src[i]; i++) {
        unsigned char c = (unsigned char)e->src[i];
        if (c == '\n')
            l.line++, l.column = 1;
        else if ((c & 0xC0) != 0x80)
            l.column++;
    }
    return l;
}

const char *
tpl_expr_source(const tpl_expr *e)
{
    return e->src;
}

const tv_type *
tpl_expr_type(const tpl_expr *e)
{
    return e->type;
}

tpl_loc
tpl_expr_loc(const tpl_expr *e)
{
    return loc_of(e);
}

#define FAIL_AT(e, code, ...) fail_at((e), (code), err, __VA_ARGS__)

static tb_code TB_PRINTF(4, 5)
fail_at(const tpl_expr *e, tb_code code, tb_err *err, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tpl_loc l = loc_of(e);
    return tb_err_set(err, code, "%s:%d:%d: %s", l.file, l.line, l.column, msg);
}

/* ---- lexer and parser ----------------------------------------------------------------- */

typedef enum tok_kind { T_END, T_NUM, T_STR, T_NAME, T_OP } tok_kind;

typedef struct parser {
    const char *s;
    size_t len, pos;
    tok_kind tok;
    size_t tok_start, tok_len;
    int op;          /* T_OP: OP_* or the punctuation character */
    double num;
    int depth;
    tpl_loc at;
    tb_arena *a;
    tb_err *err;
    bool failed;
} parser;

static tpl_expr *
node(parser *p, expr_kind kind, size_t offset)
{
    tpl_expr *e = tb_arena_alloc(p->a, sizeof *e);
    e->kind = kind, e->offset = offset, e->src = p->s, e->at = p->at, e->field = -1;
    return e;
}

static void TB_PRINTF(3, 4)
parse_fail(parser *p, size_t offset, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = true;
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tpl_expr at = {.src = p->s, .at = p->at, .offset = offset};
    tpl_loc l = loc_of(&at);
    tb_err_set(p->err, TB_EFORMAT, "%s:%d:%d: %s", l.file, l.line, l.column, msg);
}

static bool
is_name_start(unsigned char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_name_char(unsigned char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

static void
next(parser *p)
{
    while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos])
        p->pos++;
    p->tok_start = p->pos;
    if (p->pos >= p->len) {
        p->tok = T_END, p->tok_len = 0;
        return;
    }
    unsigned char c = (unsigned char)p->s[p->pos];
    if (c >= '0' && c <= '9') {
        size_t b = p->pos;
        while (p->pos < p->len && ((p->s[p->pos] >= '0' && p->s[p->pos] <= '9') ||
                                   (p->s[p->pos] == '.' && p->pos + 1 < p->len &&
                                    p->s[p->pos + 1] >= '0' && p->s[p->pos + 1] <= '9')))
            p->pos++;
        char buf[64];
        size_t n = p->pos - b < sizeof buf - 1 ? p->pos - b : sizeof buf - 1;
        memcpy(buf, p->s + b, n);
        buf[n] = '\0';
        p->tok = T_NUM, p->num = strtod(buf, NULL), p->tok_len = p->pos - b;
        return;
    }
    if (is_name_start(c)) {
        size_t b = p->pos;
        while (p->pos < p->len && is_name_char((unsigned char)p->s[p->pos]))
            p->pos++;
        p->tok = T_NAME, p->tok_len = p->pos - b;
        return;
    }
    if (c == '\'' || c == '"') {
        size_t b = ++p->pos;
        while (p->pos < p->len && p->s[p->pos] != (char)c)
            p->pos++;
        if (p->pos >= p->len) {
            parse_fail(p, b - 1, "unclosed string (a %c without its closing %c)", c, c);
            p->tok = T_END;
            return;
        }
        p->tok = T_STR, p->tok_start = b, p->tok_len = p->pos - b;
        p->pos++;
        return;
    }
    static const struct { const char *text; int op; } ops[] = {
        {"==", OP_EQ}, {"!=", OP_NE}, {"<=", OP_LE}, {">=", OP_GE}, {"<", OP_LT}, {">", OP_GT},
        {"+", '+'}, {"-", '-'}, {"*", '*'}, {"/", '/'}, {"(", '('}, {")", ')'}, {",", ','},
        {".", '.'}, {"|", '|'},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].text);
        if (p->pos + n <= p->len && strncmp(p->s + p->pos, ops[i].text, n) == 0) {
            p->tok = T_OP, p->op = ops[i].op, p->tok_len = n;
            p->pos += n;
            return;
        }
    }
    if (c == '=')
        parse_fail(p, p->pos, "'=' is not an operator: write '==' to compare");
    else if (c >= 0x80)
        parse_fail(p, p->pos, "unexpected character (text goes outside the braces, or in "
                   "quotes: '…')");
    else
        parse_fail(p, p->pos, "unexpected character '%c'", c);
    p->tok = T_END;
}

static bool
tok_is_op(const parser *p, int op)
{
    return p->tok == T_OP && p->op == op;
}

static bool
tok_is_word(const parser *p, const char *w)
{
    return p->tok == T_NAME && p->tok_len == strlen(w) && strncmp(p->s + p->tok_start, w,
                                                                  p->tok_len) == 0;
}

static tpl_expr *parse_pipeline(parser *p);

static bool
expect(parser *p, int op, const char *what)
{
    if (tok_is_op(p, op)) {
        next(p);
        return true;
    }
    parse_fail(p, p->tok_start, "expected %s", what);
    return false;
}

/* '(' args ')' after a function or filter name; the '(' is the current token. */
static bool
parse_args(parser *p, tpl_expr *e)
{
    next(p);
    tpl_expr *args[8];
    size_t n = 0;
    if (!tok_is_op(p, ')'))
        for (;;) {
            if (n == sizeof args / sizeof args[0]) {
                parse_fail(p, p->tok_start, "too many arguments");
                return false;
            }
            if (!(args[n++] = parse_pipeline(p)))
                return false;
            if (!tok_is_op(p, ','))
                break;
            next(p);
        }
    if (!expect(p, ')', "')' to close the arguments"))
        return false;
    e->args = tb_arena_array(p->a, n + 1, sizeof *e->args);
    memcpy(e->args, args, n * sizeof *args);
    e->nargs = n;
    return true;
}

static tpl_expr *
parse_primary(parser *p)
{
    tpl_expr *e = NULL;
    size_t at = p->tok_start;
    if (p->tok == T_NUM) {
        e = node(p, E_NUM, at);
        e->num = p->num;
        next(p);
    } else if (p->tok == T_STR) {
        e = node(p, E_STR, at);
        e->str = tb_arena_strndup(p->a, p->s + p->tok_start, p->tok_len);
        e->str_len = p->tok_len;
        next(p);
    } else if (p->tok == T_NAME && !tok_is_word(p, "and") && !tok_is_word(p, "or") &&
               !tok_is_word(p, "not")) {
        e = node(p, E_NAME, at);
        e->str = tb_arena_strndup(p->a, p->s + p->tok_start, p->tok_len);
        e->str_len = p->tok_len;
        next(p);
        if (tok_is_op(p, '(')) {
            e->kind = E_CALL;
            if (!parse_args(p, e))
                return NULL;
        }
    } else if (tok_is_op(p, '(')) {
        next(p);
        e = parse_pipeline(p);
        if (e && !expect(p, ')', "')'"))
            return NULL;
    } else {
        parse_fail(p, at, p->tok == T_END ? "expression ends too early"
                                          : "expected a name, number or 'string'");
    }
    while (e && tok_is_op(p, '.')) {
        next(p);
        if (p->tok != T_NAME) {
            parse_fail(p, p->tok_start, "expected a field name after '.'");
            return NULL;
        }
        tpl_expr *f = node(p, E_FIELD, p->tok_start);
        f->a = e;
        f->str = tb_arena_strndup(p->a, p->s + p->tok_start, p->tok_len);
        f->str_len = p->tok_len;
        e = f;
        next(p);
    }
    return p->failed ? NULL : e;
}

static bool
enter(parser *p)
{
    if (++p->depth > TPL_MAX_EXPR_DEPTH) {
        parse_fail(p, p->tok_start, "expression nested deeper than %d", TPL_MAX_EXPR_DEPTH);
        return false;
    }
    return true;
}

static tpl_expr *parse_or(parser *p);

static tpl_expr *
parse_unary(parser *p)
{
    if (!enter(p))
        return NULL;
    tpl_expr *e;
    if (tok_is_op(p, '-')) {
        e = node(p, E_NEG, p->tok_start);
        next(p);
        if (!(e->a = parse_unary(p)))
            e = NULL;
    } else {
        e = parse_primary(p);
    }
    p->depth--;
    return e;
}

static tpl_expr *
binary(parser *p, int op, size_t at, tpl_expr *l, tpl_expr *r)
{
    if (!l || !r)
        return NULL;
    tpl_expr *e = node(p, E_BIN, at);
    e->op = op, e->a = l, e->b = r;
    return e;
}

/* operand (op operand)* for the operator characters in ops, left to right. */
static tpl_expr *
parse_left(parser *p, const char *ops, tpl_expr *(*operand)(parser *p))
{
    tpl_expr *e = operand(p);
    while (e && p->tok == T_OP && strchr(ops, p->op)) {
        int op = p->op;
        size_t at = p->tok_start;
        next(p);
        e = binary(p, op, at, e, operand(p));
    }
    return e;
}

static tpl_expr *
parse_product(parser *p)
{
    return parse_left(p, "*/", parse_unary);
}

static tpl_expr *
parse_sum(parser *p)
{
    return parse_left(p, "+-", parse_product);
}

static tpl_expr *
parse_compare(parser *p)
{
    tpl_expr *e = parse_sum(p);
    if (e && p->tok == T_OP && strchr("=!<>lg", p->op)) {
        int op = p->op;
        size_t at = p->tok_start;
        next(p);
        e = binary(p, op, at, e, parse_sum(p));
    }
    return e;
}

static tpl_expr *
parse_not(parser *p)
{
    if (!enter(p))
        return NULL;
    tpl_expr *e;
    if (tok_is_word(p, "not")) {
        e = node(p, E_NOT, p->tok_start);
        next(p);
        if (!(e->a = parse_not(p)))
            e = NULL;
    } else {
        e = parse_compare(p);
    }
    p->depth--;
    return e;
}

static tpl_expr *
parse_and(parser *p)
{
    tpl_expr *e = parse_not(p);
    while (e && tok_is_word(p, "and")) {
        size_t at = p->tok_start;
        next(p);
        e = binary(p, OP_AND, at, e, parse_not(p));
    }
    return e;
}

static tpl_expr *
parse_or(parser *p)
{
    tpl_expr *e = parse_and(p);
    while (e && tok_is_word(p, "or")) {
        size_t at = p->tok_start;
        next(p);
        e = binary(p, OP_OR, at, e, parse_and(p));
    }
    return e;
}

static tpl_expr *
parse_pipeline(parser *p)
{
    if (!enter(p))
        return NULL;
    tpl_expr *e = parse_or(p);
    while (e && tok_is_op(p, '|')) {
        next(p);
        if (p->tok != T_NAME) {
            parse_fail(p, p->tok_start, "expected a filter name after '|'");
            return NULL;
        }
        tpl_expr *f = node(p, E_FILTER, p->tok_start);
        f->a = e;
        f->str = tb_arena_strndup(p->a, p->s + p->tok_start, p->tok_len);
        f->str_len = p->tok_len;
        next(p);
        if (tok_is_op(p, '(') && !parse_args(p, f))
            return NULL;
        e = f;
    }
    p->depth--;
    return p->failed ? NULL : e;
}

tpl_expr *
tpl_expr_parse(const char *s, size_t len, tpl_loc at, tb_arena *a, tb_err *err)
{
    if (len > TPL_MAX_EXPR_BYTES) {
        tb_err_set(err, TB_ELIMIT, "%s:%d:%d: expression longer than %d bytes", at.file,
                   at.line, at.column, TPL_MAX_EXPR_BYTES);
        return NULL;
    }
    parser p = {.s = tb_arena_strndup(a, s, len), .len = len, .at = at, .a = a, .err = err};
    if (memchr(s, '\0', len)) {
        parse_fail(&p, 0, "NUL byte in an expression");
        return NULL;
    }
    next(&p);
    if (p.tok == T_END && !p.failed) {
        parse_fail(&p, 0, "empty expression");
        return NULL;
    }
    tpl_expr *e = p.failed ? NULL : parse_pipeline(&p);
    if (e && p.tok != T_END)
        parse_fail(&p, p.tok_start, "unexpected '%.*s' after the expression",
                   (int)(p.tok_len ? p.tok_len : 1), p.s + p.tok_start);
    return p.failed ? NULL : e;
}

/* ---- types ----------------------------------------------------------------------------- */

static const tv_type *
list_of(const tv_type *item, tb_arena *a)
{
    tv_type *t = tb_arena_alloc(a, sizeof *t);
    *t = (tv_type){.kind = TV_LIST, .item = item};
    return t;
}

static const char *
describe(const tv_type *t, tb_arena *a)
{
    char buf[96];
    return tb_arena_strdup(a, tv_type_describe(t, buf, sizeof buf));
}

static bool
same_type(const tv_type *x, const tv_type *y)
{
    if (x == y)
        return true;
    if (!x || !y || x->kind != y->kind)
        return false;
    if (x->kind == TV_LIST)
        return same_type(x->item, y->item);
    if (x->kind == TV_RECORD)
        return x->name && y->name && strcmp(x->name, y->name) == 0;
    return true;
}

size_t
tpl_hint_distance(const char *x, size_t n, const char *y, size_t m)
{
    if (n > 40 || m > 40)
        return 99;
    size_t row[41];
    for (size_t j = 0; j <= m; j++)
        row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j];
            size_t best = diag + (x[i - 1] != y[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[m];
}

/* " (did you mean 'x'?)" or, with no close name, " (fields: a, b, c)". */
static const char *
hint(const char *name, size_t len, const char *const *names, size_t count, const char *what,
     tb_arena *a)
{
    const char *best = NULL;
    size_t best_d = 99;
    for (size_t i = 0; i < count; i++) {
        size_t d = tpl_hint_distance(name, len, names[i], strlen(names[i]));
        /* a name the field's name contains is most likely meant: gdmj → jcgdmj, not jcmj */
        if (len >= 3 && d > 1 && strstr(names[i], name))
            d = 1;
        if (d < best_d)
            best = names[i], best_d = d;
    }
    if (best && best_d <= 1 + len / 3)
        return tb_arena_printf(a, " (did you mean '%s'?)", best);
    tb_buf b = TB_BUF_INIT;
    for (size_t i = 0; i < count; i++)
        tb_buf_printf(&b, "%s%s", i ? ", " : "", names[i]);
    const char *r = tb_arena_printf(a, " (%s: %s)", what, b.len ? (char *)b.data : "none");
    tb_buf_release(&b);
    return r;
}

static const char *
field_hint(const tv_type *t, const char *name, size_t len, tb_arena *a)
{
    const char **names = tb_arena_array(a, t->field_count + 1, sizeof *names);
    for (size_t i = 0; i < t->field_count; i++)
        names[i] = t->fields[i].name;
    return hint(name, len, names, t->field_count, "its fields are", a);
}

/* ---- builtins: functions and filters ----------------------------------------------------- */

typedef struct builtin {
    const char *name;
    bool filter;      /* used as `x|name(args)`; else `name(args)` */
    int min_args, max_args; /* not counting a filter's input */
    /* The result type from the input (filters; NULL for functions) and argument types; NULL
     * with err set when they do not fit. */
    const tv_type *(*check)(const tpl_expr *e, const tv_type *in, tb_arena *a, tb_err *err);
    tb_code (*apply)(const tpl_expr *e, tv_value in, const tv_value *args, tv_value *out,
                     tb_arena *a, tb_err *err);
    /* apply_number's parameters */
    double scale;
    int decimals;
    bool group;
    const char *suffix;
} builtin;

static const tv_type *
need_arg(const tpl_expr *e, size_t i, tv_kind kind, tb_err *err)
{
    if (i >= e->nargs)
        return &tv_string_type; /* optional argument absent */
    if (e->args[i]->type->kind != kind) {
        char buf[64];
        static const char *const kinds[] = {"null", "boolean", "number", "string", "date",
                                            "list", "record"};
        FAIL_AT(e->args[i], TB_EFORMAT, "%.*s: argument %zu must be a %s, not %s",
                (int)e->str_len, e->str, i + 1, kinds[kind],
                tv_type_describe(e->args[i]->type, buf, sizeof buf));
        return NULL;
    }
    return e->args[i]->type;
}

static const tv_type *
need_input(const tpl_expr *e, const tv_type *in, tv_kind kind, const char *what, tb_arena *a,
           tb_err *err)
{
    if (in->kind != kind) {
        FAIL_AT(e, TB_EFORMAT, "filter '%.*s' takes %s, not %s", (int)e->str_len, e->str, what,
                describe(in, a));
        return NULL;
    }
    return in;
}

static const tv_type *
check_number_to_string(const tpl_expr *e, const tv_type *in, tb_arena *a, tb_err *err)
{
    if (!need_input(e, in, TV_NUMBER, "a number", a, err))
        return NULL;
    for (size_t i = 0; i < e->nargs; i++)
        if (!need_arg(e, i, TV_NUMBER, err))
            return NULL;
    return &tv_string_type;
}

static int
decimals_arg(const tv_value *args, size_t nargs, int dflt)
{
    if (nargs == 0 || args[0].kind != TV_NUMBER)
        return dflt;
    double d = args[0].u.num;
    return d < 0 ? 0 : d > 6 ? 6 : (int)d;
}

const char *
tpl_format_number(double x, int decimals, bool group, tb_arena *a)
{
    if (!isfinite(x))
        return "—";
    if (decimals < 0)
        decimals = 0;
    if (decimals > 6)
        decimals = 6;
    double scale = pow(10, decimals), v = fabs(x) * scale;
    if (v > 9e15)
        return tb_arena_printf(a, "%.0f", x); /* beyond exact integers: no grouping */
    /* Half away from zero on a value nudged by one part in 1e12, so 2.675 (2.67499999…) rounds
     * the way it is written. */
    unsigned long long n = (unsigned long long)floor(v * (1 + 1e-12) + 0.5);
    unsigned long long ip = n / (unsigned long long)scale, fp = n % (unsigned long long)scale;
    char digits[32], out[64];
    snprintf(digits, sizeof digits, "%llu", ip);
    size_t len = strlen(digits), o = 0;
    if (x < 0 && n != 0)
        out[o++] = '-';
    for (size_t i = 0; i < len; i++) {
        if (group && i > 0 && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    if (decimals > 0)
        o += (size_t)snprintf(out + o, sizeof out - o, ".%0*llu", decimals, fp);
    out[o] = '\0';
    return tb_arena_strdup(a, out);
}

static tb_code
apply_mu(const tpl_expr *e, tv_value in, const tv_value *args, tv_value *out, tb_arena *a,
         tb_err *err)
{
    (void)err;
    if (in.kind != TV_NUMBER)
        return *out = tv_null(), TB_OK;
    if (e->nargs == 0) { /* the one rounding every 亩 figure in the product uses */
        char buf[32];
        *out = tv_str(tb_arena_strdup(a, units_format_mu(in.u.num, buf, sizeof buf)));
    } else {
        *out = tv_str(tpl_format_number(units_m2_to_mu(in.u.num), decimals_arg(args, e->nargs, 2),
                                        false, a));
    }
    return TB_OK;
}

/* ha, fixed, thousands, percent: x × scale with n decimals (the argument, else the filter's
 * default), grouped by thousands or not, and a suffix. */
static tb_code
apply_number(const tpl_expr *e, tv_value in, const tv_value *args, tv_value *out, tb_arena *a,
             tb_err *err)
{
    (void)err;
    const builtin *f = e->fn;
    if (in.kind != TV_NUMBER)
        return *out = tv_null(), TB_OK;
    const char *digits = tpl_format_number(in.u.num * f->scale,
                                           decimals_arg(args, e->nargs, f->decimals), f->group, a);
    *out = tv_str(f->suffix[0] ? tb_arena_printf(a, "%s%s", digits, f->suffix) : digits);
    return TB_OK;
}

/* 十二, 一百零五, 两千 is not used in documents: 二千. */
static const char *
cn_numeral(long long n, tb_arena *a)
{
    static const char *const digit[] = {"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"};
    static const char *const unit[] = {"", "十", "百", "千"};
    if (n < 0 || n > 99999999)
        return tb_arena_printf(a, "%lld", n);
    if (n == 0)
        return "零";
    tb_buf b = TB_BUF_INIT;
    for (int group = 1; group >= 0; group--) {
        long long g = group ? n / 10000 : n % 10000;
        if (g == 0) {
            if (group == 0 && b.len && n % 10000)
                tb_buf_append_str(&b, "零");
            continue;
        }
        if (group == 0 && n >= 10000 && g < 1000)
            tb_buf_append_str(&b, "零");
        bool zero = false, started = false;
        for (int pos = 3; pos >= 0; pos--) {
            int d = (int)(g / (long long)pow(10, pos) % 10);
            if (d == 0) {
                zero = started;
                continue;
            }
            if (zero)
                tb_buf_append_str(&b, "零");
            zero = false;
            /* 十二, not 一十二, when 十 leads the number */
            if (!(d == 1 && pos == 1 && !started && b.len == 0))
                tb_buf_append_str(&b, digit[d]);
            tb_buf_append_str(&b, unit[pos]);
            started = true;
        }
        if (group)
            tb_buf_append_str(&b, "万");
    }
    const char *r = tb_arena_strndup(a, (char *)b.data, b.len);
    tb_buf_release(&b);
    return r;
}

static tb_code
apply_cn(const tpl_expr *e, tv_value in, const tv_value *args, tv_value *out, tb_arena *a,
         tb_err *err)
{
    (void)e, (void)args, (void)err;
    *out = in.kind != TV_NUMBER ? tv_null() : tv_str(cn_numeral(llround(in.u.num), a));
    return TB_OK;
}

static const tv_type *
check_ordinal(const tpl_expr *e, const tv_type *in, tb_arena *a, tb_err *err)
{
    if (!check_number_to_string(e, in, a, err))
        return NULL;
    if (e->args[0]->kind != E_NUM || e->args[0]->num < 1 || e->args[0]->num > 4 ||
        e->args[0]->num != floor(e->args[0]->num)) {
        FAIL_AT(e->args[0], TB_EFORMAT, "ordinal(level): level is 1 (一、), 2 (（一）), 3 (1.) "
                "or 4 (（1）)");
        return NULL;
    }
    return &tv_string_type;
}

static tb_code
apply_ordinal(const tpl_expr *e, tv_value in, const tv_value *args, tv_value *out, tb_arena *a,
              tb_err *err)
{
    (void)err;
    long long n = in.kind == TV_NUMBER ? llround(in.u.num) : 0;
    switch ((int)e->args[0]->num) {
    case 1: *out = tv_str(tb_arena_printf(a, "%s、", cn_numeral(n, a))); break;
    case 2: *out = tv_str(tb_arena_printf(a, "（%s）", cn_numeral(n, a))); break;
    case 3: *out = tv_str(tb_arena_printf(a, "%lld.", n)); break;
    default: *out = tv_str(tb_arena_printf(a, "（%lld）", n)); break;
    }
    (void)args;
    return TB_OK;
}

static const tv_type *
check_date(const tpl_expr *e, const tv_type *in, tb_arena *a, tb_err *err)
{
    if (!need_input(e, in, TV_DATE, "a date", a, err) || !need_arg(e, 0, TV_STRING, err))
        return NULL;
    if (e->nargs == 1 && (e->args[0]->kind != E_STR || (strcmp(e->args[0]->str, "iso") != 0 &&
                                                        strcmp(e->args[0]->str, "cn") != 0))) {
        FAIL_AT(e->args[0], TB_EFORMAT, "date(style): style is 'cn' (2022年11月2日, the "
                "default) or 'iso' (2022-11-02)");
        return NULL;
    }
    return &tv_string_type;
}

static tb_code
apply_date(const tpl_expr *e, tv_value in, const tv_value *args, tv_value *out, tb_arena *a,
           tb_err *err)
{
    (void)args, (void)err;
    char buf[32];
    if (in.kind != TV_DATE)
        *out = tv_null();
    else if (e->nargs == 1 && strcmp(e->args[0]->str, "iso") == 0)
        *out = tv_str(tb_arena_strdup(a, cn_date_format_iso(in.u.date, buf, sizeof buf)));
    else
        *out = tv_str(tb_arena_strdup(a, cn_date_format(in.u.date, buf, sizeof buf)));
    return TB_OK;
}

static const tv_type *
check_default(const tpl_expr *e, const tv_type *in, tb_arena *a, tb_err *err)
{
    const tv_type *arg = e->args[0]->type;
    if (!same_type(in, arg)) {
        FAIL_AT(e->args[0], TB_EFORMAT, "default(x): x must be a %s like its input, not %s",
                describe(in, a), describe(arg, a));
        return NULL;
    }
    return in;
}

static tb_code
apply_default(const tpl_expr *e, tv_value in, const tv_value *args, tv_value *out, tb_arena *a,
              tb_err *err)
{
    (void)e, (void)a, (void)err;
    *out = in.kind == TV_NULL ? args[0] : in;
    return TB_OK;
}

static const tv_type *
check_join(const tpl_expr *e, const tv_type *in, tb_arena *a, tb_err *err)
{
    if (!need_input(e, in, TV_LIST, "a list", a, err) || !need_arg(e, 0, TV_STRING, err))
        return NULL;
    return &tv_string_type;
}

static tb_code
apply_join(const tpl_expr *e, tv_value in, const tv_value *args, tv_value *out, tb_arena *a,
           tb_err *err)
{
    (void)err;
    const char *sep = e->nargs ? args[0].u.str : "、";
    if (e->nargs && args[0].kind != TV_STRING)
        sep = "";
    tb_buf b = TB_BUF_INIT;
    size_t n = 0;
    for (size_t i = 0; in.kind == TV_LIST && i < in.u.list.count; i++) {
        if (in.u.list.items[i].kind == TV_NULL)
            continue;
        if (n++)
            tb_buf_append_str(&b, sep);
        tb_buf_append_str(&b, tpl_value_text(in.u.list.items[i], a));
    }
    *out = tv_str(tb_arena_strndup(a, b.len ? (char *)b.data : "", b.len));
    tb_buf_release(&b);
    return TB_OK;
}

/* Functions over lists: count, sum, min, max, distinct. */
static const tv_type *
check_list_fn(const tpl_expr *e, const tv_type *in, tb_arena *a, tb_err *err)
{
    (void)in;
    const tv_type *t = e->args[0]->type;
    if (t->kind != TV_LIST) {
        FAIL_AT(e->args[0], TB_EFORMAT, "%s() takes a list (e.g. patches, or patches.jcmj), "
                "not %s", e->str, describe(t, a));
        return NULL;
    }
    const char *f = e->str;
    if (strcmp(f, "count") == 0)
        return &tv_number_type;
    if (strcmp(f, "distinct") == 0)
        return t;
    bool ordered = t->item->kind == TV_NUMBER || t->item->kind == TV_DATE ||
                   (t->item->kind == TV_STRING && strcmp(f, "sum") != 0);
    if (!ordered || (strcmp(f, "sum") == 0 && t->item->kind != TV_NUMBER)) {
        FAIL_AT(e->args[0], TB_EFORMAT, "%s() takes a list of %s, not %s", f,
                strcmp(f, "sum") == 0 ? "numbers" : "numbers or dates", describe(t, a));
        return NULL;
    }
    return t->item;
}

static tb_code
apply_list_fn(const tpl_expr *e, tv_value in, const tv_value *args, tv_value *out,
              tb_arena *a, tb_err *err)
{
    (void)in, (void)err;
    tv_value l = args[0];
    size_t n = l.kind == TV_LIST ? l.u.list.count : 0;
    const char *f = e->str;
    if (strcmp(f, "count") == 0) {
        size_t c = 0;
        for (size_t i = 0; i < n; i++)
            c += l.u.list.items[i].kind != TV_NULL;
        *out = tv_num((double)c);
    } else if (strcmp(f, "sum") == 0) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            if (l.u.list.items[i].kind == TV_NUMBER)
                s += l.u.list.items[i].u.num;
        *out = tv_num(s);
    } else if (strcmp(f, "distinct") == 0) {
        tv_value *items = tb_arena_array(a, n + 1, sizeof *items);
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            tv_value v = l.u.list.items[i];
            bool seen = v.kind == TV_NULL;
            for (size_t j = 0; j < k && !seen; j++)
                seen = v.kind != TV_RECORD ? tv_compare(items[j], v) == 0
                                           : items[j].u.rec == v.u.rec;
            if (!seen)
                items[k++] = v;
        }
        *out = tv_list(items, k);
    } else { /* min, max: nulls are skipped; none left is null */
        bool max = strcmp(f, "max") == 0;
        *out = tv_null();
        for (size_t i = 0; i < n; i++) {
            tv_value v = l.u.list.items[i];
            if (v.kind == TV_NULL)
                continue;
            int c = out->kind == TV_NULL ? 0 : tv_compare(v, *out);
            if (out->kind == TV_NULL || (max ? c > 0 : c < 0))
                *out = v;
        }
    }
    return TB_OK;
}

#define FILTER(n, lo, hi, chk, app, ...) \
    {.name = n, .filter = true, .min_args = lo, .max_args = hi, .check = chk, .apply = app, __VA_ARGS__}
#define FUNCTION(n) \
    {.name = n, .min_args = 1, .max_args = 1, .check = check_list_fn, .apply = apply_list_fn}
static const builtin builtins[] = {
    FILTER("mu", 0, 1, check_number_to_string, apply_mu, .scale = 1),
    FILTER("ha", 0, 1, check_number_to_string, apply_number, .scale = 1 / 10000.0, .decimals = 2,
           .suffix = ""),
    FILTER("fixed", 0, 1, check_number_to_string, apply_number, .scale = 1, .decimals = 2,
           .suffix = ""),
    FILTER("thousands", 0, 1, check_number_to_string, apply_number, .scale = 1, .decimals = 2,
           .group = true, .suffix = ""),
    FILTER("percent", 0, 1, check_number_to_string, apply_number, .scale = 100, .decimals = 1,
           .suffix = "%"),
    FILTER("cn", 0, 0, check_number_to_string, apply_cn, .scale = 1),
    FILTER("ordinal", 1, 1, check_ordinal, apply_ordinal, .scale = 1),
    FILTER("date", 0, 1, check_date, apply_date, .scale = 1),
    FILTER("default", 1, 1, check_default, apply_default, .scale = 1),
    FILTER("join", 0, 1, check_join, apply_join, .scale = 1),
    FUNCTION("count"), FUNCTION("sum"), FUNCTION("min"), FUNCTION("max"), FUNCTION("distinct"),
};
#undef FILTER
#undef FUNCTION

static const builtin *
find_builtin(const tpl_expr *e, bool filter, tb_arena *a, tb_err *err)
{
    const char *names[sizeof builtins / sizeof builtins[0]];
    size_t n = 0;
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        if (builtins[i].filter != filter)
            continue;
        if (strcmp(builtins[i].name, e->str) == 0) {
            const builtin *b = &builtins[i];
            if ((int)e->nargs < b->min_args || (int)e->nargs > b->max_args) {
                FAIL_AT(e, TB_EFORMAT, "%s '%s' takes %d%s argument%s, not %zu",
                        filter ? "filter" : "function", b->name, b->min_args,
                        b->max_args > b->min_args ? " or 1" : "",
                        b->max_args == 1 ? "" : "s", e->nargs);
                return NULL;
            }
            return b;
        }
        names[n++] = builtins[i].name;
    }
    FAIL_AT(e, TB_EFORMAT, "unknown %s '%s'%s", filter ? "filter" : "function", e->str,
            hint(e->str, e->str_len, names, n, filter ? "filters" : "functions", a));
    return NULL;
}

/* ---- checking -------------------------------------------------------------------------- */

static const tv_type *
check_bin(tpl_expr *e, tb_arena *a, tb_err *err)
{
    const tv_type *l = e->a->type, *r = e->b->type;
    switch (e->op) {
    case OP_AND:
    case OP_OR: return &tv_bool_type;
    case OP_ADD:
        if (l->kind == TV_NUMBER && r->kind == TV_NUMBER)
            return l;
        if (l->kind == TV_STRING && r->kind == TV_STRING)
            return l;
        if (l->kind == TV_DATE && r->kind == TV_NUMBER)
            return l; /* a date plus days */
        break;
    case OP_SUB:
        if (l->kind == TV_NUMBER && r->kind == TV_NUMBER)
            return l;
        if (l->kind == TV_DATE && r->kind == TV_NUMBER)
            return l;
        break;
    case OP_MUL:
    case OP_DIV:
        if (l->kind == TV_NUMBER && r->kind == TV_NUMBER)
            return l;
        break;
    default: /* comparisons */
        if (same_type(l, r) && (l->kind == TV_NUMBER || l->kind == TV_STRING ||
                                l->kind == TV_DATE ||
                                (l->kind == TV_BOOL && (e->op == OP_EQ || e->op == OP_NE))))
            return &tv_bool_type;
        break;
    }
    static const struct { int op; const char *text; } spell[] = {
        {OP_ADD, "+"}, {OP_SUB, "-"}, {OP_MUL, "*"}, {OP_DIV, "/"}, {OP_LT, "<"},
        {OP_GT, ">"}, {OP_LE, "<="}, {OP_GE, ">="}, {OP_EQ, "=="}, {OP_NE, "!="},
    };
    const char *op = "?";
    for (size_t i = 0; i < sizeof spell / sizeof spell[0]; i++)
        if (spell[i].op == e->op)
            op = spell[i].text;
    FAIL_AT(e, TB_EFORMAT, "cannot apply '%s' to %s and %s", op, describe(l, a),
            describe(r, a));
    return NULL;
}

static const tv_type *
check(tpl_expr *e, const tpl_tscope *scope, tb_arena *a, tb_err *err)
{
    switch (e->kind) {
    case E_NUM: return e->type = &tv_number_type;
    case E_STR: return e->type = &tv_string_type;
    case E_NAME:
        for (const tpl_tscope *s = scope; s; s = s->up)
            if (strcmp(s->name, e->str) == 0)
                return e->type = s->type;
        {
            size_t n = 0;
            for (const tpl_tscope *s = scope; s; s = s->up)
                n++;
            const char **names = tb_arena_array(a, n + 1, sizeof *names);
            n = 0;
            for (const tpl_tscope *s = scope; s; s = s->up)
                names[n++] = s->name;
            FAIL_AT(e, TB_EFORMAT, "unknown name '%s'%s", e->str,
                    hint(e->str, e->str_len, names, n, "names here", a));
        }
        return NULL;
    case E_FIELD: {
        const tv_type *t = check(e->a, scope, a, err);
        if (t == NULL)
            return NULL;
        const tv_type *rec = t->kind == TV_LIST ? t->item : t;
        if (rec->kind != TV_RECORD) {
            FAIL_AT(e, TB_EFORMAT, "'%s' has no fields: %s is not a record", e->str,
                    describe(t, a));
            return NULL;
        }
        if ((e->field = tv_type_field(rec, e->str, e->str_len)) < 0) {
            FAIL_AT(e, TB_EFORMAT, "unknown field '%s' of %s%s", e->str,
                    rec->name ? rec->name : "record", field_hint(rec, e->str, e->str_len, a));
            return NULL;
        }
        e->mapped = t->kind == TV_LIST;
        const tv_type *ft = rec->fields[e->field].type;
        return e->type = e->mapped ? list_of(ft, a) : ft;
    }
    case E_CALL:
    case E_FILTER: {
        const tv_type *in = NULL;
        if (e->kind == E_FILTER && !(in = check(e->a, scope, a, err)))
            return NULL;
        for (size_t i = 0; i < e->nargs; i++)
            if (!check(e->args[i], scope, a, err))
                return NULL;
        if (!(e->fn = find_builtin(e, e->kind == E_FILTER, a, err)))
            return NULL;
        return e->type = e->fn->check(e, in, a, err);
    }
    case E_NEG:
        if (!check(e->a, scope, a, err))
            return NULL;
        if (e->a->type->kind != TV_NUMBER) {
            FAIL_AT(e, TB_EFORMAT, "'-' needs a number, not %s", describe(e->a->type, a));
            return NULL;
        }
        return e->type = &tv_number_type;
    case E_NOT:
        return check(e->a, scope, a, err) ? (e->type = &tv_bool_type) : NULL;
    case E_BIN:
        if (!check(e->a, scope, a, err) || !check(e->b, scope, a, err))
            return NULL;
        return e->type = check_bin(e, a, err);
    }
    return NULL;
}

const tv_type *
tpl_expr_check(tpl_expr *e, const tpl_tscope *scope, tb_arena *a, tb_err *err)
{
    return check(e, scope, a, err);
}

/* ---- evaluation ------------------------------------------------------------------------ */

static tb_code eval(const tpl_expr *e, const tpl_vscope *scope, tv_value *out, tb_arena *a,
                    tb_err *err);

static tv_value
field_of(tv_value v, int field)
{
    return v.kind == TV_RECORD && field >= 0 && (size_t)field < v.u.rec->type->field_count
               ? v.u.rec->fields[field]
               : tv_null();
}

static tb_code
eval_bin(const tpl_expr *e, tv_value l, tv_value r, tv_value *out, tb_arena *a, tb_err *err)
{
    if (e->op == OP_AND || e->op == OP_OR) {
        *out = tv_boolean(e->op == OP_AND ? tv_truthy(l) && tv_truthy(r)
                                          : tv_truthy(l) || tv_truthy(r));
        return TB_OK;
    }
    if (strchr("=!<>lg", e->op)) {
        int c = tv_compare(l, r);
        bool b = e->op == OP_EQ ? c == 0 : e->op == OP_NE ? c != 0 : e->op == OP_LT ? c < 0
                 : e->op == OP_GT ? c > 0 : e->op == OP_LE ? c <= 0 : c >= 0;
        /* an absent value is neither smaller nor larger than anything */
        if ((l.kind == TV_NULL || r.kind == TV_NULL) && e->op != OP_EQ && e->op != OP_NE)
            b = false;
        *out = tv_boolean(b);
        return TB_OK;
    }
    if (l.kind == TV_NULL || r.kind == TV_NULL) {
        *out = tv_null(); /* arithmetic on an absent value is absent */
        return TB_OK;
    }
    if (l.kind == TV_STRING) {
        *out = tv_str(tb_arena_printf(a, "%s%s", l.u.str, r.u.str));
        return TB_OK;
    }
    if (l.kind == TV_DATE) {
        double days = e->op == OP_SUB ? -r.u.num : r.u.num;
        if (fabs(days) > 100000)
            return FAIL_AT(e, TB_ELIMIT, "date arithmetic beyond 100000 days");
        *out = tv_date(cn_date_add_days(l.u.date, (int)days));
        return TB_OK;
    }
    double x = l.u.num, y = r.u.num;
    switch (e->op) {
    case OP_ADD: *out = tv_num(x + y); break;
    case OP_SUB: *out = tv_num(x - y); break;
    case OP_MUL: *out = tv_num(x * y); break;
    default:
        if (y == 0)
            return FAIL_AT(e, TB_EFORMAT, "division by zero");
        *out = tv_num(x / y);
        break;
    }
    (void)a;
    return TB_OK;
}

static tb_code
eval(const tpl_expr *e, const tpl_vscope *scope, tv_value *out, tb_arena *a, tb_err *err)
{
    tb_code code;
    switch (e->kind) {
    case E_NUM: *out = tv_num(e->num); return TB_OK;
    case E_STR: *out = (tv_value){.kind = TV_STRING, .u.str = e->str}; return TB_OK;
    case E_NAME:
        for (const tpl_vscope *s = scope; s; s = s->up)
            if (strcmp(s->name, e->str) == 0)
                return *out = s->value, TB_OK;
        return FAIL_AT(e, TB_EINVAL, "'%s' has no value here", e->str);
    case E_FIELD: {
        tv_value v;
        if ((code = eval(e->a, scope, &v, a, err)) != TB_OK)
            return code;
        if (!e->mapped) {
            *out = field_of(v, e->field);
            return TB_OK;
        }
        size_t n = v.kind == TV_LIST ? v.u.list.count : 0;
        tv_value *items = tb_arena_array(a, n + 1, sizeof *items);
        for (size_t i = 0; i < n; i++)
            items[i] = field_of(v.u.list.items[i], e->field);
        *out = tv_list(items, n);
        return TB_OK;
    }
    case E_CALL:
    case E_FILTER: {
        tv_value in = tv_null(), args[8];
        if (e->kind == E_FILTER && (code = eval(e->a, scope, &in, a, err)) != TB_OK)
            return code;
        for (size_t i = 0; i < e->nargs; i++)
            if ((code = eval(e->args[i], scope, &args[i], a, err)) != TB_OK)
                return code;
        TB_ASSERT(e->fn != NULL); /* checked before evaluation */
        return e->fn->apply(e, in, args, out, a, err);
    }
    case E_NEG: {
        tv_value v;
        if ((code = eval(e->a, scope, &v, a, err)) != TB_OK)
            return code;
        *out = v.kind == TV_NUMBER ? tv_num(-v.u.num) : tv_null();
        return TB_OK;
    }
    case E_NOT: {
        tv_value v;
        if ((code = eval(e->a, scope, &v, a, err)) != TB_OK)
            return code;
        *out = tv_boolean(!tv_truthy(v));
        return TB_OK;
    }
    case E_BIN: {
        tv_value l, r;
        if ((code = eval(e->a, scope, &l, a, err)) != TB_OK)
            return code;
        /* and/or short-circuit, so `p.nf and p.nf > 2020` never compares an absent year */
        if (e->op == OP_AND && !tv_truthy(l))
            return *out = tv_boolean(false), TB_OK;
        if (e->op == OP_OR && tv_truthy(l))
            return *out = tv_boolean(true), TB_OK;
        if ((code = eval(e->b, scope, &r, a, err)) != TB_OK)
            return code;
        return eval_bin(e, l, r, out, a, err);
    }
    }
    return TB_OK;
}

tb_code
tpl_expr_eval(const tpl_expr *e, const tpl_vscope *scope, tv_value *out, tb_arena *a,
              tb_err *err)
{
    TB_ASSERT(e->type != NULL); /* tpl_expr_check first */
    return eval(e, scope, out, a, err);
}

const char *
tpl_value_text(tv_value v, tb_arena *a)
{
    char buf[32];
    switch (v.kind) {
    case TV_NULL: return "";
    case TV_BOOL: return v.u.b ? "是" : "否";
    case TV_STRING: return v.u.str;
    case TV_DATE: return tb_arena_strdup(a, cn_date_format(v.u.date, buf, sizeof buf));
    case TV_NUMBER: {
        if (v.u.num == floor(v.u.num) && fabs(v.u.num) < 9e15)
            return tpl_format_number(v.u.num, 0, false, a);
        const char *s = tpl_format_number(v.u.num, 6, false, a);
        char *t = tb_arena_strdup(a, s);
        size_t n = strlen(t);
        while (n > 0 && t[n - 1] == '0')
            t[--n] = '\0';
        if (n > 0 && t[n - 1] == '.')
            t[--n] = '\0';
        return t;
    }
    case TV_LIST: {
        tv_value s;
        tpl_expr join = {.nargs = 0};
        apply_join(&join, v, NULL, &s, a, NULL);
        return s.kind == TV_STRING ? s.u.str : "";
    }
    case TV_RECORD: return v.u.rec->origin ? v.u.rec->origin : "";
    }
    return "";
}
