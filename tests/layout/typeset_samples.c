/* Builds sample documents as doctrees, typesets each through typeset_doc and writes the PDFs
 * into a directory, for tests/integration/typeset_conformance.sh to measure with pdftotext and
 * friends.  Also writes summary.txt: one line per document with its page count and seal place,
 * and the message of each document that must be refused.
 * Usage: typeset_samples <out dir> */
#include "tb_features.h"

#include "tb_arena.h"
#include "tb_fs.h"
#include "typeset.h"
#include "sample_fonts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- building trees ----------------------------------------------------------------------- */

typedef struct blocks {
    dt_block *b;
    size_t n, cap;
    tb_arena *a;
} blocks;

static dt_block *
add(blocks *bl, dt_block_kind kind)
{
    if (bl->n == bl->cap) {
        bl->cap = bl->cap ? 2 * bl->cap : 32;
        bl->b = realloc(bl->b, bl->cap * sizeof *bl->b);
    }
    dt_block *b = &bl->b[bl->n++];
    memset(b, 0, sizeof *b);
    b->kind = kind;
    return b;
}

static dt_text
text(tb_arena *a, const char *s)
{
    dt_run *r = tb_arena_alloc(a, sizeof *r);
    r->text = tb_arena_strdup(a, s);
    return (dt_text){r, 1};
}

static void
para(blocks *bl, const char *s)
{
    add(bl, DT_PARAGRAPH)->text = text(bl->a, s);
}

/* Body text with what a real notice has: ids, areas, dates, quotes, enumerations. */
static const char *const sentences[] = {
    "根据自然资源部2024年度卫片执法工作部署和《示例县2024年度卫片执法工作方案》要求，经内业比对和实地核查，",
    "图斑139901SJBG24210019位于城关镇东关村，监测面积12.35亩，其中耕地8.07亩、永久基本农田0.00亩；",
    "违法类型为未报即用，现状为已建成厂房，建设单位为示例县某建材有限公司。",
    "请你镇接到本通知后，立即组织对上述图斑逐宗开展整改，于2024年12月31日前消除违法状态；",
    "应当拆除复耕、复绿的，拆除地上建（构）筑物并恢复原种植条件；符合规划和供地政策、可以补办手续的，依法完善用地手续。",
    "涉嫌违法的，配合我局立案查处，不得以罚代拆。",
    "整改情况实行月报制度，请于每月20日前将整改进展报送我局执法监察大队。",
    "整改完成后，请及时申请实地验收；逾期未完成整改或整改不到位的，我局将按照“卫片执法约谈问责”有关规定报请县人民政府进行约谈。",
    "各乡镇（街道）要切实履行属地管理责任，做到“早发现、早制止、早报告、早查处”，",
    "确保问题图斑整改到位率达到100%，新增违法用地占耕地比例控制在15%以内。",
};

static void
body(blocks *bl, int paragraphs, int seed)
{
    for (int p = 0; p < paragraphs; p++) {
        char buf[4096] = "";
        int count = 2 + (p + seed) % 4;
        for (int s = 0; s < count; s++)
            strcat(buf, sentences[(p * 3 + s + seed) % (sizeof sentences / sizeof *sentences)]);
        size_t n = strlen(buf);
        if (n >= 3 && strcmp(buf + n - 3, "，") == 0)
            strcpy(buf + n - 3, "。");
        else if (n >= 3 && strcmp(buf + n - 3, "；") == 0)
            strcpy(buf + n - 3, "。");
        para(bl, buf);
    }
}

/* A paragraph of exactly `chars` ideographs: chars ≤ 26 takes one line (after the indent), each
 * further 28 one more. */
static void
han_line(blocks *bl, int chars)
{
    static const char *const han = "本段文字用于排满一行检验版心网格的宽度和行数是否正确无误并且对齐到位";
    char buf[512] = "";
    size_t len = strlen(han), at = 0;
    for (int i = 0; i < chars; i++, at = (at + 3) % len)
        memcpy(buf + 3 * i, han + at, 3); /* every character of han is 3 bytes */
    buf[3 * chars] = 0;
    para(bl, buf);
}

static void
signature(blocks *bl)
{
    dt_block *s = add(bl, DT_SIGNATURE);
    s->label = "示例县自然资源局";
    s->date = "2024年11月20日";
    s->seal = true;
}

static const dt_head file_head = {.mark = "示例县自然资源局文件", .docno = "示自然资发〔2024〕3号"};

