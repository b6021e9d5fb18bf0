#include "tb_features.h"

#include "cli.h"
#include "issue.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
archive_help(void)
{
    printf("Usage: tuban archive check --db <store> [--archive <dir>]\n\n"
           "Checks the archive against the registry: recomputes the registry's hash chain (each\n"
           "entry carries the hash of the one before), every archived file's SHA-256, that the\n"
           "发文字号 are gapless and agree with the counters, and that no unregistered file sits\n"
           "in the archive.  Names every difference.\n\n"
           "Exit status: 0 archive and registry agree, 1 a difference was found, 2 bad usage.\n");
}

static void
print_line(void *user, const char *line)
{
    (void)user;
    printf("  %s\n", line);
}

static int
archive_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"archive", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *root = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else if (c == 'a')
            root = optarg;
        else if (c == 'h') {
            archive_help();
            return 0;
        } else
            return 2;
    }
    if (optind != argc - 1 || strcmp(argv[optind], "check") != 0 || db == NULL)
        return cli_fail(TB_EINVAL, "archive: usage: tuban archive check --db <store>");
    char *def = root ? NULL : issue_default_archive(db);
    tb_err err = {0};
    int problems = 0;
    printf("archive %s, registry %s:\n", root ? root : def, db);
    tb_code rc = archive_check(db, root ? root : def, print_line, NULL, &problems, &err);
    free(def);
    if (rc != TB_OK)
        return cli_fail(err.code, err.msg);
    printf(problems ? "%d difference(s): NOT CONSISTENT\n" : "archive and registry agree\n",
           problems);
    return problems ? 1 : 0;
}

const cli_command cmd_archive = {"archive", "check the archive against the registry",
                                 archive_run, archive_help};
