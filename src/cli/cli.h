/* The `tuban` command: a table of subcommands over libtuban (STYLE R3). */
#ifndef TB_CLI_H
#define TB_CLI_H

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name; returns the exit status */
    void (*help)(void);
} cli_command;

extern const cli_command cmd_render;
extern const cli_command cmd_verify;
extern const cli_command cmd_import;
extern const cli_command cmd_patch;
extern const cli_command cmd_sign;
extern const cli_command cmd_archive;
extern const cli_command cmd_serve;

/* Prints "tuban: <msg>" to stderr and returns the exit status for code. */
int cli_fail(int code, const char *msg);

#endif