/* ---- the documents ------------------------------------------------------------------------ */

typedef struct job {
    const typeface *tf;
    const char *dir;
    cairo_surface_t *seal;
    FILE *summary;
    int failures;
} job;

static tb_code
draw_panel(void *user, cairo_t *cr, const dt_panel *panel, double x, double y, double w, double h,
           tb_err *err)
{
    (void)user, (void)panel, (void)err;
    cairo_set_source_rgb(cr, 0.55, 0.65, 0.5);
    cairo_rectangle(cr, x, y, w, h);
    cairo_fill(cr);
    return TB_OK;
}

static void
emit(job *j, const char *name, const dt_doc *doc, tb_code expect)
{
    tb_buf out = TB_BUF_INIT;
    tb_err err = {0};
    typeset_options opt = {draw_panel, NULL, j->seal, 42};
    typeset_result res;
    tb_code rc = typeset_doc(j->tf, doc, &opt, &out, &res, &err);
    if (rc != expect) {
        fprintf(stderr, "%s: expected code %d, got %d (%s)\n", name, expect, rc, err.msg);
        j->failures++;
    } else if (rc != TB_OK) {
        fprintf(j->summary, "%s refused code=%d message=%s\n", name, rc, err.msg);
    } else {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.pdf", j->dir, name);
        if (tb_fs_write_atomic(path, out.data, out.len, &err) != TB_OK) {
            fprintf(stderr, "%s: %s\n", name, err.msg);
            j->failures++;
        }
        fprintf(j->summary, "%s pages=%d seal_page=%d seal_x=%.2f seal_y=%.2f seal_w=%.2f\n", name,
                res.page_count, res.seal.page, res.seal.x_pt, res.seal.y_pt, res.seal.w_pt);
    }
    tb_buf_release(&out);
}

static dt_table *
patch_table(tb_arena *a, int rows, const char *long_cell)
{
    static const dt_column cols[] = {{12, DT_ALIGN_CENTER}, {45, DT_ALIGN_LEFT}, {20, DT_ALIGN_RIGHT},
                                     {20, DT_ALIGN_RIGHT}, {0, DT_ALIGN_LEFT}};
    dt_row *r = tb_arena_array(a, (size_t)rows + 2, sizeof *r);
    dt_cell *head = tb_arena_array(a, 5, sizeof *head);
    const char *heads[] = {"序号", "图斑编号", "监测面积（亩）", "耕地（亩）", "违法类型"};
    for (int c = 0; c < 5; c++)
        head[c].text = text(a, heads[c]);
    r[0] = (dt_row){head, 5, DT_ROW_HEAD, {0}};
    for (int i = 0; i < rows; i++) {
        dt_cell *c = tb_arena_array(a, 5, sizeof *c);
        c[0].text = text(a, tb_arena_printf(a, "%d", i + 1));
        c[1].text = text(a, tb_arena_printf(a, "139901SJBG2421%04d", i + 1));
        c[2].text = text(a, tb_arena_printf(a, "%d.%02d", 3 + i % 17, (i * 37) % 100));
        c[3].text = text(a, tb_arena_printf(a, "%d.%02d", 1 + i % 5, (i * 13) % 100));
        c[4].text = text(a, long_cell && i == 2 ? long_cell : i % 2 ? "未报即用" : "违法占地");
        c[4].origin.field = "{p.violation} (WFLX)";
        r[i + 1] = (dt_row){c, 5, DT_ROW_BODY,
                            {tb_arena_printf(a, "patches.gpkg record %d (139901SJBG2421%04d)", i + 1, i + 1),
                             "WFLX", NULL}};
    }
    dt_cell *total = tb_arena_array(a, 3, sizeof *total);
    total[0].text = text(a, "合计");
    total[0].colspan = 2;
    total[1].text = text(a, tb_arena_printf(a, "%d个", rows));
    total[2].text = text(a, "—");
    total[2].colspan = 2;
    r[rows + 1] = (dt_row){total, 3, DT_ROW_TOTAL, {0}};
    dt_table *t = tb_arena_alloc(a, sizeof *t);
    *t = (dt_table){cols, 5, r, (size_t)rows + 2, 0, false};
    return t;
}

