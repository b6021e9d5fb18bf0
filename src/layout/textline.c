/* DESIGN: Pango shapes the whole paragraph as one unwrapped line; every character then gets a
 * set width (a grid cell for wide characters, the font's advance for Latin) and the greedy
 * breaker below works on those widths and Pango's break opportunities.  Drawing copies the
 * paragraph's glyph items, cuts them to the line and rewrites each cluster's advance, so the
 * glyphs and clusters Cairo writes are Pango's own. */
#include "tb_features.h"

#include "textline.h"

#include "tb_err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ubrk.h>
#include <unicode/ustring.h>

#define TL_EPS 0.01

enum char_class {
    CL_WIDE,   /* Han, kana, full-width forms: one grid cell */
    CL_OPEN,   /* wide opening punctuation: ink on the right half */
    CL_CLOSE,  /* wide closing punctuation, stops, commas: ink on the left half */
    CL_NARROW, /* Latin letters, digits, half-width signs */
    CL_SPACE,
    CL_CONT    /* a later character of a cluster: no width of its own */
};

typedef struct tl_char {
    unsigned byte;    /* offset of its first byte in the text */
    unsigned char cls;
    bool can_break;   /* a line may start here */
    bool forced;      /* a line must start here */
    bool squeezed;    /* already compressed (adjacent punctuation) */
    double natural;   /* the cluster's font advance, on its first character */
    double width;     /* its set width before justification */
    double adv;       /* its advance in the line it ended up in */
    double shift;     /* glyph shift (opening punctuation compressed from the left) */
} tl_char;

typedef struct tl_line {
    size_t start, end; /* characters [start, end) */
    double width;
} tl_line;

struct tl_para {
    PangoLayout *layout;
    char *text;
    size_t len;
    tl_char *ch;
    size_t n;
    tl_line *lines;
    size_t nlines, cap;
    double size, pitch;
    double first_w, rest_w; /* the widths of the last tl_para_break */
    bool justified;
};

static bool
in_set(gunichar c, const char *set)
{
    for (const char *p = set; *p; p = g_utf8_next_char(p))
        if (g_utf8_get_char(p) == c)
            return true;
    return false;
}

static const char opening[] = "（〔［｛〈《「『【〖〘“‘";
static const char closing[] = "）〕］｝〉》」』】〗〙”’，。、；：！？．";

static void
line_add(tl_para *p, size_t start, size_t end)
{
    if (p->nlines == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 8;
        p->lines = tb_xrealloc(p->lines, p->cap * sizeof *p->lines);
    }
    double w = 0;
    for (size_t i = start; i < end; i++)
        w += p->ch[i].adv;
    p->lines[p->nlines++] = (tl_line){start, end, w};
}

