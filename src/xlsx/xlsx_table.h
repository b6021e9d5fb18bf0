/* Statistical tables as XLSX workbooks (libxlsxwriter lives here only).  A sheet is written from
 * the same dt_table (model/doctree.h) the typesetter sets into the PDF, so both carry the same
 * figures by construction: cells whose text is a number (12.35, 1,234.50, 15.3%) become numeric
 * cells with the matching number format; everything else stays text.  Head rows are bold and
 * repeated when printed, spans become merged cells. */
#ifndef TB_XLSX_TABLE_H
#define TB_XLSX_TABLE_H

#include "doctree.h"
#include "tb_err.h"

#include <stddef.h>

typedef struct xlsx_sheet {
    const char *name;  /* sheet tab, ≤ 31 characters, none of []:*?/\ */
    const char *title; /* a merged title row above the table; NULL = none */
    const dt_table *table;
    bool landscape;    /* page setup for printing */
    /* Further tables set below the first, a blank row apart (one 登记卡 per patch); the first
     * gives the column widths.  NULL, 0: none. */
    const dt_table *const *more;
    size_t more_count;
} xlsx_sheet;

/* Writes the workbook to a new temporary file in path's directory and returns its name in
 * *tmp_out (malloc'd); publish it with tb_fs_publish or unlink it, so a set of outputs can be
 * all or nothing.  Errors: TB_EINVAL for a bad sheet name or table, TB_EIO / TB_ELIB when the
 * file cannot be written. */
tb_code xlsx_write_temp(const char *path, const xlsx_sheet *sheets, size_t count, char **tmp_out,
                        tb_err *err) TB_MUST_CHECK;

/* Parses a cell's text as the number it shows: "12.35" → 12.35 with 2 decimals, "1,234.5" (with
 * thousands separators), "15.3%" → 0.153 as a percentage.  False for anything else (ids such as
 * 139901SJBG24210019 or dates stay text; so do numbers with leading zeros like "007"). */
typedef struct xlsx_number {
    double value;
    int decimals;
    bool thousands, percent;
} xlsx_number;
bool xlsx_parse_number(const char *text, xlsx_number *out);

#endif
