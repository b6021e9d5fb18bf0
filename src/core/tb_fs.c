#include "tb_features.h"

#include "tb_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Reads fd (opened from path, named in messages) into out; closes fd. */
static tb_code
read_fd(int fd, const char *path, size_t max_bytes, tb_buf *out, tb_err *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return tb_err_set(err, TB_EINVAL, "%s: not a regular file", path);
    }
    if ((size_t)st.st_size > max_bytes) {
        close(fd);
        return tb_err_set(err, TB_ELIMIT, "%s: %lld bytes, more than the limit of %zu", path,
                          (long long)st.st_size, max_bytes);
    }
    tb_buf_reserve(out, (size_t)st.st_size);
    for (;;) {
        unsigned char chunk[65536];
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return tb_err_set(err, TB_EIO, "%s: read: %s", path, strerror(e));
        }
        if (n == 0)
            break;
        if (out->len + (size_t)n > max_bytes) {
            close(fd);
            return tb_err_set(err, TB_ELIMIT, "%s: more than the limit of %zu bytes", path,
                              max_bytes);
        }
        tb_buf_append(out, chunk, (size_t)n);
    }
    close(fd);
    return TB_OK;
}

tb_code
tb_fs_read(const char *path, size_t max_bytes, tb_buf *out, tb_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tb_err_set(err, errno == ENOENT ? TB_ENOTFOUND : TB_EIO, "%s: %s", path,
                          strerror(errno));
    return read_fd(fd, path, max_bytes, out, err);
}

bool tb_fs_force_walk; /* tests: as if the kernel had no openat2 */

/* The fallback for kernels without openat2 (before 5.6, or a seccomp filter hiding it): one
 * component at a time, each opened with O_NOFOLLOW, so no link at all is followed (stricter
 * than RESOLVE_BENEATH, which allows a link that stays beneath), and ".." refused. */