tl_para *
tl_para_new(const typeface *tf, const tl_style *st, const dt_text *text)
{
    tl_para *p = tb_xcalloc(1, sizeof *p);
    p->size = st->size_pt;
    p->pitch = st->pitch_pt;
    /* The text without forced breaks; their places, the no-break and bold ranges noted. */
    GString *s = g_string_new(NULL);
    GArray *forced = g_array_new(FALSE, FALSE, sizeof(unsigned));
    GArray *keep = g_array_new(FALSE, FALSE, sizeof(unsigned) * 2);
    PangoAttrList *attrs = pango_attr_list_new();
    for (size_t r = 0; text && r < text->count; r++) {
        const dt_run *run = &text->runs[r];
        if (run->flags & DT_RUN_BREAK) {
            unsigned at = (unsigned)s->len;
            g_array_append_val(forced, at);
            continue;
        }
        unsigned start = (unsigned)s->len;
        /* Bad UTF-8 (never from the template module, but cheap to survive) is set as U+FFFD. */
        const char *raw = run->text ? run->text : "";
        char *valid = g_utf8_validate(raw, -1, NULL) ? NULL : g_utf8_make_valid(raw, -1);
        for (const char *c = valid ? valid : raw; *c; c++) {
            if (*c == '\n') {
                unsigned at = (unsigned)s->len;
                g_array_append_val(forced, at);
            } else if (*c != '\r') {
                g_string_append_c(s, *c);
            }
        }
        g_free(valid);
        unsigned end = (unsigned)s->len;
        if ((run->flags & DT_RUN_NOBREAK) && end > start) {
            unsigned range[2] = {start, end};
            g_array_append_val(keep, range);
        }
        if ((run->flags & DT_RUN_BOLD) && end > start) {
            PangoAttribute *a = pango_attr_weight_new(PANGO_WEIGHT_BOLD);
            a->start_index = start;
            a->end_index = end;
            pango_attr_list_insert(attrs, a);
        }
    }
    p->len = s->len;
    p->text = g_string_free(s, FALSE);

    p->layout = pango_layout_new(typeface_context(tf));
    PangoFontDescription *fd = typeface_describe(tf, st->role, st->size_pt);
    pango_layout_set_font_description(p->layout, fd);
    pango_font_description_free(fd);
    pango_layout_set_attributes(p->layout, attrs);
    pango_attr_list_unref(attrs);
    pango_layout_set_text(p->layout, p->text, (int)p->len);

    p->n = (size_t)g_utf8_strlen(p->text, (gssize)p->len);
    p->ch = tb_xcalloc(p->n + 1, sizeof *p->ch);
    unsigned *char_of = tb_xmalloc_array(p->len + 1, sizeof *char_of);
    size_t i = 0;
    for (const char *c = p->text; *c; c = g_utf8_next_char(c), i++) {
        p->ch[i].byte = (unsigned)(c - p->text);
        char_of[c - p->text] = (unsigned)i;
    }
    p->ch[p->n].byte = (unsigned)p->len;
    char_of[p->len] = (unsigned)p->n;

    /* Cluster advances: each glyph's width goes to its cluster's first character. */
    for (i = 0; i < p->n; i++)
        p->ch[i].cls = CL_CONT;
    PangoLayoutLine *line = p->n ? pango_layout_get_line_readonly(p->layout, 0) : NULL;
    for (GSList *l = line ? line->runs : NULL; l; l = l->next) {
        PangoGlyphItem *gi = l->data;
        for (int g = 0; g < gi->glyphs->num_glyphs; g++) {
            unsigned c = char_of[gi->item->offset + gi->glyphs->log_clusters[g]];
            p->ch[c].natural += gi->glyphs->glyphs[g].geometry.width / (double)PANGO_SCALE;
            if (p->ch[c].cls == CL_CONT)
                p->ch[c].cls = CL_NARROW; /* classified below */
        }
    }
    int nattrs = 0;
    const PangoLogAttr *la = pango_layout_get_log_attrs_readonly(p->layout, &nattrs);
    for (i = 0; i < p->n; i++) {
        tl_char *c = &p->ch[i];
        gunichar cp = g_utf8_get_char(p->text + c->byte);
        c->can_break = i > 0 && (int)i < nattrs && la[i].is_line_break;
        if (c->cls == CL_CONT) {
            c->can_break = false;
            continue;
        }
        /* Wide by Unicode (East Asian Width W/F); ambiguous marks such as “” only when the
         * font sets them full-width. */
        bool wide = g_unichar_iswide(cp) ||
                    (g_unichar_iswide_cjk(cp) && c->natural >= 0.75 * p->size);
        if (cp == ' ' || cp == 0x3000)
            c->cls = CL_SPACE;
        else if (!wide)
            c->cls = CL_NARROW;
        else if (in_set(cp, opening))
            c->cls = CL_OPEN;
        else if (in_set(cp, closing))
            c->cls = CL_CLOSE;
        else
            c->cls = CL_WIDE;
        c->width = wide && p->pitch > 0 ? p->pitch : c->natural;
    }
    for (size_t k = 0; k < keep->len; k++) {
        unsigned *range = &g_array_index(keep, unsigned, 2 * k);
        for (unsigned b = range[0] + 1; b < range[1]; b++)
            if (b < p->len && (p->text[b] & 0xC0) != 0x80)
                p->ch[char_of[b]].can_break = false;
    }
    for (size_t k = 0; k < forced->len; k++) {
        unsigned b = g_array_index(forced, unsigned, k);
        if (b > 0 && b < p->len)
            p->ch[char_of[b]].forced = true;
    }
    /* Adjacent punctuation (clreq 3.1.6): the blank half between two marks is taken out. */
    for (i = 0; i + 1 < p->n; i++) {
        tl_char *a = &p->ch[i], *b = &p->ch[i + 1];
        bool a_p = a->cls == CL_OPEN || a->cls == CL_CLOSE, b_p = b->cls == CL_OPEN || b->cls == CL_CLOSE;
        if (!a_p || !b_p)
            continue;
        if (a->cls == CL_CLOSE && !a->squeezed) {
            a->width /= 2;
            a->squeezed = true;
        } else if (b->cls == CL_OPEN && !b->squeezed) {
            b->shift = -b->width / 2;
            b->width /= 2;
            b->squeezed = true;
        }
    }
    free(char_of);
    g_array_free(forced, TRUE);
    g_array_free(keep, TRUE);
    tl_para_break(p, INFINITY, INFINITY, false);
    return p;
}

