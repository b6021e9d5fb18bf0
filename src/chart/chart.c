/* DESIGN: one pass measures the labels (so long township names get room or are turned), one
 * pass draws.  Colours are few and print well in grey too: series alternate dark and light. */
#include "tb_features.h"

#include "chart.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const double series_rgb[][3] = {
    {0.74, 0.11, 0.11}, /* red: the problem (违法) */
    {0.16, 0.42, 0.20}, /* green: what was done (已整改) */
    {0.20, 0.35, 0.62}, {0.85, 0.55, 0.13}, {0.45, 0.45, 0.45},
};
enum { SERIES_COLOURS = sizeof series_rgb / sizeof series_rgb[0] };

double
chart_axis_step(double max, int ticks)
{
    if (!(max > 0) || ticks < 1)
        return 1;
    double raw = max / ticks, mag = pow(10, floor(log10(raw)));
    static const double nice[] = {1, 2, 2.5, 5, 10};
    for (size_t i = 0; i < sizeof nice / sizeof nice[0]; i++)
        if (nice[i] * mag >= raw - 1e-12)
            return nice[i] * mag;
    return 10 * mag;
}

static PangoLayout *
label(PangoContext *ctx, const char *font, double size_pt, const char *text)
{
    PangoLayout *l = pango_layout_new(ctx);
    PangoFontDescription *fd = pango_font_description_from_string(font);
    pango_font_description_set_absolute_size(fd, size_pt * PANGO_SCALE);
    pango_layout_set_font_description(l, fd);
    pango_font_description_free(fd);
    pango_layout_set_text(l, text, -1);
    return l;
}

static void
label_size(PangoLayout *l, double *w, double *h)
{
    PangoRectangle r;
    pango_layout_get_extents(l, NULL, &r);
    *w = r.width / (double)PANGO_SCALE;
    *h = r.height / (double)PANGO_SCALE;
}

/* Draws l with its point (ax, ay) (fractions of its box) at (x, y). */
static void
label_draw(cairo_t *cr, PangoLayout *l, double x, double y, double ax, double ay)
{
    double w, h;
    label_size(l, &w, &h);
    cairo_move_to(cr, x - ax * w, y - ay * h);
    pango_cairo_show_layout(cr, l);
}

static void
format_value(double v, int decimals, char *out, size_t n)
{
    snprintf(out, n, "%.*f", decimals < 0 ? 0 : decimals > 4 ? 4 : decimals, v);
}

