#include "tb_features.h"

#include "cli.h"
#include "tb_err.h"

#include <stdio.h>
#include <string.h>

static const cli_command *const commands[] = {&cmd_render, &cmd_import, &cmd_patch,
                                              &cmd_verify, &cmd_sign, &cmd_archive, &cmd_serve};
enum { COMMAND_COUNT = sizeof commands / sizeof commands[0] };

static void
usage(FILE *f)
{
    fprintf(f, "tuban — 卫片执法公文生成 (signed, sealed GB/T 9704 documents from patch data)\n\n"
               "Usage: tuban <command> [options]\n\nCommands:\n");
    for (int i = 0; i < COMMAND_COUNT; i++)
        fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\nRun 'tuban <command> --help' for a command's options.\n"
               "Exit status: 0 success, 1 failure while working, 2 bad usage or bad input.\n");
}

int
cli_fail(int code, const char *msg)
{
    fprintf(stderr, "tuban: %s\n", msg);
    return tb_code_exit_status((tb_code)code);
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        if (argc > 2)
            for (int i = 0; i < COMMAND_COUNT; i++)
                if (strcmp(argv[2], commands[i]->name) == 0) {
                    commands[i]->help();
                    return 0;
                }
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("tuban %s\n", TUBAN_VERSION);
        return 0;
    }
    for (int i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(argv[1], commands[i]->name) == 0)
            return commands[i]->run(argc - 1, argv + 1);
    fprintf(stderr, "tuban: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
