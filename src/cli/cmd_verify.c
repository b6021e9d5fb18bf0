#include "tb_features.h"

#include "cli.h"
#include "issue.h"
#include "pdfsig.h"
#include "store.h"
#include "tb_arena.h"
#include "tb_fs.h"
#include "tpl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
verify_help(void)
{
    printf("Usage: tuban verify <file.pdf>... [--office <dir>] [--trust <ca.pem>] [--db <store>]\n"
           "       tuban verify --code <code> --db <store> [--archive <dir>] [--office <dir>]\n\n"
           "Checks each document's signatures and says what it found:\n"
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
           "  - with --db: the registry has an entry for exactly these bytes (SHA-256); the\n"
           "    verification code the document carries (its QR code and the first signature's\n"
           "    reason) is printed, and names the entry a changed copy claims to be.\n"
           "The trust file is read once for all the files.\n\n"
           "With --code (the 验证码 printed on a paper copy, or its QR code as scanned:\n"
           "tuban:verify:XXXX-XXXX-XXXX) and --db: the registry entry with that code, and that\n"
           "its archived file (under --archive, default: archive/ next to the store) has the\n"
           "registered SHA-256 and valid signatures; given files too, each must be that entry's\n"
           "bytes.\n\n"
           "Exit status: 0 valid, 1 not valid (the output names what failed), 2 bad usage or\n"
           "input (the worst over all files).\n");
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

/* A registry entry, copied out of the store's row. */
typedef struct registry_hit {
    bool found;
    char line[640];
    char sha256[65];
    char path[256];
} registry_hit;

static bool
registry_note(void *user, const store_reg_entry *e)
{
    registry_hit *h = user;
    snprintf(h->line, sizeof h->line, "entry %lld, %s (%s), verification code %s, issued %s, "
             "archived as %s", (long long)e->seq, e->docno, e->kind, e->code, e->issued_at,
             e->path);
    snprintf(h->sha256, sizeof h->sha256, "%s", e->sha256);
    snprintf(h->path, sizeof h->path, "%s", e->path);
    return false;
}

/* The verification code in a signature's reason ("… 验证码 XXXX-XXXX-XXXX"); false if none. */
static bool
code_in_reason(const char *reason, char code[ISSUE_CODE_LEN + 1])
{
    const char *at = strstr(reason, "验证码 ");
    if (at == NULL)
        return false;
    char text[ISSUE_CODE_LEN + 1];
    snprintf(text, sizeof text, "%s", at + strlen("验证码 "));
    return issue_parse_code(text, code);
}

typedef struct verify_run_ctx {
    const pdfsig_verifier *v;
    bool trust, office;    /* asked for: report their failures */
    store *st;             /* --db; NULL: none */
    const char *db;
    const registry_hit *by_code; /* --code's entry; NULL: none */
} verify_run_ctx;

/* Verifies one file in memory; prints its report; returns its exit status. */
static int
verify_bytes(const verify_run_ctx *c, const char *path, const tb_buf *pdf)
{
    tb_err err = {0};
    pdfsig_info info = {0};
    if (pdfsig_verifier_check(c->v, pdf->data, pdf->len, &info, &err) != TB_OK) {
        char msg[sizeof err.msg + 300];
        snprintf(msg, sizeof msg, "%s: %s", path, err.msg);
        return cli_fail(err.code, msg);
    }
    char sha[65];
    for (int i = 0; i < 32; i++)
        snprintf(sha + 2 * i, 3, "%02x", info.sha256[i]);
    char code[ISSUE_CODE_LEN + 1] = "";
    bool has_code = code_in_reason(info.reason, code);
    registry_hit hit = {0}, claimed = {0};
    if (c->st != NULL) {
        if (store_registry_find_sha256(c->st, sha, registry_note, &hit, &hit.found, &err) !=
                TB_OK ||
            (has_code && !hit.found &&
             store_registry_find_code(c->st, code, registry_note, &claimed, &claimed.found,
                                      &err) != TB_OK))
            return cli_fail(err.code, err.msg);
        if (!hit.found)
            info.ok = false;
    }
    bool is_entry = c->by_code == NULL || strcmp(c->by_code->sha256, sha) == 0;
    if (!is_entry)
        info.ok = false;
    printf("%s: %d signature(s) in %d revision(s); %s; issued by: %s\n", path, info.count,
           info.revisions, info.ok ? "valid, unmodified since signing" : "NOT VALID",
           info.signer[0] ? info.signer : "-");
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
    if (c->trust && info.count > 0 && !info.trusted)
        printf("  FAILED: a signer's certificate is not trusted for signing\n");
    if (c->office && info.count > 0 && !info.first_signer_ok)
        printf("  FAILED: the first signer is not the issuing office\n");
    print_detail(info.detail);
    if (has_code)
        printf("  verification code %s (in the first signature's reason)\n", code);
    if (c->st != NULL && hit.found)
        printf("  registry: %s; SHA-256 %s equal\n", hit.line, sha);
    else if (c->st != NULL && claimed.found)
        printf("  FAILED: the registry's entry for verification code %s is %s; its SHA-256 is "
               "%s, this file's %s: not the issued copy\n", code, claimed.line, claimed.sha256,
               sha);
    else if (c->st != NULL)
        printf("  FAILED: not in the registry %s (SHA-256 %s): not an issued copy\n", c->db, sha);
    if (!is_entry)
        printf("  FAILED: not the document of the verification code given (%s): its SHA-256 "
               "is %s, this file's %s\n", c->by_code->line, c->by_code->sha256, sha);
    return info.ok ? 0 : 1;
}

static int
verify_file(const verify_run_ctx *c, const char *path)
{
    tb_err err = {0};
    tb_buf pdf = TB_BUF_INIT;
    int status;
    if (tb_fs_read(path, (size_t)PDFSIG_MAX_INPUT + 1, &pdf, &err) != TB_OK)
        status = cli_fail(err.code, err.msg);
    else
        status = verify_bytes(c, path, &pdf);
    tb_buf_release(&pdf);
    return status;
}

/* --code: the entry, and its archived file checked like any other. */
static int
verify_code(verify_run_ctx *c, const char *code_arg, const char *archive, registry_hit *hit,
            char **argv, int nfiles)
{
    char code[ISSUE_CODE_LEN + 1];
    tb_err err = {0};
    if (!issue_parse_code(code_arg, code))
        return cli_fail(TB_EINVAL, "verify: --code: expected a verification code "
                                   "XXXX-XXXX-XXXX (or tuban:verify:XXXX-XXXX-XXXX)");
    if (store_registry_find_code(c->st, code, registry_note, hit, &hit->found, &err) != TB_OK)
        return cli_fail(err.code, err.msg);
    if (!hit->found) {
        printf("verification code %s: FAILED: no such entry in the registry %s: not an issued "
               "document\n", code, c->db);
        return 1;
    }
    printf("verification code %s: registry %s\n", code, hit->line);
    c->by_code = hit;
    int status = 0;
    for (int i = 0; i < nfiles; i++) {
        int s = verify_file(c, argv[i]);
        status = s > status ? s : status;
    }
    if (nfiles > 0)
        return status;
    /* No copy given: the archive's own must still be the registered bytes. */
    char *root = archive ? tb_xstrdup(archive) : issue_default_archive(c->db);
    size_t n = strlen(root) + strlen(hit->path) + 2;
    char *file = tb_xmalloc(n);
    snprintf(file, n, "%s/%s", root, hit->path);
    status = verify_file(c, file);
    free(file);
    free(root);
    return status;
}

static int
verify_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"trust", required_argument, NULL, 't'},   {"office", required_argument, NULL, 'o'},
        {"db", required_argument, NULL, 'd'},      {"code", required_argument, NULL, 'c'},
        {"archive", required_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *trust = NULL, *office_dir = NULL, *db = NULL, *code = NULL, *archive = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 't': trust = optarg; break;
        case 'o': office_dir = optarg; break;
        case 'd': db = optarg; break;
        case 'c': code = optarg; break;
        case 'a': archive = optarg; break;
        case 'h': verify_help(); return 0;
        default: return 2;
        }
    }
    int nfiles = argc - optind;
    if (code == NULL && nfiles < 1)
        return cli_fail(TB_EINVAL, "verify: give one or more PDF files (or --code)");
    if (code != NULL && db == NULL)
        return cli_fail(TB_EINVAL, "verify: --code needs --db, the registry to look it up in");
    if (archive != NULL && code == NULL)
        return cli_fail(TB_EINVAL, "verify: --archive goes with --code");
    tb_err err = {0};
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
    pdfsig_verifier *v = pdfsig_verifier_new(&vo, &err);
    tb_arena_free(a);
    if (v == NULL)
        return cli_fail(err.code, err.msg);
    verify_run_ctx ctx = {v, vo.trust_pem != NULL, vo.first_signer != NULL, NULL, db, NULL};
    int status = 0;
    if (db != NULL) {
        if (!tb_fs_exists(db)) {
            pdfsig_verifier_free(v);
            return cli_fail(TB_ENOTFOUND, "verify: --db: no such store");
        }
        if ((ctx.st = store_open(db, &err)) == NULL) {
            pdfsig_verifier_free(v);
            return cli_fail(err.code, err.msg);
        }
    }
    int counts[3] = {0};
    if (code != NULL) {
        registry_hit hit = {0};
        status = verify_code(&ctx, code, archive, &hit, argv + optind, nfiles);
    } else {
        for (int i = optind; i < argc; i++) {
            int s = verify_file(&ctx, argv[i]);
            counts[s == 0 ? 0 : s == 1 ? 1 : 2]++;
            status = s > status ? s : status;
        }
        if (nfiles > 1)
            printf("%d file(s): %d valid, %d not valid, %d could not be read or parsed\n", nfiles,
                   counts[0], counts[1], counts[2]);
    }
    store_close(ctx.st);
    pdfsig_verifier_free(v);
    return status;
}

const cli_command cmd_verify = {"verify", "check documents' signatures (and registry entries)",
                                verify_run, verify_help};