static void
conformance(job *j, tb_arena *a)
{
    blocks bl = {.a = a};
    add(&bl, DT_TITLE)->text = text(a, "关于限期整改2024年度卫片执法违法用地图斑和做好年度变更调查衔接工作的通知");
    add(&bl, DT_ADDRESSEE)->text = text(a, "城关镇人民政府、东关街道办事处：");
    static const dt_run emphasis[] = {{"现将有关事项通知如下，", 0},
                                      {"请于2024年12月31日前完成整改", DT_RUN_BOLD},
                                      {"，整改情况报", 0},
                                      {"示例县自然资源局执法监察大队", DT_RUN_NOBREAK},
                                      {"。", 0}};
    add(&bl, DT_PARAGRAPH)->text = (dt_text){emphasis, 5};
    body(&bl, 4, 0);
    dt_block *h = add(&bl, DT_HEADING);
    h->level = 1, h->text = text(a, "一、违法用地图斑情况");
    body(&bl, 5, 3);
    h = add(&bl, DT_HEADING);
    h->level = 2, h->text = text(a, "（一）整改要求");
    body(&bl, 6, 5);
    h = add(&bl, DT_HEADING);
    h->level = 3, h->text = text(a, "1.拆除复耕");
    body(&bl, 3, 7);
    dt_text *items = tb_arena_array(a, 2, sizeof *items);
    items[0] = text(a, "违法用地图斑清单");
    items[1] = text(a, "违法用地图斑位置图（共5幅，按图斑编号顺序排列，每幅标注监测面积和前后时相影像日期）");
    dt_block *note = add(&bl, DT_ATTACHMENT_NOTE);
    note->items = items, note->item_count = 2;
    signature(&bl);
    add(&bl, DT_NOTE)->text = text(a, "联系人：张三，联系电话：0312-1234567");
    dt_block *att = add(&bl, DT_ATTACHMENT);
    att->label = "附件1", att->text = text(a, "违法用地图斑清单");
    add(&bl, DT_TABLE)->table = patch_table(a, 60, NULL);
    dt_colophon col = {"县人民政府办公室，县纪委监委，县公安局", "示例县自然资源局办公室", "2024年11月20日"};
    dt_doc doc = {.format = DT_FORMAT_FILE, .head = file_head, .blocks = bl.b, .block_count = bl.n,
                  .colophon = &col, .title = "conformance"};
    emit(j, "conformance", &doc, TB_OK);
    free(bl.b);
}

/* Four lines whose last holds 24 characters: loosened by a little over a character a line, it
 * takes a fifth. */
#define LOOSENABLE 106

/* The body, one-line paragraphs, ends exactly on the last line of page 2 (plain format: 22 lines
 * a page): two lines go over to the seal page, no paragraph can take a line more, so page 2's
 * line spacing opens until its last line is on the block's foot again. */
static void
exact(job *j, tb_arena *a)
{
    blocks bl = {.a = a};
    for (int i = 0; i < 44; i++)
        han_line(&bl, 10 + i % 17);
    signature(&bl);
    dt_colophon col = {NULL, "示例县自然资源局办公室", "2024年11月20日"};
    dt_doc doc = {.format = DT_FORMAT_PLAIN, .blocks = bl.b, .block_count = bl.n, .colophon = &col};
    emit(j, "exact", &doc, TB_OK);
    free(bl.b);
}

/* The body, paragraphs of several lines, ends exactly on the last line of page 2: two paragraphs
 * on page 2 are loosened by a line each, so page 2 stays full and its last two lines run on to
 * the seal page. */
static void
exact_paragraphs(job *j, tb_arena *a)
{
    blocks bl = {.a = a};
    for (int i = 0; i < 11; i++)
        han_line(&bl, LOOSENABLE);
    signature(&bl);
    dt_doc doc = {.format = DT_FORMAT_PLAIN, .blocks = bl.b, .block_count = bl.n};
    emit(j, "exactpara", &doc, TB_OK);
    free(bl.b);
}

/* The body ends on line 21 of page 2: the block fits once page 2's line pitch is tightened. */
static void
one_line_before(job *j, tb_arena *a)
{
    blocks bl = {.a = a};
    for (int i = 0; i < 43; i++)
        han_line(&bl, 10 + i % 17);
    signature(&bl);
    dt_doc doc = {.format = DT_FORMAT_PLAIN, .blocks = bl.b, .block_count = bl.n};
    emit(j, "endline21", &doc, TB_OK);
    free(bl.b);
}

/* The 附件说明 ends on the last line of page 2 and a two-line 附注 follows the date: more than
 * tightening can take, so the body lines above the 附件说明 go over with it; three paragraphs on
 * page 2 take a line more each, and page 2's line spacing opens by the two lines left. */
