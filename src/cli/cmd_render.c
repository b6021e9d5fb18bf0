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
           "       tuban render <kind> --office <dir> --patches <file> --db <store> [--archive <dir>]\n"
           "       tuban render <kind> --office <dir> --patches <file> --out <dir> --preview\n"
           "       tuban render monthly --office <dir> --db <store> --month YYYY-MM [--cutoff D]\n"
           "                    (--out <dir> | [--archive <dir>])\n\n"
           "Renders signed, sealed documents of one kind and prints the path of each file\n"
           "written, one per line.  With --db the documents are issued: each gets the next\n"
           "发文字号 of the office, year and 机关代字 (gapless, never reused) and a verification\n"
           "code, goes into the archive as <archive>/<office>/<year>/<number>.pdf and is\n"
           "registered in the store, all or nothing.  --preview renders a 样稿 (watermark, no\n"
           "number) that is never registered.  With --db and no --patches the patches come\n"
           "from the store (the newest batch) as they stood at the end of the report's date\n"
           "(the cut-off for monthly); adding --out then writes the documents there instead of\n"
           "issuing them.\n\n"
           "Kinds:\n"
           "  notice      整改通知书: one per township that has 违法用地 patches\n"
           "  monthly     月报: one per township that has 违法用地 patches and the county\n"
           "              roll-up (monthly-<code>.pdf, monthly-county.pdf); needs --db\n"
           "  tables      违法用地数据汇总表 and 违法用地分类统计表 at --date: tables.pdf\n"
           "              (landscape) and tables.xlsx with the same figures; needs --out\n"
           "  dossier     约谈问责卷宗: --explain prints, for every township, the 约谈 rule of\n"
           "              office.xml <rules> that selects it (违法占用耕地 ≥ 15 %% of 新增建设\n"
           "              用地占用耕地, one case ≥ 5 亩 永久基本农田 or ≥ 10 亩 一般耕地,\n"
           "              <interview-flag>) or why none does, with the figures\n\n"
           "Options:\n"
           "  --office <dir>      issuing office (office.xml, templates, seal, keys)\n"
           "  --patches <file>    patch file: any OGR vector format (GeoPackage, Shapefile,\n"
           "                      GeoJSON, FileGDB, CSV+WKT) with standard field names\n"
           "  --layer <name>      layer to read (default: the first)\n"
           "  --out <dir>         output directory (created if missing)\n"
           "  --imagery <raster>  base imagery for the maps (default: the office's)\n"
           "  --date <YYYY-MM-DD> 成文日期 (default: today)\n"
           "  --first-number <n>  sequence of the first 发文字号 (default: 1)\n"
           "  --jobs <n>          documents rendered at once (default: one per core)\n"
           "  --db <store>        issue into this store's registry (numbers from the store;\n"
           "                      --first-number is ignored)\n"
           "  --archive <dir>     archive root (default: archive/ beside the store)\n"
           "  --preview           样稿: watermark, no 发文字号, never registered\n"
           "  --month <YYYY-MM>   monthly: the report's month\n"
           "  --explain           dossier: print the 约谈 findings, render nothing\n"
           "  --cutoff <day>      monthly: 截至 day of the month (default 20; past the month's\n"
           "                      end = its last day); this month counts changes after the\n"
           "                      previous month's cut-off\n"
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
    if (strcmp(req->kind, "monthly") == 0 && req->patches_path)
        return cli_fail(TB_EINVAL, "render monthly: the report needs the status history: give "
                                   "--db <store>, not --patches");
    /* Without --patches the store is the source; it is issued into unless --out is given. */
    req->issue = req->db_path && !req->preview && !(req->patches_path == NULL && req->out_dir);
    if (!req->office_dir || (!req->patches_path && !req->db_path) ||
        (!req->out_dir && !req->issue))
        return cli_fail(TB_EINVAL, "render: --office, --patches or --db, and --out (or --db) "
                                   "are required");
    if (req->issue && req->out_dir)
        return cli_fail(TB_EINVAL, "render: issued documents go to the archive: give --db or "
                                   "--out, not both");
    if (req->archive_root && !req->issue)
        return cli_fail(TB_EINVAL, "render: --archive goes with --db");
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
             const char **patch_ids, int *month_year, int *month, int *cutoff_day)
{
    enum { OPT_FIRST_NUMBER = 256, OPT_JOBS, OPT_DB, OPT_ARCHIVE, OPT_PREVIEW, OPT_MONTH,
           OPT_CUTOFF, OPT_BATCH, OPT_TOWNSHIP, OPT_PATCH, OPT_EXPLAIN };
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
    render_request req = {.opt = {.date = cn_date_today(), .first_number = 1}};
    const char *source_date = getenv("SOURCE_DATE_EPOCH");
    if (source_date && *source_date)
        req.opt.signing_time = (time_t)strtoll(source_date, NULL, 10);
    /* --township and --patch repeat: at most one value per argument. */
    const char **townships = calloc((size_t)argc + 1, sizeof *townships);
    const char **patch_ids = calloc((size_t)argc + 1, sizeof *patch_ids);
    if (!townships || !patch_ids)
        abort();
    req.select.townships = townships;
    req.select.patch_ids = patch_ids;
    int month_year = 0, month = 0, cutoff_day = 20;
    int status = render_parse(argc, argv, &req, townships, patch_ids, &month_year, &month,
                              &cutoff_day);
    if (status < 0)
        status = render_check_run(&req, month_year, month, cutoff_day);
    free(townships);
    free(patch_ids);
    return status;
}

const cli_command cmd_render = {"render", "render signed documents (整改通知书 …)",
                                render_run_cmd, render_help};
