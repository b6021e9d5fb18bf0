/* The GB/T 9704-2012 page model (DESIGN §6): A4, a 156 × 225 mm text block at 28 mm / 37 mm,
 * body in 3号仿宋 on a 22-line × 28-character grid, the red 版头, title, signature block with the
 * seal, attachments, 版记 and page numbers.  A document is written top to bottom by calling the
 * gongwen_* functions in reading order; pages break by themselves.
 *
 * Errors are sticky: after the first failure every call does nothing, and gongwen_finish
 * returns the error.  Not thread-safe; the typeface must outlive the gongwen. */
#ifndef TB_GONGWEN_H
#define TB_GONGWEN_H

#include "tb_buf.h"
#include "tb_err.h"
#include "typeface.h"

#include <cairo.h>
#include <stddef.h>

/* GB/T 9704 geometry, in points. */
#define GW_PAGE_W_PT 595.2756   /* 210 mm */
#define GW_PAGE_H_PT 841.8898   /* 297 mm */
#define GW_LEFT_PT 79.3701      /* 28 mm */
#define GW_TOP_PT 104.8819      /* 37 mm */
#define GW_BLOCK_W_PT 442.2047  /* 156 mm */
#define GW_BLOCK_H_PT 637.7953  /* 225 mm */
#define GW_LINES_PER_PAGE 22
#define GW_CHARS_PER_LINE 28
#define GW_LINE_PITCH_PT (GW_BLOCK_H_PT / GW_LINES_PER_PAGE) /* 28.99 pt */
#define GW_CHAR_PITCH_PT (GW_BLOCK_W_PT / GW_CHARS_PER_LINE) /* 15.79 pt */
#define GW_BODY_PT 16.0 /* 3号 */

typedef struct gongwen gongwen;

/* A rectangle on a page in PDF user space (origin bottom-left), for the signature widget. */
typedef struct gw_rect {
    int page; /* 1-based */
    double x_pt, y_pt, w_pt, h_pt;
} gw_rect;

typedef struct gw_metadata {
    const char *title, *author, *subject;
    const char *create_date; /* "YYYY-MM-DDThh:mm:ss" or NULL */
} gw_metadata;

/* Starts a document whose PDF bytes will be appended to out by gongwen_finish. */
gongwen *gongwen_new(const typeface *tf, tb_buf *out, const gw_metadata *meta);

/* 版头: 发文机关标志 (red, centred, its top 35 mm below the block's top), 发文字号 two lines below
 * it, the red rule 4 mm below that.  First thing on page 1. */
void gongwen_header(gongwen *gw, const char *mark, const char *docno);

/* 标题: 2号小标宋, centred, two lines below the rule, lines balanced in length. */
void gongwen_title(gongwen *gw, const char *title);

/* 主送机关: one line below the title, flush left. */
void gongwen_addressee(gongwen *gw, const char *text);

typedef enum gw_style {
    GW_BODY,     /* 仿宋, first line indented two characters */
    GW_HEADING1, /* 一、 level: 黑体, indented two characters */
    GW_HEADING2, /* （一） level: 楷体, indented two characters */
} gw_style;

/* A paragraph on the character grid. */
void gongwen_paragraph(gongwen *gw, gw_style style, const char *text);

/* 附件说明: one blank line, then 附件：1. title, continuation lines aligned with the first title. */
void gongwen_attachment_note(gongwen *gw, const char *const *titles, size_t count);

/* Signature block: 署名 centred over the 成文日期 (right-indented four characters), the seal
 * (an image surface, loaded once per office; drawn diameter_mm wide) centred over both, its top within one line of the text above.  *seal_out
 * receives the seal's rectangle (for the signature widget). */
void gongwen_signature(gongwen *gw, const char *signer, const char *date_text,
                       cairo_surface_t *seal, double seal_diameter_mm, gw_rect *seal_out);

/* Starts an attachment on a new page: label ("附件1") top left in 3号黑体, title centred below
 * in 2号小标宋. */
void gongwen_attachment_begin(gongwen *gw, const char *label, const char *title);

typedef struct gw_column {
    const char *heading;
    double width_mm;
    int align; /* 0 left, 1 centre, 2 right */
} gw_column;

/* A table in 5号仿宋 with a 黑体 heading row, repeated after a page break.  cells holds
 * row_count × column_count strings, row by row. */
void gongwen_table(gongwen *gw, const gw_column *columns, size_t column_count,
                   const char *const *cells, size_t row_count);

/* Draws a figure (a map) of height_mm across the block, with caption below.  draw() gets the
 * cairo context and the figure's rectangle in points (cairo space). */
typedef tb_code gw_draw_fn(void *user, cairo_t *cr, double x_pt, double y_pt, double w_pt,
                           double h_pt, tb_err *err);
void gongwen_figure(gongwen *gw, double height_mm, const char *caption, gw_draw_fn *draw,
                    void *user);

/* 版记 at the bottom of the last page: 抄送 (cc may be NULL), 印发机关 and 印发日期. */
void gongwen_colophon(gongwen *gw, const char *cc, const char *issuer, const char *print_date);

/* Ends the last page and writes the PDF into out.  Returns the first error of the document. */
tb_code gongwen_finish(gongwen *gw, tb_err *err) TB_MUST_CHECK;

int gongwen_page_count(const gongwen *gw);

void gongwen_free(gongwen *gw); /* NULL ok */

#endif
