/* DESIGN: the table's grid is walked once, keeping a row of "occupied until row r" marks per
 * column so rowspans push later cells right exactly as the typesetter does. */
#include "tb_features.h"

#include "xlsx_table.h"

#include "tb_buf.h"
#include "tb_fs.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

bool
xlsx_parse_number(const char *s, xlsx_number *out)
{
    if (s == NULL || *s == '\0')
        return false;
    const char *p = s;
    bool neg = *p == '-';
    if (neg)
        p++;
    if (!(*p >= '0' && *p <= '9'))
        return false;
    if (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
        return false; /* "007" is a code, not a number */
    double v = 0;
    int digits_in_group = 0;
    bool thousands = false;
    for (; (*p >= '0' && *p <= '9') || *p == ','; p++) {
        if (*p == ',') {
            if (digits_in_group == 0 || (thousands && digits_in_group != 3) || digits_in_group > 3)
                return false;
            thousands = true;
            digits_in_group = 0;
            continue;
        }
        v = v * 10 + (*p - '0');
        digits_in_group++;
        if (digits_in_group > 15)
            return false;
    }
    if (thousands && digits_in_group != 3)
        return false;
    /* Digits as an integer over a power of ten: 1235 / 100 is the double nearest 12.35, which
     * summing 0.1-steps is not (and strtod would follow the locale). */
    int decimals = 0;
    double pow10 = 1;
    if (*p == '.') {
        p++;
        for (; *p >= '0' && *p <= '9'; p++, decimals++) {
            v = v * 10 + (*p - '0');
            pow10 *= 10;
        }
        if (decimals == 0 || decimals > 10)
            return false;
    }
    bool percent = false;
    if (strcmp(p, "%") == 0) {
        percent = true;
        p++;
    }
    if (*p != '\0')
        return false;
    out->value = (neg ? -v : v) / (pow10 * (percent ? 100.0 : 1.0));
    out->decimals = decimals;
    out->thousands = thousands;
    out->percent = percent;
    return true;
}

static const char *
flat(const dt_text *t, tb_buf *b)
{
    b->len = 0;
    for (size_t i = 0; i < t->count; i++)
        tb_buf_append_str(b, t->runs[i].flags & DT_RUN_BREAK ? "\n"
                             : t->runs[i].text                ? t->runs[i].text
                                                              : "");
    tb_buf_append(b, "", 1);
    return (const char *)b->data;
}

static bool
sheet_name_ok(const char *n)
{
    size_t len = strlen(n);
    return len > 0 && len <= 31 * 3 && strpbrk(n, "[]:*?/\\") == NULL;
}

/* One cached format per (bold, align, number shape). */
typedef struct fmt_cache {
    struct {
        unsigned key;
        lxw_format *f;
    } items[64];
    size_t count;
} fmt_cache;

static lxw_format *
format_for(lxw_workbook *wb, fmt_cache *fc, bool bold, dt_align align, const xlsx_number *num,
           bool borders)
{
    unsigned key = (unsigned)bold | (unsigned)align << 1 | (unsigned)borders << 3;
    if (num)
        key |= 1u << 4 | (unsigned)num->decimals << 5 | (unsigned)num->thousands << 9 |
               (unsigned)num->percent << 10;
    for (size_t i = 0; i < fc->count; i++)
        if (fc->items[i].key == key)
            return fc->items[i].f;
    lxw_format *f = workbook_add_format(wb);
    if (bold)
        format_set_bold(f);
    format_set_font_name(f, "仿宋");
    format_set_font_size(f, 10.5);
    format_set_text_wrap(f);
    format_set_align(f, LXW_ALIGN_VERTICAL_CENTER);
    format_set_align(f, align == DT_ALIGN_RIGHT    ? LXW_ALIGN_RIGHT
                        : align == DT_ALIGN_CENTER ? LXW_ALIGN_CENTER
                                                   : LXW_ALIGN_LEFT);
    if (borders)
        format_set_border(f, LXW_BORDER_THIN);
    if (num) {
        char pattern[48];
        size_t n = 0;
        n += (size_t)snprintf(pattern + n, sizeof pattern - n, "%s", num->thousands ? "#,##0" : "0");
        if (num->decimals) {
            pattern[n++] = '.';
            for (int d = 0; d < num->decimals && n < sizeof pattern - 2; d++)
                pattern[n++] = '0';
        }
        if (num->percent)
            pattern[n++] = '%';
        pattern[n] = '\0';
        format_set_num_format(f, pattern);
    }
    if (fc->count < sizeof fc->items / sizeof fc->items[0]) {
        fc->items[fc->count].key = key;
        fc->items[fc->count++].f = f;
    }
    return f;
}

/* Writes table t into ws from row row0; *head_rows gets the number of its leading head rows. */
static tb_code
write_table(lxw_workbook *wb, lxw_worksheet *ws, const xlsx_sheet *s, const dt_table *t,
            lxw_row_t row0, fmt_cache *fc, size_t *head_rows_out, tb_err *err)
{
    size_t ncols = s->table->column_count;
    if (t->column_count > ncols)
        return tb_err_set(err, TB_EINVAL, "xlsx: sheet '%s': a table has more columns than the "
                                          "first", s->name);
    /* busy[c]: the first table row at which column c is free again (rowspans). */
    size_t *busy = tb_xcalloc(ncols + 1, sizeof *busy);
    tb_buf text = TB_BUF_INIT;
    size_t head_rows = 0;
    tb_code code = TB_OK;
    for (size_t r = 0; r < t->row_count && code == TB_OK; r++) {
        const dt_row *row = &t->rows[r];
        bool head = row->role == DT_ROW_HEAD, bold = head || row->role == DT_ROW_TOTAL;
        head_rows += head && r == head_rows;
        size_t c = 0;
        for (size_t k = 0; k < row->count; k++) {
            while (c < ncols && busy[c] > r)
                c++;
            const dt_cell *cell = &row->cells[k];
            size_t cs = cell->colspan > 1 ? (size_t)cell->colspan : 1;
            size_t rs = cell->rowspan > 1 ? (size_t)cell->rowspan : 1;
            if (c + cs > ncols) {
                code = tb_err_set(err, TB_EINVAL, "xlsx: sheet '%s' row %zu: cells span past the "
                                  "table's %zu columns", s->name, r + 1, ncols);
                break;
            }
            const char *str = flat(&cell->text, &text);
            dt_align al = cell->align ? cell->align : head ? DT_ALIGN_CENTER : t->columns[c].align;
            xlsx_number num;
            bool is_num = !head && xlsx_parse_number(str, &num);
            lxw_format *f = format_for(wb, fc, bold, al, is_num ? &num : NULL, !t->borderless);
            lxw_row_t xr = (lxw_row_t)(row0 + r);
            lxw_col_t xc = (lxw_col_t)c;
            if (cs > 1 || rs > 1)
                worksheet_merge_range(ws, xr, xc, (lxw_row_t)(xr + rs - 1),
                                      (lxw_col_t)(xc + cs - 1), "", f);
            if (is_num)
                worksheet_write_number(ws, xr, xc, num.value, f);
            else
                worksheet_write_string(ws, xr, xc, str, f);
            for (size_t q = c; q < c + cs; q++)
                busy[q] = r + rs;
            c += cs;
        }
    }
    tb_buf_release(&text);
    free(busy);
    *head_rows_out = head_rows;
    return code;
}

static tb_code
write_sheet(lxw_workbook *wb, const xlsx_sheet *s, fmt_cache *fc, tb_err *err)
{
    const dt_table *t = s->table;
    lxw_worksheet *ws = workbook_add_worksheet(wb, s->name);
    if (ws == NULL)
        return tb_err_set(err, TB_EINVAL, "xlsx: sheet '%s': bad or duplicate name", s->name);
    if (s->landscape)
        worksheet_set_landscape(ws);
    worksheet_set_paper(ws, 9); /* A4 */
    size_t ncols = t->column_count;
    for (size_t c = 0; c < ncols; c++)
        worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c,
                             t->columns[c].width_mm > 0 ? t->columns[c].width_mm / 2.0 : 12, NULL);
    lxw_row_t row0 = 0;
    if (s->title) {
        lxw_format *tf = workbook_add_format(wb);
        format_set_bold(tf);
        format_set_font_size(tf, 16);
        format_set_align(tf, LXW_ALIGN_CENTER);
        if (ncols > 1)
            worksheet_merge_range(ws, 0, 0, 0, (lxw_col_t)(ncols - 1), s->title, tf);
        else
            worksheet_write_string(ws, 0, 0, s->title, tf);
        row0 = 1;
    }
    size_t head_rows = 0;
    tb_code code = write_table(wb, ws, s, t, row0, fc, &head_rows, err);
    row0 += (lxw_row_t)t->row_count + 1;
    for (size_t k = 0; k < s->more_count && code == TB_OK; k++) {
        size_t ignored;
        code = write_table(wb, ws, s, s->more[k], row0, fc, &ignored, err);
        row0 += (lxw_row_t)s->more[k]->row_count + 1;
    }
    if (s->more_count)
        head_rows = 0; /* several tables: no one head to repeat */
    row0 = s->title ? 1 : 0;
    if (head_rows)
        worksheet_repeat_rows(ws, row0, (lxw_row_t)(row0 + head_rows - 1));
    return code;
}

