/* Document templates: an office's <kind>.xml (notice.xml, monthly.xml …) in the template
 * language (docs/templates.md, schema templates/schema/template.rng), loaded and checked once
 * against the kind's data types, then bound to each document's data into a dt_doc
 * (model/doctree.h) for the typesetter. */
#ifndef TB_TPL_DOC_H
#define TB_TPL_DOC_H

#include "doctree.h"
#include "tb_arena.h"
#include "tb_err.h"
#include "tvalue.h"

typedef struct tpl_office tpl_office;
typedef struct tpl_doc tpl_doc;

/* Limits on what an (untrusted) template may make. */
enum {
    TPL_MAX_NESTING = 32,        /* element depth of the template */
    TPL_MAX_INCLUDE_DEPTH = 4,
    TPL_MAX_OUTPUT_ITEMS = 200000 /* blocks + rows + cells + panels one document may produce */
};

/* Loads <office dir>/<kind>.xml, or the built-in templates/_base/<kind>.xml when the office has
 * none, and checks every element and reference against data_type (the kind's data, whose
 * fields are the names a template starts from).  Errors are "file:line:column: message". */
tpl_doc *tpl_doc_load(const tpl_office *office, const char *kind, const tv_type *data_type,
                      tb_arena *a, tb_err *err);

/* The same from memory; includes resolve inside office (may be NULL: _base only). */
tpl_doc *tpl_doc_parse(const char *xml, size_t len, const char *name, const tpl_office *office,
                       const tv_type *data_type, tb_arena *a, tb_err *err);

/* The file the template came from (for messages). */
const char *tpl_doc_path(const tpl_doc *t);

/* Binds data (a record of the data_type the template was checked against) into out.  All
 * strings are allocated in a.  Errors name the template place and the record. */
tb_code tpl_doc_bind(const tpl_doc *t, tv_value data, dt_doc *out, tb_arena *a, tb_err *err)
    TB_MUST_CHECK;

/* The figure panel's datum is the native object of the record its `of` names (e.g. the
 * const patch *); see dt_panel. */

#endif