static int
open_walk(int dirfd, const char *rel, int flags)
{
    int at = dup(dirfd);
    if (at < 0)
        return -1;
    const char *p = rel;
    for (;;) {
        while (*p == '/')
            p++;
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        char name[256];
        if (n == 0 || n >= sizeof name || (n == 2 && p[0] == '.' && p[1] == '.')) {
            close(at);
            errno = n >= sizeof name ? ENAMETOOLONG : EXDEV;
            return -1;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        bool last = slash == NULL || slash[strspn(slash, "/")] == '\0';
        int next = openat(at, name, last ? flags | O_NOFOLLOW
                                          : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        struct stat st;
        if (next < 0 && e == ENOTDIR && fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(st.st_mode))
            e = ELOOP; /* O_PATH | O_DIRECTORY on a link to a directory */
        close(at);
        if (next < 0 || last) {
            errno = e;
            return next;
        }
        at = next;
        p = slash;
    }
}

/* path relative to dir: "dir/x" (as joined for messages) gives "x". */
static const char *
relative_to(const char *dir, const char *path)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (strncmp(path, dir, n) == 0 && path[n] == '/')
        return path + n + strspn(path + n, "/");
    return path;
}

int
tb_fs_open_beneath(const char *dir, const char *path, int flags, tb_err *err)
{
    const char *rel = relative_to(dir, path);
    if (rel[0] == '/' || rel[0] == '\0') {
        tb_err_set(err, TB_EINVAL, "%s: not a path inside %s", path, dir);
        return -1;
    }
    int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        tb_err_set(err, errno == ENOENT ? TB_ENOTFOUND : TB_EIO, "%s/%s: %s", dir, rel,
                   strerror(errno));
        return -1;
    }
    flags |= O_CLOEXEC | O_NOCTTY;
    struct open_how how = {.flags = (uint64_t)flags,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    int fd = -1;
    errno = ENOSYS;
    if (!tb_fs_force_walk)
        fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
    if (fd < 0 && errno == ENOSYS)
        fd = open_walk(dirfd, rel, flags);
    int e = errno;
    close(dirfd);
    if (fd >= 0)
        return fd;
    if (e == EXDEV || e == ELOOP)
        tb_err_set(err, TB_EINVAL, "%s: leads outside %s (a symbolic link or '..' out of it)",
                   path, dir);
    else
        tb_err_set(err, e == ENOENT ? TB_ENOTFOUND : TB_EIO, "%s: %s", path, strerror(e));
    return -1;
}

tb_code
tb_fs_read_beneath(const char *dir, const char *path, size_t max_bytes, tb_buf *out,
                   tb_err *err)
{
    int fd = tb_fs_open_beneath(dir, path, O_RDONLY, err);
    if (fd < 0)
        return err ? err->code : TB_EIO;
    return read_fd(fd, path, max_bytes, out, err);
}

int
tb_fs_open_temp(const char *path, char **tmp_out, tb_err *err)
{
    /* The temporary sits beside the target so rename() stays on one filesystem. */
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t cap = strlen(path) + 16;
    char *tmp = tb_xmalloc(cap);
    snprintf(tmp, cap, "%.*s.%s.XXXXXX", (int)dirlen, path, slash ? slash + 1 : path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        tb_err_set(err, TB_EIO, "%s: cannot create temporary file: %s", path, strerror(errno));
        free(tmp);
        tmp = NULL;
    }
    *tmp_out = tmp;
    return fd;
}

tb_code
tb_fs_write_temp(const char *path, const void *data, size_t len, char **tmp_out, tb_err *err)
{
    char *tmp;
    int fd = tb_fs_open_temp(path, &tmp, err);
    if (fd < 0)
        return err ? err->code : TB_EIO;
    const unsigned char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        p += n;
        left -= (size_t)n;
    }
    if (fchmod(fd, 0644) != 0 || fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    *tmp_out = tmp;
    return TB_OK;

fail:;
    tb_code rc = tb_err_set(err, TB_EIO, "%s: write: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    return rc;
}

tb_code
tb_fs_publish(const char *tmp, const char *path, tb_err *err)
{
    if (rename(tmp, path) != 0)
        return tb_err_set(err, TB_EIO, "%s: rename: %s", path, strerror(errno));
    /* The rename itself must reach the disk too: fsync the directory. */
    char *dir = tb_xstrdup(path), *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir] = '\0'; /* "/x" -> "/", "a/b/x" -> "a/b" */
    int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
    return TB_OK;
}

static void
fsync_parent(const char *path)
{
    char *dir = tb_xstrdup(path), *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir] = '\0';
    int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

tb_code
tb_fs_publish_set(char *const *tmps, const char *const *paths, size_t count, tb_err *err)
{
    /* 1. Keep every file about to be replaced under a hidden hard link, so it can be put back
     *    (a link leaves the original in place: readers never see it missing). */
    char **backup = tb_xcalloc(count + 1, sizeof *backup);
    tb_code rc = TB_OK;
    size_t published = 0;
    for (size_t i = 0; i < count && rc == TB_OK; i++) {
        struct stat st;
        if (lstat(paths[i], &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        size_t cap = strlen(paths[i]) + 16;
        backup[i] = tb_xmalloc(cap);
        for (unsigned n = 0;; n++) {
            snprintf(backup[i], cap, "%s.old%u", paths[i], n);
            if (link(paths[i], backup[i]) == 0)
                break;
            if (errno != EEXIST || n > 1000) {
                rc = tb_err_set(err, TB_EIO, "%s: cannot keep the previous version: %s",
                                paths[i], strerror(errno));
                free(backup[i]);
                backup[i] = NULL;
                break;
            }
        }
    }
    /* 2. Publish in order; on the first failure put back what was published. */
    for (size_t i = 0; i < count && rc == TB_OK; i++, published++)
        if (rename(tmps[i], paths[i]) != 0)
            rc = tb_err_set(err, TB_EIO, "%s: rename: %s (nothing was published)", paths[i],
                            strerror(errno));
    if (rc != TB_OK)
        for (size_t j = 0; j < published; j++) {
            if (backup[j] ? rename(backup[j], paths[j]) == 0 : unlink(paths[j]) == 0) {
                if (backup[j]) {
                    free(backup[j]);
                    backup[j] = NULL;
                }
            }
        }
    /* 3. The backups are not needed any more (after a failure: the unpublished ones). */
    for (size_t i = 0; i < count; i++) {
        if (backup[i])
            unlink(backup[i]);
        free(backup[i]);
    }
    free(backup);
    if (rc == TB_OK)
        for (size_t i = 0; i < count; i++)
            if (i == 0 || strcmp(paths[i], paths[i - 1]) != 0)
                fsync_parent(paths[i]);
    return rc;
}

tb_code
tb_fs_write_atomic(const char *path, const void *data, size_t len, tb_err *err)
{
    char *tmp = NULL;
    tb_code rc = tb_fs_write_temp(path, data, len, &tmp, err);
    if (rc == TB_OK && (rc = tb_fs_publish(tmp, path, err)) != TB_OK)
        unlink(tmp);
    free(tmp);
    return rc;
}

tb_code
tb_fs_mkdirs(const char *dir, tb_err *err)
{
    if (dir[0] == '\0')
        return tb_err_set(err, TB_EINVAL, "empty directory name");
    char *p = tb_xstrdup(dir);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            tb_code rc = tb_err_set(err, TB_EIO, "%s: mkdir: %s", p, strerror(errno));
            free(p);
            return rc;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return tb_err_set(err, TB_EIO, "%s: not a directory", dir);
    return TB_OK;
}

bool
tb_fs_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

bool
tb_fs_is_group_or_world_readable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 &&
           (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) != 0;
}
