#include "tb_features.h"

#include "typeface.h"

#include <fontconfig/fontconfig.h>
#include <pango/pangofc-fontmap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const role_names[FONT_ROLE_COUNT] = {
    [FONT_XIAOBIAOSONG] = "小标宋 (xiaobiaosong)", [FONT_FANGSONG] = "仿宋 (fangsong)",
    [FONT_HEITI] = "黑体 (heiti)",                 [FONT_KAITI] = "楷体 (kaiti)",
    [FONT_SONGTI] = "宋体 (songti)",
};

struct typeface {
    FcConfig *fc;          /* this typeface's own fonts: system ones plus font_paths */
    PangoFontMap *fontmap;
    PangoContext *context;
    char *family[FONT_ROLE_COUNT];
    bool bold[FONT_ROLE_COUNT];
};

/* Adds a font file to fc's application fonts.  Some faces (TeX Live's Fandol Bold) name a Bold
 * style but declare a regular weight: they would be taken for body text and never for bold, so
 * their weight is corrected to the style's (DESIGN §8).  App fonts are scanned into heap
 * patterns, not cache files, so they may be edited in place. */
static void
add_font_file(FcConfig *fc, const char *path)
{
    FcFontSet *before = FcConfigGetFonts(fc, FcSetApplication);
    int first = before ? before->nfont : 0;
    if (!FcConfigAppFontAddFile(fc, (const FcChar8 *)path))
        return;
    FcFontSet *fs = FcConfigGetFonts(fc, FcSetApplication);
    for (int i = first; fs && i < fs->nfont; i++) {
        FcChar8 *style = NULL;
        int weight = 0;
        if (FcPatternGetString(fs->fonts[i], FC_STYLE, 0, &style) == FcResultMatch &&
            strcmp((const char *)style, "Bold") == 0 &&
            FcPatternGetInteger(fs->fonts[i], FC_WEIGHT, 0, &weight) == FcResultMatch &&
            weight < FC_WEIGHT_BOLD) {
            FcPatternDel(fs->fonts[i], FC_WEIGHT);
            FcPatternAddInteger(fs->fonts[i], FC_WEIGHT, FC_WEIGHT_BOLD);
        }
    }
}

/* True when fontconfig has a font whose family (any of its names) is exactly family. */
static bool
family_installed(FcConfig *fc, const char *family)
{
    FcPattern *pat = FcPatternCreate();
    FcPatternAddString(pat, FC_FAMILY, (const FcChar8 *)family);
    FcObjectSet *os = FcObjectSetBuild(FC_FAMILY, NULL);
    FcFontSet *fs = FcFontList(fc, pat, os);
    bool found = fs && fs->nfont > 0;
    if (fs)
        FcFontSetDestroy(fs);
    FcObjectSetDestroy(os);
    FcPatternDestroy(pat);
    return found;
}

typeface *
typeface_new(const font_choice roles[FONT_ROLE_COUNT], const char *const *font_paths, tb_err *err)
{
    /* A private fontconfig configuration, not the process-wide one: an office's own fonts are
     * visible to its documents only, even when several offices render in one process. */
    FcConfig *fc = FcInitLoadConfigAndFonts();
    if (fc == NULL) {
        tb_err_set(err, TB_ELIB, "fontconfig: could not load its configuration");
        return NULL;
    }
    for (size_t i = 0; font_paths && font_paths[i]; i++) {
        struct stat st;
        if (stat(font_paths[i], &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            FcConfigAppFontAddDir(fc, (const FcChar8 *)font_paths[i]);
        else
            add_font_file(fc, font_paths[i]);
    }
    for (int r = 0; r < FONT_ROLE_COUNT; r++)
        if (roles[r].family == NULL || !family_installed(fc, roles[r].family)) {
            FcConfigDestroy(fc);
            tb_err_set(err, TB_ENOTFOUND,
                       "font role %s: family '%s' is not installed (scripts/install-deps.sh "
                       "installs the defaults; an office may remap roles in office.xml)",
                       role_names[r], roles[r].family ? roles[r].family : "(none)");
            return NULL;
        }
    typeface *tf = tb_xcalloc(1, sizeof *tf);
    tf->fc = fc;
    tf->fontmap = pango_cairo_font_map_new();
    pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(tf->fontmap), fc);
    tf->context = pango_font_map_create_context(tf->fontmap);
    /* Metrics must not be hinted or rounded: the character grid is set in fractions of a point. */
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    pango_cairo_context_set_font_options(tf->context, fo);
    cairo_font_options_destroy(fo);
    pango_context_set_round_glyph_positions(tf->context, FALSE);
    pango_cairo_context_set_resolution(tf->context, 72.0); /* 1 Pango point = 1 PDF point */
    for (int r = 0; r < FONT_ROLE_COUNT; r++) {
        tf->family[r] = tb_xstrdup(roles[r].family);
        tf->bold[r] = roles[r].bold;
    }
    return tf;
}

void
typeface_free(typeface *tf)
{
    if (tf == NULL)
        return;
    for (int r = 0; r < FONT_ROLE_COUNT; r++)
        free(tf->family[r]);
    g_object_unref(tf->context);
    g_object_unref(tf->fontmap);
    FcConfigDestroy(tf->fc);
    free(tf);
}

PangoFontDescription *
typeface_describe(const typeface *tf, font_role role, double size_pt)
{
    PangoFontDescription *d = pango_font_description_new();
    pango_font_description_set_family(d, tf->family[role]);
    pango_font_description_set_weight(d, tf->bold[role] ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_font_description_set_absolute_size(d, size_pt * PANGO_SCALE);
    return d;
}

PangoContext *
typeface_context(const typeface *tf)
{
    return tf->context;
}
