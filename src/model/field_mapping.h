/* How a patch file's columns and values map onto the standard fields (DESIGN §4): the default
 * knows the standard names and their aliases; a mapping profile (XML, parsed by src/template)
 * adds renames and value synonyms for one province's or one system's exports. */
#ifndef TB_FIELD_MAPPING_H
#define TB_FIELD_MAPPING_H

#include <stddef.h>

typedef struct field_rename {
    const char *field;  /* standard name, e.g. "JCBH" */
    const char *column; /* the file's column, e.g. "监测图斑编号" */
} field_rename;

typedef struct value_synonym {
    const char *field; /* standard name, e.g. "PDJG" */
    const char *from;  /* e.g. "违法" */
    const char *to;    /* e.g. "违法用地" */
} value_synonym;

typedef struct field_mapping {
    const char *name; /* profile name, for messages */
    const field_rename *renames;
    size_t rename_count;
    const value_synonym *synonyms;
    size_t synonym_count;
} field_mapping;

#endif
