/* Private to src/docs: the render context's body. */
#ifndef TB_DOCS_INT_H
#define TB_DOCS_INT_H

#include "gongwen.h"
#include "map_panel.h"
#include "pdfsig.h"
#include "render.h"
#include "tb_arena.h"
#include "tpl.h"
#include "typeface.h"

struct render_ctx {
    tb_arena *arena;          /* owns office, templates */
    const tpl_office *office;
    const tpl_notice *notice;
    typeface *tf;
    cairo_surface_t *seal;
    pdfsig_signer *signer;
    pdfsig_image *seal_image; /* the seal as the signature's appearance */
    map_ctx *maps;            /* the office's imagery catalogue and map layers */
};

/* Chinese numeral for 1..99 (一, 十二, 九十九) into out. */
char *docs_cn_numeral(int n, char *out, size_t out_len);

#endif
