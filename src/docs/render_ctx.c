#include "tb_features.h"

#include "docs_int.h"

#include "tb_fs.h"
#include "tpl_imagery.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Fontconfig does not see TeX Live's Fandol fonts by default (DESIGN §8).  The Bold files
 * declare a regular weight; typeface_new corrects it, so that they serve bold only.  An office
 * may also ship its own licensed fonts in <office>/fonts. */
#define FANDOL "/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol/"
static const char *const system_font_files[] = {
    FANDOL "FandolFang-Regular.otf", FANDOL "FandolKai-Regular.otf",
    FANDOL "FandolSong-Regular.otf", FANDOL "FandolHei-Regular.otf",
    FANDOL "FandolSong-Bold.otf",
};

#define MAX_FONT_FILES 256
#define MAX_FONT_DEPTH 3

/* The office's own fonts (<office>/fonts and folders in it) are opened once, beneath the office
 * folder and without following any link, and fontconfig (and FreeType after it) is given
 * /proc/self/fd/N: it reads the very files checked, not whatever the names point to later. */
static tb_code
open_font_folder(render_office *ro, int dirfd, const char *name, int depth, tb_err *err)
{
    DIR *d = fdopendir(dirfd);
    if (d == NULL) {
        close(dirfd);
        return tb_err_set(err, TB_EIO, "%s: %s", name, strerror(errno));
    }
    tb_code rc = TB_OK;
    struct dirent *e;
    while (rc == TB_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        struct stat st;
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISLNK(st.st_mode)) {
            rc = tb_err_set(err, TB_EINVAL, "%s/%s: a symbolic link among the office's fonts "
                            "(links are not followed out of the office folder)", name,
                            e->d_name);
        } else if (S_ISDIR(st.st_mode) && depth < MAX_FONT_DEPTH) {
            int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            char *subname = tb_arena_printf(ro->arena, "%s/%s", name, e->d_name);
            rc = sub < 0 ? tb_err_set(err, TB_EIO, "%s: %s", subname, strerror(errno))
                         : open_font_folder(ro, sub, subname, depth + 1, err);
        } else if (S_ISREG(st.st_mode)) {
            if (ro->font_count == MAX_FONT_FILES) {
                rc = tb_err_set(err, TB_ELIMIT, "%s: more than %d font files", name,
                                MAX_FONT_FILES);
                break;
            }
            int fd = openat(dirfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
            if (fd < 0) {
                rc = tb_err_set(err, TB_EIO, "%s/%s: %s", name, e->d_name, strerror(errno));
                break;
            }
            ro->font_fds = tb_xrealloc(ro->font_fds, (ro->font_count + 1) * sizeof *ro->font_fds);
            ro->font_files =
                tb_xrealloc(ro->font_files, (ro->font_count + 2) * sizeof *ro->font_files);
            ro->font_fds[ro->font_count] = fd;
            ro->font_files[ro->font_count++] = tb_arena_printf(ro->arena, "/proc/self/fd/%d", fd);
            ro->font_files[ro->font_count] = NULL;
        }
    }
    closedir(d);
    return rc;
}

static tb_code
open_office_fonts(render_office *ro, tb_err *err)
{
    tb_err probe = {0};
    int fd = tb_fs_open_beneath(ro->dir, "fonts", O_RDONLY | O_DIRECTORY, &probe);
    if (fd < 0 && probe.code == TB_ENOTFOUND)
        return TB_OK; /* an office without fonts of its own */
    if (fd < 0)
        return tb_err_set(err, probe.code, "%s", probe.msg);
    return open_font_folder(ro, fd, tb_arena_printf(ro->arena, "%s/fonts", ro->dir), 0, err);
}

