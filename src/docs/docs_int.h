/* Private to src/docs: the render context's body. */
#ifndef TB_DOCS_INT_H
#define TB_DOCS_INT_H

#include "gongwen.h"
#include "map_panel.h"
#include "pdfsig.h"
#include "render.h"
#include "stats.h"
#include "tb_arena.h"
#include "tpl.h"
#include "tpl_doc.h"
#include "typeface.h"

/* What an office is, read once: its profile, its templates (checked against their data), its
 * signer and seal, its imagery catalogue.  Read-only once opened, so the daemon's workers share
 * one per office. */
struct render_office {
    tb_arena *arena;          /* owns office, templates */
    char *dir;
    const tpl_office *office;
    const tv_type *office_type, *notice_type, *monthly_type, *tables_type, *acceptance_type,
        *dossier_type;
    const tpl_doc *notice, *monthly, *tables, *acceptance, *dossier;
    pdfsig_signer *signer;
    pdfsig_image *seal_image;
    const map_sources *catalogue; /* NULL: none */
    int *font_fds;            /* the office's own font files, held open (office_fonts) */
    char **font_files;        /* "/proc/self/fd/N" for each, what fontconfig is given */
    size_t font_count;
};

/* One worker's means of rendering: the office (borrowed from a render_office, the same names as
 * there so the kinds read rc->office, rc->notice, ...) and what cannot be shared between threads:
 * the typeface (Pango font maps) and the maps (GDAL datasets, PROJ). */
struct render_ctx {
    render_office *own;       /* opened by render_ctx_open (closed with it); NULL when borrowed */
    const tpl_office *office;
    const tv_type *office_type;  /* office.* as templates see it (its own rules) */
    const tv_type *notice_type;  /* the notice's data */
    const tpl_doc *notice;       /* checked against notice_type when the context opens */
    const tv_type *monthly_type;
    const tpl_doc *monthly;
    const tv_type *tables_type;
    const tpl_doc *tables;
    const tv_type *acceptance_type;
    const tpl_doc *acceptance;
    const tv_type *dossier_type;
    const tpl_doc *dossier;
    typeface *tf;
    const pdfsig_signer *signer;
    const pdfsig_image *seal_image; /* the seal as the signature's appearance */
    map_ctx *maps;            /* the office's imagery catalogue and map layers */
};

/* Checks, before any document is made, that every patch can be addressed: its township is
 * named (XZQMC or the office's <townships>) and its code is a township's.  Errors name the
 * file, record, patch and field (exit 2). */
tb_code notice_check_townships(const render_ctx *rc, const patch *const *patches, size_t count,
                               const char *file, tb_err *err) TB_MUST_CHECK;

/* Loads the office's signer (its key, certificate and chain) and its seal image (at 300 dpi)
 * as the signature appearance.  On failure both are NULL and err names the file. */
tb_code docs_office_signing(const tpl_office *o, pdfsig_signer **signer, pdfsig_image **seal,
                            tb_err *err) TB_MUST_CHECK;

/* Typesets a bound document and signs it (the seal as the signature's appearance).  docno NULL
 * or "": a 样稿 (watermark, no 发文字号, no verification mark).  verify_code (NULL = none): the
 * registry's 验证码, printed with its QR code (issue.h) below the last page's text block.
 * reason is the signature's reason. */
tb_code docs_typeset_sign(render_ctx *rc, dt_doc *doc, const render_options *opt,
                          const char *docno, const char *verify_code, const char *reason,
                          tb_buf *out, tb_err *err) TB_MUST_CHECK;

/* 军用土地 (docs/military.md): when any of patches is military, adds a 附注 below the date
 * (after the template's own) saying the document goes by 机要 channel only, never over a
 * network, and naming those patches.  The template cannot leave it out.  Returns how many
 * patches it names. */
size_t docs_military_note(dt_doc *doc, const patch *const *patches, size_t count, tb_arena *a);

/* The 发文字号 of document `number` of kind in year into docno; number 0 (a 样稿) leaves it "". */
tb_code docs_docno(const tpl_office *o, const char *kind, int year, int number, char *docno,
                   size_t size, tb_err *err) TB_MUST_CHECK;

/* The data record of a kind: values[i] goes to the field named names[i] of type. */
tv_value docs_record(const tv_type *type, const char *const *names, const tv_value *values,
                     size_t count, tb_arena *a);

/* The signature's reason: "<what> <docno> 验证码 <code>", or "<what> 样稿（未编号，未登记）" for a
 * preview (docno ""). */
const char *docs_reason(const char *what, const char *docno, const char *verify_code,
                        tb_arena *a);

/* What every 月报 of one run shares: the figures (one computation) and the batch's year. */
typedef struct monthly_input {
    const stats_monthly *monthly;
    int year;
} monthly_input;

/* One 月报: subject is a township's progress (patches: that township's patches at the cut-off,
 * for its overview map) or NULL for the county roll-up.  number 0 is a 样稿. */
tb_code monthly_render(render_ctx *rc, const monthly_input *in, const stats_progress *subject,
                       const patch *const *patches, size_t count, const render_options *opt,
                       int number, const char *verify_code, tb_buf *out,
                       tb_err *err) TB_MUST_CHECK;

/* What the statistical tables state: the figures at the date per township and for the county,
 * and the classification (违法类型 rows, ratios) of each township and of the county. */
typedef struct tables_input {
    const stats_monthly *monthly;
    const stats_classification *const *township_classes; /* monthly->township_count */
    const stats_classification *county_class;
    const patch *const *patches; /* every patch, by township and id: one 登记卡 each */
    size_t patch_count;
    int year;
} tables_input;

/* The tables as one PDF (appended to out) and, from the same bound tables, an XLSX workbook
 * written to a temporary beside xlsx_path (*xlsx_tmp, malloc'd; the caller publishes or unlinks
 * it). */
tb_code tables_render(render_ctx *rc, const tables_input *in, const render_options *opt,
                      int number, const char *verify_code, const char *xlsx_path,
                      char **xlsx_tmp, tb_buf *out, tb_err *err) TB_MUST_CHECK;

/* One 验收意见书: verdicts[0..count) are rectified patches of one township, by id (one of them
 * unless the form is per township).  number 0 is a 样稿. */
tb_code acceptance_render(render_ctx *rc, const acceptance_verdict *verdicts, size_t count,
                          bool per_township, const render_options *opt, int number,
                          const char *verify_code, tb_buf *out, tb_err *err) TB_MUST_CHECK;

/* One township's 约谈问责卷宗: its 约谈 finding under the office's rules, its illegal patches
 * with what the store holds on each (cases, by id), the earliest record (起止日期) and the batch's
 * year. */
typedef struct dossier_input {
    const interview_finding *finding;
    const char *grounds;         /* stats_interview_grounds */
    const interview_rules *rules;
    const dossier_case *cases;
    size_t case_count;
    cn_date start;
    int year;
} dossier_input;

/* The dossier as one signed PDF; patches are the cases' patches (for the maps' neighbours and
 * the 机要 note).  number 0 is a 样稿. */
tb_code dossier_render(render_ctx *rc, const dossier_input *in, const patch *const *patches,
                       size_t count, const render_options *opt, int number,
                       const char *verify_code, tb_buf *out, tb_err *err) TB_MUST_CHECK;

#endif
