/* The RelaxNG schemas, compiled in from templates/schema/ (see cmake/Embed.cmake). */
#ifndef TB_TPL_SCHEMAS_H
#define TB_TPL_SCHEMAS_H

extern const char *const tpl_schema_office;
extern const char *const tpl_schema_template;
extern const char *const tpl_schema_mapping;
extern const char *const tpl_schema_imagery;

#endif
