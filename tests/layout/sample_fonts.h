/* The fonts the layout tests and the typesetting bench set with: the default roles (DESIGN §3,
 * as templates/_base gives them) over the Debian packages' files; TeX Live's Fandol fonts are
 * not on fontconfig's path, so their files are added (typeface_new corrects the Bold one's
 * weight). */
#ifndef TB_SAMPLE_FONTS_H
#define TB_SAMPLE_FONTS_H

#include "typeface.h"

#define SAMPLE_FANDOL "/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol/"

static inline typeface *
sample_typeface(tb_err *err)
{
    static const font_choice roles[FONT_ROLE_COUNT] = {
        [FONT_XIAOBIAOSONG] = {"FandolSong", true},
        [FONT_FANGSONG] = {"FandolFang", false},
        [FONT_HEITI] = {"FandolHei", false},
        [FONT_KAITI] = {"FandolKai", false},
        [FONT_SONGTI] = {"FandolSong", false},
    };
    const char *files[] = {SAMPLE_FANDOL "FandolFang-Regular.otf", SAMPLE_FANDOL "FandolKai-Regular.otf",
                           SAMPLE_FANDOL "FandolSong-Regular.otf", SAMPLE_FANDOL "FandolHei-Regular.otf",
                           SAMPLE_FANDOL "FandolSong-Bold.otf", NULL};
    return typeface_new(roles, files, err);
}

#endif
