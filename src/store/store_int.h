/* Private to src/store: the store object and helpers shared by store.c and store_import.c. */
#ifndef TB_STORE_INT_H
#define TB_STORE_INT_H

#include "store.h"

#include <sqlite3.h>

struct store {
    sqlite3 *db;     /* owned */
    char *path;      /* owned, for messages */
    bool importing;  /* a store_import is open on this connection */
};

/* Length of a normalised timestamp "YYYY-MM-DDThh:mm:ss" plus its NUL. */
#define STORE_TS_LEN 20

/* Sets err to TB_EIO "<path>: <what>: <sqlite3_errmsg>" and returns its code. */
tb_code store_fail(store *st, const char *what, tb_err *err);

/* Runs one or more SQL statements without results. */
tb_code store_exec(store *st, const char *sql, tb_err *err);

/* Prepares sql into *q; on failure sets err (naming what), *q = NULL. */
tb_code store_prepare(store *st, const char *sql, const char *what, sqlite3_stmt **q, tb_err *err);

/* Binds s as text (NULL or "" -> SQL NULL).  The text must outlive the statement's next step. */
void store_bind_text(sqlite3_stmt *q, int i, const char *s);

/* Normalises at ("YYYY-MM-DD", "YYYY-MM-DDThh:mm:ss" or with a blank for T; NULL = now, local
 * time) into out; false when at is malformed or not a real date and time. */
bool store_timestamp(const char *at, char out[STORE_TS_LEN]);

/* Finds (create false) or finds-or-creates (create true) the batch row; TB_ENOTFOUND when it
 * does not exist and create is false, TB_EINVAL for a malformed batch. */
tb_code store_batch_id(store *st, const store_batch *b, bool create, int64_t *id, tb_err *err);

#endif
