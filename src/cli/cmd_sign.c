#include "tb_features.h"

#include "cli.h"
#include "countersign.h"
#include "pdfsig.h"
#include "tb_fs.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void
sign_help(void)
{
    printf("Usage: tuban sign --office <dir> <file.pdf> [--out <file.pdf>] [options]\n\n"
           "Countersigns an issued document as another office (e.g. the township on the\n"
           "bureau's acceptance form): one more signature, added by incremental update, so the\n"
           "earlier signatures stay valid; the office's seal is its appearance.  The key's\n"
           "passphrase comes from the office profile (a file or an environment variable),\n"
           "never from the command line.\n\n"
           "Options:\n"
           "  --office <dir>   the signing office (office.xml, seal, key)\n"
           "  --out <file>     where to write (default: the file itself, replaced atomically)\n"
           "  --page <n>       page for the seal\n"
           "  --at <x>,<y>     the seal's lower left corner in mm from the page's lower left\n"
           "                   (default for both: beside the first seal, on its page, left of\n"
           "                   it where there is room, clear of every seal there; 30,40 on the\n"
           "                   last page when the document has no seal)\n"
           "  --reason <text>  reason recorded in the signature (default: 会签)\n\n"
           "Environment: SOURCE_DATE_EPOCH fixes the signing time.\n"
           "Exit status: 0 signed, 1 failure while working, 2 bad usage or input.\n");
}

static int
sign_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"office", required_argument, NULL, 'o'}, {"out", required_argument, NULL, 'O'},
        {"page", required_argument, NULL, 'p'},   {"at", required_argument, NULL, 'a'},
        {"reason", required_argument, NULL, 'r'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *office = NULL, *out = NULL;
    countersign_options co = {.beside = true, .page = 0, .x_mm = 30, .y_mm = 40,
                              .reason = "会签"};
    const char *source_date = getenv("SOURCE_DATE_EPOCH");
    if (source_date && *source_date)
        co.signing_time = (time_t)strtoll(source_date, NULL, 10);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'o': office = optarg; break;
        case 'O': out = optarg; break;
        case 'r': co.reason = optarg; break;
        case 'p':
            co.beside = false;
            co.page = (int)strtol(optarg, &end, 10);
            if (*end || co.page < 1)
                return cli_fail(TB_EINVAL, "--page: expected a page number from 1");
            break;
        case 'a':
            co.beside = false;
            co.x_mm = strtod(optarg, &end);
            if (*end != ',' || (co.y_mm = strtod(end + 1, &end), *end) || co.x_mm < 0 ||
                co.y_mm < 0 || co.x_mm > 1000 || co.y_mm > 1000)
                return cli_fail(TB_EINVAL, "--at: expected <x>,<y> in mm");
            break;
        case 'h': sign_help(); return 0;
        default: return 2;
        }
    }
    if (office == NULL || optind != argc - 1)
        return cli_fail(TB_EINVAL, "sign: give --office and exactly one PDF file");
    const char *path = argv[optind];
    tb_err err = {0};
    tb_buf pdf = TB_BUF_INIT;
    if (tb_fs_read(path, (size_t)PDFSIG_MAX_INPUT, &pdf, &err) != TB_OK ||
        countersign(office, &pdf, &co, &err) != TB_OK ||
        tb_fs_write_atomic(out ? out : path, pdf.data, pdf.len, &err) != TB_OK) {
        tb_buf_release(&pdf);
        return cli_fail(err.code, err.msg);
    }
    tb_buf_release(&pdf);
    printf("%s\n", out ? out : path);
    return 0;
}

const cli_command cmd_sign = {"sign", "countersign an issued document as another office",
                              sign_run, sign_help};
