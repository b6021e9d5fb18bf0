#include "tb_features.h"

#include "qrmark.h"

#include <qrencode.h>
#include <stddef.h>

bool
qrmark_draw(cairo_t *cr, const char *text, double x, double y, double size_pt)
{
    QRcode *qr = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
    if (qr == NULL || qr->width <= 0) {
        QRcode_free(qr);
        return false;
    }
    const int n = qr->width;
    const double m = size_pt / n;
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    /* One rectangle per run of dark modules in a row: fewer path segments, no hairline seams
     * between neighbours in a rasteriser. */
    for (int r = 0; r < n; r++)
        for (int c = 0; c < n;) {
            if (!(qr->data[r * n + c] & 1)) {
                c++;
                continue;
            }
            int end = c;
            while (end < n && (qr->data[r * n + end] & 1))
                end++;
            cairo_rectangle(cr, x + c * m, y + r * m, (end - c) * m, m);
            c = end;
        }
    cairo_fill(cr);
    cairo_restore(cr);
    QRcode_free(qr);
    return true;
}
