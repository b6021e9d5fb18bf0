#include "tb_features.h"

#include "cn_date.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static bool
is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

bool
cn_date_valid(cn_date d)
{
    return d.year >= 1000 && d.year <= 9999 && d.month >= 1 && d.month <= 12 && d.day >= 1 &&
           d.day <= days_in_month(d.year, d.month);
}

/* Reads 1..max digits; returns the number of digits read. */
static int
read_digits(const char **s, int max, int *value)
{
    int n = 0, v = 0;
    while (n < max && (*s)[0] >= '0' && (*s)[0] <= '9') {
        v = v * 10 + ((*s)[0] - '0');
        (*s)++;
        n++;
    }
    *value = v;
    return n;
}

static bool
skip(const char **s, const char *lit)
{
    size_t n = strlen(lit);
    if (strncmp(*s, lit, n) != 0)
        return false;
    *s += n;
    return true;
}

bool
cn_date_parse(const char *s, cn_date *out)
{
    cn_date d = {0, 0, 0};
    if (s == NULL)
        return false;
    while (*s == ' ' || *s == '\t')
        s++;
    if (read_digits(&s, 4, &d.year) != 4)
        return false;
    if (skip(&s, "-") || skip(&s, "/")) {
        char sep = s[-1];
        if (read_digits(&s, 2, &d.month) < 1 || *s++ != sep || read_digits(&s, 2, &d.day) < 1)
            return false;
    } else if (skip(&s, "年")) {
        if (read_digits(&s, 2, &d.month) < 1 || !skip(&s, "月") ||
            read_digits(&s, 2, &d.day) < 1 || !skip(&s, "日"))
            return false;
    } else if (read_digits(&s, 2, &d.month) != 2 || read_digits(&s, 2, &d.day) != 2) {
        return false;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s != '\0' || !cn_date_valid(d))
        return false;
    *out = d;
    return true;
}

char *
cn_date_format(cn_date d, char *out, size_t out_len)
{
    if (!cn_date_valid(d))
        snprintf(out, out_len, "%s", "");
    else
        snprintf(out, out_len, "%d年%d月%d日", d.year, d.month, d.day);
    return out;
}

char *
cn_date_format_iso(cn_date d, char *out, size_t out_len)
{
    if (!cn_date_valid(d))
        snprintf(out, out_len, "%s", "");
    else
        snprintf(out, out_len, "%04d-%02d-%02d", d.year, d.month, d.day);
    return out;
}

/* Days since 1970-01-01 (proleptic Gregorian), Howard Hinnant's algorithm. */
static long
to_days(cn_date d)
{
    int y = d.year - (d.month <= 2);
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (d.month + (d.month > 2 ? -3 : 9)) + 2) / 5 + d.day - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static cn_date
from_days(long z)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    cn_date d;
    d.day = (int)(doy - (153 * mp + 2) / 5 + 1);
    d.month = (int)(mp < 10 ? mp + 3 : mp - 9);
    d.year = (int)(yoe + era * 400 + (d.month <= 2));
    return d;
}

cn_date
cn_date_add_days(cn_date d, int n)
{
    return from_days(to_days(d) + n);
}

int
cn_date_weekday(cn_date d)
{
    long w = (to_days(d) + 4) % 7; /* 1970-01-01 was a Thursday */
    return (int)(w < 0 ? w + 7 : w);
}

int
cn_date_cmp(cn_date a, cn_date b)
{
    long x = to_days(a), y = to_days(b);
    return (x > y) - (x < y);
}

cn_date
cn_date_today(void)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    cn_date d = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
    return d;
}
