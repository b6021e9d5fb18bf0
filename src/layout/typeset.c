/* DESIGN: two passes.  Pagination walks the tree once and puts every element on a page as an
 * item (a text line, a rule, a cell box, a panel, the seal) without drawing anything; body text
 * sits in grid slots, so a page's line pitch can still change after the fact (the signature
 * rule of GB/T 9704 7.2.4 tightens the page the block must share with the body) and lines can
 * move to the next page.  Page numbers, the 目录's numbers and the outline are known only then,
 * and the drawing pass writes the PDF from the items.
 *
 * Coordinates of items are block-relative points (origin at the text block's top-left corner,
 * in the page's own orientation: a landscape page's block is 225 × 156 mm, turned onto the
 * portrait sheet when drawn). */
#include "tb_features.h"

#include "typeset.h"

#include "qrmark.h"
#include "textline.h"
#include "units.h"

#include <cairo-pdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EPS 0.01
#define PITCH GW_LINE_PITCH_PT
#define CELL GW_CHAR_PITCH_PT
/* Where a CJK em box's centre sits above the baseline (ideographic em box: 0.88 up, 0.12 down). */
#define EM_CENTRE 0.38
#define DEFAULT_PAGE_LIMIT 500
#define DEFAULT_SEAL_MM 42.0
#define SMALL_PT 14.0     /* 4号: 版记, captions, page numbers */
#define TABLE_PT 10.5     /* 5号 */
/* A page shared by body text and the signature block may take at most this many extra lines
 * (a pitch of at least 80 % of the grid's: 23.2 pt for 16 pt characters, still more than single
 * spacing) before body text is taken onto the next page instead.  When taking text over would
 * leave a page short by more than its line spacing may open (below), the seal page may be set
 * down to 75 % (21.7 pt), the lesser evil. */
#define MAX_TIGHTEN_LINES 5
#define MIN_PITCH (0.8 * PITCH)
#define LAST_RESORT_LINES 8
#define LAST_RESORT_PITCH (0.75 * PITCH)

typedef enum item_kind { IT_TEXT, IT_RULE, IT_BOX, IT_PANEL, IT_SEAL, IT_LEADER } item_kind;

typedef struct item {
    item_kind kind;
    bool grid;       /* TEXT: y is the grid slot `slot` on the page's pitch */
    bool body;       /* body text: the seal page must carry some */
    bool annex;      /* a line of the 附件说明 (moves with the body lines above it) */
    bool loose;      /* a line of a justified paragraph whose character spacing may be loosened */
    double slot;
    double x, y;     /* TEXT: left edge and baseline (when not on the grid) */
    double w, h;     /* RULE: length and thickness; BOX, PANEL, SEAL: size; LEADER: right end */
    const tl_para *para;
    size_t line;
    double rgb[3];
    const dt_panel *panel;
    size_t section;  /* LEADER: the 目录 entry's section */
} item;

typedef struct page {
    item *items;
    size_t n, cap;
    bool landscape;
    bool blank;          /* inserted so the 版记 falls on an even page */
    bool lone_colophon;  /* holds nothing but the 版记 */
    bool fixed;          /* holds free (non-grid) content below the header: no tightening */
    int lines;           /* grid lines on the page */
    double from;         /* slot from which `pitch` applies (the 版头 above keeps the grid's) */
    double pitch;
} page;

typedef struct section {
    const dt_block *block;
    tl_para *title;
    int page;   /* 1-based, 0 until something follows it */
    double y;   /* block-relative */
} section;

typedef struct ts {
    const typeface *tf;
    const dt_doc *doc;
    const typeset_options *opt;
    page *pages;
    size_t npages, cap;
    double y;           /* cursor: points below the block's top on the last page */
    double clear_y;     /* the seal's bottom: what follows (but a 附注) starts below it */
    double seal_left;   /* the seal's left edge (block-relative), while clear_y is set */
    int limit;
    tl_para **paras;
    size_t nparas, pcap;
    section *sections;
    size_t nsections, next_section, pending_section;
    const dt_origin *where; /* the element being set, for messages */
    bool annex;             /* setting the 附件说明 */
    bool loose;             /* setting a justified body paragraph */
    tb_err *err;
    bool failed;
} ts;

static const double BLACK[3] = {0, 0, 0}, RED[3] = {0.9, 0, 0};

static const tl_style BODY = {FONT_FANGSONG, GW_BODY_PT, CELL};

/* ---- pages and items ---------------------------------------------------------------------- */

static page *
cur(ts *t)
{
    return &t->pages[t->npages - 1];
}

static double
block_w(const page *pg)
{
    return pg->landscape ? GW_BLOCK_H_PT : GW_BLOCK_W_PT;
}

static double
block_h(const page *pg)
{
    return pg->landscape ? GW_BLOCK_W_PT : GW_BLOCK_H_PT;
}

static double
y_of_slot(const page *pg, double slot)
{
    return slot <= pg->from ? slot * PITCH : pg->from * PITCH + (slot - pg->from) * pg->pitch;
}

static double
slot_pitch(const page *pg, double slot)
{
    return slot < pg->from ? PITCH : pg->pitch;
}

/* The first slot whose top is at or below y. */
static double
slot_at(const page *pg, double y)
{
    if (y <= pg->from * PITCH + EPS)
        return fmax(0, ceil(y / PITCH - EPS));
    return pg->from + ceil((y - pg->from * PITCH) / pg->pitch - EPS);
}

static const char *
origin_text(const dt_origin *o, char *buf, size_t cap)
{
    if (o == NULL || (o->record == NULL && o->field == NULL && o->where == NULL))
        return "the document";
    snprintf(buf, cap, "%s%s%s%s%s%s", o->record ? o->record : "",
             o->record && o->field ? ", field " : "", o->field ? o->field : "",
             (o->record || o->field) && o->where ? " (" : "", o->where ? o->where : "",
             (o->record || o->field) && o->where ? ")" : "");
    return buf;
}

static bool
new_page(ts *t, bool landscape)
{
    if (t->failed)
        return false;
    if ((int)t->npages >= t->limit) {
        char buf[400];
        tb_err_set(t->err, TB_ELIMIT,
                   "the document needs more than its page limit of %d pages; stopped at %s",
                   t->limit, origin_text(t->where, buf, sizeof buf));
        t->failed = true;
        return false;
    }
    if (t->npages == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 8;
        t->pages = tb_xrealloc(t->pages, t->cap * sizeof *t->pages);
    }
    page *pg = &t->pages[t->npages++];
    memset(pg, 0, sizeof *pg);
    pg->landscape = landscape;
    pg->pitch = PITCH;
    pg->lines = (int)floor(block_h(pg) / PITCH + EPS);
    t->y = 0;
    t->clear_y = 0;
    return true;
}

static bool
page_empty(const page *pg)
{
    return pg->n == 0;
}

