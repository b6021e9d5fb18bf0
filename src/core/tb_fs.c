#include "tb_features.h"

#include "tb_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

tb_code
tb_fs_read(const char *path, size_t max_bytes, tb_buf *out, tb_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tb_err_set(err, errno == ENOENT ? TB_ENOTFOUND : TB_EIO, "%s: %s", path,
                          strerror(errno));
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
