/* templates/_base, compiled in (cmake/Embed.cmake): the defaults every office inherits. */
#include "tb_features.h"

#include "tpl_int.h"

#include <string.h>

extern const char *const tpl_base_office, *const tpl_base_notice, *const tpl_base_patch_table,
    *const tpl_base_patch_maps, *const tpl_base_monthly,
    *const tpl_base_tables, *const tpl_base_acceptance,
    *const tpl_base_dossier;

const char *
tpl_base_file(const char *name)
{
    const struct { const char *name, *text; } files[] = {
        {"office.xml", tpl_base_office},
        {"notice.xml", tpl_base_notice},
        {"patch-table.xml", tpl_base_patch_table},
        {"patch-maps.xml", tpl_base_patch_maps},
        {"monthly.xml", tpl_base_monthly},
        {"tables.xml", tpl_base_tables},
        {"acceptance.xml", tpl_base_acceptance},
        {"dossier.xml", tpl_base_dossier},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (strcmp(files[i].name, name) == 0)
            return files[i].text;
    return NULL;
}
