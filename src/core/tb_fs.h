/* Files: whole-file reads with a size cap, and atomic writes (a reader sees the old file or the
 * new one, never half of one; a crash leaves at most a hidden temporary file). */
#ifndef TB_FS_H
#define TB_FS_H

#include "tb_buf.h"
#include "tb_err.h"

#include <stdbool.h>

/* Reads path into out (appending).  Files larger than max_bytes give TB_ELIMIT. */
tb_code tb_fs_read(const char *path, size_t max_bytes, tb_buf *out, tb_err *err) TB_MUST_CHECK;

/* Opens path beneath dir (path relative to dir, or dir + "/" + relative as joined for
 * messages): no component may leave dir, neither by ".." nor by a symbolic link (openat2 with
 * RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS; on a kernel without openat2 each component is opened
 * with O_NOFOLLOW, so no link is followed at all).  flags as open(2)'s; O_CLOEXEC is added.
 * Returns the descriptor, or -1 with err set (TB_EINVAL naming dir when the path leaves it). */
int tb_fs_open_beneath(const char *dir, const char *path, int flags, tb_err *err);

/* tb_fs_read of a file opened by tb_fs_open_beneath. */
tb_code tb_fs_read_beneath(const char *dir, const char *path, size_t max_bytes, tb_buf *out,
                           tb_err *err) TB_MUST_CHECK;

/* Tests only: behave as if the kernel had no openat2 (the O_NOFOLLOW walk). */
extern bool tb_fs_force_walk;

/* Writes data to path atomically: a temporary file in the same directory, fsync, rename. */
tb_code tb_fs_write_atomic(const char *path, const void *data, size_t len, tb_err *err)
    TB_MUST_CHECK;

/* Creates a new, empty hidden temporary file beside path (same directory, so a rename publishes
 * it) and returns its descriptor, its name in *tmp_out (malloc'd); -1 with err set on failure. */
int tb_fs_open_temp(const char *path, char **tmp_out, tb_err *err);

/* The two halves of tb_fs_write_atomic, for writing several files all or nothing: write every
 * temporary (*tmp_out, malloc'd: free it), then publish them all.  A temporary that is not
 * published should be unlinked. */
tb_code tb_fs_write_temp(const char *path, const void *data, size_t len, char **tmp_out,
                         tb_err *err) TB_MUST_CHECK;
tb_code tb_fs_publish(const char *tmp, const char *path, tb_err *err) TB_MUST_CHECK;

/* Publishes a set of temporaries (from tb_fs_write_temp) all or nothing: when one rename fails,
 * the files already published are put back as they were (the previous version, or no file), so
 * the folders look as they did before the call.  The caller unlinks the temporaries that were
 * not published (they still exist exactly when the call failed). */
tb_code tb_fs_publish_set(char *const *tmps, const char *const *paths, size_t count,
                          tb_err *err) TB_MUST_CHECK;

/* Creates dir (and parents) if missing; "" is TB_EINVAL. */
tb_code tb_fs_mkdirs(const char *dir, tb_err *err) TB_MUST_CHECK;

bool tb_fs_exists(const char *path);

/* True when path is readable or writable by group or others (a private key must not be). */
bool tb_fs_is_group_or_world_readable(const char *path);

#endif
