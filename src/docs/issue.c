#include "tb_features.h"

#include "issue.h"

#include "docno.h"
#include "pdfsig.h"
#include "tb_buf.h"
#include "tb_fs.h"
#include "tb_strset.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct issuer {
    store *st;
    char *root, *dir; /* archive root and <root>/<rel> */
    char *rel;        /* <office>/<year>/<机关代字>: one number series, so no two share a name */
    const tpl_office *office;
    char *prefix; /* the kind's 机关代字 */
    int year;
    int reconciled;
    bool committed;
};

/* Crash-test hook: TUBAN_TEST_CRASH=<stage> kills the process (SIGKILL, no clean-up) when the
 * issue reaches that stage: allocated, written, renamed, committing. */
static void
crash_point(const char *stage)
{
    const char *want = getenv("TUBAN_TEST_CRASH");
    if (want != NULL && strcmp(want, stage) == 0)
        raise(SIGKILL);
}

char *
issue_default_archive(const char *db_path)
{
    const char *slash = strrchr(db_path, '/');
    size_t dirlen = slash ? (size_t)(slash - db_path) : 0;
    size_t cap = dirlen + 16;
    char *out = tb_xmalloc(cap);
    if (slash)
        snprintf(out, cap, "%.*s/archive", (int)dirlen, db_path);
    else
        snprintf(out, cap, "archive");
    return out;
}

/* A registered file's name is its number: "12.pdf". */
static int
number_of_name(const char *name)
{
    int n = 0;
    const char *p = name;
    if (*p < '1' || *p > '9')
        return 0;
    for (; *p >= '0' && *p <= '9' && n < 10000000; p++)
        n = n * 10 + (*p - '0');
    return strcmp(p, ".pdf") == 0 ? n : 0;
}

/* Removes what an interrupted issue left in dir: temporaries (".<name>.pdf.XXXXXX") and files
 * whose number is above the last committed one. */
static tb_code
reconcile(issuer *is, tb_err *err)
{
    int last = 0;
    tb_code rc = store_docno_last(is->st, is->office->id, is->year, is->prefix,
                                  &last, err);
    if (rc != TB_OK)
        return rc;
    DIR *d = opendir(is->dir);
    if (d == NULL)
        return errno == ENOENT ? TB_OK
                               : tb_err_set(err, TB_EIO, "%s: %s", is->dir, strerror(errno));
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        bool temp = n[0] == '.' && strstr(n, ".pdf.") != NULL;
        int num = number_of_name(n);
        if (!temp && !(num > last))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", is->dir, n);
        if (unlink(path) != 0) {
            rc = tb_err_set(err, TB_EIO, "%s: cannot remove a leftover of an interrupted issue: "
                            "%s", path, strerror(errno));
            break;
        }
        fprintf(stderr, "tuban: removed %s, left by an interrupted issue (never registered)\n",
                path);
        is->reconciled++;
    }
    closedir(d);
    return rc;
}

/* Whether a 机关代字 can be a folder of the archive as it is (no path separator, nothing hidden
 * or special, no control characters). */
static bool
prefix_is_file_name(const char *s)
{
    if (*s == '\0' || *s == '.' || strlen(s) > 200)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
            return false;
    return true;
}

issuer *
issuer_begin(const char *db_path, const char *archive_root, const tpl_office *o,
             const char *kind, int year, tb_err *err)
{
    issuer *is = tb_xcalloc(1, sizeof *is);
    is->office = o;
    is->prefix = tb_xstrdup(tpl_office_prefix(o, kind));
    is->year = year;
    is->root = tb_xstrdup(archive_root);
    if (!prefix_is_file_name(is->prefix)) {
        tb_err_set(err, TB_EINVAL, "%s/office.xml: <docno-prefix> '%s' (for %s) cannot name an "
                                   "archive folder: no '/', '\\', control characters or "
                                   "leading '.'", o->dir ? o->dir : o->id, is->prefix, kind);
        issuer_end(is);
        return NULL;
    }
    size_t cap = strlen(o->id) + strlen(is->prefix) + 32;
    is->rel = tb_xmalloc(cap);
    snprintf(is->rel, cap, "%s/%d/%s", o->id, year, is->prefix);
    cap += strlen(archive_root);
    is->dir = tb_xmalloc(cap);
    snprintf(is->dir, cap, "%s/%s", archive_root, is->rel);
    if ((is->st = store_open(db_path, err)) == NULL ||
        store_issue_begin(is->st, err) != TB_OK || reconcile(is, err) != TB_OK ||
        tb_fs_mkdirs(is->dir, err) != TB_OK) {
        issuer_end(is);
        return NULL;
    }
    return is;
}