render_office *
render_office_open(const char *office_dir, tb_err *err)
{
    render_office *ro = tb_xcalloc(1, sizeof *ro);
    ro->arena = tb_arena_new(0);
    ro->dir = tb_xstrdup(office_dir);
    if (!(ro->office = tpl_office_load(office_dir, ro->arena, err)))
        goto fail;
    /* Every template is loaded and checked against its kind's data now, before any document. */
    office_data od = tpl_office_data(ro->office, "notice");
    ro->office_type = docdata_office_type(&od, ro->arena);
    ro->notice_type = docdata_notice_type(ro->office_type, ro->arena);
    if (!(ro->notice = tpl_doc_load(ro->office, "notice", ro->notice_type, ro->arena, err)))
        goto fail;
    ro->monthly_type = docdata_monthly_type(ro->office_type, ro->arena);
    if (!(ro->monthly = tpl_doc_load(ro->office, "monthly", ro->monthly_type, ro->arena, err)))
        goto fail;
    ro->tables_type = docdata_tables_type(ro->office_type, ro->arena);
    if (!(ro->tables = tpl_doc_load(ro->office, "tables", ro->tables_type, ro->arena, err)))
        goto fail;
    ro->acceptance_type = docdata_acceptance_type(ro->office_type, ro->arena);
    if (!(ro->acceptance = tpl_doc_load(ro->office, "acceptance", ro->acceptance_type, ro->arena,
                                        err)))
        goto fail;
    ro->dossier_type = docdata_dossier_type(ro->office_type, ro->arena);
    if (!(ro->dossier = tpl_doc_load(ro->office, "dossier", ro->dossier_type, ro->arena, err)))
        goto fail;
    if (docs_office_signing(ro->office, &ro->signer, &ro->seal_image, err) != TB_OK)
        goto fail;
    if (open_office_fonts(ro, err) != TB_OK)
        goto fail;
    if (ro->office->imagery_catalogue_path &&
        !(ro->catalogue = tpl_imagery_load(ro->office->imagery_catalogue_path,
                                                   ro->office->dir, ro->arena, err)))
        goto fail;
    return ro;

fail:
    render_office_close(ro);
    return NULL;
}

void
render_office_close(render_office *ro)
{
    if (ro == NULL)
        return;
    pdfsig_signer_free(ro->signer);
    pdfsig_image_free(ro->seal_image);
    for (size_t i = 0; i < ro->font_count; i++)
        close(ro->font_fds[i]);
    free(ro->font_fds);
    free(ro->font_files);
    tb_arena_free(ro->arena);
    free(ro->dir);
    free(ro);
}

const tpl_office *
render_office_profile(const render_office *ro)
{
    return ro->office;
}

render_ctx *
render_ctx_for(const render_office *ro, const char *imagery_path, tb_err *err)
{
    render_ctx *rc = tb_xcalloc(1, sizeof *rc);
    rc->office = ro->office;
    rc->office_type = ro->office_type;
    rc->notice_type = ro->notice_type;
    rc->notice = ro->notice;
    rc->monthly_type = ro->monthly_type;
    rc->monthly = ro->monthly;
    rc->tables_type = ro->tables_type;
    rc->tables = ro->tables;
    rc->acceptance_type = ro->acceptance_type;
    rc->acceptance = ro->acceptance;
    rc->dossier_type = ro->dossier_type;
    rc->dossier = ro->dossier;
    rc->signer = ro->signer;
    rc->seal_image = ro->seal_image;
    size_t n = sizeof system_font_files / sizeof *system_font_files;
    const char **fonts = tb_xcalloc(ro->font_count + n + 1, sizeof *fonts);
    for (size_t i = 0; i < ro->font_count; i++)
        fonts[i] = ro->font_files[i];
    for (size_t i = 0; i < n; i++)
        fonts[ro->font_count + i] = system_font_files[i];
    rc->tf = typeface_new(ro->office->fonts, fonts, err);
    free(fonts);
    if (rc->tf == NULL)
        goto fail;
    const char *imagery = imagery_path ? imagery_path : ro->office->imagery_path;
    if (!(rc->maps = map_ctx_open(ro->catalogue, imagery, err)))
        goto fail;
    PangoFontDescription *heiti = typeface_describe(rc->tf, FONT_HEITI, 10.0);
    map_ctx_set_label_font(rc->maps, typeface_context(rc->tf), heiti);
    pango_font_description_free(heiti);
    return rc;

fail:
    render_ctx_close(rc);
    return NULL;
}

render_ctx *
render_ctx_open(const char *office_dir, const char *imagery_path, tb_err *err)
{
    render_office *ro = render_office_open(office_dir, err);
    if (ro == NULL)
        return NULL;
    render_ctx *rc = render_ctx_for(ro, imagery_path, err);
    if (rc == NULL) {
        render_office_close(ro);
        return NULL;
    }
    rc->own = ro;
    return rc;
}

void
render_ctx_close(render_ctx *rc)
{
    if (rc == NULL)
        return;
    map_ctx_close(rc->maps);
    typeface_free(rc->tf);
    render_office_close(rc->own);
    free(rc);
}

const char *
render_ctx_signer_name(const render_ctx *rc)
{
    return pdfsig_signer_name(rc->signer);
}
