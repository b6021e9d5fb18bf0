/* The figures a chart shows, as plain values: categories (e.g. the townships) along one axis and
 * one or more series (e.g. 违法图斑 and 已整改) of numbers per category.  Built by a document
 * builder from model/stats so a chart never computes a figure of its own; drawn by src/chart. */
#ifndef TB_CHART_DATA_H
#define TB_CHART_DATA_H

#include <stddef.h>

typedef struct chart_series {
    const char *name;     /* legend text, e.g. 已整改 */
    const double *values; /* category_count values */
} chart_series;

typedef struct chart_data {
    const char *const *categories; /* e.g. township names */
    size_t category_count;
    const chart_series *series;
    size_t series_count;
    const char *unit;     /* axis unit, e.g. 个 or 亩; may be NULL */
    int decimals;         /* of the value labels */
} chart_data;

#endif