int
issuer_reconciled(const issuer *is)
{
    return is->reconciled;
}

bool
issue_new_code(char *code)
{
    char hex[13];
    if (!pdfsig_random_hex(6, hex))
        return false;
    snprintf(code, ISSUE_CODE_LEN + 1, "%.4s-%.4s-%.4s", hex, hex + 4, hex + 8);
    return true;
}

void
issue_qr_payload(const char *code, char qr[ISSUE_QR_LEN + 1])
{
    snprintf(qr, ISSUE_QR_LEN + 1, "%s%s", ISSUE_QR_PREFIX, code);
}

bool
issue_parse_code(const char *text, char code[ISSUE_CODE_LEN + 1])
{
    while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
        text++;
    if (strncmp(text, ISSUE_QR_PREFIX, sizeof ISSUE_QR_PREFIX - 1) == 0)
        text += sizeof ISSUE_QR_PREFIX - 1;
    for (int i = 0; i < ISSUE_CODE_LEN; i++) {
        char c = text[i];
        bool digit = c >= '0' && c <= '9', hex = (c | 0x20) >= 'a' && (c | 0x20) <= 'f';
        if (i % 5 == 4 ? c != '-' : !digit && !hex)
            return false;
        code[i] = hex ? (char)(c & ~0x20) : c; /* the registry writes upper case */
    }
    code[ISSUE_CODE_LEN] = '\0';
    for (const char *p = text + ISSUE_CODE_LEN; *p; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            return false;
    return true;
}

tb_code
issuer_allocate_number(issuer *is, int *number, char **path, tb_err *err)
{
    tb_code rc = store_docno_next(is->st, is->office->id, is->year, is->prefix,
                                  number, err);
    if (rc != TB_OK)
        return rc;
    size_t cap = strlen(is->dir) + 16;
    *path = tb_xmalloc(cap);
    snprintf(*path, cap, "%s/%d.pdf", is->dir, *number);
    crash_point("allocated");
    return TB_OK;
}

tb_code
issuer_allocate(issuer *is, int *number, char **path, char *code, tb_err *err)
{
    if (!issue_new_code(code))
        return tb_err_set(err, TB_ELIB, "issuing: no random bytes for the verification code");
    return issuer_allocate_number(is, number, path, err);
}

tb_code
issue_guess_next(const char *db_path, const tpl_office *o, const char *kind, int year,
                 int *next, tb_err *err)
{
    store *st = store_open(db_path, err);
    if (st == NULL)
        return err->code;
    int last = 0;
    tb_code rc = store_docno_last(st, o->id, year, tpl_office_prefix(o, kind), &last, err);
    store_close(st);
    *next = last + 1;
    return rc;
}

store *
issuer_store(issuer *is)
{
    return is->st;
}

const char *
issuer_prefix(const issuer *is)
{
    return is->prefix;
}

void
issue_entry_hash(const store_reg_entry *e, char out[65])
{
    tb_buf b = TB_BUF_INIT;
    /* Fields separated by US (0x1f), which none of them can hold. */
    tb_buf_printf(&b, "tuban-registry-1\x1f%s\x1f%lld\x1f%s\x1f%d\x1f%s\x1f%d\x1f%s\x1f%s\x1f%s"
                      "\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s",
                  e->prev_hash, (long long)e->seq, e->office, e->year, e->prefix, e->number,
                  e->docno, e->kind, e->patches, e->signer, e->issued_at, e->path, e->sha256,
                  e->code);
    pdfsig_sha256_hex(b.data, b.len, out);
    tb_buf_release(&b);
}

static tb_code
file_sha256(const char *path, char out[65], tb_err *err)
{
    tb_buf b = TB_BUF_INIT;
    tb_code rc = tb_fs_read(path, (size_t)PDFSIG_MAX_INPUT, &b, err);
    if (rc == TB_OK)
        pdfsig_sha256_hex(b.data, b.len, out);
    tb_buf_release(&b);
    return rc;
}

static void
fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

tb_code
issuer_commit(issuer *is, const char *kind, const char *signer, const issue_doc *docs,
              size_t count, tb_err *err)
{
    crash_point("written");
    tb_code rc = TB_OK;
    size_t renamed = 0;
    char (*sums)[65] = tb_xcalloc(count + 1, sizeof *sums);
    for (size_t i = 0; i < count && rc == TB_OK; i++)
        rc = file_sha256(docs[i].tmp, sums[i], err);
    for (; renamed < count && rc == TB_OK; renamed++)
        if (rename(docs[renamed].tmp, docs[renamed].path) != 0)
            rc = tb_err_set(err, TB_EIO, "%s: cannot move into the archive: %s",
                            docs[renamed].path, strerror(errno));
    if (rc == TB_OK) {
        fsync_dir(is->dir);
        crash_point("renamed");
    }
    int64_t seq = 0;
    char prev[65];
    if (rc == TB_OK)
        rc = store_registry_tail(is->st, &seq, prev, err);
    char issued_at[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(issued_at, sizeof issued_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    for (size_t i = 0; i < count && rc == TB_OK; i++) {
        char docno[160], rel[512], hash[65];
        if (!docno_format(is->prefix, is->year, docs[i].number, docno,
                          sizeof docno)) {
            rc = tb_err_set(err, TB_EINVAL, "issuing: number %d is not valid", docs[i].number);
            break;
        }
        snprintf(rel, sizeof rel, "%s/%d.pdf", is->rel, docs[i].number);
        store_reg_entry e = {
            .seq = seq + 1, .office = is->office->id, .year = is->year,
            .prefix = is->prefix, .number = docs[i].number, .docno = docno,
            .kind = kind, .patches = docs[i].patches ? docs[i].patches : "", .signer = signer,
            .issued_at = issued_at, .path = rel, .sha256 = sums[i], .code = docs[i].code,
            .prev_hash = prev, .entry_hash = hash,
        };
        issue_entry_hash(&e, hash);
        if ((rc = store_registry_append(is->st, &e, err)) == TB_OK) {
            seq++;
            memcpy(prev, hash, sizeof prev);
        }
    }
    if (rc == TB_OK) {
        crash_point("committing");
        rc = store_issue_commit(is->st, err);
    }
    if (rc == TB_OK) {
        is->committed = true;
    } else {
        store_issue_abort(is->st);
        for (size_t i = 0; i < renamed; i++) /* never registered: not in the archive either */
            unlink(docs[i].path);
    }
    free(sums);
    return rc;
}

void
issuer_end(issuer *is)
{
    if (is == NULL)
        return;
    if (is->st != NULL) {
        if (!is->committed)
            store_issue_abort(is->st);
        store_close(is->st);
    }
    free(is->root);
    free(is->dir);
    free(is->rel);
    free(is->prefix);
    free(is);
}

/* ---- archive check -------------------------------------------------------------------------- */

typedef struct checker {
    const char *root;
    void (*fn)(void *user, const char *line);
    void *user;
    int problems;
    int64_t expect_seq;
    char prev[65];
    tb_strset *paths; /* registered files, relative to the root */
    /* numbers per (office, year, prefix), in the order met: the last one seen */
    struct series { char *key; int last; } *series;
    size_t nseries;
} checker;

static void TB_PRINTF(2, 3)
problem(checker *c, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->problems++;
    c->fn(c->user, line);
}

static bool
check_entry(void *user, const store_reg_entry *e)
{
    checker *c = user;
    char hash[65];
    if (e->seq != c->expect_seq)
        problem(c, "registry: entry %lld follows entry %lld (entries missing)",
                (long long)e->seq, (long long)c->expect_seq - 1);
    if (strcmp(e->prev_hash, c->prev) != 0)
        problem(c, "registry: entry %lld (%s): its link to the entry before does not match "
                   "(an entry was changed, removed or inserted)", (long long)e->seq, e->docno);
    issue_entry_hash(e, hash);
    if (strcmp(hash, e->entry_hash) != 0)
        problem(c, "registry: entry %lld (%s): its content does not match its hash (the entry "
                   "was edited)", (long long)e->seq, e->docno);
    c->expect_seq = e->seq + 1;
    snprintf(c->prev, sizeof c->prev, "%s", e->entry_hash);
    tb_strset_add(c->paths, e->path);
    char key[512];
    snprintf(key, sizeof key, "%s/%d/%s", e->office, e->year, e->prefix);
    size_t i = 0;
    while (i < c->nseries && strcmp(c->series[i].key, key) != 0)
        i++;
    if (i == c->nseries) {
        c->series = tb_xrealloc(c->series, (c->nseries + 1) * sizeof *c->series);
        c->series[c->nseries++] = (struct series){tb_xstrdup(key), 0};
    }
    if (e->number != c->series[i].last + 1)
        problem(c, "registry: entry %lld: %s follows number %d (numbers must be gapless)",
                (long long)e->seq, e->docno, c->series[i].last);
    c->series[i].last = e->number;
    char path[4096], sum[65];
    snprintf(path, sizeof path, "%s/%s", c->root, e->path);
    tb_err ferr = {0};
    if (!tb_fs_exists(path))
        problem(c, "archive: %s (%s, entry %lld) is missing", path, e->docno, (long long)e->seq);
    else if (file_sha256(path, sum, &ferr) != TB_OK)
        problem(c, "archive: %s: %s", path, ferr.msg);
    else if (strcmp(sum, e->sha256) != 0)
        problem(c, "archive: %s (%s, entry %lld) differs from what was issued (SHA-256 %s, "
                   "registered %s)", path, e->docno, (long long)e->seq, sum, e->sha256);
    return true;
}

/* Reports files under the root that no entry registers: <office>/<year>/<机关代字>/<n>.pdf, and
 * <office>/<year>/<n>.pdf of archives made before the 机关代字 had its folder (their entries
 * keep that path, so they stay checkable). */
static void
check_unregistered(checker *c, const char *rel, int depth)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s%s%s", c->root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
        char full[8192];
        snprintf(full, sizeof full, "%s/%s", c->root, sub);
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < 3)
            check_unregistered(c, sub, depth + 1);
        else if (!tb_strset_has(c->paths, sub))
            problem(c, "archive: %s is not in the registry", full);
    }
    closedir(d);
}

