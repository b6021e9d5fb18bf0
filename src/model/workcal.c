/* DESIGN: the schedule is a small sorted table of exceptions (day → off/work) plus the set of
 * confirmed years; a lookup is a binary search.  Counting N working days walks day by day, which
 * is bounded (deadlines are at most ten years) and keeps the rule obvious. */
#include "tb_features.h"

#include "workcal.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_ENTRIES = 20000, MAX_YEARS = 400, MAX_LINE = 512 };

typedef struct day_entry {
    cn_date day;
    bool work;
} day_entry;

typedef struct year_entry {
    int year;
    char *source;
} year_entry;

struct workcal {
    day_entry *days;
    size_t count, cap;
    year_entry *years;
    size_t year_count;
};

workcal *
workcal_new(void)
{
    return tb_xcalloc(1, sizeof(workcal));
}

void
workcal_free(workcal *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->year_count; i++)
        free(c->years[i].source);
    free(c->years);
    free(c->days);
    free(c);
}

static int
day_cmp(const void *a, const void *b)
{
    return cn_date_cmp(((const day_entry *)a)->day, ((const day_entry *)b)->day);
}

static const day_entry *
find_day(const workcal *c, cn_date d)
{
    day_entry key = {d, false};
    return c->count ? bsearch(&key, c->days, c->count, sizeof key, day_cmp) : NULL;
}

static year_entry *
find_year(const workcal *c, int year)
{
    for (size_t i = 0; i < c->year_count; i++)
        if (c->years[i].year == year)
            return &c->years[i];
    return NULL;
}

bool
workcal_confirmed(const workcal *c, int year)
{
    return find_year(c, year) != NULL;
}

const char *
workcal_source(const workcal *c, int year)
{
    const year_entry *y = find_year(c, year);
    return y && y->source ? y->source : "";
}

/* One parsed line's worth of change, staged until the whole text is known to be good. */
typedef struct staged {
    day_entry *days;
    size_t count, cap;
    int years[MAX_YEARS];
    char *sources[MAX_YEARS];
    size_t year_count;
} staged;

static void
staged_release(staged *s)
{
    free(s->days);
    for (size_t i = 0; i < s->year_count; i++)
        free(s->sources[i]);
}

static bool
is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

