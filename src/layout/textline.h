/* Chinese line breaking on the character grid (W3C clreq): a paragraph is shaped once by Pango
 * (itemizing, font selection, shaping, UAX #14 break opportunities), then broken into lines
 * here, where every wide character takes one grid cell and Latin words, numbers and ids keep
 * their own advances and are never broken.  Closing punctuation never starts a line and opening
 * punctuation never ends one: a line is pushed in (punctuation compressed to half width) when
 * that makes the next closing mark fit, else pushed out.  Every line but a paragraph's last is
 * justified: slack goes first to the gaps between Han and Latin runs, then thinly between
 * characters, within limits (never inside a Latin word); what is left stays ragged.
 * Lines are drawn as glyph strings whose positions we set, with their clusters, so the text
 * stays searchable and copyable. */
#ifndef TB_TEXTLINE_H
#define TB_TEXTLINE_H

#include "doctree.h"
#include "typeface.h"

#include <cairo.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct tl_style {
    font_role role;
    double size_pt;
    double pitch_pt; /* wide characters set in cells this wide; 0 = the font's own advances */
} tl_style;

typedef struct tl_para tl_para;

/* Shapes text (forced breaks: DT_RUN_BREAK runs and "\n"; DT_RUN_NOBREAK runs unbreakable,
 * DT_RUN_BOLD emboldened).  Owned: tl_para_free. */
tl_para *tl_para_new(const typeface *tf, const tl_style *st, const dt_text *text);
tl_para *tl_para_new_str(const typeface *tf, const tl_style *st, const char *utf8);
void tl_para_free(tl_para *p); /* NULL ok */

/* Breaks the paragraph into lines first_w wide (the first) and rest_w wide (the others);
 * justify sets every line but the last (and those ending at a forced break) to its full
 * width.  Returns the line count (at least 1).  May be called again with other widths. */
size_t tl_para_break(tl_para *p, double first_w, double rest_w, bool justify);

/* Sets the paragraph again with the widths of its last tl_para_break, but with its lines broken
 * `narrower` points short of those widths and justified to them: the character spacing is
 * loosened, so the text takes more lines (GB/T 9704 7.2.4 调整字距).  0 restores the ordinary
 * setting.  Returns the line count. */
size_t tl_para_rebreak(tl_para *p, double narrower);

/* Titles: the fewest lines of at most max_w, as equal in length as the break opportunities
 * allow (a trapezoid or diamond, never a full line and a stub), preferring breaks after
 * punctuation and function words, honouring forced breaks. */
size_t tl_para_break_balanced(tl_para *p, double max_w);

size_t tl_para_line_count(const tl_para *p);
double tl_para_line_width(const tl_para *p, size_t line);
size_t tl_para_line_chars(const tl_para *p, size_t line); /* characters, for tests */
/* The width line `line` was broken to (its measure), and whether it is justified to it. */
double tl_para_line_measure(const tl_para *p, size_t line);
bool tl_para_line_justified(const tl_para *p, size_t line);
/* The line's text: *start points into the paragraph's text (forced breaks removed); returns
 * its length in bytes. */
size_t tl_para_line_text(const tl_para *p, size_t line, const char **start);
double tl_para_size(const tl_para *p);                   /* font size in points */

/* How far the text's ink reaches above and below its baseline (the 发文机关标志 is placed by
 * its ink). */
void tl_para_ink(const tl_para *p, double *above_pt, double *below_pt);

/* The whole text's width on one line (before any break). */
double tl_para_natural_width(const tl_para *p);

/* Draws line `line` with its left edge at x and its baseline at baseline (cairo user space),
 * in cr's current source. */
void tl_para_draw_line(const tl_para *p, size_t line, cairo_t *cr, double x, double baseline);

#endif