tb_code
xlsx_write_temp(const char *path, const xlsx_sheet *sheets, size_t count, char **tmp_out,
                tb_err *err)
{
    *tmp_out = NULL;
    for (size_t i = 0; i < count; i++)
        if (!sheets[i].name || !sheet_name_ok(sheets[i].name) || !sheets[i].table)
            return tb_err_set(err, TB_EINVAL, "xlsx %s: sheet %zu has no table or a bad name",
                              path, i + 1);
    /* Reserve a hidden temporary name beside path; libxlsxwriter then writes that file. */
    char *tmp;
    int fd = tb_fs_open_temp(path, &tmp, err);
    if (fd < 0)
        return err ? err->code : TB_EIO;
    close(fd);
    lxw_workbook *wb = workbook_new(tmp);
    tb_code code = TB_OK;
    if (wb == NULL) {
        code = tb_err_set(err, TB_ELIB, "xlsx %s: libxlsxwriter could not start a workbook", path);
    } else {
        fmt_cache fc = {.count = 0};
        for (size_t i = 0; i < count && code == TB_OK; i++)
            code = write_sheet(wb, &sheets[i], &fc, err);
        lxw_error e = workbook_close(wb);
        if (code == TB_OK && e != LXW_NO_ERROR)
            code = tb_err_set(err, TB_EIO, "xlsx %s: %s", path, lxw_strerror(e));
    }
    if (code != TB_OK) {
        unlink(tmp);
        free(tmp);
        return code;
    }
    *tmp_out = tmp;
    return TB_OK;
}
