/* The fonts a process renders with: a Pango font map plus one resolved family per role.  Made
 * once and shared by every document (font loading is the slow part of start-up); not
 * thread-safe: one per worker thread. */
#ifndef TB_TYPEFACE_H
#define TB_TYPEFACE_H

#include "font_role.h"
#include "tb_err.h"

#include <pango/pangocairo.h>

typedef struct typeface typeface;

/* Makes a private fontconfig configuration (the system's fonts) and adds each font file or
 * directory of font_paths (NULL-terminated, may be NULL; missing ones are skipped) to it only
 * (so one office's fonts never reach another's documents), then checks that every role's family
 * is installed: a missing one is TB_ENOTFOUND naming the role and family.  Owned:
 * typeface_free. */
typeface *typeface_new(const font_choice roles[FONT_ROLE_COUNT], const char *const *font_paths,
                       tb_err *err);
void typeface_free(typeface *tf); /* NULL ok */

/* A font description for role at size_pt (borrowed pattern, caller frees the result). */
PangoFontDescription *typeface_describe(const typeface *tf, font_role role, double size_pt);

/* The Pango context for making layouts (borrowed). */
PangoContext *typeface_context(const typeface *tf);

#endif
