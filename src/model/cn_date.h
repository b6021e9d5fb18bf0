/* Calendar dates as official documents write them (GB/T 9704 §7.3.5): 2022年11月2日 — year in
 * full, no leading zeros.  Dates are plain y/m/d values: no time zone, no time of day. */
#ifndef TB_CN_DATE_H
#define TB_CN_DATE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct cn_date {
    int year, month, day;
} cn_date;

bool cn_date_valid(cn_date d);

/* Parses "YYYY-MM-DD", "YYYY/MM/DD", "YYYYMMDD" or "YYYY年M月D日" (surrounding blanks allowed).
 * Returns false for anything else or an impossible date (2023-02-29). */
bool cn_date_parse(const char *s, cn_date *out);

/* "2022年11月2日".  Returns out; "" when d is invalid. */
char *cn_date_format(cn_date d, char *out, size_t out_len);

/* "2022-11-02". */
char *cn_date_format_iso(cn_date d, char *out, size_t out_len);

/* d plus n calendar days (n may be negative). */
cn_date cn_date_add_days(cn_date d, int n);

/* Day of the week: 0 Sunday, 1 Monday … 6 Saturday. */
int cn_date_weekday(cn_date d);

/* <0, 0, >0 like strcmp. */
int cn_date_cmp(cn_date a, cn_date b);

/* Today's date in local time. */
cn_date cn_date_today(void);

#endif
