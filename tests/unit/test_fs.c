/* tests/unit/test_fs.c — util/fs.c's path resolution (fs_resolve: symlinks, missing tails, dangling
 * links; fs_within) and tree removal (fs_remove_tree / fs_check_tree: symlinks removed, never
 * followed; a missing path is fine). Mount points are exercised in tests/e2e/test_report_dest.sh,
 * which can mount in a private namespace. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/testutil.h"
#include "util/fs.h"

/* The temp dir as realpath sees it ($TMPDIR may itself go through a symlink). */
static void real_dir(const char *dir, char *out) { assert_non_null(realpath(dir, out)); }

static void test_resolve(void **state) {
    const char *dir = *state;
    char real[PATH_MAX], p[PATH_MAX], want[PATH_MAX], got[PATH_MAX];
    Err err;
    real_dir(dir, real);
    assert_int_equal(mkdir(tu_path(p, sizeof p, dir, "a"), 0777), 0);
    assert_int_equal(symlink("a", tu_path(p, sizeof p, dir, "l")), 0);
    assert_int_equal(symlink("nowhere", tu_path(p, sizeof p, dir, "dangling")), 0);
    /* an existing path through a symlink */
    assert_int_equal(fs_resolve(tu_path(p, sizeof p, dir, "l"), got, sizeof got, &err), 0);
    assert_string_equal(got, tu_path(want, sizeof want, real, "a"));
    /* a missing tail after a symlink; ".", "" and a trailing slash dropped; ".." lexical in the missing part */
    assert_int_equal(fs_resolve(tu_path(p, sizeof p, dir, "l/./x//y/"), got, sizeof got, &err), 0);
    assert_string_equal(got, tu_path(want, sizeof want, real, "a/x/y"));
    assert_int_equal(fs_resolve(tu_path(p, sizeof p, dir, "l/x/../z"), got, sizeof got, &err), 0);
    assert_string_equal(got, tu_path(want, sizeof want, real, "a/z"));
    /* a dangling symlink on the way is an error naming it */
    assert_int_equal(fs_resolve(tu_path(p, sizeof p, dir, "dangling/x"), got, sizeof got, &err), -1);
    assert_non_null(strstr(err.msg, "dangling: cannot resolve: a symlink that leads nowhere"));
    /* relative to the current directory */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(fs_resolve("./l/new", got, sizeof got, &err), 0);
    assert_int_equal(chdir(cwd), 0);
    assert_string_equal(got, tu_path(want, sizeof want, real, "a/new"));
}

static void test_within(void **state) {
    (void)state;
    assert_true(fs_within("/a/b", "/a"));
    assert_true(fs_within("/a", "/a"));
    assert_false(fs_within("/ab", "/a"));
    assert_false(fs_within("/a", "/a/b"));
    assert_true(fs_within("/a", "/"));
    assert_true(fs_within("/", "/"));
}

static void test_remove_tree(void **state) {
    const char *dir = *state;
    char p[PATH_MAX], keep[PATH_MAX];
    Err err;
    /* outside/ holds a file that links from the tree point to */
    assert_int_equal(mkdir(tu_path(p, sizeof p, dir, "outside"), 0777), 0);
    tu_write_file(tu_path(keep, sizeof keep, dir, "outside/keep"), "k", 1);
    assert_int_equal(mkdir(tu_path(p, sizeof p, dir, "t"), 0777), 0);
    assert_int_equal(mkdir(tu_path(p, sizeof p, dir, "t/d"), 0777), 0);
    tu_write_file(tu_path(p, sizeof p, dir, "t/d/f"), "f", 1);
    assert_int_equal(symlink("../../outside", tu_path(p, sizeof p, dir, "t/d/link")), 0);
    assert_int_equal(symlink("../outside/keep", tu_path(p, sizeof p, dir, "t/filelink")), 0);
    /* checking removes nothing */
    assert_int_equal(fs_check_tree(tu_path(p, sizeof p, dir, "t"), &err), 0);
    assert_true(tu_file_exists(tu_path(p, sizeof p, dir, "t/d/f")));
    assert_int_equal(fs_remove_tree(tu_path(p, sizeof p, dir, "t"), &err), 0);
    assert_false(tu_file_exists(tu_path(p, sizeof p, dir, "t")));
    assert_true(tu_file_exists(keep));
    assert_int_equal(tu_count_entries(tu_path(p, sizeof p, dir, "outside")), 1);
    /* a symlink given as the tree is removed itself, its target kept */
    assert_int_equal(symlink("outside", tu_path(p, sizeof p, dir, "top")), 0);
    assert_int_equal(fs_remove_tree(p, &err), 0);
    struct stat st;
    assert_int_equal(lstat(p, &st), -1);
    assert_true(tu_file_exists(keep));
    /* a missing path is fine; a plain file is removed */
    assert_int_equal(fs_remove_tree(tu_path(p, sizeof p, dir, "missing"), &err), 0);
    assert_int_equal(fs_remove_tree(keep, &err), 0);
    assert_false(tu_file_exists(keep));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_resolve, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test(test_within),
        cmocka_unit_test_setup_teardown(test_remove_tree, tu_setup_tmpdir, tu_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
