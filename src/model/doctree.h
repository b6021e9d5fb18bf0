/* A bound document, ready to typeset: the contract between src/template (which binds data into an
 * office's template and produces this tree) and src/layout (which sets it on GB/T 9704 pages).
 * Plain values only: every string is UTF-8 and owned by whoever built the tree (an arena); the
 * typesetter never looks anything up, and the template module never measures anything.
 *
 * Geometry is not here: which font, size and position each element takes is the typesetter's
 * business (GB/T 9704, DESIGN §6).  The tree says only what the element is. */
#ifndef TB_DOCTREE_H
#define TB_DOCTREE_H

#include <stdbool.h>
#include <stddef.h>

/* ---- inline text ------------------------------------------------------------------------- */

enum {
    DT_RUN_BOLD = 1u << 0,   /* <b>: synthetic embolden where the role's font has no bold */
    DT_RUN_BREAK = 1u << 1,  /* <br/>: a forced line break (text is empty) */
    DT_RUN_NOBREAK = 1u << 2 /* the run's text is never broken across lines (an id, a name) */
};

typedef struct dt_run {
    const char *text;
    unsigned flags; /* DT_RUN_* */
} dt_run;

typedef struct dt_text {
    const dt_run *runs;
    size_t count;
} dt_text;

/* Where a piece of the tree came from, for messages that name the record and field:
 * e.g. "samples/patches.gpkg record 7 (139901SJBG24210019)", "{p.violation} (WFLX)". */
typedef struct dt_origin {
    const char *record; /* NULL when the element comes from the template alone */
    const char *field;  /* the template expression or data field; NULL if none */
    const char *where;  /* template file:line, NULL if unknown */
} dt_origin;

typedef enum dt_align { DT_ALIGN_DEFAULT = 0, DT_ALIGN_LEFT, DT_ALIGN_CENTER, DT_ALIGN_RIGHT } dt_align;

/* ---- tables ------------------------------------------------------------------------------ */

typedef struct dt_cell {
    dt_text text;
    int colspan, rowspan; /* 0 or 1 = one column / row */
    dt_align align;       /* DEFAULT: the column's */
    dt_origin origin;
} dt_cell;

typedef enum dt_row_role {
    DT_ROW_BODY = 0,
    DT_ROW_HEAD,  /* repeated at the top of every page the table continues on */
    DT_ROW_TOTAL  /* 合计 rows: set in 黑体, kept with the row above */
} dt_row_role;

typedef struct dt_row {
    const dt_cell *cells; /* the cells that start in this row (spanned positions omitted) */
    size_t count;
    dt_row_role role;
    dt_origin origin; /* the record the row stands for, when it comes from a loop */
} dt_row;

typedef struct dt_column {
    double width_mm; /* 0 = share what the others leave */
    dt_align align;
} dt_column;

typedef struct dt_table {
    const dt_column *columns;
    size_t column_count;
    const dt_row *rows;
    size_t row_count;
    double font_pt;  /* 0 = 5号 (10.5 pt) in tables, as GB/T 9704 custom */
    bool borderless; /* forms and covers: no rules */
} dt_table;

/* ---- figures ----------------------------------------------------------------------------- */

/* One evaluated attribute of a panel, for its drawer: name="value". */
typedef struct dt_attr {
    const char *name, *value;
} dt_attr;

/* One picture inside a figure (a map frame, a chart).  The typesetter gives it a rectangle and
 * calls the document's drawer; what the attributes mean is the drawer's business. */
typedef struct dt_panel {
    const char *kind;     /* "map", "chart", ... */
    const dt_attr *attrs;
    size_t attr_count;
    const void *datum;    /* bound data for the drawer (e.g. the patch), may be NULL */
    dt_text caption;      /* under the panel (前时相 2023年5月1日), may be empty */
    dt_origin origin;
} dt_panel;

typedef struct dt_figure {
    const dt_panel *panels; /* side by side, equal widths */
    size_t panel_count;
    double height_mm;       /* of the panels; 0 = the typesetter's default */
    dt_text caption;        /* under the whole figure: 图1 … */
} dt_figure;

/* ---- blocks ------------------------------------------------------------------------------ */

