#include "tb_features.h"

#include "cli.h"
#include "importer.h"
#include "render.h"
#include "stats.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
render_help(void)
{
    printf("Usage: tuban render <kind> --office <dir> --patches <file> --out <dir> [options]\n"
           "       tuban render <kind> --office <dir> --db <store> [--out <dir>] [--archive <dir>]\n"
           "       tuban render <kind> --office <dir> (--db <store> | --patches <file>) --preview\n"
           "                    --out <dir>\n"
           "       tuban render monthly --office <dir> --db <store> --month YYYY-MM [--cutoff D]\n\n"
           "Renders signed, sealed documents of one kind and prints the path of each file\n"
           "written, one per line.\n\n"
           "--db means the same for every kind: the store is the source of the patches (as\n"
           "they stood at the end of the report's date, the cut-off for monthly; a --patches\n"
           "file replaces it as the source) and the registry the documents are issued into.\n"
           "Each document gets the next 发文字号 of the office, year and 机关代字 (gapless,\n"
           "never reused) and a verification code, goes into the archive as\n"
           "<archive>/<office>/<year>/<机关代字>/<number>.pdf and is registered, all or\n"
           "nothing for each document: the batch is rendered first (nothing issued if one\n"
           "fails), then issued one document per transaction, so the daemon can issue\n"
           "meanwhile; should an issue fail, the documents before it stay issued and the\n"
           "error says how many.\n"
           "With --out as well, a copy of every issued document (the same bytes) is written\n"
           "there after the issue is committed; the archived paths are printed first, then\n"
           "the copies.  --preview renders a 样稿 (watermark, no number) into --out and\n"
           "registers nothing.  Without --db nothing is registered and the numbers start at\n"
           "--first-number.  The 发文字号's year is the 成文日期's (GB/T 9704 7.2.4), for a\n"
           "月报 too (a report is dated on or after its cut-off).\n\n"
           "Kinds:\n"
           "  notice      整改通知书: one per township that has 违法用地 patches\n"
           "  monthly     月报: one per township that has 违法用地 patches and the county\n"
           "              roll-up (monthly-<code>.pdf, monthly-county.pdf); needs --db\n"
           "  tables      违法用地数据汇总表, 违法用地分类统计表, 变化图斑情况统计表, the\n"
           "              新增农村乱占耕地建房 list and one 土地卫片地块核查情况登记卡 per patch\n"
           "              at --date: tables.pdf (landscape) and tables.xlsx with the same\n"
           "              figures; needs --out\n"
           "              (the workbook is written there; only the PDF is archived)\n"
           "  dossier     约谈问责卷宗: one dossier-<code>.pdf per township the 约谈 rules select\n"
           "              (cover, 卷内目录 and bookmarks, figures, violations, a section per\n"
           "              patch with its history and notices, 约谈通知书, 备考表); needs --db.\n"
           "              --explain prints, for every township, the 约谈 rule of\n"
           "              office.xml <rules> that selects it (违法占用耕地 ≥ 15 %% of 新增建设\n"
           "              用地占用耕地, one case ≥ 5 亩 永久基本农田 or ≥ 10 亩 一般耕地,\n"
           "              <interview-flag>) or why none does, with the figures\n"
           "  acceptance  验收意见书: one per rectified 违法用地 patch (acceptance-<id>.pdf), or\n"
           "              with --per township one per township (acceptance-<code>.pdf): patch\n"
           "              data, measure, before/after maps, 合格 / 不合格 and opinion, the\n"
           "              inspectors' lines, the bureau's seal; the township countersigns\n"
           "              later with 'tuban sign'.  A --patch that is not rectified (ZGZT\n"
           "              已整改 or 已验收) is refused naming its state; without --patch the\n"
           "              unrectified patches are left out\n\n"
           "Options:\n"
           "  --office <dir>      issuing office (office.xml, templates, seal, keys)\n"
           "  --patches <file>    patch file: any OGR vector format (GeoPackage, Shapefile,\n"
           "                      GeoJSON, FileGDB, CSV+WKT) with standard field names\n"
           "  --layer <name>      layer to read (default: the first)\n"
           "  --out <dir>         output directory (created if missing)\n"
           "  --imagery <raster>  base imagery for the maps (default: the office's)\n"
           "  --date <YYYY-MM-DD> 成文日期 (default: today)\n"
           "  --first-number <n>  without --db: sequence of the first 发文字号 (default: 1)\n"
           "  --jobs <n>          documents rendered at once (default: one per core)\n"
           "  --db <store>        the store: source of the patches and registry to issue into\n"
           "  --archive <dir>     archive root (default: archive/ beside the store)\n"
           "  --preview           样稿: watermark, no 发文字号, never registered (needs --out)\n"
           "  --month <YYYY-MM>   monthly: the report's month\n"
           "  --explain           dossier: print the 约谈 findings, render nothing\n"
           "  --cutoff <day>      monthly: 截至 day of the month (default 20; past the month's\n"
           "                      end = its last day); this month counts changes after the\n"
           "                      previous month's cut-off\n"
           "  --per <patch|township>  acceptance: one form per patch (default) or per township\n"
           "  --reject <id>:<opinion> acceptance: the patch is 不合格, with the inspectors'\n"
           "                      opinion (repeatable); every other patch is 合格\n"
           "  --photos <dir>      acceptance: on-site photos, <dir>/<patch id>/*.jpg; each is\n"
           "                      shown on its patch's form with the time and place of its\n"
           "                      EXIF data, and a note when it was taken outside the patch\n"
           "  -h, --help          this help\n\n"
           "Selection (every kind; applied once, before any document is planned):\n"
           "  --batch <b>         the batch: a year (2024, the 年度 batch), a quarter (2024-Q3)\n"
           "                      or, with --db, the store's batch id (default: the store's\n"
           "                      newest batch; a patch file's patches by their NF and JD)\n"
           "  --township <code>   only the patches of this 行政区代码 (repeatable)\n"
           "  --patch <id>        only the patch with this 监测编号 (repeatable); with\n"
           "                      --township it must lie in one of them\n"
           "  A township or patch the source (in the batch) does not hold is an error naming\n"
           "  it (exit 2); nothing is rendered.  The figures of monthly and tables are then\n"
           "  those of the selection.\n\n"
           "Environment: SOURCE_DATE_EPOCH fixes the signing and creation time (reproducible\n"
           "output).\n"
           "Contradictory options are refused (exit 2): --first-number with --db or\n"
           "--preview, --archive without --db or with --preview, --preview without --out,\n"
           "a 月报's --date before its cut-off.\n"
           "Exit status: 0 success, 1 failure while working, 2 bad usage or bad input; no\n"
           "output file is written unless every document was rendered.\n");
}