tl_para *
tl_para_new_str(const typeface *tf, const tl_style *st, const char *utf8)
{
    dt_run run = {utf8 ? utf8 : "", 0};
    dt_text t = {&run, 1};
    return tl_para_new(tf, st, &t);
}

void
tl_para_free(tl_para *p)
{
    if (p == NULL)
        return;
    if (p->layout)
        g_object_unref(p->layout);
    g_free(p->text);
    free(p->ch);
    free(p->lines);
    free(p);
}

/* ---- breaking ----------------------------------------------------------------------------- */

static bool
is_punct(const tl_char *c)
{
    return c->cls == CL_OPEN || c->cls == CL_CLOSE;
}

/* What compressing the punctuation of [s, e) to half width would gain. */
static double
compressible(const tl_para *p, size_t s, size_t e)
{
    double gain = 0;
    for (size_t i = s; i < e; i++)
        if (is_punct(&p->ch[i]) && !p->ch[i].squeezed)
            gain += p->ch[i].adv / 2;
    return gain;
}

/* Compresses punctuation of [s, e) from the end until `need` points are gained. */
static void
compress(tl_para *p, size_t s, size_t e, double need)
{
    for (size_t i = e; i-- > s && need > 0;) {
        tl_char *c = &p->ch[i];
        if (!is_punct(c) || c->squeezed)
            continue;
        double take = fmin(c->adv / 2, need);
        c->adv -= take;
        if (c->cls == CL_OPEN)
            c->shift -= take;
        need -= take;
    }
}

/* Spreads up to cap points into each of the gaps selected by `which` in [s, e - 1); returns
 * what it used. */
enum gap_kind { GAP_HAN_LATIN, GAP_ANY };

static bool
gap_is(const tl_para *p, size_t i, enum gap_kind which)
{
    const tl_char *a = &p->ch[i], *b = &p->ch[i + 1];
    if (b->cls == CL_CONT || a->cls == CL_SPACE || b->cls == CL_SPACE)
        return false;
    bool an = a->cls == CL_NARROW, bn = b->cls == CL_NARROW;
    if (which == GAP_HAN_LATIN)
        return (a->cls == CL_WIDE && bn) || (an && b->cls == CL_WIDE);
    return !(an && bn); /* never inside a Latin word, number or id */
}

static double
spread(tl_para *p, size_t s, size_t e, enum gap_kind which, double cap, double slack)
{
    size_t gaps = 0;
    for (size_t i = s; i + 1 < e; i++)
        gaps += gap_is(p, i, which);
    if (gaps == 0 || slack <= 0)
        return 0;
    double each = fmin(cap, slack / (double)gaps);
    for (size_t i = s; i + 1 < e; i++)
        if (gap_is(p, i, which))
            p->ch[i].adv += each;
    return each * (double)gaps;
}

