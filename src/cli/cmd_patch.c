#include "tb_features.h"

#include "cli.h"
#include "importer.h"
#include "store.h"
#include "tb_fs.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
patch_help(void)
{
    printf("Usage: tuban patch set <id> --status <state> --db <store.db> [options]\n"
           "       tuban patch list --db <store.db> --batch <2022|2019Q3> [--as-of YYYY-MM-DD]\n\n"
           "set   records one rectification-state change (未整改, 整改中, 已整改, 已验收,\n"
           "      存违挂账) in the history, refusing a change the workflow forbids with the\n"
           "      rule it breaks.\n"
           "list  prints every patch of a batch as it stood at the end of a day (default:\n"
           "      today), tab-separated: id, township, legality, state, measure, deadline.\n\n"
           "Options:\n"
           "  --db <file>        the store\n"
           "  --batch <label>    the batch (set: needed only when the id is in several)\n"
           "  --source <部|省>   the batch's issuer (default: 部)\n"
           "  --status <state>   the new state (set)\n"
           "  --by <name>        who (default: $USER)\n"
           "  --note <text>      why, for the history\n"
           "  --at <YYYY-MM-DD>  when (set; default: now)\n"
           "  --as-of <date>     the day (list)\n"
           "Exit status: 0 done; 2 refused or bad usage; 1 failure while working.\n");
}

static void
print_state(void *user, const store_patch_state *s)
{
    (void)user;
    char deadline[16];
    printf("%s\t%s\t%s\t%s\t%s\t%s%s\n", s->id, s->admin_code, legality_name(s->legality),
           rectify_state_name(s->state), s->measure ? s->measure : "",
           cn_date_format_iso(s->deadline, deadline, sizeof deadline),
           s->missing ? "\tmissing" : "");
}

static int
patch_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'D'},     {"batch", required_argument, NULL, 'b'},
        {"source", required_argument, NULL, 's'}, {"status", required_argument, NULL, 'S'},
        {"by", required_argument, NULL, 'B'},     {"note", required_argument, NULL, 'n'},
        {"at", required_argument, NULL, 'a'},     {"as-of", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *batch_label = NULL, *status = NULL, *by = NULL, *note = NULL,
               *at = NULL, *as_of = NULL;
    store_batch batch = {.source = "部"};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'D': db = optarg; break;
        case 'b': batch_label = optarg; break;
        case 's': batch.source = optarg; break;
        case 'S': status = optarg; break;
        case 'B': by = optarg; break;
        case 'n': note = optarg; break;
        case 'a': at = optarg; break;
        case 'o': as_of = optarg; break;
        case 'h': patch_help(); return 0;
        default: return 2;
        }
    }
    if (optind >= argc)
        return cli_fail(TB_EINVAL, "patch: expected 'set' or 'list' (try 'tuban patch --help')");
    if (db == NULL)
        return cli_fail(TB_EINVAL, "patch: --db is required");
    if (batch_label && !importer_parse_batch(batch_label, &batch))
        return cli_fail(TB_EINVAL, "--batch: expected a year (2022) or a quarter (2019Q3)");
    if (!tb_fs_exists(db))
        return cli_fail(TB_ENOTFOUND, "patch: no store at the --db path (tuban import makes one)");
    const char *verb = argv[optind];
    tb_err err = {0};
    int exit_status = 0;
    store *st = NULL;
    if (strcmp(verb, "set") == 0) {
        rectify_state to;
        if (optind + 2 != argc)
            return cli_fail(TB_EINVAL, "patch set: give exactly one patch id");
        if (status == NULL || !rectify_state_parse(status, &to) || to == RECTIFY_NONE)
            return cli_fail(TB_EINVAL, "patch set: --status 未整改|整改中|已整改|已验收|存违挂账");
        cn_date d;
        if (at && !cn_date_parse(at, &d))
            return cli_fail(TB_EINVAL, "--at: expected YYYY-MM-DD");
        if (!(st = store_open(db, &err)) ||
            store_patch_set_state(st, batch_label ? &batch : NULL, argv[optind + 1], to,
                                  by ? by : getenv("USER"), note, at, &err) != TB_OK)
            exit_status = cli_fail(err.code, err.msg);
        else
            printf("%s: %s\n", argv[optind + 1], status);
    } else if (strcmp(verb, "list") == 0) {
        cn_date day = cn_date_today();
        if (batch_label == NULL)
            return cli_fail(TB_EINVAL, "patch list: --batch is required");
        if (as_of && !cn_date_parse(as_of, &day))
            return cli_fail(TB_EINVAL, "--as-of: expected YYYY-MM-DD");
        if (!(st = store_open(db, &err)) ||
            store_as_of(st, &batch, day, print_state, NULL, &err) != TB_OK)
            exit_status = cli_fail(err.code, err.msg);
    } else {
        return cli_fail(TB_EINVAL, "patch: expected 'set' or 'list'");
    }
    store_close(st);
    return exit_status;
}

const cli_command cmd_patch = {"patch", "change or list patch states (history, as-of dates)",
                               patch_run, patch_help};