/* The cut-off day of a month; a day past the month's end is its last day. */
static cn_date
month_cutoff(int year, int month, int day)
{
    cn_date d = {year, month, day};
    while (d.day > 28 && !cn_date_valid(d))
        d.day--;
    return d;
}

static void
print_path(void *user, const char *path)
{
    (void)user;
    printf("%s\n", path);
    fflush(stdout);
}

/* One township of `render dossier --explain`: code, name, the verdict and the figures. */
static void
print_finding(void *user, const interview_finding *f, const char *name, const char *grounds)
{
    (void)user;
    printf("%s %s：%s%s%s。%s\n", f->code, name ? name : "（无名称）",
           grounds ? "约谈（" : "不约谈", grounds ? grounds : "", grounds ? "）" : "",
           f->explanation);
}

/* The run's remaining checks, then the run. */
static int
render_check_run(render_request *req, int month_year, int month, int cutoff_day)
{
    if (req->explain) {
        if (strcmp(req->kind, "dossier") != 0)
            return cli_fail(TB_EINVAL, "render: --explain goes with dossier (which townships "
                                       "qualify for an interview, and why)");
        if (!req->office_dir || (!req->patches_path && !req->db_path))
            return cli_fail(TB_EINVAL, "render dossier --explain: --office and --db (or "
                                       "--patches) are required");
        tb_err err = {0};
        if (render_explain(req, print_finding, NULL, &err) != TB_OK)
            return cli_fail(err.code, err.msg);
        return 0;
    }
    if (month) {
        req->cutoff = month_cutoff(month_year, month, cutoff_day);
        req->previous_cutoff = month == 1 ? month_cutoff(month_year - 1, 12, cutoff_day)
                                          : month_cutoff(month_year, month - 1, cutoff_day);
    }
    if (strcmp(req->kind, "monthly") == 0 && !month)
        return cli_fail(TB_EINVAL, "render monthly: --month YYYY-MM is required");
    if (strcmp(req->kind, "acceptance") != 0 &&
        (req->per_township || req->reject_count || req->photos_dir))
        return cli_fail(TB_EINVAL, "render: --per, --reject and --photos go with render "
                                   "acceptance");
    if (strcmp(req->kind, "monthly") == 0 && req->patches_path)
        return cli_fail(TB_EINVAL, "render monthly: the report needs the status history: give "
                                   "--db <store>, not --patches");
    if (!req->office_dir || (!req->patches_path && !req->db_path))
        return cli_fail(TB_EINVAL, "render: --office and --patches or --db are required");
    /* --db has one meaning for every kind: the store is the source (unless --patches names a
     * file) and the registry: the documents are issued.  Only --preview issues nothing. */
    req->issue = req->db_path && !req->preview;
    if (req->preview && !req->out_dir)
        return cli_fail(TB_EINVAL, "render --preview: a 样稿 is written into --out <dir>: give "
                                   "--out");
    if (req->preview && req->archive_root)
        return cli_fail(TB_EINVAL, "render --preview: a 样稿 is never archived: leave out "
                                   "--archive");
    if (req->opt.first_number && req->issue)
        return cli_fail(TB_EINVAL, "render --db: the 发文字号 come from the store's registry (the "
                                   "next of the office, year and 机关代字): leave out "
                                   "--first-number");
    if (req->opt.first_number && req->preview)
        return cli_fail(TB_EINVAL, "render --preview: a 样稿 has no 发文字号: leave out "
                                   "--first-number");
    if (!req->issue && !req->out_dir)
        return cli_fail(TB_EINVAL, "render: give --out <dir>, or --db <store> to issue");
    if (req->archive_root && !req->issue)
        return cli_fail(TB_EINVAL, "render: --archive goes with --db");
    if (!req->opt.first_number)
        req->opt.first_number = 1;
    /* The 发文字号's year is the 成文日期's (GB/T 9704 7.2.4), also for a 月报 (December's report
     * issued in January takes the new year's number); a report dated before its cut-off would
     * state figures of days still to come. */
    if (month && cn_date_cmp(req->opt.date, req->cutoff) < 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "render monthly: the 成文日期 %04d-%02d-%02d (--date, default "
                                  "today) is before the report's cut-off %04d-%02d-%02d: a 月报 "
                                  "is dated on or after the day its figures stand at",
                 req->opt.date.year, req->opt.date.month, req->opt.date.day, req->cutoff.year,
                 req->cutoff.month, req->cutoff.day);
        return cli_fail(TB_EINVAL, msg);
    }
    tb_err err = {0};
    if (render_run(req, print_path, NULL, &err) != TB_OK)
        return cli_fail(err.code, err.msg);
    return 0;
}