static void
justify(tl_para *p, size_t s, size_t e, double avail)
{
    double w = 0;
    for (size_t i = s; i < e; i++)
        w += p->ch[i].adv;
    double slack = avail - w;
    if (slack <= TL_EPS)
        return;
    double cell = p->pitch > 0 ? p->pitch : p->size;
    slack -= spread(p, s, e, GAP_HAN_LATIN, cell / 4, slack);
    spread(p, s, e, GAP_ANY, cell / 3, slack);
}

/* Breaks into lines `narrower` points short of first_w / rest_w, justified to the full widths. */
static size_t
break_lines(tl_para *p, double first_w, double rest_w, bool justify_lines, double narrower)
{
    p->nlines = 0;
    for (size_t i = 0; i < p->n; i++) {
        p->ch[i].adv = p->ch[i].width;
        if (p->ch[i].shift != 0 && !p->ch[i].squeezed)
            p->ch[i].shift = 0;
    }
    for (size_t i = 0; i < p->n; i++)
        if (p->ch[i].squeezed && p->ch[i].cls == CL_OPEN)
            p->ch[i].shift = -p->ch[i].width;
    size_t s = 0;
    while (s < p->n) {
        double full = p->nlines == 0 ? first_w : rest_w, avail = full - narrower;
        double w = 0;
        size_t i = s, last_break = s;
        bool overflow = false;
        for (; i < p->n; i++) {
            const tl_char *c = &p->ch[i];
            if (i > s && c->forced)
                break;
            if (i > s && c->can_break)
                last_break = i;
            if (i > s && c->cls != CL_SPACE && c->cls != CL_CONT && w + c->adv > avail + TL_EPS) {
                overflow = true;
                break;
            }
            w += c->adv;
        }
        size_t e = i;
        if (overflow && last_break != i) {
            /* The chunk that does not fit: the characters up to the next break opportunity. */
            size_t j = i + 1;
            while (j < p->n && !p->ch[j].can_break && !p->ch[j].forced)
                j++;
            bool closing_only = j - i <= 2;
            double extra = 0;
            for (size_t k = i; k < j; k++) {
                closing_only &= p->ch[k].cls == CL_CLOSE || p->ch[k].cls == CL_CONT;
                extra += p->ch[k].adv;
            }
            double over = w + extra - avail;
            if (closing_only && compressible(p, s, j) >= over - TL_EPS) {
                compress(p, s, j, over); /* push in */
                e = j;
            } else if (last_break > s) {
                e = last_break; /* push out */
            } /* else a single unbreakable run longer than the line: cut where it overflows */
        }
        /* Spaces at either end of a line take no room. */
        for (size_t k = e; k-- > s && p->ch[k].cls == CL_SPACE;)
            p->ch[k].adv = 0;
        for (size_t k = s; k < e && p->ch[k].cls == CL_SPACE; k++)
            p->ch[k].adv = 0;
        bool last = e >= p->n || p->ch[e].forced;
        if (justify_lines && !last)
            justify(p, s, e, full);
        line_add(p, s, e);
        s = e;
    }
    if (p->nlines == 0)
        line_add(p, 0, 0);
    return p->nlines;
}

size_t
tl_para_break(tl_para *p, double first_w, double rest_w, bool justify_lines)
{
    p->first_w = first_w, p->rest_w = rest_w, p->justified = justify_lines;
    return break_lines(p, first_w, rest_w, justify_lines, 0);
}

size_t
tl_para_rebreak(tl_para *p, double narrower)
{
    return break_lines(p, p->first_w, p->rest_w, p->justified, narrower);
}

/* Words of 公文 titles a line must not split: a break inside one costs much more than an uneven
 * line.  ICU's dictionary (below) knows the language's words but not the trade's: it splits
 * 图斑, 整改 and 卫片 and reads 违法用地图斑 as 用|地图|斑; these words win over it. */
