#include "tb_features.h"

#include "cli.h"
#include "render.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
render_help(void)
{
    printf("Usage: tuban render <kind> --office <dir> --patches <file> --out <dir> [options]\n"
           "       tuban render <kind> --office <dir> --patches <file> --db <store> [--archive <dir>]\n"
           "       tuban render <kind> --office <dir> --patches <file> --out <dir> --preview\n\n"
           "Renders signed, sealed documents of one kind and prints the path of each file\n"
           "written, one per line.  With --db the documents are issued: each gets the next\n"
           "发文字号 of the office, year and 机关代字 (gapless, never reused) and a verification\n"
           "code, goes into the archive as <archive>/<office>/<year>/<number>.pdf and is\n"
           "registered in the store, all or nothing.  --preview renders a 样稿 (watermark, no\n"
           "number) that is never registered.\n\n"
           "Kinds:\n"
           "  notice      整改通知书: one per township that has 违法用地 patches\n\n"
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
           "  -h, --help          this help\n\n"
           "Environment: SOURCE_DATE_EPOCH fixes the signing and creation time (reproducible\n"
           "output).\n"
           "Exit status: 0 success, 1 failure while working, 2 bad usage or bad input; no\n"
           "output file is written unless every document was rendered.\n");
}

static void
print_path(void *user, const char *path)
{
    (void)user;
    printf("%s\n", path);
    fflush(stdout);
}

static int
render_run_cmd(int argc, char **argv)
{
    enum { OPT_FIRST_NUMBER = 256, OPT_JOBS, OPT_DB, OPT_ARCHIVE, OPT_PREVIEW };
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
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    render_request req = {.opt = {.date = cn_date_today(), .first_number = 1}};
    const char *source_date = getenv("SOURCE_DATE_EPOCH");
    if (source_date && *source_date)
        req.opt.signing_time = (time_t)strtoll(source_date, NULL, 10);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': req.office_dir = optarg; break;
        case 'p': req.patches_path = optarg; break;
        case 'l': req.layer = optarg; break;
        case 'O': req.out_dir = optarg; break;
        case 'i': req.imagery_path = optarg; break;
        case 'd':
            if (!cn_date_parse(optarg, &req.opt.date))
                return cli_fail(TB_EINVAL, "--date: expected YYYY-MM-DD");
            break;
        case OPT_FIRST_NUMBER: {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 999999)
                return cli_fail(TB_EINVAL, "--first-number: expected a number from 1");
            req.opt.first_number = (int)n;
            break;
        }
        case OPT_JOBS: {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 64)
                return cli_fail(TB_EINVAL, "--jobs: expected a number from 1 to 64");
            req.jobs = (int)n;
            break;
        }
        case OPT_DB: req.db_path = optarg; break;
        case OPT_ARCHIVE: req.archive_root = optarg; break;
        case OPT_PREVIEW: req.preview = true; break;
        case 'h': render_help(); return 0;
        default: return 2;
        }
    }
    if (optind >= argc)
        return cli_fail(TB_EINVAL, "render: which kind? (try 'tuban render --help')");
    req.kind = argv[optind];
    bool issuing = req.db_path && !req.preview;
    if (!req.office_dir || !req.patches_path || (!req.out_dir && !issuing))
        return cli_fail(TB_EINVAL, "render: --office, --patches and --out (or --db) are "
                                   "required");
    if (issuing && req.out_dir)
        return cli_fail(TB_EINVAL, "render: issued documents go to the archive: give --db or "
                                   "--out, not both");
    if (req.archive_root && !issuing)
        return cli_fail(TB_EINVAL, "render: --archive goes with --db");
    tb_err err = {0};
    if (render_run(&req, print_path, NULL, &err) != TB_OK)
        return cli_fail(err.code, err.msg);
    return 0;
}

const cli_command cmd_render = {"render", "render signed documents (整改通知书 …)",
                                render_run_cmd, render_help};