tb_code
archive_check(const char *db_path, const char *archive_root,
              void (*fn)(void *user, const char *line), void *user, int *problems, tb_err *err)
{
    if (!tb_fs_exists(db_path))
        return tb_err_set(err, TB_ENOTFOUND, "%s: no such store", db_path);
    store *st = store_open(db_path, err);
    if (st == NULL)
        return err->code;
    checker c = {.root = archive_root, .fn = fn, .user = user, .expect_seq = 1,
                 .paths = tb_strset_new()};
    memset(c.prev, '0', 64);
    c.prev[64] = '\0';
    tb_code rc = store_registry_each(st, check_entry, &c, err);
    /* Counters must agree with the registry: a committed number always has its entry. */
    for (size_t i = 0; rc == TB_OK && i < c.nseries; i++) {
        char office[256], prefix[256];
        int year = 0, last = 0;
        if (sscanf(c.series[i].key, "%255[^/]/%d/%255[^\n]", office, &year, prefix) == 3 &&
            store_docno_last(st, office, year, prefix, &last, err) == TB_OK &&
            last != c.series[i].last)
            problem(&c, "registry: %s %d: the counter says %d numbers were issued, the registry "
                        "has %d", prefix, year, last, c.series[i].last);
    }
    if (rc == TB_OK)
        check_unregistered(&c, "", 0);
    for (size_t i = 0; i < c.nseries; i++)
        free(c.series[i].key);
    free(c.series);
    tb_strset_free(c.paths);
    store_close(st);
    *problems = c.problems;
    return rc;
}
