#include "tb_features.h"

#include "tvalue.h"

#include <stdio.h>
#include <string.h>

const tv_type tv_bool_type = {.kind = TV_BOOL};
const tv_type tv_number_type = {.kind = TV_NUMBER};
const tv_type tv_string_type = {.kind = TV_STRING};
const tv_type tv_date_type = {.kind = TV_DATE};

int
tv_type_field(const tv_type *t, const char *name, size_t name_len)
{
    if (t == NULL || t->kind != TV_RECORD)
        return -1;
    for (size_t i = 0; i < t->field_count; i++)
        if (strlen(t->fields[i].name) == name_len &&
            memcmp(t->fields[i].name, name, name_len) == 0)
            return (int)i;
    return -1;
}

const char *
tv_type_describe(const tv_type *t, char *buf, size_t len)
{
    static const char *const names[] = {"null", "boolean", "number", "string", "date", "list",
                                        "record"};
    if (t == NULL)
        snprintf(buf, len, "anything");
    else if (t->kind == TV_LIST) {
        char inner[64];
        snprintf(buf, len, "list of %s", tv_type_describe(t->item, inner, sizeof inner));
    } else if (t->kind == TV_RECORD && t->name)
        snprintf(buf, len, "%s", t->name);
    else
        snprintf(buf, len, "%s", names[t->kind]);
    return buf;
}

tv_value
tv_date(cn_date d)
{
    return cn_date_valid(d) ? (tv_value){.kind = TV_DATE, .u.date = d} : tv_null();
}

tv_value
tv_record_new(const tv_type *t, const void *native, const char *origin, tv_value **fields,
              tb_arena *a)
{
    tv_record *r = tb_arena_alloc(a, sizeof *r);
    tv_value *f = tb_arena_array(a, t->field_count + 1, sizeof *f);
    r->type = t, r->fields = f, r->native = native, r->origin = origin;
    if (fields)
        *fields = f;
    return (tv_value){.kind = TV_RECORD, .u.rec = r};
}

tv_value
tv_list(const tv_value *items, size_t count)
{
    return (tv_value){.kind = TV_LIST, .u.list = {items, count}};
}

bool
tv_truthy(tv_value v)
{
    switch (v.kind) {
    case TV_NULL: return false;
    case TV_BOOL: return v.u.b;
    case TV_NUMBER: return v.u.num != 0;
    case TV_STRING: return v.u.str[0] != '\0';
    case TV_DATE: return true;
    case TV_LIST: return v.u.list.count > 0;
    case TV_RECORD: return true;
    }
    return false;
}

int
tv_compare(tv_value a, tv_value b)
{
    if (a.kind != b.kind)
        return a.kind < b.kind ? -1 : 1;
    switch (a.kind) {
    case TV_NULL: return 0;
    case TV_BOOL: return (int)a.u.b - (int)b.u.b;
    case TV_NUMBER: return a.u.num < b.u.num ? -1 : a.u.num > b.u.num;
    case TV_STRING: return strcmp(a.u.str, b.u.str);
    case TV_DATE: return cn_date_cmp(a.u.date, b.u.date);
    case TV_LIST:
        return a.u.list.count < b.u.list.count ? -1 : a.u.list.count > b.u.list.count;
    case TV_RECORD: return 0;
    }
    return 0;
}
