/* The GB/T 9704-2012 page (DESIGN §6): A4, a 156 × 225 mm text block at 28 mm / 37 mm, body in
 * 3号仿宋 on a 22-line × 28-character grid.  Geometry shared by the typesetter and the document
 * builders (the seal's rectangle for the signature widget). */
#ifndef TB_GONGWEN_H
#define TB_GONGWEN_H

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

/* A rectangle on a page in PDF user space (origin bottom-left), for the signature widget. */
typedef struct gw_rect {
    int page; /* 1-based; 0 = none */
    double x_pt, y_pt, w_pt, h_pt;
} gw_rect;

#endif