tb_code
workcal_add(workcal *c, const char *text, size_t len, const char *name, tb_err *err)
{
    staged s = {0};
    int current_year = 0;
    size_t lineno = 0;
    tb_code code = TB_OK;
    for (size_t pos = 0; pos < len && code == TB_OK;) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        lineno++;
        char line[MAX_LINE];
        size_t n = end - pos;
        if (n >= sizeof line) {
            code = tb_err_set(err, TB_EFORMAT, "%s:%zu: line longer than %d bytes", name, lineno,
                              MAX_LINE - 1);
            break;
        }
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos = end + 1;
        if (memchr(line, '\0', n) != NULL) {
            code = tb_err_set(err, TB_EFORMAT, "%s:%zu: NUL byte in text", name, lineno);
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *p = line;
        while (is_blank(*p))
            p++;
        size_t l = strlen(p);
        while (l > 0 && is_blank(p[l - 1]))
            p[--l] = '\0';
        if (*p == '\0')
            continue;
        if (strncmp(p, "year", 4) == 0 && is_blank(p[4])) {
            char *e;
            long y = strtol(p + 5, &e, 10);
            while (is_blank(*e))
                e++;
            if (*e != '\0' || y < 1949 || y > 9999) {
                code = tb_err_set(err, TB_EFORMAT, "%s:%zu: expected 'year YYYY'", name, lineno);
                break;
            }
            current_year = (int)y;
            bool seen = false;
            for (size_t i = 0; i < s.year_count; i++)
                seen |= s.years[i] == current_year;
            if (!seen) {
                if (s.year_count == MAX_YEARS) {
                    code = tb_err_set(err, TB_ELIMIT, "%s:%zu: more than %d years", name, lineno,
                                      MAX_YEARS);
                    break;
                }
                s.years[s.year_count++] = current_year;
            }
            continue;
        }
        if (strncmp(p, "source", 6) == 0 && is_blank(p[6])) {
            if (current_year == 0) {
                code = tb_err_set(err, TB_EFORMAT, "%s:%zu: 'source' before 'year'", name,
                                  lineno);
                break;
            }
            for (size_t i = 0; i < s.year_count; i++)
                if (s.years[i] == current_year) {
                    free(s.sources[i]);
                    char *src = p + 7;
                    while (is_blank(*src))
                        src++;
                    s.sources[i] = tb_xstrdup(src);
                }
            continue;
        }
        /* YYYY-MM-DD off|work [note] */
        char *sp = p;
        while (*sp && !is_blank(*sp))
            sp++;
        char saved = *sp;
        *sp = '\0';
        cn_date d;
        bool ok = cn_date_parse(p, &d);
        *sp = saved;
        char *kind = sp;
        while (is_blank(*kind))
            kind++;
        bool off = strncmp(kind, "off", 3) == 0 && (kind[3] == '\0' || is_blank(kind[3]));
        bool work = strncmp(kind, "work", 4) == 0 && (kind[4] == '\0' || is_blank(kind[4]));
        if (!ok || !(off || work)) {
            code = tb_err_set(err, TB_EFORMAT, "%s:%zu: expected 'YYYY-MM-DD off|work [note]', "
                              "'year YYYY' or 'source …'", name, lineno);
            break;
        }
        if (d.year != current_year) {
            code = tb_err_set(err, TB_EFORMAT, "%s:%zu: %04d-%02d-%02d is not in year %d (write "
                              "'year %d' first)", name, lineno, d.year, d.month, d.day,
                              current_year, d.year);
            break;
        }
        if (s.count == MAX_ENTRIES || c->count + s.count >= MAX_ENTRIES) {
            code = tb_err_set(err, TB_ELIMIT, "%s:%zu: more than %d days", name, lineno,
                              MAX_ENTRIES);
            break;
        }
        if (s.count == s.cap)
            s.days = tb_xrealloc(s.days, (s.cap = s.cap ? s.cap * 2 : 64) * sizeof *s.days);
        s.days[s.count++] = (day_entry){d, work};
    }
    if (code == TB_OK && s.year_count == 0 && s.count == 0)
        code = tb_err_set(err, TB_EFORMAT, "%s: no 'year' line and no days", name);
    if (code != TB_OK) {
        staged_release(&s);
        return code;
    }
    /* Commit: later entries win, both within this text and over earlier texts. */
    for (size_t i = 0; i < s.count; i++) {
        day_entry *old = (day_entry *)find_day(c, s.days[i].day);
        if (old) {
            old->work = s.days[i].work;
            continue;
        }
        if (c->count == c->cap)
            c->days = tb_xrealloc(c->days, (c->cap = c->cap ? c->cap * 2 : 128) * sizeof *c->days);
        c->days[c->count++] = s.days[i];
        /* keep sorted: insertion from the back (files are in date order, so this is cheap) */
        for (size_t k = c->count - 1; k > 0 && day_cmp(&c->days[k - 1], &c->days[k]) > 0; k--) {
            day_entry t = c->days[k];
            c->days[k] = c->days[k - 1];
            c->days[k - 1] = t;
        }
    }
    for (size_t i = 0; i < s.year_count; i++) {
        year_entry *y = find_year(c, s.years[i]);
        if (y == NULL) {
            c->years = tb_xrealloc(c->years, (c->year_count + 1) * sizeof *c->years);
            y = &c->years[c->year_count++];
            y->year = s.years[i];
            y->source = NULL;
        }
        if (s.sources[i]) {
            free(y->source);
            y->source = s.sources[i];
            s.sources[i] = NULL;
        }
    }
    staged_release(&s);
    return TB_OK;
}

bool
workcal_is_workday(const workcal *c, cn_date d)
{
    const day_entry *e = find_day(c, d);
    if (e)
        return e->work;
    int wd = cn_date_weekday(d);
    return wd != 0 && wd != 6;
}

cn_date
workcal_add_workdays(const workcal *c, cn_date from, int n, bool *unconfirmed)
{
    cn_date d = from;
    while (n > 0) {
        d = cn_date_add_days(d, 1);
        if (unconfirmed && !workcal_confirmed(c, d.year))
            *unconfirmed = true;
        n -= workcal_is_workday(c, d);
    }
    return d;
}

bool
deadline_parse(const char *s, deadline_spec *out)
{
    if (s == NULL)
        return false;
    if (cn_date_parse(s, &out->date)) {
        out->kind = DEADLINE_DATE;
        return true;
    }
    while (is_blank(*s))
        s++;
    char *end;
    long n = strtol(s, &end, 10);
    if (end == s || n < 1 || n > 3650)
        return false;
    while (is_blank(*end))
        end++;
    const char *rest = end;
    if (strcmp(rest, "日") == 0 || strcmp(rest, "天") == 0)
        out->kind = DEADLINE_DAYS;
    else if (strcmp(rest, "个工作日") == 0 || strcmp(rest, "工作日") == 0)
        out->kind = DEADLINE_WORKDAYS;
    else
        return false;
    out->n = (int)n;
    return true;
}

cn_date
deadline_resolve(const deadline_spec *spec, cn_date issued, const workcal *c, bool *unconfirmed)
{
    switch (spec->kind) {
    case DEADLINE_DATE: return spec->date;
    case DEADLINE_DAYS: return cn_date_add_days(issued, spec->n);
    case DEADLINE_WORKDAYS: return workcal_add_workdays(c, issued, spec->n, unconfirmed);
    }
    return spec->date;
}
