/* A small, bounds-checked PDF object reader for signing (internal to src/sign).
 *
 * It understands exactly what an incremental update needs: classic cross-reference tables (with
 * subsections and a /Prev chain; the newest definition of an object wins), trailers, and direct
 * objects (dictionaries, arrays, names, strings, numbers, references, keywords).  It does not
 * decode streams, object streams or cross-reference streams (those give TB_EFORMAT).
 *
 * Values are spans into the caller's buffer, which must stay alive and unchanged while a
 * pdfobj_doc refers to it.  Every input is untrusted: every read is bounds-checked, nesting is
 * capped at PDFOBJ_MAX_DEPTH, and malformed input gives TB_EFORMAT with a message. */
#ifndef TB_PDFOBJ_H
#define TB_PDFOBJ_H

#include "tb_err.h"

#include <stdbool.h>
#include <stddef.h>

enum {
    PDFOBJ_MAX_DEPTH = 64,         /* nesting of arrays / dictionaries */
    PDFOBJ_MAX_OBJECTS = 8388608,  /* highest object number accepted (PDF's own limit) */
    PDFOBJ_MAX_XREF_SECTIONS = 512 /* length of the /Prev chain */
};

typedef enum pdfobj_kind {
    PDFOBJ_NONE = 0,
    PDFOBJ_DICT,
    PDFOBJ_ARRAY,
    PDFOBJ_NAME,
    PDFOBJ_STRING, /* (literal) */
    PDFOBJ_HEX,    /* <hex> */
    PDFOBJ_NUMBER,
    PDFOBJ_REF, /* n g R */
    PDFOBJ_KEYWORD
} pdfobj_kind;

typedef struct pdfobj_val {
    pdfobj_kind kind;
    size_t start, end; /* the value's bytes in the file: [start, end) */
    long long num;     /* NUMBER: value if is_int; REF: object number */
    int gen;           /* REF: generation */
    bool is_int;       /* NUMBER without fraction, fits in long long */
} pdfobj_val;

typedef struct pdfobj_entry {
    size_t offset; /* of "n g obj" */
    int gen;
    bool in_use; /* 'n' entry */
    bool known;  /* some xref section defined it */
} pdfobj_entry;

/* One entry of one cross-reference section, as written there. */
typedef struct pdfobj_xentry {
    long long num;
    size_t offset;
    int gen;
    bool in_use;
} pdfobj_xentry;

/* One revision: a cross-reference section, its trailer and where its "%%EOF" line ends. */
typedef struct pdfobj_section {
    size_t xref_at;       /* offset of "xref" */
    size_t end;           /* after "%%EOF" and its end-of-line; the trailer's end if none */
    pdfobj_val trailer;
    size_t first, count;  /* its entries: entries[first .. first + count) */
} pdfobj_section;

typedef struct pdfobj_doc {
    const unsigned char *p;
    size_t len;
    pdfobj_entry *xref; /* indexed by object number, xref_len entries */
    size_t xref_len;
    long long size;     /* /Size of the newest trailer (at least xref_len) */
    size_t startxref;   /* offset of the newest xref section */
    pdfobj_val trailer; /* the newest trailer dictionary */
    pdfobj_section *sections; /* oldest first: sections[nsections - 1] is the newest */
    size_t nsections;
    pdfobj_xentry *entries;   /* of every section */
    size_t nentries;
} pdfobj_doc;

/* Reads the cross-reference chain of the PDF in p[0, len): finds startxref at the end, reads
 * each xref table and trailer along /Prev.  On success d must be closed with pdfobj_doc_close;
 * on failure d holds nothing.  TB_EFORMAT for anything malformed or unsupported. */
tb_code pdfobj_doc_open(pdfobj_doc *d, const unsigned char *p, size_t len, tb_err *err);

/* Frees what pdfobj_doc_open allocated.  NULL ok. */
void pdfobj_doc_close(pdfobj_doc *d);

/* Parses one direct value starting at pos (after optional whitespace and comments).
 * TB_EFORMAT on malformed or too deeply nested input. */
tb_code pdfobj_parse(const pdfobj_doc *d, size_t pos, pdfobj_val *out, tb_err *err);

/* Loads indirect object num: checks its "num gen obj" header and parses its value.  gen_out
 * may be NULL.  TB_EFORMAT if the object is missing, free or malformed. */
tb_code pdfobj_load(const pdfobj_doc *d, long long num, pdfobj_val *out, int *gen_out,
                    tb_err *err);

/* If v is a reference, loads the object it names into out; otherwise copies v. */
tb_code pdfobj_resolve(const pdfobj_doc *d, const pdfobj_val *v, pdfobj_val *out, tb_err *err);

/* Iterates the entries of a parsed dictionary: start with *cursor = 0; each call gives the next
 * key (a NAME) and value, false at the end. */
bool pdfobj_dict_next(const pdfobj_doc *d, const pdfobj_val *dict, size_t *cursor,
                      pdfobj_val *key, pdfobj_val *val);

/* Parses the object at a cross-reference offset ("num gen obj value"), checking the header
 * names num and gen.  For reading an older definition of an object (a revision's entry). */
tb_code pdfobj_load_at(const pdfobj_doc *d, long long num, int gen, size_t offset,
                       pdfobj_val *out, tb_err *err);

/* True when the object whose value is v is a stream (the keyword "stream" follows it). */
bool pdfobj_is_stream(const pdfobj_doc *d, const pdfobj_val *v);

/* Structural equality of two values of the same document: numbers by value, names, strings and
 * keywords by their bytes, references by number and generation, dictionaries by their entries
 * in any order, arrays item by item. */
bool pdfobj_equal(const pdfobj_doc *d, const pdfobj_val *a, const pdfobj_val *b);

/* Looks key (without the slash, e.g. "Root") up in a parsed dictionary.  False if absent or if
 * dict is not a dictionary. */
bool pdfobj_dict_get(const pdfobj_doc *d, const pdfobj_val *dict, const char *key,
                     pdfobj_val *out);

/* Iterates the items of a parsed array: start with *cursor = 0. */
bool pdfobj_array_next(const pdfobj_doc *d, const pdfobj_val *arr, size_t *cursor,
                       pdfobj_val *item);

/* True when v is the name /name (name given without the slash). */
bool pdfobj_is_name(const pdfobj_doc *d, const pdfobj_val *v, const char *name);

#endif
