#include "tb_features.h"

#include "cli.h"
#include "importer.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void
import_help(void)
{
    printf("Usage: tuban import <file> --db <store.db> [options]\n\n"
           "Reads a patch file (GeoPackage, Shapefile, GeoJSON, FileGDB, CSV with a WKT column),\n"
           "checks every record and applies it to the store in one transaction: all or nothing.\n"
           "Re-importing a newer export of the same batch records the differences as history\n"
           "(n new, changed, unchanged, missing — missing patches are kept, never deleted).\n\n"
           "Options:\n"
           "  --db <file>          the store (SQLite; created if missing)\n"
           "  --layer <name>       layer to read (default: the first)\n"
           "  --batch <2022|2019Q3> the batch (default: from the data's NF / JD)\n"
           "  --source <部|省>     who issued the batch (default: 部)\n"
           "  --mapping <xml>      field mapping profile (renames, value synonyms)\n"
           "  --srs <EPSG:n>       CRS of a file that has none (CSV, a Shapefile without .prj)\n"
           "  --encoding <GBK|UTF-8> text encoding of a Shapefile (default: its .cpg, else\n"
           "                       detected from the bytes, and the report says which)\n"
           "  --townships <csv>    register the county's townships ('code,name' lines); on a\n"
           "                       store's first import they are otherwise taken from the data\n"
           "  --repair             make invalid geometries valid, reporting areas before/after\n"
           "  --report <json>      also write the report as JSON\n"
           "  --by <name>          who imports, for the history (default: $USER)\n"
           "  --at <YYYY-MM-DD>    the day the export was taken, for the history (default: now)\n"
           "  -h, --help           this help\n\n"
           "Exit status: 0 imported; 2 refused (every problem listed; the store is unchanged)\n"
           "or bad usage; 1 failure while working.\n");
}

static int
import_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'D'},       {"layer", required_argument, NULL, 'l'},
        {"batch", required_argument, NULL, 'b'},    {"source", required_argument, NULL, 's'},
        {"mapping", required_argument, NULL, 'm'},  {"srs", required_argument, NULL, 'S'},
        {"encoding", required_argument, NULL, 'e'}, {"townships", required_argument, NULL, 't'},
        {"repair", no_argument, NULL, 'r'},         {"report", required_argument, NULL, 'R'},
        {"by", required_argument, NULL, 'B'},       {"at", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    import_request req = {.progress = isatty(2) ? stderr : NULL};
    const char *json_path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'D': req.db_path = optarg; break;
        case 'l': req.opt.layer = optarg; break;
        case 'b': req.batch = optarg; break;
        case 's': req.source = optarg; break;
        case 'm': req.mapping_path = optarg; break;
        case 'S': req.opt.srs = optarg; break;
        case 'e':
            if (strcasecmp(optarg, "GBK") != 0 && strcasecmp(optarg, "UTF-8") != 0 &&
                strcasecmp(optarg, "GB18030") != 0)
                return cli_fail(TB_EINVAL, "--encoding: expected GBK, GB18030 or UTF-8");
            req.opt.encoding = optarg;
            break;
        case 't': req.townships_csv = optarg; break;
        case 'r': req.opt.repair = true; break;
        case 'R': json_path = optarg; break;
        case 'B': req.who = optarg; break;
        case 'a': req.at = optarg; break;
        case 'h': import_help(); return 0;
        default: return 2;
        }
    }
    if (optind != argc - 1)
        return cli_fail(TB_EINVAL, "import: give exactly one patch file (try 'tuban import --help')");
    if (req.db_path == NULL)
        return cli_fail(TB_EINVAL, "import: --db is required");
    req.file = argv[optind];
    tb_arena *a = tb_arena_new(0);
    tb_err err = {0};
    import_outcome out;
    int status = 0;
    if (importer_run(&req, a, &out, &err) != TB_OK) {
        if (out.report && out.report->count)
            importer_print(stderr, &out);
        status = cli_fail(err.code, err.msg);
    } else {
        importer_print(out.refused ? stderr : stdout, &out);
        status = out.refused ? 2 : 0;
        if (json_path && importer_write_json(json_path, &out, &err) != TB_OK) {
            fprintf(stderr, "tuban: %s; the JSON report was not written\n",
                    out.refused ? "refused as above" : "the import WAS applied");
            status = cli_fail(err.code, err.msg);
        }
    }
    tb_arena_free(a);
    return status;
}

const cli_command cmd_import = {"import", "check a patch file and import it into the store",
                                import_run, import_help};
