/* The data a template sees: a small typed value model (records with named fields, lists,
 * numbers, strings, dates, booleans).  Each document kind describes its data with static types
 * (tv_type) so a template's references are checked when it is loaded; src/docs fills values of
 * those types from the patches and the office.  Plain values, arena-owned, no I/O. */
#ifndef TB_TVALUE_H
#define TB_TVALUE_H

#include "cn_date.h"
#include "tb_arena.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum tv_kind {
    TV_NULL = 0, /* absent (a patch without 违法类型): `default('—')` replaces it */
    TV_BOOL,
    TV_NUMBER,
    TV_STRING,
    TV_DATE,
    TV_LIST,
    TV_RECORD,
} tv_kind;

typedef struct tv_type tv_type;

typedef struct tv_field {
    const char *name;
    const tv_type *type;
    const char *doc; /* one line for docs/templates.md and "did you mean" lists */
} tv_field;

struct tv_type {
    tv_kind kind;
    const char *name;      /* records: "patch", "township"; others: NULL */
    const tv_field *fields; /* records */
    size_t field_count;
    const tv_type *item;   /* lists: the item type */
};

extern const tv_type tv_bool_type, tv_number_type, tv_string_type, tv_date_type;

typedef struct tv_value tv_value;
typedef struct tv_record tv_record;

struct tv_value {
    tv_kind kind;
    union {
        bool b;
        double num;
        const char *str;
        cn_date date;
        struct {
            const tv_value *items;
            size_t count;
        } list;
        const tv_record *rec;
    } u;
};

struct tv_record {
    const tv_type *type;
    const tv_value *fields; /* in the order of type->fields */
    const void *native;     /* the model object the record stands for (a patch), or NULL */
    const char *origin;     /* "record 7 (139901SJBG24210019)", for messages; may be NULL */
};

/* Field index of name in a record type, or -1. */
int tv_type_field(const tv_type *t, const char *name, size_t name_len);

/* "string", "number", "list of patch", "patch" ... */
const char *tv_type_describe(const tv_type *t, char *buf, size_t len);

static inline tv_value
tv_null(void)
{
    return (tv_value){.kind = TV_NULL};
}
static inline tv_value
tv_num(double x)
{
    return (tv_value){.kind = TV_NUMBER, .u.num = x};
}
static inline tv_value
tv_boolean(bool b)
{
    return (tv_value){.kind = TV_BOOL, .u.b = b};
}
/* NULL or "" -> TV_NULL: an empty field of a patch file is absent. */
static inline tv_value
tv_str(const char *s)
{
    return s && s[0] ? (tv_value){.kind = TV_STRING, .u.str = s} : tv_null();
}
/* An invalid date (year 0) -> TV_NULL. */
tv_value tv_date(cn_date d);

/* A record of type t with its fields filled in by the caller: fields[i] is type->fields[i].
 * Returns the record's writable field array via *fields. */
tv_value tv_record_new(const tv_type *t, const void *native, const char *origin,
                       tv_value **fields, tb_arena *a);
tv_value tv_list(const tv_value *items, size_t count);

/* Truth of a value in <if test>: false, null, 0, "" and the empty list are false. */
bool tv_truthy(tv_value v);

/* <0, 0, >0; values of different kinds order by kind (null first). */
int tv_compare(tv_value a, tv_value b);

#endif