static const char *const title_words[] = {
    "卫片执法", "违法用地", "图斑", "整改", "验收", "工作", "通知", "报告", "请示", "意见", "方案",
    "年度", "自然资源", "人民政府", "办公室", "办事处", "开展", "做好", "加强", "关于", "限期",
    "衔接", "变更调查", "土地", "耕地", "永久基本农田", "执法", "监察", "问责", "约谈", "情况",
    "总结", "批复", "函", "规划", "管理", "实施", "进一步", "专项", "行动", "检查", "核查",
    "排查", "宅基地", "国土空间",
};

enum word_place { WORD_NONE, WORD_INSIDE, WORD_EDGE };

/* Whether a line ending before character `at` would cut one of title_words (WORD_INSIDE) or end
 * or start one (WORD_EDGE). */
static enum word_place
title_word_at(const tl_para *p, size_t at)
{
    const char *here = p->text + p->ch[at].byte;
    size_t before = (size_t)(here - p->text), after = p->len - before;
    enum word_place place = WORD_NONE;
    for (size_t w = 0; w < sizeof title_words / sizeof *title_words; w++) {
        const char *word = title_words[w];
        size_t len = strlen(word);
        /* Every way the word could straddle `here`: starting 1..len-1 bytes before it. */
        for (size_t back = 3; back < len; back += 3)
            if (before >= back && strncmp(here - back, word, len) == 0)
                return WORD_INSIDE;
        if ((before >= len && strncmp(here - len, word, len) == 0) ||
            (after >= len && strncmp(here, word, len) == 0))
            place = WORD_EDGE;
    }
    return place;
}

/* The word boundaries of ICU's dictionary break iterator for Chinese (Pango's log attributes
 * give none inside runs of Han): boundary[i] is true when a word starts at character i. */
static bool *
word_boundaries(const tl_para *p)
{
    bool *boundary = tb_xcalloc(p->n + 1, sizeof *boundary);
    UErrorCode e = U_ZERO_ERROR;
    int32_t units = 0;
    u_strFromUTF8(NULL, 0, &units, p->text, (int32_t)p->len, &e);
    UChar *u16 = tb_xmalloc_array((size_t)units + 1, sizeof *u16);
    e = U_ZERO_ERROR;
    u_strFromUTF8(u16, units + 1, NULL, p->text, (int32_t)p->len, &e);
    UBreakIterator *bi = U_SUCCESS(e) ? ubrk_open(UBRK_WORD, "zh", u16, units, &e) : NULL;
    if (bi == NULL || U_FAILURE(e)) { /* no dictionary: every character may end a line */
        for (size_t i = 0; i <= p->n; i++)
            boundary[i] = true;
    } else {
        /* UTF-16 offsets to characters: one unit a character, two beyond the BMP. */
        size_t i = 0;
        int32_t at = 0;
        for (int32_t b = ubrk_first(bi); b != UBRK_DONE; b = ubrk_next(bi)) {
            for (; at < b && i < p->n; i++)
                at += g_utf8_get_char(p->text + p->ch[i].byte) > 0xFFFF ? 2 : 1;
            if (at == b)
                boundary[i] = true;
        }
    }
    if (bi)
        ubrk_close(bi);
    free(u16);
    return boundary;
}

/* A good place to end a title line: after punctuation or a function word (的, 于, 和 …), never
 * inside a word of title_words or of the dictionary (strict: not at all). */
static double
break_penalty(const tl_para *p, const bool *boundary, size_t at, bool strict)
{
    if (at == 0 || at >= p->n || p->ch[at].forced)
        return 0;
    const tl_char *prev = &p->ch[at - 1];
    double cell = p->size, inside = strict ? INFINITY : 30 * cell * cell;
    enum word_place place = title_word_at(p, at);
    if (place == WORD_INSIDE)
        return inside;
    if (is_punct(prev) || prev->cls == CL_SPACE)
        return 0;
    if (place != WORD_EDGE && !boundary[at])
        return inside;
    gunichar c = g_utf8_get_char(p->text + prev->byte);
    if (in_set(c, "的于和与及对"))
        return 0;
    return 2.25 * cell * cell;
}

