/* DESIGN: render_run reads and checks all input, renders and signs every document into memory,
 * and only then writes files, each atomically.  So bad input (exit 2) never leaves a partial
 * set of documents behind, and a crash while writing leaves complete files or none. */
#include "tb_features.h"

#include "docs_int.h"

#include "patch_source.h"
#include "tb_fs.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct built_doc {
    char *path;
    tb_buf pdf;
} built_doc;

typedef struct built_docs {
    built_doc *items;
    size_t count, cap;
} built_docs;

static tb_buf *
built_docs_add(built_docs *d, const char *path)
{
    if (d->count == d->cap)
        d->items = tb_xrealloc(d->items, (d->cap = d->cap ? d->cap * 2 : 8) * sizeof *d->items);
    built_doc *b = &d->items[d->count++];
    b->path = tb_xstrdup(path);
    b->pdf = (tb_buf)TB_BUF_INIT;
    return &b->pdf;
}

static void
built_docs_release(built_docs *d)
{
    for (size_t i = 0; i < d->count; i++) {
        free(d->items[i].path);
        tb_buf_release(&d->items[i].pdf);
    }
    free(d->items);
}

static int
by_township_then_id(const void *x, const void *y)
{
    const patch *a = *(const patch *const *)x, *b = *(const patch *const *)y;
    int c = strcmp(a->admin_code, b->admin_code);
    return c ? c : strcmp(a->id, b->id);
}

/* One notice per township with illegal patches, in township-code order. */
static tb_code
build_notices(render_ctx *rc, const render_request *req, const patch_set *set, built_docs *out,
              tb_err *err)
{
    const patch **illegal = tb_xmalloc_array(set->count + 1, sizeof *illegal);
    size_t n = 0;
    for (size_t i = 0; i < set->count; i++)
        if (set->items[i].legality == LEGALITY_ILLEGAL)
            illegal[n++] = &set->items[i];
    qsort(illegal, n, sizeof *illegal, by_township_then_id);
    tb_code code = TB_OK;
    int number = req->opt.first_number;
    for (size_t i = 0; i < n && code == TB_OK;) {
        size_t j = i;
        while (j < n && strcmp(illegal[j]->admin_code, illegal[i]->admin_code) == 0)
            j++;
        size_t len = strlen(req->out_dir) + strlen(illegal[i]->admin_code) + 16;
        char *path = tb_xmalloc(len);
        snprintf(path, len, "%s/notice-%s.pdf", req->out_dir, illegal[i]->admin_code);
        code = notice_render(rc, illegal + i, j - i, &req->opt, number++,
                             built_docs_add(out, path), err);
        free(path);
        i = j;
    }
    free(illegal);
    return code;
}

static const struct doc_kind {
    const char *name;
    tb_code (*build)(render_ctx *rc, const render_request *req, const patch_set *set,
                     built_docs *out, tb_err *err);
} kinds[] = {
    {"notice", build_notices},
};

const char *const *
render_kind_names(void)
{
    static const char *names[sizeof kinds / sizeof kinds[0] + 1];
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        names[i] = kinds[i].name;
    return names;
}

tb_code
render_run(const render_request *req, render_output_fn *on_file, void *user, tb_err *err)
{
    const struct doc_kind *kind = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].name, req->kind) == 0)
            kind = &kinds[i];
    if (kind == NULL)
        return tb_err_set(err, TB_EINVAL, "unknown document kind '%s' (available: notice)",
                          req->kind);

    tb_arena *a = tb_arena_new(0);
    built_docs docs = {NULL, 0, 0};
    render_ctx *rc = NULL;
    tb_code code = TB_OK;
    patch_set *set = patch_set_load(req->patches_path, req->layer, a, err);
    if (set == NULL || (rc = render_ctx_open(req->office_dir, req->imagery_path, err)) == NULL) {
        code = err->code;
        goto done;
    }
    if ((code = kind->build(rc, req, set, &docs, err)) != TB_OK)
        goto done;
    if ((code = tb_fs_mkdirs(req->out_dir, err)) != TB_OK)
        goto done;
    /* Every document goes to a temporary first; only when all are on disk are they published,
     * as a set: a failure half-way leaves the output folder as it was. */
    char **tmp = tb_xcalloc(docs.count + 1, sizeof *tmp);
    const char **paths = tb_xcalloc(docs.count + 1, sizeof *paths);
    for (size_t i = 0; i < docs.count && code == TB_OK; i++) {
        paths[i] = docs.items[i].path;
        code = tb_fs_write_temp(docs.items[i].path, docs.items[i].pdf.data,
                                docs.items[i].pdf.len, &tmp[i], err);
    }
    if (code == TB_OK)
        code = tb_fs_publish_set(tmp, paths, docs.count, err);
    for (size_t i = 0; i < docs.count; i++) {
        if (code == TB_OK && on_file)
            on_file(user, docs.items[i].path);
        else if (code != TB_OK && tmp[i])
            unlink(tmp[i]);
        free(tmp[i]);
    }
    free(paths);
    free(tmp);

done:
    built_docs_release(&docs);
    render_ctx_close(rc);
    tb_arena_free(a);
    return code;
}