typedef enum dt_block_kind {
    DT_TITLE,           /* 标题: 2号小标宋, centred, balanced lines */
    DT_ADDRESSEE,       /* 主送机关, flush left */
    DT_PARAGRAPH,       /* 正文 paragraph: first line indented two characters */
    DT_HEADING,         /* level 1 一、(黑体) 2 （一）(楷体) 3 1. 4 （1）(仿宋); number in text */
    DT_ATTACHMENT_NOTE, /* 附件说明: items are the attachment titles */
    DT_SIGNATURE,       /* 署名, 成文日期 and the seal place */
    DT_NOTE,            /* 附注: in parentheses, indented two characters, below the date */
    DT_ATTACHMENT,      /* starts an attachment on a new page: label 附件1 and title */
    DT_TABLE,
    DT_FIGURE,
    DT_SPACE,           /* `lines` blank grid lines */
    DT_PAGE_BREAK,
    DT_SECTION,         /* a bookmark (PDF outline entry) and contents entry; draws nothing */
    DT_CONTENTS         /* 目录: one line per DT_SECTION of the document, with its page */
} dt_block_kind;

typedef enum dt_orientation { DT_PORTRAIT = 0, DT_LANDSCAPE } dt_orientation;

typedef struct dt_block {
    dt_block_kind kind;
    dt_text text;           /* TITLE, ADDRESSEE, PARAGRAPH, HEADING, NOTE, SECTION title;
                             * ATTACHMENT title */
    int level;              /* HEADING 1..4; SECTION outline level 1..; SPACE line count */
    dt_align align;         /* PARAGRAPH: DEFAULT = justified with indent; CENTER/RIGHT = no
                             * indent (e.g. a line of a form) */
    const dt_text *items;   /* ATTACHMENT_NOTE titles */
    size_t item_count;
    const char *label;      /* ATTACHMENT: "附件1"; SIGNATURE: 署名 (the issuing office) */
    const char *date;       /* SIGNATURE: 成文日期 as written (2022年11月2日) */
    bool seal;              /* SIGNATURE: leave the seal's place (the signer draws it) */
    dt_orientation orientation; /* ATTACHMENT, PAGE_BREAK: orientation of the pages that follow */
    const dt_table *table;
    const dt_figure *figure;
    dt_origin origin;
} dt_block;

/* ---- the document ------------------------------------------------------------------------ */

typedef enum dt_format {
    DT_FORMAT_FILE = 0, /* 文件格式: 版头 with the red mark and rule */
    DT_FORMAT_LETTER,   /* 信函格式: mark 30 mm from the top, double rules, no number on page 1 */
    DT_FORMAT_PLAIN     /* no 版头 (forms, tables, covers): the body starts at the block's top */
} dt_format;

typedef struct dt_head {
    const char *copy_number; /* 份号, e.g. "000123"; NULL = none */
    const char *secrecy;     /* 密级和保密期限, e.g. "秘密★1年"; NULL = none */
    const char *urgency;     /* 紧急程度: 特急 / 加急; NULL = none */
    const char *mark;        /* 发文机关标志, e.g. 示例县自然资源局文件 */
    const char *docno;       /* 发文字号, e.g. 示自然资发〔2024〕3号; NULL = none (preview) */
    const char *signer;      /* 签发人 name (上行文: 发文字号 left, 签发人 right); NULL = none */
} dt_head;

typedef struct dt_colophon {
    const char *cc;         /* 抄送 names, separated as the office writes them; NULL = none */
    const char *issuer;     /* 印发机关 */
    const char *print_date; /* 印发日期 as written (2022年11月2日) */
} dt_colophon;

typedef struct dt_doc {
    dt_format format;
    bool duplex;             /* printed on both sides: the 版记 falls on an even page */
    dt_head head;
    const dt_block *blocks;
    size_t block_count;
    const dt_colophon *colophon; /* 版记; NULL = none */
    const char *watermark;   /* e.g. 样稿 on previews; NULL = none */
    /* An issued document's verification mark below the last page's text block: the 验证码
     * printed and verify_qr (the payload) as a QR code.  NULL = none (a 样稿 has none). */
    const char *verify_code, *verify_qr;
    int page_limit;          /* 0 = the typesetter's default */
    /* PDF metadata */
    const char *title, *author, *subject;
    const char *create_date; /* "YYYY-MM-DDThh:mm:ss" or NULL */
} dt_doc;

#endif