size_t
tl_para_break_balanced(tl_para *p, double max_w)
{
    size_t greedy = tl_para_break(p, max_w, max_w, false);
    if (greedy < 2)
        return greedy;
    /* Balance each stretch between forced breaks on its own. */
    size_t *seg = tb_xmalloc_array(p->n + 2, sizeof *seg), nseg = 0;
    seg[nseg++] = 0;
    for (size_t i = 1; i < p->n; i++)
        if (p->ch[i].forced)
            seg[nseg++] = i;
    seg[nseg] = p->n;
    size_t *cand = tb_xmalloc_array(p->n + 2, sizeof *cand);
    double *cost = tb_xmalloc_array(p->n + 2, sizeof *cost);
    size_t *from = tb_xmalloc_array(p->n + 2, sizeof *from);
    int *count = tb_xmalloc_array(p->n + 2, sizeof *count);
    size_t *ends = tb_xmalloc_array(p->n + 2, sizeof *ends), nends = 0;
    bool *boundary = word_boundaries(p);
    for (size_t g = 0; g < nseg; g++) {
        size_t a = seg[g], b = seg[g + 1], m = 0;
        double total = 0;
        cand[m++] = a;
        for (size_t i = a; i < b; i++) {
            total += p->ch[i].width;
            if (i > a && p->ch[i].can_break)
                cand[m++] = i;
        }
        cand[m++] = b;
        int lines = (int)ceil(total / max_w - TL_EPS);
        if (lines < 1)
            lines = 1;
        /* The fewest lines that break between words only (one line more is worth it), else the
         * fewest lines; then the least squared deviation from equal lines. */
        bool found = false;
        int fewest = lines;
        for (int strict = 1; strict >= 0 && !found; strict--)
        for (lines = fewest; !found && lines <= (strict ? fewest + 1 : (int)m); lines++) {
            double target = total / lines;
            for (size_t j = 0; j < m; j++)
                cost[j] = INFINITY, count[j] = 0;
            cost[0] = 0;
            for (size_t j = 1; j < m; j++) {
                double w = 0;
                for (size_t k = j; k-- > 0;) {
                    for (size_t c = cand[k]; c < cand[k + 1]; c++)
                        w += p->ch[c].width;
                    if (w > max_w + TL_EPS)
                        break;
                    if (!isfinite(cost[k]) || count[k] >= lines)
                        continue;
                    double d = w - target, c = cost[k] + d * d + break_penalty(p, boundary, cand[j], strict);
                    if (c < cost[j] || (c == cost[j] && count[k] + 1 < count[j])) {
                        cost[j] = c;
                        from[j] = k;
                        count[j] = count[k] + 1;
                    }
                }
            }
            found = isfinite(cost[m - 1]);
        }
        if (!found) { /* cannot happen short of a run wider than the line: keep greedy */
            free(seg), free(cand), free(cost), free(from), free(count), free(ends), free(boundary);
            return tl_para_break(p, max_w, max_w, false);
        }
        size_t first = nends;
        for (size_t j = m - 1; j > 0; j = from[j])
            ends[nends++] = cand[j];
        for (size_t x = first, y = nends - 1; x < y; x++, y--) {
            size_t t = ends[x];
            ends[x] = ends[y];
            ends[y] = t;
        }
    }
    for (size_t i = 0; i < p->n; i++)
        p->ch[i].adv = p->ch[i].width;
    p->nlines = 0;
    size_t s = 0;
    for (size_t k = 0; k < nends; k++) {
        for (size_t q = ends[k]; q-- > s && p->ch[q].cls == CL_SPACE;)
            p->ch[q].adv = 0;
        line_add(p, s, ends[k]);
        s = ends[k];
    }
    free(seg), free(cand), free(cost), free(from), free(count), free(ends), free(boundary);
    return p->nlines;
}

/* ---- reading and drawing ------------------------------------------------------------------ */