tb_code
chart_panel_draw(cairo_t *cr, PangoContext *context, const dt_panel *panel, double x, double y,
                 double w, double h, tb_err *err)
{
    const char *font = "Sans";
    for (size_t i = 0; i < panel->attr_count; i++) {
        const dt_attr *a = &panel->attrs[i];
        if (strcmp(a->name, "type") == 0) {
            if (strcmp(a->value, "bar") != 0)
                return tb_err_set(err, TB_EFORMAT, "chart: type=\"%s\": only \"bar\" is known",
                                  a->value);
        } else if (strcmp(a->name, "font") == 0) {
            font = a->value;
        } else {
            return tb_err_set(err, TB_EFORMAT, "chart: unknown attribute %s=\"%s\" (known: type, "
                              "font)", a->name, a->value);
        }
    }
    const chart_data *d = panel->datum;
    if (d == NULL)
        return tb_err_set(err, TB_EFORMAT, "chart: no data (the figure's `of` names nothing)");
    double max = 0;
    for (size_t s = 0; s < d->series_count; s++)
        for (size_t c = 0; c < d->category_count; c++) {
            double v = d->series[s].values[c];
            if (!isfinite(v) || v < 0)
                return tb_err_set(err, TB_EFORMAT, "chart: series '%s', %s: value %g is not a "
                                  "count or area", d->series[s].name, d->categories[c], v);
            max = fmax(max, v);
        }
    if (!(w > 40 && h > 40))
        return tb_err_set(err, TB_EINVAL, "chart: frame %.0f × %.0f pt is too small", w, h);

    cairo_save(cr);
    PangoContext *ctx = context ? g_object_ref(context) : pango_cairo_create_context(cr);
    const double fs = 9.0, pad = 6.0;
    double step = chart_axis_step(max, 5), top = step * ceil(max / step - 1e-9);
    if (top <= 0)
        top = step;
    char buf[64];

    /* Room for the axis labels (left), the category labels (below) and the legend (top). */
    format_value(top, step < 1 ? 1 : 0, buf, sizeof buf);
    PangoLayout *probe = label(ctx, font, fs, buf);
    double yw, yh;
    label_size(probe, &yw, &yh);
    g_object_unref(probe);
    double legend_h = d->series_count > 1 ? yh + pad : 0;
    double plot_x = x + yw + pad * 2, plot_w = x + w - pad - plot_x;
    double cat_w = d->category_count ? plot_w / (double)d->category_count : plot_w;
    double cat_label_h = 0;
    bool turn = false; /* category labels turned 90° when they do not fit across */
    for (size_t c = 0; c < d->category_count; c++) {
        PangoLayout *l = label(ctx, font, fs, d->categories[c]);
        double lw, lh;
        label_size(l, &lw, &lh);
        g_object_unref(l);
        turn |= lw > cat_w - 2;
        cat_label_h = fmax(cat_label_h, lh);
    }
    if (turn)
        for (size_t c = 0; c < d->category_count; c++) {
            PangoLayout *l = label(ctx, font, fs, d->categories[c]);
            double lw, lh;
            label_size(l, &lw, &lh);
            g_object_unref(l);
            cat_label_h = fmax(cat_label_h, lw);
        }
    cat_label_h = fmin(cat_label_h, h * 0.4);
    double plot_y = y + pad + legend_h + 1.5 * yh, plot_h = y + h - pad - cat_label_h - pad - plot_y;
    if (plot_h < 20)
        plot_h = 20;

    /* Grid and axis labels. */
    cairo_set_line_width(cr, 0.4);
    for (double v = 0; v <= top + step / 2; v += step) {
        double gy = plot_y + plot_h - v / top * plot_h;
        cairo_set_source_rgb(cr, v == 0 ? 0 : 0.78, v == 0 ? 0 : 0.78, v == 0 ? 0 : 0.78);
        cairo_move_to(cr, plot_x, gy);
        cairo_line_to(cr, plot_x + plot_w, gy);
        cairo_stroke(cr);
        format_value(v, step < 1 ? 1 : 0, buf, sizeof buf);
        PangoLayout *l = label(ctx, font, fs, buf);
        cairo_set_source_rgb(cr, 0, 0, 0);
        label_draw(cr, l, plot_x - pad, gy, 1, 0.5);
        g_object_unref(l);
    }
    if (d->unit) {
        PangoLayout *l = label(ctx, font, fs, d->unit);
        label_draw(cr, l, plot_x - pad, plot_y - yh / 2 - 1, 1, 1);
        g_object_unref(l);
    }

    /* Bars, with their values on top. */
    size_t ns = d->series_count ? d->series_count : 1;
    double group_w = cat_w * 0.7, bar_w = group_w / (double)ns;
    for (size_t c = 0; c < d->category_count; c++) {
        double gx = plot_x + cat_w * (double)c + (cat_w - group_w) / 2;
        for (size_t s = 0; s < d->series_count; s++) {
            double v = d->series[s].values[c], bh = v / top * plot_h;
            const double *rgb = series_rgb[s % SERIES_COLOURS];
            cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
            cairo_rectangle(cr, gx + bar_w * (double)s, plot_y + plot_h - bh, bar_w * 0.92, bh);
            cairo_fill(cr);
            format_value(v, d->decimals, buf, sizeof buf);
            PangoLayout *l = label(ctx, font, fs * 0.85, buf);
            cairo_set_source_rgb(cr, 0, 0, 0);
            label_draw(cr, l, gx + bar_w * ((double)s + 0.46), plot_y + plot_h - bh - 1, 0.5, 1);
            g_object_unref(l);
        }
        PangoLayout *l = label(ctx, font, fs, d->categories[c]);
        double cx = plot_x + cat_w * ((double)c + 0.5), cy = plot_y + plot_h + pad / 2;
        if (turn) {
            cairo_save(cr);
            cairo_translate(cr, cx, cy);
            cairo_rotate(cr, M_PI / 2);
            label_draw(cr, l, 0, 0, 0, 0.5);
            cairo_restore(cr);
        } else {
            label_draw(cr, l, cx, cy, 0.5, 0);
        }
        g_object_unref(l);
    }

    /* Legend, top right. */
    if (d->series_count > 1) {
        double lx = x + w - pad;
        for (size_t s = d->series_count; s-- > 0;) {
            PangoLayout *l = label(ctx, font, fs, d->series[s].name);
            double lw, lh;
            label_size(l, &lw, &lh);
            cairo_set_source_rgb(cr, 0, 0, 0);
            label_draw(cr, l, lx, y + pad, 1, 0);
            lx -= lw + 3;
            const double *rgb = series_rgb[s % SERIES_COLOURS];
            cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
            cairo_rectangle(cr, lx - lh * 0.8, y + pad + lh * 0.1, lh * 0.8, lh * 0.8);
            cairo_fill(cr);
            lx -= lh * 0.8 + 10;
            g_object_unref(l);
        }
    }
    g_object_unref(ctx);
    cairo_restore(cr);
    return TB_OK;
}