static void
exact_with_note(job *j, tb_arena *a)
{
    blocks bl = {.a = a};
    for (int i = 0; i < 22; i++)
        han_line(&bl, 10 + i % 17);
    for (int i = 0; i < 3; i++)
        han_line(&bl, LOOSENABLE);
    for (int i = 0; i < 7; i++)
        han_line(&bl, 10 + i % 17);
    dt_text *items = tb_arena_array(a, 2, sizeof *items);
    items[0] = text(a, "违法用地图斑清单");
    items[1] = text(a, "违法用地图斑位置图");
    dt_block *note = add(&bl, DT_ATTACHMENT_NOTE);
    note->items = items, note->item_count = 2;
    signature(&bl);
    add(&bl, DT_NOTE)->text = text(a, "联系人：张三，联系电话：0312-1234567；请于收到本通知之日起三个工作日内"
                                      "将整改方案报送我局执法监察大队");
    dt_doc doc = {.format = DT_FORMAT_PLAIN, .blocks = bl.b, .block_count = bl.n};
    emit(j, "exactnote", &doc, TB_OK);
    free(bl.b);
}

/* The signature block lacks one line: after 18 body lines the seal (42 mm, its top a third of a
 * line below the text) would end 0.4 line below the block. */
static void
short_by_one(job *j, tb_arena *a)
{
    blocks bl = {.a = a};
    for (int i = 0; i < 18; i++)
        han_line(&bl, 26);
    signature(&bl);
    dt_doc doc = {.format = DT_FORMAT_PLAIN, .blocks = bl.b, .block_count = bl.n};
    emit(j, "short1", &doc, TB_OK);
    free(bl.b);
}

static void
cc_three_lines(job *j, tb_arena *a)
{
    blocks bl = {.a = a};
    add(&bl, DT_TITLE)->text = text(a, "关于开展2024年度卫片执法图斑整改验收工作的通知");
    add(&bl, DT_ADDRESSEE)->text = text(a, "各乡镇人民政府、街道办事处：");
    body(&bl, 2, 1);
    signature(&bl);
    bl.b[bl.n - 1].seal = false; /* 不加盖印章: 署名右空二字, the date two characters right of it */
    dt_colophon col = {"县委办公室，县人大常委会办公室，县政府办公室，县政协办公室，县纪委监委，"
                       "县发展和改革局，县财政局，县农业农村局，县住房和城乡建设局，县水利局，"
                       "县公安局",
                       "示例县自然资源局办公室", "2024年11月20日"};
    dt_doc doc = {.format = DT_FORMAT_FILE, .head = file_head, .blocks = bl.b, .block_count = bl.n,
                  .colophon = &col};
    emit(j, "cc3", &doc, TB_OK);
    free(bl.b);
}

static char *
long_text(tb_arena *a, int sentences_wanted)
{
    tb_buf b = TB_BUF_INIT;
    for (int i = 0; i < sentences_wanted; i++)
        tb_buf_append_str(&b, sentences[i % (sizeof sentences / sizeof *sentences)]);
    char *s = tb_arena_strndup(a, (const char *)b.data, b.len);
    tb_buf_release(&b);
    return s;
}

static void
tall_cell(job *j, tb_arena *a)
{
    blocks bl = {.a = a};
    dt_block *att = add(&bl, DT_ATTACHMENT);
    att->label = "附件1", att->text = text(a, "违法用地图斑清单");
    add(&bl, DT_TABLE)->table = patch_table(a, 8, long_text(a, 160));
    dt_doc doc = {.format = DT_FORMAT_PLAIN, .blocks = bl.b, .block_count = bl.n};
    emit(j, "tallcell", &doc, TB_OK);
    free(bl.b);
}

/* A table grouped by 乡镇: 城关镇's cell spans 50 rows (more than a page) beside a 备注 cell of
 * some 40 lines spanning the same rows; 东关街道 spans 4.  Where the group runs over pages, the
 * 乡镇 name is repeated beside its rows on each page and the 备注 continues where it stopped. */