/* --batch: a year (2024), a quarter (2024-Q3 or 2024Q3), or a batch id of the store. */
static bool
parse_batch(const char *arg, render_selection *sel)
{
    store_batch b = {0};
    if (importer_parse_batch(arg, &b)) {
        sel->batch_year = b.year, sel->batch_quarter = b.quarter;
        return true;
    }
    char *end;
    long id = strtol(arg, &end, 10);
    if (*end || end == arg || id < 1 || id >= 1000)
        return false;
    sel->batch_id = id;
    return true;
}

/* Fills req from argv; the list arrays hold argc entries.  Returns -1 when the run should go on,
 * else the exit status. */
static int
render_parse(int argc, char **argv, render_request *req, const char **townships,
             const char **patch_ids, render_reject *rejects, int *month_year, int *month,
             int *cutoff_day)
{
    enum { OPT_FIRST_NUMBER = 256, OPT_JOBS, OPT_DB, OPT_ARCHIVE, OPT_PREVIEW, OPT_MONTH,
           OPT_CUTOFF, OPT_BATCH, OPT_TOWNSHIP, OPT_PATCH, OPT_EXPLAIN,
           OPT_PER, OPT_REJECT, OPT_PHOTOS };
    static const struct option opts[] = {
        {"office", required_argument, NULL, 'o'},
        {"patches", required_argument, NULL, 'p'},
        {"layer", required_argument, NULL, 'l'},
        {"out", required_argument, NULL, 'O'},
        {"imagery", required_argument, NULL, 'i'},
        {"date", required_argument, NULL, 'd'},
        {"first-number", required_argument, NULL, OPT_FIRST_NUMBER},
        {"jobs", required_argument, NULL, OPT_JOBS},
        {"db", required_argument, NULL, OPT_DB},
        {"archive", required_argument, NULL, OPT_ARCHIVE},
        {"preview", no_argument, NULL, OPT_PREVIEW},
        {"month", required_argument, NULL, OPT_MONTH},
        {"cutoff", required_argument, NULL, OPT_CUTOFF},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"township", required_argument, NULL, OPT_TOWNSHIP},
        {"patch", required_argument, NULL, OPT_PATCH},
        {"explain", no_argument, NULL, OPT_EXPLAIN},
        {"per", required_argument, NULL, OPT_PER},
        {"reject", required_argument, NULL, OPT_REJECT},
        {"photos", required_argument, NULL, OPT_PHOTOS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': req->office_dir = optarg; break;
        case 'p': req->patches_path = optarg; break;
        case 'l': req->layer = optarg; break;
        case 'O': req->out_dir = optarg; break;
        case 'i': req->imagery_path = optarg; break;
        case 'd':
            if (!cn_date_parse(optarg, &req->opt.date))
                return cli_fail(TB_EINVAL, "--date: expected YYYY-MM-DD");
            break;
        case OPT_FIRST_NUMBER: {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 999999)
                return cli_fail(TB_EINVAL, "--first-number: expected a number from 1");
            req->opt.first_number = (int)n;
            break;
        }
        case OPT_JOBS: {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 64)
                return cli_fail(TB_EINVAL, "--jobs: expected a number from 1 to 64");
            req->jobs = (int)n;
            break;
        }
        case OPT_DB: req->db_path = optarg; break;
        case OPT_ARCHIVE: req->archive_root = optarg; break;
        case OPT_PREVIEW: req->preview = true; break;
        case OPT_EXPLAIN: req->explain = true; break;
        case OPT_MONTH: {
            char tail;
            if (sscanf(optarg, "%4d-%2d%c", month_year, month, &tail) != 2 ||
                strlen(optarg) != 7 || *month_year < 1000 || *month < 1 || *month > 12)
                return cli_fail(TB_EINVAL, "--month: expected YYYY-MM (e.g. 2025-03)");
            break;
        }
        case OPT_CUTOFF: {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || end == optarg || n < 1 || n > 31)
                return cli_fail(TB_EINVAL, "--cutoff: expected a day of the month, 1 to 31");
            *cutoff_day = (int)n;
            break;
        }
        case OPT_BATCH:
            if (!parse_batch(optarg, &req->select))
                return cli_fail(TB_EINVAL, "--batch: expected a year (2024), a quarter "
                                           "(2024-Q3) or a batch id of the store");
            break;
        case OPT_TOWNSHIP:
            if (!*optarg)
                return cli_fail(TB_EINVAL, "--township: expected a 行政区代码 (e.g. 330102001)");
            townships[req->select.township_count++] = optarg;
            break;
        case OPT_PATCH:
            if (!*optarg)
                return cli_fail(TB_EINVAL, "--patch: expected a 监测编号");
            patch_ids[req->select.patch_count++] = optarg;
            break;
        case OPT_PHOTOS: req->photos_dir = optarg; break;
        case OPT_PER:
            if (strcmp(optarg, "township") != 0 && strcmp(optarg, "patch") != 0)
                return cli_fail(TB_EINVAL, "--per: expected patch or township");
            req->per_township = strcmp(optarg, "township") == 0;
            break;
        case OPT_REJECT: {
            char *colon = strchr(optarg, ':');
            if (colon == NULL || colon == optarg || colon[1] == '\0')
                return cli_fail(TB_EINVAL, "--reject: expected <监测编号>:<opinion> (the "
                                           "inspectors' words, e.g. 复耕面积不足)");
            *colon = '\0';
            rejects[req->reject_count++] = (render_reject){optarg, colon + 1};
            break;
        }
        case 'h': render_help(); return 0;
        default: return 2;
        }
    }
    if (optind >= argc)
        return cli_fail(TB_EINVAL, "render: which kind? (try 'tuban render --help')");
    req->kind = argv[optind];
    return -1;
}

