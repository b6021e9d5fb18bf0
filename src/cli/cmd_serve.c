#include "tb_features.h"

#include "api.h"
#include "cli.h"
#include "server.h"

#include <getopt.h>
#include <stdio.h>

static void
serve_help(void)
{
    printf("Usage: tuban serve --config <file> [--listen ADDR:PORT]\n\n"
           "Runs the document daemon: the HTTP API under /v1 (docs/openapi.yaml), /healthz and\n"
           "/metrics.  Logs go to stderr, one line per event with a request id.  SIGTERM (or\n"
           "SIGINT) drains: no new connections, the requests and job items in flight finish,\n"
           "then exit 0.  Jobs live in the store: after a crash they resume on start.\n\n"
           "Options:\n"
           "  --config <file>      the configuration (samples/tuban.conf shows every key)\n"
           "  --listen ADDR:PORT   overrides the file's listen address (port 0: any free port,\n"
           "                       logged at start)\n"
           "  --routes             print the API's routes (method, path, who may call) and exit\n"
           "  -h, --help           this help\n\n"
           "Exit status: 0 stopped by SIGTERM/SIGINT; 2 bad configuration or usage; 1 failure\n"
           "(e.g. the address is in use).\n");
}

static void
print_routes(void)
{
    static const char *const access[] = {"public", "office", "office-or-admin", "admin"};
    size_t n;
    const api_route_info *t = api_route_table(&n);
    for (size_t i = 0; i < n; i++)
        printf("%s %s %s\n", t[i].method, t[i].pattern, access[t[i].access]);
}

static int
serve_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"routes", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *listen = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'l': listen = optarg; break;
        case 'r': print_routes(); return 0;
        case 'h': serve_help(); return 0;
        default: return 2;
        }
    }
    if (optind != argc)
        return cli_fail(TB_EINVAL, "serve: unexpected argument (try 'tuban serve --help')");
    if (config == NULL)
        return cli_fail(TB_EINVAL, "serve: --config is required");
    tb_arena *a = tb_arena_new(0);
    tb_err err = {0};
    int status = 0;
    server_config *cfg = server_config_load(config, a, &err);
    if (cfg == NULL || (listen && server_config_set_listen(cfg, listen, a, &err) != TB_OK) ||
        server_run(cfg, &err) != TB_OK)
        status = cli_fail(err.code, err.msg);
    tb_arena_free(a);
    return status;
}

const cli_command cmd_serve = {"serve", "run the document daemon (HTTP API, jobs)", serve_run,
                               serve_help};
