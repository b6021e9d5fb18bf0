/* Issuing (DESIGN §1, issue 8): a rendered document becomes an official one by getting its
 * 发文字号, going into the archive and being registered, all or nothing.
 *
 *   issuer_begin     opens the store, takes the write lock (one issuer at a time), and
 *                    reconciles what an interrupted issue left in the archive
 *   issuer_allocate  the next number of (office, year, 机关代字), its archive path and a
 *                    verification code — inside the open transaction, so not yet committed
 *   (the caller renders and signs with that number and writes a temporary next to the path)
 *   issuer_commit    fsynced temporaries renamed into place, the directory fsynced, every
 *                    document registered (hash-chained), COMMIT
 *
 * A crash anywhere before the COMMIT leaves nothing committed: the next issuer_begin removes the
 * temporaries and any renamed file whose number the store never committed, and the numbers are
 * allocated again.  After the COMMIT every registered number has its file. */
#ifndef TB_ISSUE_H
#define TB_ISSUE_H

#include "store.h"
#include "tb_err.h"
#include "tpl.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct issuer issuer;

/* Begins an issue of office o's documents of `kind` (which picks the 机关代字) dated in
 * `year`, archiving under archive_root (created if missing) as <office>/<year>/<机关代字>/<n>.pdf:
 * one folder per number series.  A 机关代字 that cannot be a folder name is refused.  Returns
 * NULL with err set. */
issuer *issuer_begin(const char *db_path, const char *archive_root, const tpl_office *o,
                     const char *kind, int year, tb_err *err);

/* Files an interrupted issue had left that issuer_begin removed. */
int issuer_reconciled(const issuer *is);

enum { ISSUE_CODE_LEN = 14 }; /* "XXXX-XXXX-XXXX" */

/* Allocates the next number; *path (malloc'd) is its archive file, code its verification code
 * (ISSUE_CODE_LEN + 1 bytes). */
tb_code issuer_allocate(issuer *is, int *number, char **path, char *code, tb_err *err)
    TB_MUST_CHECK;

/* A fresh verification code (ISSUE_CODE_LEN + 1 bytes); false when no random bytes. */
bool issue_new_code(char *code);

/* What the QR code on an issued document says: "tuban:verify:" and its verification code, so a
 * phone shows what it is and `tuban verify --code` takes it as scanned. */
#define ISSUE_QR_PREFIX "tuban:verify:"
enum { ISSUE_QR_LEN = sizeof ISSUE_QR_PREFIX - 1 + ISSUE_CODE_LEN };
void issue_qr_payload(const char *code, char qr[ISSUE_QR_LEN + 1]);

/* The verification code in text: a code as printed (XXXX-XXXX-XXXX, any case, surrounding
 * blanks ignored) or a scanned QR payload.  Writes it in the registry's form (upper case) to
 * code (ISSUE_CODE_LEN + 1 bytes); false when text is neither. */
bool issue_parse_code(const char *text, char code[ISSUE_CODE_LEN + 1]);

/* issuer_allocate without the code: the daemon makes its code first (issue_new_code), renders
 * the document before it takes the write lock, and keeps that rendering when the number it
 * guessed is the one allocated. */
tb_code issuer_allocate_number(issuer *is, int *number, char **path, tb_err *err) TB_MUST_CHECK;

/* The number the next issue of (o, kind, year) would get if nobody issued meanwhile, read
 * without the write lock: what a document is rendered with before its issue (the guess is
 * checked by issuer_allocate_number, under the lock). */
tb_code issue_guess_next(const char *db_path, const tpl_office *o, const char *kind, int year,
                         int *next, tb_err *err) TB_MUST_CHECK;

/* The issue's store connection, inside its open transaction: what a caller writes there commits
 * with the documents or not at all (the daemon marks its job item done this way). */
store *issuer_store(issuer *is);

/* The kind's 机关代字 the issue numbers under. */
const char *issuer_prefix(const issuer *is);

typedef struct issue_doc {
    const char *tmp;     /* the rendered temporary (tb_fs_write_temp next to path) */
    const char *path;    /* from issuer_allocate */
    int number;
    const char *code;
    const char *patches; /* comma-separated patch ids */
} issue_doc;

/* Publishes and registers docs (kind e.g. "notice", signer the certificate's CN), then commits.
 * On failure everything is rolled back (renamed files are removed again). */
tb_code issuer_commit(issuer *is, const char *kind, const char *signer, const issue_doc *docs,
                      size_t count, tb_err *err) TB_MUST_CHECK;

/* Rolls back (if not committed) and closes.  NULL ok. */
void issuer_end(issuer *is);

/* The hash of a registry entry: SHA-256 over its prev_hash and every field (hex, 65 bytes). */
void issue_entry_hash(const store_reg_entry *e, char out[65]);

/* `tuban archive check`: recomputes the registry's hash chain and every file's hash, checks the
 * numbers are gapless and that no unregistered file sits in the archive.  Each difference is
 * reported to fn, one line each; *problems counts them.  TB_OK when the check could run. */
tb_code archive_check(const char *db_path, const char *archive_root,
                      void (*fn)(void *user, const char *line), void *user, int *problems,
                      tb_err *err) TB_MUST_CHECK;

/* The archive root used when none is given: "archive" next to the store file (malloc'd). */
char *issue_default_archive(const char *db_path);

#endif
