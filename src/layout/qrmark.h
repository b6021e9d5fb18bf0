/* The verification mark of an issued document: its 验证码 as a QR code (libqrencode), drawn as
 * vector squares so it stays sharp in print and scans from a photocopy. */
#ifndef TB_QRMARK_H
#define TB_QRMARK_H

#include <cairo.h>
#include <stdbool.h>

/* Draws text (byte mode, error correction level M: a quarter of the code may be soiled) as a
 * QR code filling the square of side size_pt whose top-left corner is (x, y) in cr's user
 * space, in black.  The caller keeps a quiet zone of four modules (size_pt / 6 is enough for
 * the short payloads we print) clear around it.  False when text cannot be encoded. */
bool qrmark_draw(cairo_t *cr, const char *text, double x, double y, double size_pt);

#endif