static item *
add_item(ts *t, item_kind kind)
{
    page *pg = cur(t);
    if (pg->n == pg->cap) {
        pg->cap = pg->cap ? 2 * pg->cap : 32;
        pg->items = tb_xrealloc(pg->items, pg->cap * sizeof *pg->items);
    }
    item *it = &pg->items[pg->n++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    memcpy(it->rgb, BLACK, sizeof BLACK);
    /* Sections waiting for content point at what comes next. */
    for (; t->pending_section < t->next_section; t->pending_section++) {
        t->sections[t->pending_section].page = (int)t->npages;
        t->sections[t->pending_section].y = t->y;
    }
    return it;
}

static tl_para *
para(ts *t, const tl_style *st, const dt_text *text)
{
    tl_para *p = tl_para_new(t->tf, st, text);
    if (t->nparas == t->pcap) {
        t->pcap = t->pcap ? 2 * t->pcap : 64;
        t->paras = tb_xrealloc(t->paras, t->pcap * sizeof *t->paras);
    }
    t->paras[t->nparas++] = p;
    return p;
}

static tl_para *
para_str(ts *t, const tl_style *st, const char *s)
{
    dt_run run = {s ? s : "", 0};
    dt_text text = {&run, 1};
    return para(t, st, &text);
}

/* The next free grid slot, on a new page when this one is full. */
static double
next_slot(ts *t)
{
    double slot = slot_at(cur(t), fmax(t->y, t->clear_y));
    if (slot >= cur(t)->lines) {
        if (!new_page(t, cur(t)->landscape))
            return 0;
        slot = 0;
    }
    return slot;
}

static void
grid_line(ts *t, const tl_para *p, size_t line, double x, const double rgb[3], bool body)
{
    double slot = next_slot(t);
    if (t->failed)
        return;
    item *it = add_item(t, IT_TEXT);
    it->grid = true;
    it->slot = slot;
    it->x = x;
    it->para = p;
    it->line = line;
    it->body = body;
    it->annex = t->annex;
    it->loose = t->loose;
    memcpy(it->rgb, rgb, 3 * sizeof *rgb);
    t->y = y_of_slot(cur(t), slot + 1);
    t->clear_y = 0;
}

/* Places every line of p on the grid: the first at x_first, the others at x_rest, within a
 * column avail wide, aligned as asked. */
static void
grid_para(ts *t, const tl_para *p, double x_first, double x_rest, double avail, dt_align align,
          const double rgb[3], bool body)
{
    for (size_t k = 0; k < tl_para_line_count(p) && !t->failed; k++) {
        double x = k == 0 ? x_first : x_rest;
        double slack = avail - (x - x_rest) - tl_para_line_width(p, k);
        if (align == DT_ALIGN_CENTER)
            x += slack / 2;
        else if (align == DT_ALIGN_RIGHT)
            x += slack;
        grid_line(t, p, k, x, rgb, body);
    }
}

static void
free_text(ts *t, const tl_para *p, size_t line, double x, double baseline, const double rgb[3])
{
    item *it = add_item(t, IT_TEXT);
    it->x = x;
    it->y = baseline;
    it->para = p;
    it->line = line;
    memcpy(it->rgb, rgb, 3 * sizeof *rgb);
}

static void
rule(ts *t, double x, double y, double len, double thickness, const double rgb[3])
{
    item *it = add_item(t, IT_RULE);
    it->x = x, it->y = y, it->w = len, it->h = thickness;
    memcpy(it->rgb, rgb, 3 * sizeof *rgb);
}

/* Blank grid lines below the cursor (snapped to the grid). */
static void
skip_lines(ts *t, int lines)
{
    double slot = slot_at(cur(t), fmax(t->y, t->clear_y)) + lines;
    t->y = slot >= cur(t)->lines ? block_h(cur(t)) : y_of_slot(cur(t), slot);
}

/* ---- 版头 --------------------------------------------------------------------------------- */

/* The 发文机关标志: red 小标宋 as large as fits (at most 42 pt), centred, its ink top at ink_top
 * (block-relative).  Returns its ink bottom. */
static double
mark(ts *t, const char *text, double ink_top)
{
    long chars = g_utf8_strlen(text, -1);
    tl_style st = {FONT_XIAOBIAOSONG, fmin(42.0, GW_BLOCK_W_PT * 0.92 / (double)(chars ? chars : 1)), 0};
    tl_para *p = para_str(t, &st, text);
    double above, below;
    tl_para_ink(p, &above, &below);
    free_text(t, p, 0, (GW_BLOCK_W_PT - tl_para_line_width(p, 0)) / 2, ink_top + above, RED);
    return ink_top + above + below;
}

/* The bottom of 3号 characters set on grid slot `slot`. */
static double
grid_text_bottom(const page *pg, double slot)
{
    return y_of_slot(pg, slot) + slot_pitch(pg, slot) / 2 + (1 - EM_CENTRE - 0.12) * GW_BODY_PT;
}

static void
head_file(ts *t)
{
    const dt_head *h = &t->doc->head;
    /* 份号, 密级和保密期限, 紧急程度: top left, one a line, in that order. */
    const tl_style hei = {FONT_HEITI, GW_BODY_PT, CELL};
    const char *marks[3] = {h->copy_number, h->secrecy, h->urgency};
    for (int i = 0; i < 3; i++)
        if (marks[i] && marks[i][0])
            grid_line(t, para_str(t, i == 0 ? &BODY : &hei, marks[i]), 0, 0, BLACK, false);
    double bottom = h->mark ? mark(t, h->mark, units_mm_to_pt(35)) : t->y;
    /* 发文字号 two blank lines below the mark; the red rule 4 mm below it. */
    t->y = fmax(t->y, bottom);
    skip_lines(t, 2);
    double slot = next_slot(t);
    if (h->docno && h->signer) { /* 上行文: number left, 签发人 right, each one character in */
        grid_line(t, para_str(t, &BODY, h->docno), 0, CELL, BLACK, false);
        const tl_style kai = {FONT_KAITI, GW_BODY_PT, CELL};
        tl_para *name = para_str(t, &kai, h->signer), *label = para_str(t, &BODY, "签发人：");
        double nx = GW_BLOCK_W_PT - CELL - tl_para_line_width(name, 0);
        t->y = y_of_slot(cur(t), slot);
        grid_line(t, name, 0, nx, BLACK, false);
        t->y = y_of_slot(cur(t), slot);
        grid_line(t, label, 0, nx - tl_para_line_width(label, 0), BLACK, false);
    } else if (h->docno) {
        tl_para *p = para_str(t, &BODY, h->docno);
        grid_line(t, p, 0, (GW_BLOCK_W_PT - tl_para_line_width(p, 0)) / 2, BLACK, false);
    }
    double rule_y = grid_text_bottom(cur(t), slot) + units_mm_to_pt(4);
    rule(t, 0, rule_y, GW_BLOCK_W_PT, 1.5, RED);
    t->y = rule_y;
    cur(t)->from = slot_at(cur(t), rule_y);
}

/* Red double rule 170 mm long, centred on the page: thick over thin or thin over thick. */
static void
double_rule(ts *t, double y, bool thick_first)
{
    const double thick = 2.0, thin = 0.75, gap = 1.5;
    double x = (GW_PAGE_W_PT - units_mm_to_pt(170)) / 2 - GW_LEFT_PT;
    double a = thick_first ? thick : thin, b = thick_first ? thin : thick;
    rule(t, x, y + a / 2, units_mm_to_pt(170), a, RED);
    rule(t, x, y + a + gap + b / 2, units_mm_to_pt(170), b, RED);
}

static void
head_letter(ts *t)
{
    const dt_head *h = &t->doc->head;
    /* The mark 30 mm from the page's top edge, the double rules 4 mm below it and 20 mm above
     * the bottom edge. */
    double top = units_mm_to_pt(30) - GW_TOP_PT;
    double bottom = h->mark ? mark(t, h->mark, top) : top;
    double rule_y = bottom + units_mm_to_pt(4);
    double_rule(t, rule_y, true);
    double_rule(t, GW_PAGE_H_PT - units_mm_to_pt(20) - GW_TOP_PT - 4.25, false);
    /* 份号 … top left and the 发文字号 flush right, 7/8 of a 3号 character below the rule. */
    double line_top = rule_y + 4.25 + GW_BODY_PT * 7 / 8;
    const tl_style hei = {FONT_HEITI, GW_BODY_PT, CELL};
    const char *marks[3] = {h->copy_number, h->secrecy, h->urgency};
    double y = line_top, last_bottom = rule_y;
    for (int i = 0; i < 3; i++)
        if (marks[i] && marks[i][0]) {
            free_text(t, para_str(t, i == 0 ? &BODY : &hei, marks[i]), 0, 0, y + 0.88 * GW_BODY_PT,
                      BLACK);
            last_bottom = y + GW_BODY_PT;
            y += PITCH;
        }
    if (h->docno) {
        tl_para *p = para_str(t, &BODY, h->docno);
        free_text(t, p, 0, GW_BLOCK_W_PT - tl_para_line_width(p, 0), line_top + 0.88 * GW_BODY_PT,
                  BLACK);
        last_bottom = fmax(last_bottom, line_top + GW_BODY_PT);
    }
    t->y = last_bottom;
    cur(t)->from = slot_at(cur(t), last_bottom);
}

/* ---- text blocks -------------------------------------------------------------------------- */

static bool
page_has_text(const page *pg)
{
    for (size_t i = 0; i < pg->n; i++)
        if (pg->items[i].kind == IT_TEXT || pg->items[i].kind == IT_BOX)
            return true;
    return false;
}

static void
title(ts *t, const dt_text *text)
{
    /* Two blank lines below the 版头 (none at the top of a page). */
    if (!page_empty(cur(t)) && t->doc->format != DT_FORMAT_PLAIN)
        skip_lines(t, 2);
    else if (page_has_text(cur(t)))
        skip_lines(t, 1);
    const tl_style st = {FONT_XIAOBIAOSONG, 22.0, 0};
    tl_para *p = para(t, &st, text);
    double w = block_w(cur(t));
    tl_para_break_balanced(p, w - 2 * CELL);
    grid_para(t, p, 0, 0, w, DT_ALIGN_CENTER, BLACK, false);
}

static const tl_style *
heading_style(int level)
{
    static const tl_style hei = {FONT_HEITI, GW_BODY_PT, CELL}, kai = {FONT_KAITI, GW_BODY_PT, CELL};
    return level == 1 ? &hei : level == 2 ? &kai : &BODY;
}

static void
body_text(ts *t, const tl_style *st, const dt_text *text, double indent, dt_align align)
{
    tl_para *p = para(t, st, text);
    double w = block_w(cur(t));
    bool justify = align == DT_ALIGN_DEFAULT || align == DT_ALIGN_LEFT;
    if (!justify)
        indent = 0;
    tl_para_break(p, w - indent, w, justify);
    t->loose = justify;
    grid_para(t, p, indent, 0, w, justify ? DT_ALIGN_LEFT : align, BLACK, true);
    t->loose = false;
}

static void
attachment_note(ts *t, const dt_block *b)
{
    if (b->item_count == 0)
        return;
    skip_lines(t, 1); /* 正文下空一行 */
    t->annex = true;
    tl_para *label = para_str(t, &BODY, "附件：");
    double left = 2 * CELL + tl_para_line_width(label, 0), w = block_w(cur(t));
    for (size_t i = 0; i < b->item_count && !t->failed; i++) {
        /* "1. title": continuation lines align with the title's first character. */
        char num[32];
        snprintf(num, sizeof num, "%zu. ", i + 1);
        tl_para *prefix = b->item_count > 1 ? para_str(t, &BODY, num) : NULL;
        double px = prefix ? tl_para_line_width(prefix, 0) : 0;
        tl_para *p = para(t, &BODY, &b->items[i]);
        tl_para_break(p, w - left - px, w - left - px, true);
        double slot = next_slot(t);
        if (t->failed)
            return;
        if (i == 0) {
            grid_line(t, label, 0, 2 * CELL, BLACK, true);
            t->y = y_of_slot(cur(t), slot);
        }
        if (prefix) {
            grid_line(t, prefix, 0, left, BLACK, true);
            t->y = y_of_slot(cur(t), slot);
        }
        grid_para(t, p, left + px, left + px, w - left - px, DT_ALIGN_LEFT, BLACK, true);
    }
    t->annex = false;
}

/* Whether line `line` of p ends at a pause: after a space or a stop, before a space, or at the
 * paragraph's end. */
static bool
ends_at_pause(const tl_para *p, size_t line)
{
    if (line + 1 >= tl_para_line_count(p))
        return true;
    const char *s, *next;
    size_t len = tl_para_line_text(p, line, &s);
    tl_para_line_text(p, line + 1, &next);
    if (len == 0)
        return true;
    const char *last = g_utf8_find_prev_char(s, s + len);
    if (last == NULL)
        return true;
    char ch[8] = {0};
    memcpy(ch, last, (size_t)(s + len - last) < sizeof ch - 1 ? (size_t)(s + len - last) : sizeof ch - 1);
    return g_unichar_isspace(g_utf8_get_char(last)) || g_unichar_isspace(g_utf8_get_char(next)) ||
           strstr("，、；：。！？）", ch) != NULL;
}

/* 附注: in parentheses, indented two characters, on the line below the date; its first line is
 * first_w wide (the block less the indent, or less what the seal's lower edge takes). */
static tl_para *
note_para(ts *t, const dt_block *b, double first_w)
{
    size_t n = b->text.count;
    bool wrapped = n && b->text.runs[0].text && strncmp(b->text.runs[0].text, "（", 3) == 0;
    dt_run *runs = g_new0(dt_run, n + 2);
    size_t k = 0;
    if (!wrapped)
        runs[k++] = (dt_run){"（", 0};
    for (size_t i = 0; i < n; i++)
        runs[k++] = b->text.runs[i];
    if (!wrapped)
        runs[k++] = (dt_run){"）", 0};
    dt_text text = {runs, k};
    tl_para *p = para(t, &BODY, &text);
    g_free(runs);
    double w = block_w(cur(t)), full = w - 2 * CELL;
    if (first_w >= full - EPS) {
        tl_para_break(p, first_w, w, true);
        return p;
    }
    /* A first line cut short by the seal stays ragged, as set by hand (spread over a short
     * measure, an unbreakable phone number would open every gap), and ends at a pause where
     * one is within reach, so that a name (王五) is not cut beside the seal. */
    for (double fw = first_w; fw >= first_w / 2; fw -= CELL / 4) {
        tl_para_break(p, fw, w, false);
        if (ends_at_pause(p, 0))
            return p;
    }
    tl_para_break(p, first_w, w, false);
    return p;
}

/* The width a 附注's first line may take beside a seal whose left edge is at seal_left: it
 * stops half a character short of the seal, so the seal's lower edge never covers its end. */
static double
note_beside_seal(double seal_left)
{
    return seal_left - 2 * CELL - CELL / 2;
}

static void
note(ts *t, const dt_block *b)
{
    double seal_bottom = t->clear_y, w = block_w(cur(t)), first_w = w - 2 * CELL;
    t->clear_y = 0;
    if (seal_bottom > 0) {
        /* The seal presses on the 署名 and date and reaches below the date: where it reaches
         * the 附注's first line (its glyphs are centred in the grid line), that line stops
         * short of it; a seal reaching further down, or leaving too little room, puts the
         * 附注 below the seal. */
        const page *pg = cur(t);
        double slot = slot_at(pg, t->y), pitch = slot_pitch(pg, slot);
        double inset = (pitch - BODY.size_pt) / 2;
        if (y_of_slot(pg, slot) + inset < seal_bottom - EPS) {
            double narrow = note_beside_seal(t->seal_left);
            if (y_of_slot(pg, slot + 1) + inset < seal_bottom - EPS || narrow < 6 * CELL)
                t->clear_y = seal_bottom;
            else
                first_w = fmin(first_w, narrow);
        }
    }
    grid_para(t, note_para(t, b, first_w), 2 * CELL, 0, w, DT_ALIGN_LEFT, BLACK, true);
    t->clear_y = seal_bottom > t->y ? seal_bottom : 0;
}

/* ---- the signature block (GB/T 9704 7.2.4) ------------------------------------------------ */

/* Slots below the seal's slot at which the 署名 sits (the 成文日期 one lower), for a page
 * pitch: the first line whose centre is at or below the seal's centre ("居印章中心偏下"). */
static int
name_offset(double pitch, double d)
{
    return (int)ceil((pitch / 3 + d / 2 - pitch / 2) / pitch - EPS);
}

/* Does a sealed block starting at slot s, with `after` lines of 附注 below its date, fit a page
 * of `lines` lines of `pitch` below `from`? */
static bool
sealed_fits(const page *pg, double s, double pitch, int lines, double d, size_t after)
{
    page probe = *pg;
    probe.pitch = pitch;
    probe.lines = lines;
    int k = name_offset(pitch, d);
    return s + k + 2 + (double)after <= lines + EPS &&
           y_of_slot(&probe, s) + pitch / 3 + d <= block_h(pg) + EPS;
}

/* The items of the last `lines` grid lines of body text at the end of page pg, and of the
 * 附件说明 after them (a line may hold several items: 附件： and its title); *first_slot
 * receives the first of those lines. */
static size_t
movable_tail(const page *pg, int lines, double *first_slot)
{
    size_t k = 0;
    int seen = 0;
    double slot = -1;
    for (size_t i = pg->n; i-- > 0;) {
        const item *it = &pg->items[i];
        if (it->kind != IT_TEXT || !it->grid || !it->body)
            break;
        if (it->slot != slot) {
            if (seen == lines)
                break;
            seen += !it->annex;
            slot = it->slot;
        }
        k++;
    }
    *first_slot = slot;
    return k;
}

/* ---- the page before the seal page ---------------------------------------------------------
 * When body text is taken onto the seal page, the page it leaves would end short.  A hand-setter
 * keeps it full: first by loosening the character spacing of paragraphs on it (调整字距), each by
 * one line, so the text reflows and the page's last lines run on to the seal page; what that
 * cannot take, by opening the page's line spacing (调整行距) until its last line is on the
 * block's foot again. */

/* Loosening may shorten a paragraph's lines by at most two characters' width (28 characters
 * become 26 set across the measure), in quarter-character steps, and must leave a last line of
 * at least two characters; line spacing may open by at most four lines (22 over 18, 122 %). */
#define MAX_LOOSEN (2 * CELL)
#define LOOSEN_STEP (CELL / 4)
#define MIN_LAST_CHARS 2
#define MAX_SPREAD_LINES 4

static bool
lines_full(const tl_para *p)
{
    for (size_t k = 0; k < tl_para_line_count(p); k++)
        if (tl_para_line_justified(p, k) &&
            tl_para_line_width(p, k) < tl_para_line_measure(p, k) - 0.5)
            return false;
    return true;
}

/* The least loosening that makes p take exactly one more line, every line but the last still
 * justified to the measure; INFINITY when none within MAX_LOOSEN does.  Leaves p as it was. */
static double
loosen_cost(tl_para *p)
{
    size_t n = tl_para_line_count(p);
    double found = INFINITY;
    if (n < 2)
        return found; /* a one-line paragraph would only break into a loose line and a stub */
    for (double d = LOOSEN_STEP; d <= MAX_LOOSEN + EPS && !isfinite(found); d += LOOSEN_STEP) {
        size_t m = tl_para_rebreak(p, d);
        if (m > n + 1)
            break;
        if (m == n + 1 && tl_para_line_chars(p, m - 1) >= MIN_LAST_CHARS && lines_full(p))
            found = d;
    }
    tl_para_rebreak(p, 0);
    return found;
}

static item *
insert_item(page *pg, size_t at)
{
    if (pg->n == pg->cap) {
        pg->cap = pg->cap ? 2 * pg->cap : 32;
        pg->items = tb_xrealloc(pg->items, pg->cap * sizeof *pg->items);
    }
    memmove(pg->items + at + 1, pg->items + at, (pg->n - at) * sizeof *pg->items);
    pg->n++;
    return &pg->items[at];
}

/* Loosens up to `want` paragraphs with lines on pg, cheapest first, by one line each: each gets
 * a line item more and everything after it on the page moves down a slot (below the page's last
 * line, to be taken over).  Returns the lines gained. */
typedef struct loosening {
    tl_para **para;
    double *cost;
    size_t n;
    int possible; /* paragraphs that can take a line more */
} loosening;

static loosening
loosen_candidates(const page *pg)
{
    loosening l = {g_new0(tl_para *, pg->n + 1), g_new0(double, pg->n + 1), 0, 0};
    for (size_t i = 0; i < pg->n && !pg->fixed; i++) {
        const item *it = &pg->items[i];
        if (it->kind != IT_TEXT || !it->loose || (l.n && l.para[l.n - 1] == it->para))
            continue;
        l.para[l.n] = (tl_para *)it->para; /* the paragraphs are the typesetter's own */
        l.cost[l.n] = loosen_cost(l.para[l.n]);
        l.possible += isfinite(l.cost[l.n++]);
    }
    return l;
}

/* The lines short the page would end after take_over. */
static int
take_over_leaves(const page *pg)
{
    double first = 0;
    movable_tail(pg, 2, &first);
    loosening l = loosen_candidates(pg);
    int left = pg->lines - (int)first - l.possible;
    g_free(l.para);
    g_free(l.cost);
    return left > 0 ? left : 0;
}

static int
loosen_page(page *pg, int want)
{
    if (pg->fixed || want <= 0)
        return 0;
    loosening l = loosen_candidates(pg);
    tl_para **cand = l.para;
    double *cost = l.cost;
    size_t nc = l.n;
    int gained = 0;
    while (gained < want) {
        size_t best = nc;
        for (size_t c = 0; c < nc; c++)
            if (isfinite(cost[c]) && (best == nc || cost[c] < cost[best]))
                best = c;
        if (best == nc)
            break;
        tl_para *p = cand[best];
        tl_para_rebreak(p, cost[best]);
        cost[best] = INFINITY;
        size_t last = pg->n;
        for (size_t i = 0; i < pg->n; i++)
            if (pg->items[i].kind == IT_TEXT && pg->items[i].para == p)
                last = i;
        item *it = insert_item(pg, last + 1);
        *it = pg->items[last];
        it->line++;
        it->slot++;
        it->x = 0; /* body_text's continuation lines start at the margin */
        for (size_t i = last + 2; i < pg->n; i++)
            if (pg->items[i].grid)
                pg->items[i].slot++;
        gained++;
    }
    g_free(cand);
    g_free(cost);
    return gained;
}

/* Takes body text from the end of the current page onto a new one: at least its last two body
 * lines, with the 附件说明 after them, and keeps the page it leaves full (above).  Returns the
 * last slot taken onto the new page. */
static double
take_over(ts *t)
{
    page *pg = cur(t);
    double first = 0;
    movable_tail(pg, 2, &first);
    loosen_page(pg, pg->lines - (int)first);
    size_t k = movable_tail(pg, 2, &first), over = 0;
    while (over < pg->n && pg->items[pg->n - 1 - over].grid &&
           pg->items[pg->n - 1 - over].slot >= pg->lines - EPS)
        over++;
    if (over > k) {
        k = over;
        first = pg->items[pg->n - k].slot;
    }
    item *moved = g_new(item, k + 1);
    memcpy(moved, pg->items + pg->n - k, k * sizeof *moved);
    pg->n -= k;
    int left = (int)(pg->lines - first);
    if (left > 0 && left <= MAX_SPREAD_LINES && !pg->fixed && first > pg->from + 1) {
        pg->pitch = (block_h(pg) - pg->from * PITCH) / (first - pg->from);
        pg->lines = (int)first;
    }
    bool ok = new_page(t, false);
    double last = -1;
    for (size_t i = 0; ok && i < k; i++) {
        item *it = add_item(t, IT_TEXT);
        *it = moved[i];
        it->slot -= first;
        last = it->slot;
    }
    g_free(moved);
    return last;
}

/* Sets page pg with up to max_extra more lines, at a pitch of at least min_pitch, so that the
 * sealed block starting at slot s fits; false (pg unchanged) when it cannot. */
static bool
tighten(page *pg, double s, double d, size_t after, int max_extra, double min_pitch)
{
    for (int extra = 1; extra <= max_extra && !pg->fixed; extra++) {
        double pitch = (block_h(pg) - pg->from * PITCH) / (pg->lines - pg->from + extra);
        if (pitch >= min_pitch && sealed_fits(pg, s, pitch, pg->lines + extra, d, after)) {
            pg->pitch = pitch;
            pg->lines += extra;
            return true;
        }
    }
    return false;
}

static void
signature(ts *t, const dt_block *b, const dt_block *next)
{
    tl_para *name = para_str(t, &BODY, b->label);
    tl_para *date = para_str(t, &BODY, b->date);
    double nw = tl_para_line_width(name, 0), dw = tl_para_line_width(date, 0);
    double w = block_w(cur(t));
    if (!b->seal) {
        /* No seal: one blank line, 署名 right-indented two characters, the date below it two
         * characters further right (or right-indented two when it is the longer). */
        skip_lines(t, 1);
        double dx = dw > nw ? w - 2 * CELL - dw : w - 2 * CELL - nw + 2 * CELL;
        double nx = dw > nw ? dx - 2 * CELL : w - 2 * CELL - nw;
        if (dx + dw > w)
            dx = w - dw;
        grid_line(t, name, 0, nx, BLACK, false);
        grid_line(t, date, 0, dx, BLACK, false);
        return;
    }
    double d = units_mm_to_pt(t->opt->seal_diameter_mm > 0 ? t->opt->seal_diameter_mm
                                                             : DEFAULT_SEAL_MM);
    double dx = w - 4 * CELL - dw; /* 右空四字 */
    double seal_left = dx + dw / 2 - d / 2;
    /* The 附注 below the date belongs with the block (counted with its first line beside the
     * seal, which takes at least as many lines as note() will). */
    size_t after = next && next->kind == DT_NOTE
                       ? tl_para_line_count(note_para(t, next, fmin(w - 2 * CELL, note_beside_seal(seal_left))))
                       : 0;
    page *pg = cur(t);
    double s = slot_at(pg, t->y);
    if (!sealed_fits(pg, s, pg->pitch, pg->lines, d, after)) {
        /* Tighten the page's line pitch so the block fits beside the body … */
        bool done = tighten(pg, s, d, after, MAX_TIGHTEN_LINES, MIN_PITCH);
        if (!done && take_over_leaves(pg) > MAX_SPREAD_LINES)
            done = tighten(pg, s, d, after, LAST_RESORT_LINES, LAST_RESORT_PITCH);
        if (!done) {
            /* … else take body text onto the next page, never a seal alone. */
            double last = take_over(t);
            if (t->failed)
                return;
            pg = cur(t);
            s = last + 1;
            t->y = y_of_slot(pg, s);
        }
    }
    double pitch = pg->pitch;
    int k = name_offset(pitch, d);
    double nx = dx + dw / 2 - nw / 2;
    if (nx + nw > w - CELL)
        nx = w - CELL - nw;
    item *seal = add_item(t, IT_SEAL);
    seal->slot = s;
    seal->x = seal_left;
    seal->w = seal->h = d;
    t->y = y_of_slot(pg, s + k);
    grid_line(t, name, 0, nx, BLACK, false);
    grid_line(t, date, 0, dx, BLACK, false);
    t->clear_y = y_of_slot(pg, s) + pitch / 3 + d;
    t->seal_left = seal_left;
}

/* ---- attachments, tables and figures ------------------------------------------------------ */

static void
attachment(ts *t, const dt_block *b)
{
    bool landscape = b->orientation == DT_LANDSCAPE;
    if (!page_empty(cur(t)) || cur(t)->landscape != landscape) {
        if (page_empty(cur(t)))
            cur(t)->landscape = landscape, cur(t)->lines = (int)floor(block_h(cur(t)) / PITCH + EPS);
        else if (!new_page(t, landscape))
            return;
    }
    /* 附件1 top left in 3号黑体 on the first line, the title centred on the third. */
    grid_line(t, para_str(t, heading_style(1), b->label ? b->label : "附件"), 0, 0, BLACK, false);
    if (b->text.count) {
        skip_lines(t, 1);
        const tl_style st = {FONT_XIAOBIAOSONG, 22.0, 0};
        tl_para *p = para(t, &st, &b->text);
        tl_para_break_balanced(p, block_w(cur(t)) - 2 * CELL);
        grid_para(t, p, 0, 0, block_w(cur(t)), DT_ALIGN_CENTER, BLACK, false);
        skip_lines(t, 1);
    }
}

enum { PAD_X = 3, PAD_Y = 3 };

typedef struct cell_pos {
    const dt_cell *cell;
    size_t row, col, colspan, rowspan;
    tl_para *text;
    double x, w;
    size_t lines;
    /* A cell spanning rows of a group that runs over pages is drawn in pieces, one per page:
     * where its current piece starts, how many of its lines earlier pieces showed. */
    bool open;
    double piece_y;
    size_t shown;
} cell_pos;

typedef struct table_job {
    ts *t;
    const dt_table *tab;
    cell_pos *cells;
    size_t ncells;
    double *row_h;
    double line_h, font;
    size_t heads; /* leading head rows */
} table_job;

static void
cell_box(table_job *j, const cell_pos *c, double y, double h, size_t from, size_t count)
{
    ts *t = j->t;
    if (!j->tab->borderless) {
        item *box = add_item(t, IT_BOX);
        box->x = c->x, box->y = y, box->w = c->w, box->h = h;
    }
    /* Vertically centred when the whole cell is here, from the top when it is split. */
    double text_h = (double)count * j->line_h;
    double top = count == c->lines ? y + (h - text_h) / 2 : y + PAD_Y;
    dt_align al = c->cell->align ? c->cell->align : j->tab->columns[c->col].align;
    if (j->tab->rows[c->row].role == DT_ROW_HEAD)
        al = DT_ALIGN_CENTER;
    for (size_t k = 0; k < count; k++) {
        size_t line = from + k;
        double lw = tl_para_line_width(c->text, line), inner = c->w - 2 * PAD_X;
        double x = c->x + PAD_X + (al == DT_ALIGN_CENTER ? (inner - lw) / 2
                                   : al == DT_ALIGN_RIGHT ? inner - lw : 0);
        double base = top + (double)k * j->line_h + j->line_h / 2 + EM_CENTRE * j->font;
        free_text(t, c->text, line, x, base, BLACK);
    }
}

/* Emits the cells that start in rows [r0, r1) with the rows' tops at row_y (without the cells
 * spanning several rows when spans is false: those are drawn in pieces). */
static void
emit_rows(table_job *j, size_t r0, size_t r1, const double *row_y, bool spans)
{
    for (size_t i = 0; i < j->ncells; i++) {
        const cell_pos *c = &j->cells[i];
        if (c->row < r0 || c->row >= r1 || (!spans && c->rowspan > 1))
            continue;
        double h = 0;
        for (size_t r = c->row; r < c->row + c->rowspan && r < r1; r++)
            h += j->row_h[r];
        cell_box(j, c, row_y[c->row], h, 0, c->lines);
    }
}

/* Draws the piece of spanning cell c from its piece_y down to bottom.  The text continues where
 * the last piece left off; once all of it is shown, each further piece repeats it where it fits
 * (a 乡镇 name beside its rows on every page), so no page shows rows under a blank cell. */
static void
span_piece(table_job *j, cell_pos *c, double bottom)
{
    double h = bottom - c->piece_y;
    if (h <= EPS)
        return; /* the span moved to the next page before any of its rows was set here */
    size_t fit = h > 2 * PAD_Y ? (size_t)floor((h - 2 * PAD_Y) / j->line_h + EPS) : 0;
    size_t from = 0, count = 0;
    if (c->shown >= c->lines) {
        count = fit >= c->lines ? c->lines : 0;
    } else {
        from = c->shown;
        count = fit < c->lines - c->shown ? fit : c->lines - c->shown;
        c->shown += count;
    }
    cell_box(j, c, c->piece_y, h, from, count);
}

/* The last row of the spans open at row q grows, if need be, so that their last piece holds
 * the lines the earlier pieces could not. */
static void
span_fit_last_row(table_job *j, size_t q)
{
    for (size_t i = 0; i < j->ncells; i++) {
        const cell_pos *c = &j->cells[i];
        if (!c->open || c->row + c->rowspan - 1 != q || c->shown >= c->lines)
            continue;
        double need = (double)(c->lines - c->shown) * j->line_h + 2 * PAD_Y;
        double have = j->t->y - c->piece_y + j->row_h[q];
        if (need > have)
            j->row_h[q] += need - have;
    }
}

static bool
table_new_page(table_job *j, double *row_y)
{
    ts *t = j->t;
    for (size_t i = 0; i < j->ncells; i++)
        if (j->cells[i].open)
            span_piece(j, &j->cells[i], t->y);
    if (!new_page(t, cur(t)->landscape))
        return false;
    cur(t)->fixed = true;
    double y = 0;
    for (size_t r = 0; r < j->heads; r++) {
        row_y[r] = y;
        y += j->row_h[r];
    }
    emit_rows(j, 0, j->heads, row_y, true);
    t->y = y;
    for (size_t i = 0; i < j->ncells; i++)
        if (j->cells[i].open)
            j->cells[i].piece_y = y;
    return true;
}

/* A row taller than a page: its cells' lines run on over as many pages as they need. */
static void
split_row(table_job *j, size_t r, double *row_y)
{
    ts *t = j->t;
    size_t done = 0, most = 0;
    for (size_t i = 0; i < j->ncells; i++)
        if (j->cells[i].row == r && j->cells[i].rowspan == 1 && j->cells[i].lines > most)
            most = j->cells[i].lines;
    while (done < most && !t->failed) {
        double room = block_h(cur(t)) - t->y - 2 * PAD_Y;
        size_t fit = room > 0 ? (size_t)floor(room / j->line_h + EPS) : 0;
        if (fit == 0) {
            if (!table_new_page(j, row_y))
                return;
            continue;
        }
        size_t take = fit < most - done ? fit : most - done;
        double h = (double)take * j->line_h + 2 * PAD_Y;
        for (size_t i = 0; i < j->ncells; i++) {
            cell_pos *c = &j->cells[i];
            if (c->row != r || c->rowspan > 1)
                continue;
            size_t left = c->lines > done ? c->lines - done : 0;
            cell_box(j, c, t->y, h, done, left < take ? left : take);
        }
        t->y += h;
        done += take;
        if (done < most && !table_new_page(j, row_y))
            return;
    }
}

/* The end of the row group starting at row r: rows tied by rowspans, and a total row with the
 * row above, stay together. */
static size_t
group_end(const table_job *j, size_t r, size_t nr)
{
    size_t end = r + 1;
    for (size_t q = r; q < end; q++) {
        for (size_t i = 0; i < j->ncells; i++)
            if (j->cells[i].row == q && q + j->cells[i].rowspan > end)
                end = q + j->cells[i].rowspan;
        if (end < nr && q + 1 == end && j->tab->rows[end].role == DT_ROW_TOTAL)
            end++;
    }
    return end;
}

/* The height of what the body below the head rows sets first on their page, as the row loop
 * below places it: the whole first group when it fits a page, else its first row, else (a row
 * taller than a page, split) that row's first line. */
static double
first_rows(const table_job *j, size_t nr, double head_h)
{
    if (j->heads >= nr)
        return 0;
    double room = block_h(cur(j->t)) - head_h, gh = 0;
    for (size_t q = j->heads; q < group_end(j, j->heads, nr); q++)
        gh += j->row_h[q];
    if (gh <= room + EPS)
        return gh;
    if (j->row_h[j->heads] <= room + EPS)
        return j->row_h[j->heads];
    return j->line_h + 2 * PAD_Y;
}

static void
table(ts *t, const dt_table *tab)
{
    if (tab->column_count == 0)
        return;
    t->y = y_of_slot(cur(t), next_slot(t));
    if (t->failed)
        return;
    size_t nc = tab->column_count, nr = tab->row_count;
    table_job j = {.t = t, .tab = tab};
    j.font = tab->font_pt > 0 ? tab->font_pt : TABLE_PT;
    j.line_h = j.font * 1.5;
    /* Column widths: fixed ones as given, the rest share what is left; scaled to the block. */
    double w = block_w(cur(t)), fixed = 0;
    size_t shares = 0;
    double *cw = g_new0(double, nc), *cx = g_new0(double, nc + 1);
    for (size_t c = 0; c < nc; c++) {
        cw[c] = units_mm_to_pt(tab->columns[c].width_mm);
        fixed += cw[c];
        shares += cw[c] <= 0;
    }
    double share = shares && fixed < w ? (w - fixed) / (double)shares : 0;
    double total = 0;
    for (size_t c = 0; c < nc; c++)
        total += cw[c] = cw[c] > 0 ? cw[c] : fmax(share, 4 * j.font);
    double scale = total > w ? w / total : 1, x0 = total < w ? (w - total) / 2 : 0;
    for (size_t c = 0; c < nc; c++)
        cx[c + 1] = cx[c] + cw[c] * scale;
    /* Cells onto the grid of columns: rowspans above keep their columns busy. */
    size_t *busy = g_new0(size_t, nc), count = 0;
    for (size_t r = 0; r < nr; r++)
        count += tab->rows[r].count;
    j.cells = g_new0(cell_pos, count + 1);
    j.row_h = g_new0(double, nr + 1);
    double *row_y = g_new0(double, nr + 1);
    const tl_style cell_st = {FONT_FANGSONG, j.font, 0}, bold_st = {FONT_HEITI, j.font, 0};
    for (size_t r = 0; r < nr; r++) {
        const dt_row *row = &tab->rows[r];
        if (row->role == DT_ROW_HEAD && j.heads == r)
            j.heads = r + 1;
        size_t col = 0;
        for (size_t k = 0; k < row->count; k++) {
            while (col < nc && busy[col])
                col++;
            if (col >= nc)
                break;
            cell_pos *c = &j.cells[j.ncells++];
            c->cell = &row->cells[k];
            c->row = r, c->col = col;
            c->colspan = c->cell->colspan > 1 ? (size_t)c->cell->colspan : 1;
            c->rowspan = c->cell->rowspan > 1 ? (size_t)c->cell->rowspan : 1;
            if (col + c->colspan > nc)
                c->colspan = nc - col;
            if (r + c->rowspan > nr)
                c->rowspan = nr - r;
            c->x = x0 + cx[col];
            c->w = cx[col + c->colspan] - cx[col];
            c->text = para(t, row->role == DT_ROW_BODY ? &cell_st : &bold_st, &c->cell->text);
            c->lines = tl_para_break(c->text, c->w - 2 * PAD_X, c->w - 2 * PAD_X, false);
            for (size_t s = 0; s < c->colspan; s++)
                busy[col + s] = c->rowspan;
            col += c->colspan;
        }
        for (size_t c = 0; c < nc; c++)
            if (busy[c])
                busy[c]--;
    }
    /* Row heights: the tallest one-row cell; a spanning cell stretches its last row. */
    for (size_t r = 0; r < nr; r++)
        j.row_h[r] = j.line_h + 2 * PAD_Y;
    for (size_t i = 0; i < j.ncells; i++) {
        const cell_pos *c = &j.cells[i];
        double need = (double)c->lines * j.line_h + 2 * PAD_Y;
        if (c->rowspan == 1)
            j.row_h[c->row] = fmax(j.row_h[c->row], need);
    }
    for (size_t i = 0; i < j.ncells; i++) {
        const cell_pos *c = &j.cells[i];
        double need = (double)c->lines * j.line_h + 2 * PAD_Y, have = 0;
        for (size_t r = c->row; r < c->row + c->rowspan; r++)
            have += j.row_h[r];
        if (need > have)
            j.row_h[c->row + c->rowspan - 1] += need - have;
    }
    double head_h = 0;
    for (size_t r = 0; r < j.heads; r++) {
        row_y[r] = t->y + head_h;
        head_h += j.row_h[r];
    }
    if (t->y + head_h + first_rows(&j, nr, head_h) > block_h(cur(t)) + EPS && !page_empty(cur(t)))
        table_new_page(&j, row_y); /* the head row(s) never alone at the page's foot */
    else {
        cur(t)->fixed = true;
        emit_rows(&j, 0, j.heads, row_y, true);
        t->y += head_h;
    }
    for (size_t r = j.heads; r < nr && !t->failed;) {
        size_t end = group_end(&j, r, nr);
        t->where = &tab->rows[r].origin;
        double gh = 0;
        for (size_t q = r; q < end; q++)
            gh += j.row_h[q];
        if (t->y + gh > block_h(cur(t)) + EPS) {
            if (gh <= block_h(cur(t)) - head_h + EPS) {
                if (!table_new_page(&j, row_y))
                    break;
            } else {
                /* Taller than a page: row by row, and a row taller than a page is split;
                 * cells spanning rows are drawn in pieces, one on each page they cross. */
                for (size_t q = r; q < end && !t->failed; q++) {
                    t->where = &tab->rows[q].origin;
                    for (size_t i = 0; i < j.ncells; i++)
                        if (j.cells[i].row == q && j.cells[i].rowspan > 1)
                            j.cells[i].open = true, j.cells[i].piece_y = t->y;
                    span_fit_last_row(&j, q);
                    bool split = false;
                    if (t->y + j.row_h[q] > block_h(cur(t)) + EPS) {
                        if (j.row_h[q] <= block_h(cur(t)) - head_h + EPS) {
                            if (!table_new_page(&j, row_y))
                                break;
                            span_fit_last_row(&j, q);
                        } else {
                            split_row(&j, q, row_y);
                            split = true;
                        }
                    }
                    if (!split) {
                        row_y[q] = t->y;
                        emit_rows(&j, q, q + 1, row_y, false);
                        t->y += j.row_h[q];
                    }
                    for (size_t i = 0; i < j.ncells; i++) {
                        cell_pos *c = &j.cells[i];
                        if (c->open && c->row + c->rowspan - 1 == q) {
                            span_piece(&j, c, t->y);
                            c->open = false;
                        }
                    }
                }
                r = end;
                continue;
            }
        }
        for (size_t q = r; q < end; q++) {
            row_y[q] = t->y;
            t->y += j.row_h[q];
        }
        emit_rows(&j, r, end, row_y, true);
        r = end;
    }
    g_free(cw), g_free(cx), g_free(busy), g_free(j.cells), g_free(j.row_h), g_free(row_y);
}

static void
figure(ts *t, const dt_figure *f)
{
    const tl_style cap_st = {FONT_FANGSONG, SMALL_PT, 0}, panel_st = {FONT_FANGSONG, 12.0, 0};
    double w = block_w(cur(t)), gap = 6.0;
    size_t n = f->panel_count ? f->panel_count : 1;
    double pw = (w - gap * (double)(n - 1)) / (double)n;
    double ph = units_mm_to_pt(f->height_mm > 0 ? f->height_mm : 95);
    tl_para **caps = g_new0(tl_para *, n);
    size_t cap_lines = 0;
    for (size_t i = 0; i < f->panel_count; i++)
        if (f->panels[i].caption.count) {
            caps[i] = para(t, &panel_st, &f->panels[i].caption);
            size_t l = tl_para_break(caps[i], pw, pw, false);
            cap_lines = l > cap_lines ? l : cap_lines;
        }
    tl_para *cap = NULL;
    size_t fig_lines = 0;
    if (f->caption.count) {
        cap = para(t, &cap_st, &f->caption);
        fig_lines = tl_para_break(cap, w, w, false);
    }
    double below = (double)cap_lines * 12.0 * 1.5 + (double)fig_lines * SMALL_PT * 1.5 + 4;
    if (ph + below > block_h(cur(t)))
        ph = block_h(cur(t)) - below; /* never taller than a page */
    if (t->y + ph + below > block_h(cur(t)) + EPS && !page_empty(cur(t)) && !new_page(t, cur(t)->landscape)) {
        g_free(caps);
        return;
    }
    cur(t)->fixed = true;
    double y = t->y;
    for (size_t i = 0; i < f->panel_count; i++) {
        item *it = add_item(t, IT_PANEL);
        it->panel = &f->panels[i];
        it->x = (double)i * (pw + gap), it->y = y, it->w = pw, it->h = ph;
        for (size_t k = 0; caps[i] && k < tl_para_line_count(caps[i]); k++)
            free_text(t, caps[i], k, it->x + (pw - tl_para_line_width(caps[i], k)) / 2,
                      y + ph + 4 + (double)k * 18 + 9 + EM_CENTRE * 12, BLACK);
    }
    y += ph + 4 + (double)cap_lines * 18;
    for (size_t k = 0; cap && k < fig_lines; k++)
        free_text(t, cap, k, (w - tl_para_line_width(cap, k)) / 2,
                  y + (double)k * 21 + 10.5 + EM_CENTRE * SMALL_PT, BLACK);
    t->y = y + (double)fig_lines * 21 + 8;
    g_free(caps);
}

/* ---- 目录 and sections ---------------------------------------------------------------------- */

static void
contents(ts *t)
{
    double w = block_w(cur(t));
    for (size_t i = 0; i < t->nsections && !t->failed; i++) {
        section *s = &t->sections[i];
        int level = s->block->level > 0 ? s->block->level : 1;
        double indent = (double)(level - 1) * 2 * CELL;
        tl_para *p = para(t, &BODY, &s->block->text);
        size_t lines = tl_para_break(p, w - indent - 3 * CELL, w - indent - 3 * CELL, false);
        grid_para(t, p, indent, indent, w - indent - 3 * CELL, DT_ALIGN_LEFT, BLACK, true);
        if (t->failed)
            return;
        item *last = &cur(t)->items[cur(t)->n - 1];
        item *lead = add_item(t, IT_LEADER);
        lead->slot = last->slot;
        lead->x = indent + tl_para_line_width(p, lines - 1);
        lead->w = w;
        lead->section = i;
    }
}

/* ---- 版记 ----------------------------------------------------------------------------------- */

static void
colophon(ts *t, const dt_colophon *c)
{
    bool letter = t->doc->format == DT_FORMAT_LETTER;
    const tl_style st = {FONT_FANGSONG, SMALL_PT, 0};
    const double one = SMALL_PT;
    tl_para *prefix = NULL, *cc = NULL;
    size_t cc_lines = 0;
    if (c->cc && c->cc[0]) {
        /* 抄送：A，B。 — names keep the office's separators; a final 。 is added if missing. */
        size_t n = strlen(c->cc);
        bool ends = n >= 3 && strcmp(c->cc + n - 3, "。") == 0;
        char *text = g_strdup_printf("%s%s", c->cc, ends ? "" : "。");
        prefix = para_str(t, &st, "抄送：");
        cc = para_str(t, &st, text);
        g_free(text);
        double avail = GW_BLOCK_W_PT - 2 * one - tl_para_line_width(prefix, 0);
        cc_lines = tl_para_break(cc, avail, avail, true);
    }
    int rows = (int)cc_lines + (letter ? 0 : 1);
    if (rows == 0)
        return;
    page *pg = cur(t);
    bool fits = !pg->landscape && !pg->blank &&
                fmax(t->y, t->clear_y) <= y_of_slot(pg, pg->lines - rows) + EPS;
    if (fits && t->doc->duplex && t->npages % 2 == 1)
        fits = false; /* on an odd page: the 版记 goes over to the even one */
    if (!fits) {
        if (t->doc->duplex && (t->npages + 1) % 2 == 1) {
            if (!new_page(t, false))
                return;
            cur(t)->blank = true;
        }
        if (!new_page(t, false))
            return;
        cur(t)->lone_colophon = true;
        pg = cur(t);
    }
    int top = pg->lines - rows;
    double line_x = one + (prefix ? tl_para_line_width(prefix, 0) : 0);
    if (!letter)
        rule(t, 0, y_of_slot(pg, top), GW_BLOCK_W_PT, units_mm_to_pt(0.35), BLACK);
    for (size_t k = 0; k < cc_lines; k++) {
        t->y = y_of_slot(pg, top + (double)k);
        if (k == 0) {
            grid_line(t, prefix, 0, one, BLACK, false);
            t->y = y_of_slot(pg, top + (double)k);
        }
        grid_line(t, cc, k, line_x, BLACK, false);
    }
    if (!letter) {
        if (cc_lines)
            rule(t, 0, y_of_slot(pg, pg->lines - 1), GW_BLOCK_W_PT, units_mm_to_pt(0.25), BLACK);
        char *printed = g_strdup_printf("%s印发", c->print_date ? c->print_date : "");
        tl_para *issuer = para_str(t, &st, c->issuer), *date = para_str(t, &st, printed);
        g_free(printed);
        t->y = y_of_slot(pg, pg->lines - 1);
        grid_line(t, issuer, 0, one, BLACK, false);
        t->y = y_of_slot(pg, pg->lines - 1);
        grid_line(t, date, 0, GW_BLOCK_W_PT - one - tl_para_line_width(date, 0), BLACK, false);
        rule(t, 0, block_h(pg), GW_BLOCK_W_PT, units_mm_to_pt(0.35), BLACK);
    }
    t->y = block_h(pg);
}

/* ---- pagination --------------------------------------------------------------------------- */

static void
paginate(ts *t)
{
    const dt_doc *doc = t->doc;
    t->where = NULL;
    if (!new_page(t, false))
        return;
    if (doc->format == DT_FORMAT_FILE)
        head_file(t);
    else if (doc->format == DT_FORMAT_LETTER)
        head_letter(t);
    for (size_t i = 0; i < doc->block_count && !t->failed; i++) {
        const dt_block *b = &doc->blocks[i];
        t->where = &b->origin;
        if (b->kind != DT_NOTE && b->kind != DT_SECTION)
            t->y = fmax(t->y, t->clear_y), t->clear_y = 0;
        switch (b->kind) {
        case DT_TITLE: title(t, &b->text); break;
        case DT_ADDRESSEE: {
            if (!page_empty(cur(t)))
                skip_lines(t, 1); /* one blank line below the title */
            body_text(t, &BODY, &b->text, 0, DT_ALIGN_DEFAULT);
            break;
        }
        case DT_PARAGRAPH: body_text(t, &BODY, &b->text, 2 * CELL, b->align); break;
        case DT_HEADING: body_text(t, heading_style(b->level), &b->text, 2 * CELL, b->align); break;
        case DT_ATTACHMENT_NOTE: attachment_note(t, b); break;
        case DT_SIGNATURE:
            signature(t, b, i + 1 < doc->block_count ? &doc->blocks[i + 1] : NULL);
            break;
        case DT_NOTE: note(t, b); break;
        case DT_ATTACHMENT: attachment(t, b); break;
        case DT_TABLE:
            if (b->table)
                table(t, b->table);
            break;
        case DT_FIGURE:
            if (b->figure)
                figure(t, b->figure);
            break;
        case DT_SPACE: skip_lines(t, b->level > 0 ? b->level : 1); break;
        case DT_PAGE_BREAK: {
            bool landscape = b->orientation == DT_LANDSCAPE;
            if (page_empty(cur(t))) {
                cur(t)->landscape = landscape;
                cur(t)->lines = (int)floor(block_h(cur(t)) / PITCH + EPS);
            } else {
                new_page(t, landscape);
            }
            break;
        }
        case DT_SECTION:
            if (t->next_section < t->nsections)
                t->next_section++;
            break;
        case DT_CONTENTS: contents(t); break;
        }
    }
    static const dt_origin colophon_origin = {NULL, "the 版记 (抄送, 印发机关和印发日期)", NULL};
    t->where = &colophon_origin;
    if (!t->failed && doc->colophon)
        colophon(t, doc->colophon);
    t->where = NULL;
    for (; t->pending_section < t->next_section; t->pending_section++)
        t->sections[t->pending_section].page = (int)t->npages;
}

/* ---- drawing ------------------------------------------------------------------------------ */

static cairo_status_t
write_to_buf(void *closure, const unsigned char *data, unsigned int length)
{
    tb_buf_append(closure, data, length);
    return CAIRO_STATUS_SUCCESS;
}

static bool
numbered(const ts *t, size_t i)
{
    const page *pg = &t->pages[i];
    if (pg->blank || pg->lone_colophon)
        return false;
    return !(i == 0 && t->doc->format == DT_FORMAT_LETTER);
}

static void
draw_page_number(ts *t, cairo_t *cr, int number)
{
    /* 4号半角宋体 "— n —": the dashes 7 mm below the block, odd pages right, even pages left,
     * each indented one character (a landscape page keeps the portrait sheet's place). */
    const tl_style st = {FONT_SONGTI, SMALL_PT, 0};
    char text[32];
    snprintf(text, sizeof text, "\u2014 %d \u2014", number);
    tl_para *p = tl_para_new_str(t->tf, &st, text);
    double w = tl_para_line_width(p, 0);
    double x = number % 2 ? GW_LEFT_PT + GW_BLOCK_W_PT - SMALL_PT - w : GW_LEFT_PT + SMALL_PT;
    double baseline = GW_TOP_PT + GW_BLOCK_H_PT + units_mm_to_pt(7) + EM_CENTRE * SMALL_PT;
    cairo_set_source_rgb(cr, 0, 0, 0);
    tl_para_draw_line(p, 0, cr, x, baseline);
    tl_para_free(p);
}

/* The verification mark of an issued document, in the last sheet's bottom margin on the side
 * the page number leaves free (the number sits right on odd pages): the QR code, and beside it
 * the 验证码 in 5号宋体 with what it is for.  Outside the text block, so it moves nothing. */
static tb_code
draw_verify_mark(ts *t, cairo_t *cr, int number)
{
    const double qr = units_mm_to_pt(15), gap = units_mm_to_pt(3), size = TABLE_PT;
    const double top = GW_TOP_PT + GW_BLOCK_H_PT + units_mm_to_pt(5);
    const bool left = number % 2 == 1;
    const double qx = left ? GW_LEFT_PT + SMALL_PT : GW_LEFT_PT + GW_BLOCK_W_PT - SMALL_PT - qr;
    if (!qrmark_draw(cr, t->doc->verify_qr, qx, top, qr))
        return tb_err_set(t->err, TB_EINVAL, "the verification mark: cannot encode %s as a QR code",
                          t->doc->verify_qr);
    const tl_style st = {FONT_SONGTI, size, 0};
    char *code = g_strdup_printf("验证码：%s", t->doc->verify_code);
    tl_para *lines[2] = {tl_para_new_str(t->tf, &st, code),
                         tl_para_new_str(t->tf, &st, "核验本件请向发文机关提供此码")};
    g_free(code);
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (int k = 0; k < 2; k++) {
        double w = tl_para_line_width(lines[k], 0);
        double x = left ? qx + qr + gap : qx - gap - w;
        double baseline = top + qr / 2 + (k == 0 ? -0.7 : 0.7) * size + EM_CENTRE * size;
        tl_para_draw_line(lines[k], 0, cr, x, baseline);
        tl_para_free(lines[k]);
    }
    return TB_OK;
}

static void
draw_watermark(ts *t, cairo_t *cr)
{
    const tl_style st = {FONT_XIAOBIAOSONG, 96.0, 0};
    tl_para *p = tl_para_new_str(t->tf, &st, t->doc->watermark);
    cairo_save(cr);
    cairo_translate(cr, GW_PAGE_W_PT / 2, GW_PAGE_H_PT / 2);
    cairo_rotate(cr, -M_PI / 4);
    cairo_set_source_rgba(cr, 0.5, 0.5, 0.5, 0.18);
    tl_para_draw_line(p, 0, cr, -tl_para_line_width(p, 0) / 2, EM_CENTRE * st.size_pt);
    cairo_restore(cr);
    tl_para_free(p);
}

static tb_code
draw_item(ts *t, cairo_t *cr, size_t page_index, const item *it, typeset_result *res)
{
    const page *pg = &t->pages[page_index];
    switch (it->kind) {
    case IT_TEXT: {
        double base = it->y;
        if (it->grid)
            base = y_of_slot(pg, it->slot) + slot_pitch(pg, it->slot) / 2 +
                   EM_CENTRE * tl_para_size(it->para);
        cairo_set_source_rgb(cr, it->rgb[0], it->rgb[1], it->rgb[2]);
        tl_para_draw_line(it->para, it->line, cr, it->x, base);
        break;
    }
    case IT_RULE:
        cairo_set_source_rgb(cr, it->rgb[0], it->rgb[1], it->rgb[2]);
        cairo_set_line_width(cr, it->h);
        cairo_move_to(cr, it->x, it->y);
        cairo_line_to(cr, it->x + it->w, it->y);
        cairo_stroke(cr);
        break;
    case IT_BOX:
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_line_width(cr, 0.5);
        cairo_rectangle(cr, it->x, it->y, it->w, it->h);
        cairo_stroke(cr);
        break;
    case IT_PANEL:
        if (t->opt->draw) {
            cairo_save(cr);
            tb_code rc = t->opt->draw(t->opt->draw_user, cr, it->panel, it->x, it->y, it->w, it->h,
                                      t->err);
            cairo_restore(cr);
            if (rc != TB_OK)
                return rc;
        }
        break;
    case IT_SEAL: {
        double top = y_of_slot(pg, it->slot) + slot_pitch(pg, it->slot) / 3;
        if (t->opt->seal) {
            cairo_surface_t *seal = t->opt->seal;
            int sw = cairo_image_surface_get_width(seal), sh = cairo_image_surface_get_height(seal);
            if (sw > 0 && sh > 0) {
                /* Red multiplied onto the black text, as ink on paper would be. */
                cairo_save(cr);
                cairo_translate(cr, it->x, top);
                cairo_scale(cr, it->w / sw, it->h / sh);
                cairo_set_source_surface(cr, seal, 0, 0);
                cairo_set_operator(cr, CAIRO_OPERATOR_MULTIPLY);
                cairo_paint(cr);
                cairo_restore(cr);
            }
        }
        if (res) {
            res->seal.page = (int)page_index + 1;
            res->seal.x_pt = GW_LEFT_PT + it->x;
            res->seal.y_pt = GW_PAGE_H_PT - (GW_TOP_PT + top + it->h);
            res->seal.w_pt = it->w;
            res->seal.h_pt = it->h;
        }
        break;
    }
    case IT_LEADER: {
        /* Dotted leader from the entry's end to its page number, right-aligned. */
        char num[16];
        snprintf(num, sizeof num, "%d", t->sections[it->section].page);
        const tl_style st = {FONT_FANGSONG, GW_BODY_PT, 0};
        tl_para *p = tl_para_new_str(t->tf, &st, num);
        double nw = tl_para_line_width(p, 0);
        double base = y_of_slot(pg, it->slot) + slot_pitch(pg, it->slot) / 2 + EM_CENTRE * GW_BODY_PT;
        cairo_set_source_rgb(cr, 0, 0, 0);
        tl_para_draw_line(p, 0, cr, it->w - nw, base);
        for (double x = it->x + 6; x < it->w - nw - 4; x += 6) {
            cairo_arc(cr, x, base - 1, 0.7, 0, 2 * M_PI);
            cairo_fill(cr);
        }
        tl_para_free(p);
        break;
    }
    }
    return TB_OK;
}

static tb_code
draw(ts *t, tb_buf *out, typeset_result *res)
{
    cairo_surface_t *surface =
        cairo_pdf_surface_create_for_stream(write_to_buf, out, GW_PAGE_W_PT, GW_PAGE_H_PT);
    cairo_pdf_surface_restrict_to_version(surface, CAIRO_PDF_VERSION_1_5);
    const dt_doc *doc = t->doc;
    const struct {
        cairo_pdf_metadata_t key;
        const char *value;
    } meta[] = {
        {CAIRO_PDF_METADATA_TITLE, doc->title},
        {CAIRO_PDF_METADATA_AUTHOR, doc->author},
        {CAIRO_PDF_METADATA_SUBJECT, doc->subject},
        {CAIRO_PDF_METADATA_CREATOR, "tuban"},
        {CAIRO_PDF_METADATA_CREATE_DATE, doc->create_date},
    };
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
        if (meta[i].value)
            cairo_pdf_surface_set_metadata(surface, meta[i].key, meta[i].value);
    cairo_t *cr = cairo_create(surface);
    tb_code rc = TB_OK;
    for (size_t i = 0; i < t->npages && rc == TB_OK; i++) {
        const page *pg = &t->pages[i];
        cairo_save(cr);
        if (pg->landscape) { /* the landscape block turned onto the sheet, its top at the left */
            cairo_translate(cr, GW_LEFT_PT, GW_TOP_PT + GW_BLOCK_H_PT);
            cairo_rotate(cr, -M_PI / 2);
        } else {
            cairo_translate(cr, GW_LEFT_PT, GW_TOP_PT);
        }
        for (size_t k = 0; k < pg->n && rc == TB_OK; k++)
            rc = draw_item(t, cr, i, &pg->items[k], res);
        cairo_restore(cr);
        if (numbered(t, i))
            draw_page_number(t, cr, (int)i + 1);
        if (rc == TB_OK && i + 1 == t->npages && doc->verify_code && doc->verify_qr)
            rc = draw_verify_mark(t, cr, (int)i + 1);
        if (doc->watermark && doc->watermark[0])
            draw_watermark(t, cr);
        cairo_show_page(cr);
    }
    /* The outline: one entry per DT_SECTION, nested by level. */
    int parents[16] = {CAIRO_PDF_OUTLINE_ROOT};
    for (size_t i = 0; i < t->nsections && rc == TB_OK; i++) {
        const section *s = &t->sections[i];
        int level = s->block->level < 1 ? 1 : s->block->level > 15 ? 15 : s->block->level;
        char *title = g_strdup("");
        for (size_t k = 0; k < s->block->text.count; k++)
            if (s->block->text.runs[k].text) {
                char *joined = g_strconcat(title, s->block->text.runs[k].text, NULL);
                g_free(title);
                title = joined;
            }
        char *dest = g_strdup_printf("page=%d pos=[%.1f %.1f]", s->page > 0 ? s->page : 1,
                                     GW_LEFT_PT, GW_TOP_PT + s->y);
        int id = cairo_pdf_surface_add_outline(surface, parents[level - 1], title, dest, 0);
        for (int l = level; l < 16; l++)
            parents[l] = id;
        g_free(dest);
        g_free(title);
    }
    cairo_destroy(cr);
    cairo_surface_finish(surface);
    if (rc == TB_OK && cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS)
        rc = tb_err_set(t->err, TB_ELIB, "cairo: %s",
                        cairo_status_to_string(cairo_surface_status(surface)));
    cairo_surface_destroy(surface);
    return rc;
}

tb_code
typeset_doc(const typeface *tf, const dt_doc *doc, const typeset_options *opt, tb_buf *out,
            typeset_result *res, tb_err *err)
{
    static const typeset_options none = {0};
    tb_err local = {0};
    ts t = {.tf = tf, .doc = doc, .opt = opt ? opt : &none, .err = err ? err : &local};
    t.limit = doc->page_limit > 0 ? doc->page_limit : DEFAULT_PAGE_LIMIT;
    if (res)
        memset(res, 0, sizeof *res);
    for (size_t i = 0; i < doc->block_count; i++)
        t.nsections += doc->blocks[i].kind == DT_SECTION;
    t.sections = g_new0(section, t.nsections + 1);
    for (size_t i = 0, k = 0; i < doc->block_count; i++)
        if (doc->blocks[i].kind == DT_SECTION)
            t.sections[k++].block = &doc->blocks[i];
    paginate(&t);
    tb_code rc = t.failed ? t.err->code : TB_OK;
    if (t.failed && rc == TB_OK)
        rc = TB_ELIMIT;
    if (rc == TB_OK)
        rc = draw(&t, out, res);
    if (res && rc == TB_OK)
        res->page_count = (int)t.npages;
    for (size_t i = 0; i < t.npages; i++)
        free(t.pages[i].items);
    free(t.pages);
    for (size_t i = 0; i < t.nparas; i++)
        tl_para_free(t.paras[i]);
    free(t.paras);
    g_free(t.sections);
    return rc;
}
