/* Template expressions: `{p.jcmj|mu}`, `where="p.jcgdmj > 0"`, `test="count(patches) > 1"`.
 *
 *   expr    := or ('|' filter)*          filter := name ['(' expr {',' expr} ')']
 *   or      := and ('or' and)*           and    := not ('and' not)*
 *   not     := 'not' not | compare       compare:= sum [('=='|'!='|'<'|'<='|'>'|'>=') sum]
 *   sum     := product (('+'|'-') product)*        product := unary (('*'|'/') unary)*
 *   unary   := '-' unary | postfix       postfix:= primary ('.' name)*
 *   primary := number | 'string' | "string" | name | name '(' args ')' | '(' expr ')'
 *
 * Every expression is parsed and type-checked against the document kind's data types when the
 * template is loaded, so a bad reference is found before any document is made.  Evaluation
 * never fails on well-typed input except for limits (list sizes) and division by zero.
 * Formatting never depends on the locale. */
#ifndef TB_TPL_EXPR_H
#define TB_TPL_EXPR_H

#include "tb_arena.h"
#include "tb_err.h"
#include "tvalue.h"

enum { TPL_MAX_EXPR_BYTES = 1000, TPL_MAX_EXPR_DEPTH = 32 };

/* Where an expression's first character is, for file:line:column messages. */
typedef struct tpl_loc {
    const char *file;
    int line, column; /* 1-based; column counts characters, not bytes */
} tpl_loc;

typedef struct tpl_expr tpl_expr;

/* Names in scope while checking (types) and evaluating (values): innermost first.  The data
 * root's fields are the outermost names. */
typedef struct tpl_tscope {
    const char *name;
    const tv_type *type;
    const struct tpl_tscope *up;
} tpl_tscope;

typedef struct tpl_vscope {
    const char *name;
    tv_value value;
    const struct tpl_vscope *up;
} tpl_vscope;

/* Parses s[0..len).  Errors are TB_EFORMAT "file:line:column: message". */
tpl_expr *tpl_expr_parse(const char *s, size_t len, tpl_loc at, tb_arena *a, tb_err *err);

/* Checks every name, field, function and filter; returns the expression's type, or NULL with
 * err set ("unknown field 'gdmj' of patch (did you mean 'jcgdmj'?)"). */
const tv_type *tpl_expr_check(tpl_expr *e, const tpl_tscope *scope, tb_arena *a, tb_err *err);

/* Evaluates a checked expression. */
tb_code tpl_expr_eval(const tpl_expr *e, const tpl_vscope *scope, tv_value *out, tb_arena *a,
                      tb_err *err) TB_MUST_CHECK;

/* The expression's source text, as written. */
const char *tpl_expr_source(const tpl_expr *e);

/* The type tpl_expr_check found. */
const tv_type *tpl_expr_type(const tpl_expr *e);

/* Where the expression is (for messages of the caller). */
tpl_loc tpl_expr_loc(const tpl_expr *e);

/* A value as text in a document: strings as they are, integral numbers without decimals, other
 * numbers with up to 6 (trailing zeros dropped), dates as 2022年11月2日, booleans 是/否, lists
 * joined with 、, null as "". */
const char *tpl_value_text(tv_value v, tb_arena *a);

/* Formatting used by the filters, exposed for tests: x rounded half away from zero to
 * `decimals` places, with ',' every three digits when `group`. */
const char *tpl_format_number(double x, int decimals, bool group, tb_arena *a);

/* Edit distance between x[0..n) and y[0..m), for "did you mean" hints (99 when long). */
size_t tpl_hint_distance(const char *x, size_t n, const char *y, size_t m);

#endif
