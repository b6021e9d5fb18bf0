#include "tb_features.h"

#include "cli.h"
#include "pdfsig.h"
#include "store.h"
#include "tb_arena.h"
#include "tb_fs.h"
#include "tpl.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void
verify_help(void)
{
    printf("Usage: tuban verify <file.pdf> [--office <dir>] [--trust <ca.pem>] [--db <store>]\n\n"
           "Checks the document's signatures and says what it found:\n"
           "  - each signature: its CMS verifies over its byte range, which covers all of its\n"
           "    revision but the signature itself;\n"
           "  - every revision after the first signature: what it changed, and that it only\n"
           "    added signatures (fields, widgets, appearances); any other change (page content,\n"
           "    resources, the catalogue) is a modification;\n"
           "  - with --trust or --office: each signer's certificate chains to the trust anchor at\n"
           "    its signing time and allows signing (key usage);\n"
           "  - a time stamp (RFC 3161, PAdES B-T), if a signature has one: it is over that\n"
           "    signature and, with a trust file, from a TSA chaining to it (put the TSA's CA\n"
           "    in the --trust file); its time is then the signing time the chain is checked at;\n"
           "  - with --office: the first signer is that office (its certificate's subject and\n"
           "    issuer), and its chain file is the trust anchor unless --trust is given;\n"
           "  - with --db: the registry has an entry for exactly these bytes (SHA-256).\n\n"
           "Exit status: 0 valid, 1 not valid (the output names what failed), 2 bad usage or\n"
           "input.\n");
}

/* Prints detail ("a; b; c") one item a line. */
static void
print_detail(const char *detail)
{
    for (const char *p = detail; *p;) {
        const char *q = strstr(p, "; ");
        size_t n = q ? (size_t)(q - p) : strlen(p);
        printf("  %.*s\n", (int)n, p);
        p += n + (q ? 2 : 0);
    }
}

struct registry_hit {
    char line[512];
};

static bool
registry_note(void *user, const store_reg_entry *e)
{
    struct registry_hit *h = user;
    snprintf(h->line, sizeof h->line, "entry %lld, %s (%s), verification code %s, issued %s, "
             "archived as %s", (long long)e->seq, e->docno, e->kind, e->code, e->issued_at,
             e->path);
    return false;
}

static int
verify_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"trust", required_argument, NULL, 't'},
        {"office", required_argument, NULL, 'o'},
        {"db", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *trust = NULL, *office_dir = NULL, *db = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 't')
            trust = optarg;
        else if (c == 'o')
            office_dir = optarg;
        else if (c == 'd')
            db = optarg;
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
    tb_arena *a = tb_arena_new(0);
    pdfsig_verify_opts vo = {trust, NULL};
    if (office_dir != NULL) {
        const tpl_office *o = tpl_office_load(office_dir, a, &err);
        if (o == NULL) {
            tb_arena_free(a);
            return cli_fail(err.code, err.msg);
        }
        vo.first_signer = o->cert_path;
        if (vo.trust_pem == NULL)
            vo.trust_pem = o->chain_path;
        if (vo.trust_pem == NULL) {
            tb_arena_free(a);
            return cli_fail(TB_EINVAL, "verify: the office names no chain (CA) file; give --trust");
        }
    }
    if (tb_fs_read(path, (size_t)PDFSIG_MAX_INPUT + 1, &pdf, &err) != TB_OK ||
        pdfsig_verify(pdf.data, pdf.len, &vo, &info, &err) != TB_OK) {
        tb_buf_release(&pdf);
        tb_arena_free(a);
        return cli_fail(err.code, err.msg);
    }
    tb_buf_release(&pdf);
    tb_arena_free(a);
    char sha[65];
    for (int i = 0; i < 32; i++)
        snprintf(sha + 2 * i, 3, "%02x", info.sha256[i]);
    struct registry_hit hit = {0};
    if (db != NULL) {
        if (!tb_fs_exists(db))
            return cli_fail(TB_ENOTFOUND, "verify: --db: no such store");
        store *st = store_open(db, &err);
        bool found = false;
        if (st == NULL ||
            store_registry_find_sha256(st, sha, registry_note, &hit, &found, &err) != TB_OK) {
            store_close(st);
            return cli_fail(err.code, err.msg);
        }
        store_close(st);
        if (!found)
            info.ok = false;
    }
    printf("%s: %d signature(s) in %d revision(s); %s; issued by: %s\n", path, info.count,
           info.revisions,
           info.ok ? "valid, unmodified since signing" : "NOT VALID",
           info.signer[0] ? info.signer : "-");
    if (!info.ok) {
        if (info.count == 0)
            printf("  FAILED: no signatures\n");
        if (info.count > 0 && !info.all_valid)
            printf("  FAILED: a signature does not verify\n");
        if (info.count > 0 && !info.timestamps_ok)
            printf("  FAILED: a time stamp does not verify\n");
        if (info.count > 0 && !info.covers_whole_file)
            printf("  FAILED: the file was changed after the last signature\n");
        if (info.count > 0 && !info.unmodified)
            printf("  FAILED: a revision after the first signature modifies the document\n");
        if (vo.trust_pem && info.count > 0 && !info.trusted)
            printf("  FAILED: a signer's certificate is not trusted for signing\n");
        if (vo.first_signer && info.count > 0 && !info.first_signer_ok)
            printf("  FAILED: the first signer is not the issuing office\n");
    }
    print_detail(info.detail);
    if (db != NULL && hit.line[0])
        printf("  registry: %s; SHA-256 %s equal\n", hit.line, sha);
    else if (db != NULL)
        printf("  FAILED: not in the registry %s (SHA-256 %s): not an issued copy\n", db, sha);
    return info.ok ? 0 : 1;
}

const cli_command cmd_verify = {"verify", "check a document's signatures", verify_run,
                                verify_help};