static int
render_run_cmd(int argc, char **argv)
{
    render_request req = {.opt = {.date = cn_date_today()}};
    const char *source_date = getenv("SOURCE_DATE_EPOCH");
    if (source_date && *source_date)
        req.opt.signing_time = (time_t)strtoll(source_date, NULL, 10);
    /* --township and --patch repeat: at most one value per argument. */
    const char **townships = calloc((size_t)argc + 1, sizeof *townships);
    const char **patch_ids = calloc((size_t)argc + 1, sizeof *patch_ids);
    render_reject *rejects = calloc((size_t)argc + 1, sizeof *rejects);
    if (!townships || !patch_ids || !rejects)
        abort();
    req.select.townships = townships;
    req.select.patch_ids = patch_ids;
    req.rejects = rejects;
    int month_year = 0, month = 0, cutoff_day = 20;
    int status = render_parse(argc, argv, &req, townships, patch_ids, rejects, &month_year,
                              &month, &cutoff_day);
    if (status < 0)
        status = render_check_run(&req, month_year, month, cutoff_day);
    free(townships);
    free(patch_ids);
    free(rejects);
    return status;
}

const cli_command cmd_render = {"render", "render signed documents (整改通知书, 月报, 统计表, 验收意见书)",
                                render_run_cmd, render_help};