size_t
tl_para_line_count(const tl_para *p)
{
    return p->nlines;
}

double
tl_para_line_width(const tl_para *p, size_t line)
{
    return line < p->nlines ? p->lines[line].width : 0;
}

size_t
tl_para_line_chars(const tl_para *p, size_t line)
{
    return line < p->nlines ? p->lines[line].end - p->lines[line].start : 0;
}

double
tl_para_line_measure(const tl_para *p, size_t line)
{
    return line == 0 ? p->first_w : p->rest_w;
}

bool
tl_para_line_justified(const tl_para *p, size_t line)
{
    if (!p->justified || line + 1 >= p->nlines)
        return false;
    size_t e = p->lines[line].end;
    return e < p->n && !p->ch[e].forced;
}

size_t
tl_para_line_text(const tl_para *p, size_t line, const char **start)
{
    if (line >= p->nlines) {
        *start = "";
        return 0;
    }
    *start = p->text + p->ch[p->lines[line].start].byte;
    return p->ch[p->lines[line].end].byte - p->ch[p->lines[line].start].byte;
}

double
tl_para_size(const tl_para *p)
{
    return p->size;
}

double
tl_para_natural_width(const tl_para *p)
{
    double w = 0;
    for (size_t i = 0; i < p->n; i++)
        w += p->ch[i].width;
    return w;
}

void
tl_para_ink(const tl_para *p, double *above_pt, double *below_pt)
{
    PangoRectangle ink;
    pango_layout_get_extents(p->layout, &ink, NULL);
    double base = pango_layout_get_baseline(p->layout) / (double)PANGO_SCALE;
    *above_pt = base - ink.y / (double)PANGO_SCALE;
    *below_pt = (ink.y + ink.height) / (double)PANGO_SCALE - base;
}

/* The character whose cluster starts at byte b (clusters start on characters). */
static size_t
char_at(const tl_para *p, unsigned b)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->ch[mid].byte < b)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void
tl_para_draw_line(const tl_para *p, size_t line, cairo_t *cr, double x, double baseline)
{
    if (line >= p->nlines || p->lines[line].start == p->lines[line].end)
        return;
    const tl_line *ln = &p->lines[line];
    int from = (int)p->ch[ln->start].byte, to = (int)p->ch[ln->end].byte;
    PangoLayoutLine *pl = pango_layout_get_line_readonly(p->layout, 0);
    for (GSList *l = pl->runs; l; l = l->next) {
        const PangoGlyphItem *run = l->data;
        int rs = run->item->offset, re = rs + run->item->length;
        if (re <= from || rs >= to)
            continue;
        PangoGlyphItem *gi = pango_glyph_item_copy((PangoGlyphItem *)run);
        if (rs < from)
            pango_glyph_item_free(pango_glyph_item_split(gi, p->text, from - rs));
        if (re > to) {
            PangoGlyphItem *head = pango_glyph_item_split(gi, p->text, to - gi->item->offset);
            pango_glyph_item_free(gi);
            gi = head;
        }
        /* Each cluster's last glyph takes the difference between its set and natural advance;
         * every glyph of it takes the shift. */
        PangoGlyphString *gs = gi->glyphs;
        double w = 0;
        for (int g = 0; g < gs->num_glyphs; g++) {
            int cl = gs->log_clusters[g];
            const tl_char *c = &p->ch[char_at(p, (unsigned)(gi->item->offset + cl))];
            gs->glyphs[g].geometry.x_offset += (int)lround(c->shift * PANGO_SCALE);
            if (g + 1 == gs->num_glyphs || gs->log_clusters[g + 1] != cl)
                gs->glyphs[g].geometry.width += (int)lround((c->adv - c->natural) * PANGO_SCALE);
            w += gs->glyphs[g].geometry.width / (double)PANGO_SCALE;
        }
        cairo_move_to(cr, x, baseline);
        pango_cairo_show_glyph_item(cr, p->text, gi);
        x += w;
        pango_glyph_item_free(gi);
    }
}
