#include "tb_features.h"

#include "cli.h"
#include "pdfsig.h"
#include "tb_fs.h"

#include <getopt.h>
#include <stdio.h>

static void
verify_help(void)
{
    printf("Usage: tuban verify <file.pdf> [--trust <ca.pem>]\n\n"
           "Checks every signature in the PDF: that each CMS signature verifies, that the signed\n"
           "bytes are unmodified and that the last signature covers the whole file.  With --trust\n"
           "the signer's certificate must chain to that CA.  (The archive check comes with the\n"
           "archive.)\n\nExit status: 0 all valid, 1 a signature is invalid, 2 bad usage or input.\n");
}

static int
verify_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"trust", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *trust = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 't')
            trust = optarg;
        else if (c == 'h') {
            verify_help();
            return 0;
        } else
            return 2;
    }
    if (optind != argc - 1)
        return cli_fail(TB_EINVAL, "verify: give exactly one PDF file");
    const char *path = argv[optind];
    tb_err err = {0};
    tb_buf pdf = TB_BUF_INIT;
    pdfsig_info info = {0};
    if (tb_fs_read(path, (size_t)1 << 30, &pdf, &err) != TB_OK ||
        pdfsig_verify(pdf.data, pdf.len, trust, &info, &err) != TB_OK) {
        tb_buf_release(&pdf);
        return cli_fail(err.code, err.msg);
    }
    tb_buf_release(&pdf);
    bool ok = info.count > 0 && info.all_valid && info.covers_whole_file;
    printf("%s: %d signature(s); %s; signer: %s\n%s\n", path, info.count,
           ok ? "valid, document unmodified" : "NOT VALID", info.signer[0] ? info.signer : "-",
           info.detail);
    return ok ? 0 : 1;
}

const cli_command cmd_verify = {"verify", "check a document's signatures", verify_run,
                                verify_help};
