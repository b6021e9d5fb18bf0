/* Private to src/template: the hardened XML reading both profiles and templates use. */
#ifndef TB_TPL_INT_H
#define TB_TPL_INT_H

#include "tb_arena.h"
#include "tb_err.h"

#include <libxml/tree.h>
#include <stdbool.h>

enum { TPL_MAX_XML_BYTES = 1 << 20 };

/* Parses with DTDs, entities and network off, refuses any DOCTYPE, validates against schema.
 * Errors are "name:line:column: message" with a hint.  The document is freed with a. */
xmlDocPtr tpl_xml_parse(const char *xml, size_t len, const char *name, const char *schema,
                        tb_arena *a, tb_err *err);
/* The same for a file (at most TPL_MAX_XML_BYTES); *source gets the bytes (arena-owned) for
 * locating columns.  beneath: the office folder path must be opened beneath
 * (tb_fs_open_beneath), or NULL for a file named by the operator. */
xmlDocPtr tpl_xml_load(const char *path, const char *beneath, const char *schema,
                       const char **source, size_t *len, tb_arena *a, tb_err *err);

bool tpl_is_element(xmlNodePtr n, const char *name);
xmlNodePtr tpl_child(xmlNodePtr parent, const char *name);
char *tpl_attr(xmlNodePtr n, const char *name, tb_arena *a); /* NULL when absent */
char *tpl_text_of(xmlNodePtr n, tb_arena *a); /* trimmed, XML line breaks removed */

/* 1-based line and column of the first occurrence of needle at or after line `from_line` of
 * source (column in characters); false when not found. */
bool tpl_locate(const char *source, size_t len, int from_line, const char *needle, int *line,
                int *column);

/* Built-in defaults (templates/_base): the file's bytes, or NULL. */
const char *tpl_base_file(const char *name);

#endif
