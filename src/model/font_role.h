/* Fonts are roles, not names (DESIGN §3): a template asks for 仿宋, the office profile says which
 * installed family plays it. */
#ifndef TB_FONT_ROLE_H
#define TB_FONT_ROLE_H

#include <stdbool.h>

typedef enum font_role {
    FONT_XIAOBIAOSONG, /* 小标宋: titles, red header */
    FONT_FANGSONG,     /* 仿宋: body */
    FONT_HEITI,        /* 黑体: level-1 headings, 附件 label */
    FONT_KAITI,        /* 楷体: level-2 headings */
    FONT_SONGTI,       /* 宋体: page numbers */
    FONT_ROLE_COUNT
} font_role;

typedef struct font_choice {
    const char *family; /* fontconfig family, e.g. "FandolFang" */
    bool bold;
} font_choice;

#endif
