/* Office profiles (office.xml, validated against the RelaxNG schemas in templates/schema/,
 * which are compiled into the program) and field mapping profiles.  An office inherits what its
 * office.xml leaves out from templates/_base/office.xml (compiled in).  Profiles and templates
 * are untrusted input: no DTD, no entities, no network, no paths outside the office directory.
 * libxml2 lives in src/template only.  Document templates: tpl_doc.h. */
#ifndef TB_TPL_H
#define TB_TPL_H

#include "docdata.h"
#include "field_mapping.h"
#include "font_role.h"
#include "tb_arena.h"
#include "tb_err.h"

#include <stdbool.h>
#include <stddef.h>

/* 机关代字 for one document kind (kind NULL: every kind without its own). */
typedef struct tpl_docno_prefix {
    const char *kind, *prefix;
} tpl_docno_prefix;

typedef struct tpl_office {
    const char *dir;           /* the office directory, as given */
    const char *id;            /* "sample-office" */
    const char *name;          /* 发文机关署名: 示例县自然资源局 */
    const char *short_name;    /* NULL = name */
    const char *mark;          /* 发文机关标志: 示例县自然资源局文件 */
    const char *docno_prefix;  /* the default 机关代字: 示自然资发 */
    const char *county_code;   /* 139901 */
    const char *county_name;   /* 示例县 */
    const char *issuer;        /* 印发机关 */
    const char *signer;        /* 签发人; NULL = none */
    const char *contact;       /* contact line (附注); NULL = none */
    const char *addressee, *cc; /* default 主送 and 抄送; NULL = none */
    const char *seal_path;     /* resolved inside dir */
    double seal_diameter_mm;
    const char *key_path, *cert_path, *chain_path; /* resolved inside dir; chain may be NULL */
    const char *passphrase_file; /* <signing passphrase-file>: inside dir; NULL = none */
    const char *passphrase_env;  /* <signing passphrase-env>: a variable's name; NULL = none */
    const char *tsa_url;         /* <signing tsa>: RFC 3161 time-stamp authority; NULL = none */
    bool certify;                /* <signing certify="true">: first signature certifies (DocMDP) */
    const char *imagery_path;  /* resolved relative to dir; NULL if none */
    const char *imagery_catalogue_path; /* imagery.xml, inside dir; NULL if none */
    font_choice fonts[FONT_ROLE_COUNT]; /* defaults, overridden by <font> elements */
    tpl_docno_prefix *prefixes; /* per kind */
    size_t prefix_count;
    named_number *rules;       /* <rules>: office's then _base's */
    size_t rule_count;
    interview_flag *interview_flags; /* <rules><interview-flag>: 约谈 by hand */
    size_t interview_flag_count;
    unit_rule *units;          /* <townships><unit>: office's first, then _base's */
    size_t unit_count;
    township_entry *townships; /* <townships><township> */
    size_t township_count;
} tpl_office;

/* Loads and validates _base's office.xml and then <dir>/office.xml over it.  Everything is
 * owned by a. */
tpl_office *tpl_office_load(const char *dir, tb_arena *a, tb_err *err);

/* The 机关代字 for a document kind. */
const char *tpl_office_prefix(const tpl_office *o, const char *kind);

/* The office's 约谈 rules: the rules interview_ratio, interview_basic_farmland_mu and
 * interview_farmland_mu (_base gives 0.15, 5 and 10) and its <interview-flag>s. */
interview_rules tpl_office_interview_rules(const tpl_office *o);

/* The office as template data (office.* in templates). */
office_data tpl_office_data(const tpl_office *o, const char *kind);

/* Parses a field mapping profile (schema templates/schema/mapping.rng); name is used in
 * messages.  Everything is owned by a. */
field_mapping *tpl_mapping_parse(const char *xml, size_t len, const char *name, tb_arena *a,
                                 tb_err *err);
field_mapping *tpl_mapping_load(const char *path, tb_arena *a, tb_err *err);

#endif
