/* Office profiles and document templates (XML, validated against the RelaxNG schemas in
 * templates/schema/, which are compiled into the program).  Templates are untrusted input: no
 * DTD, no entities, no network, no paths outside the office directory.  libxml2 lives here only. */
#ifndef TB_TPL_H
#define TB_TPL_H

#include "field_mapping.h"
#include "font_role.h"
#include "tb_arena.h"
#include "tb_err.h"

#include <stdbool.h>
#include <stddef.h>


typedef struct tpl_office {
    const char *dir;           /* the office directory, as given */
    const char *id;            /* "sample-office" */
    const char *name;          /* 发文机关署名: 示例县自然资源局 */
    const char *mark;          /* 发文机关标志: 示例县自然资源局文件 */
    const char *docno_prefix;  /* 机关代字: 示自然资发 */
    const char *county_code;   /* 139901 */
    const char *county_name;   /* 示例县 */
    const char *issuer;        /* 印发机关 */
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
} tpl_office;

/* Loads and validates <dir>/office.xml.  Everything is owned by a. */
tpl_office *tpl_office_load(const char *dir, tb_arena *a, tb_err *err);

typedef enum tpl_block_kind {
    TPL_PARAGRAPH,  /* <p>: body text, first line indented two characters */
    TPL_HEADING1,   /* <h1>: 一、 level, 黑体 */
    TPL_HEADING2,   /* <h2>: （一） level, 楷体 */
    TPL_PATCH_LIST, /* <patch-list/>: the builder inserts one paragraph per patch */
} tpl_block_kind;

typedef struct tpl_block {
    tpl_block_kind kind;
    const char *text; /* with {variables} unexpanded; NULL for TPL_PATCH_LIST */
    int line;         /* line in the template file, for messages */
} tpl_block;

typedef enum tpl_attachment_content { TPL_ATT_PATCH_TABLE, TPL_ATT_PATCH_MAPS } tpl_attachment_content;

typedef struct tpl_attachment {
    tpl_attachment_content content;
    const char *title;
    int line;
} tpl_attachment;

typedef struct tpl_notice {
    const char *path;
    const char *title, *addressee, *cc; /* cc may be NULL */
    int title_line, addressee_line, cc_line;
    tpl_block *blocks;
    size_t block_count;
    tpl_attachment *attachments;
    size_t attachment_count;
} tpl_notice;

/* Loads and validates <office dir>/notice.xml. */
tpl_notice *tpl_notice_load(const tpl_office *office, tb_arena *a, tb_err *err);

/* Parses a notice template from memory (for tests and fuzzing); name is used in messages. */
tpl_notice *tpl_notice_parse(const char *xml, size_t len, const char *name, tb_arena *a,
                             tb_err *err);

/* Parses a field mapping profile (schema templates/schema/mapping.rng); name is used in
 * messages.  Everything is owned by a. */
field_mapping *tpl_mapping_parse(const char *xml, size_t len, const char *name, tb_arena *a,
                                 tb_err *err);
field_mapping *tpl_mapping_load(const char *path, tb_arena *a, tb_err *err);

/* Variables for {name} substitution. */
typedef struct tpl_var {
    const char *name;
    const char *value;
} tpl_var;

/* Expands {name} references in text ("{{" and "}}" stand for literal braces).  An unknown
 * variable is TB_EFORMAT naming file, line and variable. */
char *tpl_expand(const char *text, const tpl_var *vars, size_t var_count, const char *file,
                 int line, tb_arena *a, tb_err *err);

#endif
