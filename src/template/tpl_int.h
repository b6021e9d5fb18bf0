/* Private to src/template: the hardened parse the profile parsers share. */
#ifndef TB_TPL_INT_H
#define TB_TPL_INT_H

#include "tb_arena.h"
#include "tb_err.h"

#include <libxml/tree.h>

/* Parses xml with DTDs, entities and the network off, refuses a DOCTYPE and validates against
 * the RelaxNG schema text; the document belongs to a.  NULL with err set on failure. */
xmlDocPtr tpl_xml_parse(const char *xml, size_t len, const char *name, const char *schema,
                        tb_arena *a, tb_err *err);

#endif
