/* tb_fs_open_beneath: files inside a folder open, ".." and symbolic links out of it are refused,
 * with openat2 and with the O_NOFOLLOW walk used where the kernel has no openat2. */
#include "tb_features.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tb_fs.h"

static char root[64];   /* a scratch folder: office/ and outside/ in it */
static char office[96];

static void
put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int
setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/test_fs.XXXXXX");
    assert_non_null(mkdtemp(root));
    char p[256];
    snprintf(office, sizeof office, "%s/office", root);
    assert_int_equal(mkdir(office, 0700), 0);
    snprintf(p, sizeof p, "%s/outside", root);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/outside/secret.key", root);
    put(p, "secret");
    snprintf(p, sizeof p, "%s/keys", office);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/keys/office.key", office);
    put(p, "mine");
    /* links out of the folder: a file, a directory, and an absolute one */
    snprintf(p, sizeof p, "%s/seal.png", office);
    assert_int_equal(symlink("../outside/secret.key", p), 0);
    snprintf(p, sizeof p, "%s/other-keys", office);
    assert_int_equal(symlink("../outside", p), 0);
    char target[256];
    snprintf(target, sizeof target, "%s/outside/secret.key", root);
    snprintf(p, sizeof p, "%s/abs.key", office);
    assert_int_equal(symlink(target, p), 0);
    /* a link that stays inside */
    snprintf(p, sizeof p, "%s/key-alias", office);
    assert_int_equal(symlink("keys/office.key", p), 0);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static void
expect_read(const char *rel, const char *want)
{
    tb_buf b = TB_BUF_INIT;
    tb_err err = {0};
    if (tb_fs_read_beneath(office, rel, 1024, &b, &err) != TB_OK)
        fail_msg("%s: %s", rel, err.msg);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    tb_buf_release(&b);
}

static void
expect_refused(const char *rel)
{
    tb_buf b = TB_BUF_INIT;
    tb_err err = {0};
    if (tb_fs_read_beneath(office, rel, 1024, &b, &err) == TB_OK)
        fail_msg("%s was read (%zu bytes) though it leaves the folder", rel, b.len);
    assert_int_equal(err.code, TB_EINVAL);
    if (strstr(err.msg, "leads outside") == NULL)
        fail_msg("%s: the message does not say why: %s", rel, err.msg);
    tb_buf_release(&b);
}

static void
check_all(void)
{
    char joined[256];
    expect_read("keys/office.key", "mine");
    snprintf(joined, sizeof joined, "%s/keys/office.key", office);
    expect_read(joined, "mine"); /* the path as joined for messages */
    expect_refused("seal.png");
    expect_refused("other-keys/secret.key");
    expect_refused("abs.key");
    expect_refused("../outside/secret.key");
    expect_refused("keys/../../outside/secret.key");
    tb_err err = {0};
    assert_int_equal(tb_fs_open_beneath(office, "/etc/passwd", O_RDONLY, &err), -1);
    assert_int_equal(err.code, TB_EINVAL);
    err = (tb_err){0};
    assert_int_equal(tb_fs_open_beneath(office, "missing.xml", O_RDONLY, &err), -1);
    assert_int_equal(err.code, TB_ENOTFOUND);
}

static void
test_openat2(void **state)
{
    (void)state;
    tb_fs_force_walk = false;
    check_all();
    expect_read("key-alias", "mine"); /* RESOLVE_BENEATH allows a link that stays inside */
}

static void
test_walk(void **state)
{
    (void)state;
    tb_fs_force_walk = true;
    check_all();
    tb_fs_force_walk = false;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openat2),
        cmocka_unit_test(test_walk),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
