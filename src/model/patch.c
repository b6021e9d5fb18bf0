#include "tb_features.h"

#include "patch.h"

#include <string.h>
#include <strings.h>

/* Names and accepted spellings, in one table each (STYLE R3). */
static const struct {
    legality value;
    const char *name;
    const char *alias;
} legalities[] = {
    {LEGALITY_LEGAL, "合法用地", "合法"},
    {LEGALITY_ILLEGAL, "违法用地", "违法"},
    {LEGALITY_OTHER, "其他用地", "其他"},
};

static const struct {
    rectify_state value;
    const char *name;
    const char *alias;
} states[] = {
    {RECTIFY_PENDING, "未整改", NULL},     {RECTIFY_ONGOING, "整改中", NULL},
    {RECTIFY_DONE, "已整改", "整改到位"}, {RECTIFY_ACCEPTED, "已验收", "销号"},
    {RECTIFY_CARRIED, "存违挂账", NULL},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

bool
legality_parse(const char *s, legality *out)
{
    for (size_t i = 0; s && i < COUNT(legalities); i++)
        if (strcmp(s, legalities[i].name) == 0 || strcmp(s, legalities[i].alias) == 0) {
            *out = legalities[i].value;
            return true;
        }
    return false;
}

const char *
legality_name(legality l)
{
    for (size_t i = 0; i < COUNT(legalities); i++)
        if (legalities[i].value == l)
            return legalities[i].name;
    return "";
}

bool
rectify_state_parse(const char *s, rectify_state *out)
{
    if (s == NULL || s[0] == '\0') {
        *out = RECTIFY_NONE;
        return true;
    }
    for (size_t i = 0; i < COUNT(states); i++)
        if (strcmp(s, states[i].name) == 0 ||
            (states[i].alias && strcmp(s, states[i].alias) == 0)) {
            *out = states[i].value;
            return true;
        }
    return false;
}

const char *
rectify_state_name(rectify_state s)
{
    for (size_t i = 0; i < COUNT(states); i++)
        if (states[i].value == s)
            return states[i].name;
    return "";
}

int
patch_quarter_number(const char *jd)
{
    static const char *const forms[4][4] = {
        {"1", "Q1", "一", "第一季度"},
        {"2", "Q2", "二", "第二季度"},
        {"3", "Q3", "三", "第三季度"},
        {"4", "Q4", "四", "第四季度"},
    };
    for (int q = 0; jd && q < 4; q++)
        for (int k = 0; k < 4; k++)
            if (strcasecmp(jd, forms[q][k]) == 0)
                return q + 1;
    return 0;
}
