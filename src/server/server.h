/* `tuban serve`: the daemon.  libmicrohttpd lives only in src/server.
 *
 * A configuration file names the listen address, the store, the archive root, a scratch folder,
 * limits, optional TLS files, and the offices with their bearer tokens (stored as SHA-256
 * hashes, never in clear).  Format (samples/tuban.conf): `key = value` lines, `#` comments,
 * sections `[office <id>]` and `[admin <name>]`; " #" starts a comment after a value; relative
 * paths are relative to the file. */
#ifndef TB_SERVER_H
#define TB_SERVER_H

#include "tb_arena.h"
#include "tb_err.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct server_office {
    const char *id;           /* the section name; office.xml's id must match */
    const char *dir;          /* the office directory */
    const char *imagery;      /* base imagery overriding the profile's, or NULL */
    const char *county_code;  /* from office.xml at load: the patches it may see */
} server_office;

typedef struct server_token {
    const char *name;        /* the section's name: recorded as `who` in histories */
    const char *sha256;      /* hex hash of the bearer token */
    int office;              /* index into offices, or -1 for an admin token */
} server_token;

typedef struct server_config {
    const char *path;         /* the file, for messages */
    const char *host;         /* listen address (numeric IPv4) */
    int port;
    const char *store_path, *archive_root, *scratch_root;
    const char *tls_cert, *tls_key; /* both or neither */
    int workers;              /* 0 = one per core */
    size_t max_body;          /* bytes of one request body */
    int request_timeout_s;    /* idle connection timeout and longest wait for a result */
    int queue_limit;          /* requests waiting for a worker before 503 */
    int drain_timeout_s;      /* longest SIGTERM drain */
    server_office *offices;
    size_t office_count;
    server_token *tokens;
    size_t token_count;
} server_config;

/* Reads and checks the file (every key known, every value in range, at least one token); an
 * error names the file, line and key.  Everything is owned by a. */
server_config *server_config_load(const char *path, tb_arena *a, tb_err *err);

/* Parses "ADDR:PORT" into cfg (numeric IPv4 address, port 1-65535). */
tb_code server_config_set_listen(server_config *cfg, const char *listen, tb_arena *a,
                                 tb_err *err) TB_MUST_CHECK;

/* Loads the offices, opens the store, starts the workers and the HTTP daemon, and serves until
 * SIGTERM or SIGINT, then drains: stops accepting, finishes the requests and job items in
 * flight, and returns TB_OK.  Errors at start-up (a bad office, a busy port) are returned. */
tb_code server_run(server_config *cfg, tb_err *err) TB_MUST_CHECK;

#endif