static void
row_spans(job *j, tb_arena *a)
{
    static const dt_column cols[] = {{22, DT_ALIGN_CENTER}, {12, DT_ALIGN_CENTER}, {45, DT_ALIGN_LEFT},
                                     {20, DT_ALIGN_RIGHT}, {0, DT_ALIGN_LEFT}};
    const int groups[] = {50, 4};
    const char *towns[] = {"城关镇", "东关街道"};
    size_t nrows = 1 + 50 + 4;
    dt_row *r = tb_arena_array(a, nrows, sizeof *r);
    dt_cell *head = tb_arena_array(a, 5, sizeof *head);
    const char *heads[] = {"乡镇（街道）", "序号", "图斑编号", "面积（亩）", "备注"};
    for (int c = 0; c < 5; c++)
        head[c].text = text(a, heads[c]);
    r[0] = (dt_row){head, 5, DT_ROW_HEAD, {0}};
    size_t at = 1;
    int n = 0;
    for (int g = 0; g < 2; g++)
        for (int i = 0; i < groups[g]; i++, n++) {
            dt_cell *c = tb_arena_array(a, 5, sizeof *c);
            size_t k = 0;
            if (i == 0) {
                c[k].text = text(a, towns[g]);
                c[k++].rowspan = groups[g];
            }
            c[k++].text = text(a, tb_arena_printf(a, "%d", n + 1));
            c[k++].text = text(a, tb_arena_printf(a, "139901SJBG2421%04d", n + 1));
            c[k++].text = text(a, tb_arena_printf(a, "%d.%02d", 3 + n % 17, (n * 37) % 100));
            if (i == 0) {
                c[k].text = text(a, g == 0 ? long_text(a, 12) : "—");
                c[k++].rowspan = groups[g];
            }
            r[at++] = (dt_row){c, k, DT_ROW_BODY, {0}};
        }
    dt_table *t = tb_arena_alloc(a, sizeof *t);
    *t = (dt_table){cols, 5, r, nrows, 0, false};
    blocks bl = {.a = a};
    dt_block *att = add(&bl, DT_ATTACHMENT);
    att->label = "附件1", att->text = text(a, "违法用地图斑清单（按乡镇）");
    add(&bl, DT_TABLE)->table = t;
    dt_doc doc = {.format = DT_FORMAT_PLAIN, .blocks = bl.b, .block_count = bl.n};
    emit(j, "rowspan", &doc, TB_OK);
    fprintf(j->summary, "rowspan_note %s\n", long_text(a, 12));
    free(bl.b);
}

static void
over_limit(job *j, tb_arena *a)
{
    blocks bl = {.a = a};
    add(&bl, DT_TABLE)->table = patch_table(a, 400, NULL);
    dt_doc doc = {.format = DT_FORMAT_PLAIN, .blocks = bl.b, .block_count = bl.n, .page_limit = 5};
    emit(j, "limit", &doc, TB_ELIMIT);
    /* A cell so long it would run over the default limit on its own: refused, not endless. */
    bl.n = 0;
    add(&bl, DT_TABLE)->table = patch_table(a, 3, long_text(a, 30000));
    dt_doc huge = {.format = DT_FORMAT_PLAIN, .blocks = bl.b, .block_count = bl.n};
    emit(j, "hugecell", &huge, TB_ELIMIT);
    free(bl.b);
}

/* Tables started lower and lower on a page, one a page: wherever the head row fits but the first
 * body row does not, the head row moves to the next page with it (never alone at a page foot). */
static void
head_keep(job *j, tb_arena *a)
{
    blocks bl = {.a = a};
    for (int k = 0; k < 6; k++) {
        for (int i = 0; i < 16 + k; i++)
            han_line(&bl, 10);
        add(&bl, DT_TABLE)->table = patch_table(a, 3, NULL);
        if (k < 5)
            add(&bl, DT_PAGE_BREAK);
    }
    dt_doc doc = {.format = DT_FORMAT_PLAIN, .blocks = bl.b, .block_count = bl.n};
    emit(j, "headkeep", &doc, TB_OK);
    free(bl.b);
}

