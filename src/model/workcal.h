/* Chinese working days (DESIGN §5): Monday–Friday, less the State Council's public holidays, plus
 * its make-up working days (调休上班), from one schedule per year (data/holidays/).  A year whose
 * schedule is not loaded is *unconfirmed*: only weekends count, and every answer that relied on
 * such a year says so, so a document can record 未确认调休 instead of being silently wrong. */
#ifndef TB_WORKCAL_H
#define TB_WORKCAL_H

#include "cn_date.h"
#include "tb_err.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct workcal workcal;

workcal *workcal_new(void);
void workcal_free(workcal *c); /* NULL ok */

/* Adds a schedule in the data/holidays format (README there): "year Y", "source …", then
 * "YYYY-MM-DD off|work [note]" lines; '#' starts a comment.  name is used in messages
 * (file:line: …).  Entries win over earlier ones for the same day, so an operator's override file
 * loaded last corrects the built-in schedule; the years it names become confirmed.  On error
 * (TB_EFORMAT) nothing of the text is kept. */
tb_code workcal_add(workcal *c, const char *text, size_t len, const char *name, tb_err *err)
    TB_MUST_CHECK;

/* Whether year's schedule is loaded, and where it came from ("" if unknown). */
bool workcal_confirmed(const workcal *c, int year);
const char *workcal_source(const workcal *c, int year);

bool workcal_is_workday(const workcal *c, cn_date d);

/* The n-th working day after from (n ≥ 1; from itself is not counted, as deadlines are read:
 * "收到通知之日起3个工作日内").  *unconfirmed (may be NULL) is set when a day counted or skipped
 * lies in an unconfirmed year. */
cn_date workcal_add_workdays(const workcal *c, cn_date from, int n, bool *unconfirmed);

/* A deadline as an office or a patch gives it: a date ("2025-03-31", "2025年3月31日"), "N日"
 * (calendar days) or "N个工作日" (working days), counted from the issue date. */
typedef struct deadline_spec {
    enum { DEADLINE_DATE, DEADLINE_DAYS, DEADLINE_WORKDAYS } kind;
    cn_date date; /* DEADLINE_DATE */
    int n;        /* DEADLINE_DAYS / _WORKDAYS, 1..3650 */
} deadline_spec;

bool deadline_parse(const char *s, deadline_spec *out);

/* The date spec means for a document issued on `issued`; *unconfirmed as above. */
cn_date deadline_resolve(const deadline_spec *spec, cn_date issued, const workcal *c,
                         bool *unconfirmed);

#endif