/* 信函格式, duplex, 目录 with sections, a landscape attachment, figures and the watermark. */
static void
extras(job *j, tb_arena *a)
{
    blocks bl = {.a = a};
    add(&bl, DT_TITLE)->text = text(a, "关于报送2024年度卫片执法工作总结的函");
    add(&bl, DT_ADDRESSEE)->text = text(a, "市自然资源和规划局：");
    add(&bl, DT_CONTENTS);
    dt_block *s = add(&bl, DT_SECTION);
    s->level = 1, s->text = text(a, "一、工作开展情况");
    dt_block *h = add(&bl, DT_HEADING);
    h->level = 1, h->text = text(a, "一、工作开展情况");
    body(&bl, 8, 2);
    s = add(&bl, DT_SECTION);
    s->level = 2, s->text = text(a, "（一）图斑核查");
    body(&bl, 6, 4);
    s = add(&bl, DT_SECTION);
    s->level = 1, s->text = text(a, "二、下一步工作");
    body(&bl, 3, 6);
    signature(&bl);
    dt_block *att = add(&bl, DT_ATTACHMENT);
    att->label = "附件1", att->text = text(a, "违法用地图斑统计表"), att->orientation = DT_LANDSCAPE;
    add(&bl, DT_TABLE)->table = patch_table(a, 30, NULL);
    att = add(&bl, DT_ATTACHMENT);
    att->label = "附件2", att->text = text(a, "图斑位置图");
    for (int i = 0; i < 3; i++) {
        dt_panel *p = tb_arena_array(a, 2, sizeof *p);
        p[0].kind = p[1].kind = "map";
        p[0].caption = text(a, "前时相 2023年5月1日");
        p[1].caption = text(a, "后时相 2024年5月1日");
        dt_figure *f = tb_arena_alloc(a, sizeof *f);
        *f = (dt_figure){p, 2, 95, text(a, tb_arena_printf(a, "图%d  139901SJBG2421%04d", i + 1, i + 1))};
        add(&bl, DT_FIGURE)->figure = f;
    }
    dt_colophon col = {"县人民政府办公室", NULL, NULL};
    dt_doc doc = {.format = DT_FORMAT_LETTER, .duplex = true,
                  .head = {.mark = "示例县自然资源局", .docno = "示自然资函〔2024〕12号",
                           .copy_number = "000123", .urgency = "加急"},
                  .blocks = bl.b, .block_count = bl.n, .colophon = &col, .watermark = "样稿"};
    emit(j, "extras", &doc, TB_OK);
    free(bl.b);
}

/* 上行文 (签发人) with 份号 and 密级, duplex: the 版记 on an even page. */
static void
upward(job *j, tb_arena *a)
{
    blocks bl = {.a = a};
    add(&bl, DT_TITLE)->text = text(a, "示例县自然资源局关于2024年度卫片执法图斑整改情况的报告");
    add(&bl, DT_ADDRESSEE)->text = text(a, "县人民政府：");
    body(&bl, 7, 3);
    signature(&bl);
    dt_colophon col = {"市自然资源和规划局", "示例县自然资源局办公室", "2024年11月20日"};
    dt_doc doc = {.format = DT_FORMAT_FILE, .duplex = true,
                  .head = {.mark = "示例县自然资源局文件", .docno = "示自然资报〔2024〕5号",
                           .signer = "李四", .copy_number = "000045", .secrecy = "秘密★1年"},
                  .blocks = bl.b, .block_count = bl.n, .colophon = &col};
    emit(j, "upward", &doc, TB_OK);
    free(bl.b);
}

static cairo_surface_t *
specimen_seal(void)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 200, 200);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 0.85, 0.1, 0.1);
    cairo_set_line_width(cr, 8);
    cairo_arc(cr, 100, 100, 94, 0, 2 * M_PI);
    cairo_stroke(cr);
    cairo_destroy(cr);
    return s;
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: typeset_samples <out dir>\n");
        return 2;
    }
    tb_err err = {0};
    typeface *tf = sample_typeface(&err);
    if (tf == NULL) {
        fprintf(stderr, "typeset_samples: %s\n", err.msg);
        return 1;
    }
    char sum[1024];
    snprintf(sum, sizeof sum, "%s/summary.txt", argv[1]);
    job j = {tf, argv[1], specimen_seal(), fopen(sum, "w"), 0};
    if (j.summary == NULL) {
        perror(sum);
        return 1;
    }
    tb_arena *a = tb_arena_new(0);
    conformance(&j, a);
    exact(&j, a);
    exact_with_note(&j, a);
    exact_paragraphs(&j, a);
    one_line_before(&j, a);
    short_by_one(&j, a);
    cc_three_lines(&j, a);
    tall_cell(&j, a);
    row_spans(&j, a);
    head_keep(&j, a);
    over_limit(&j, a);
    extras(&j, a);
    upward(&j, a);
    tb_arena_free(a);
    fclose(j.summary);
    cairo_surface_destroy(j.seal);
    typeface_free(tf);
    return j.failures ? 1 : 0;
}
