/* tests/unit/test_pipeline_store.c — the store trusts an object only when its content hashes to its
 * name: store_put replaces a corrupt object, store_restore refuses one, store_check tells sound,
 * missing and bad objects apart and quarantines bad ones (named by the hash they claimed, bytes
 * kept); the walk tells objects, temp files (with their writer's pid) and strays apart, and only a
 * temp file whose writer is gone is removed. Also the util/fs pieces: copies that refuse content
 * with the wrong hash, temp-file names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline/store.h"
#include "tests/unit/testutil.h"
#include "tests/unit/pipeline_testutil.h"
#include "util/fs.h"

#define ABC_HASH "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define ABC_REL "store/ba/7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

/* A fresh state directory holding the object "abc" (returned in dir[512]). */
static void state_with_abc(const char *name, char *dir, char rel[STORE_REL_MAX]) {
    char src[512], hash[SHA256_HEX_LEN + 1];
    uint64_t size;
    Err err;
    tu_path(dir, 512, pt_tmp, name);
    assert_int_equal(fs_mkdir_p(dir, &err), 0);
    tu_path(src, sizeof src, dir, "abc.txt");
    tu_write_file(src, "abc", 3);
    assert_int_equal(store_put(dir, src, hash, rel, &size, &err), 0);
    assert_string_equal(rel, ABC_REL);
}

/* Overwrites an object in place with other bytes of the same size, as a stray write would. */
static void corrupt(const char *dir, const char *rel, const char *bytes) {
    char path[512];
    store_abs(dir, rel, path, sizeof path);
    assert_int_equal(chmod(path, 0644), 0);
    FILE *f = fopen(path, "r+");
    assert_non_null(f);
    fputs(bytes, f);
    fclose(f);
}

static void assert_content(const char *path, const char *want) {
    size_t len;
    unsigned char *got = tu_read_file(path, &len);
    assert_non_null(got);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(got, want, len);
    free(got);
}

/* The one file in dir/quarantine, into out[512]; fails unless there is exactly one. */
static void only_quarantined(const char *dir, char *out) {
    char q[512];
    tu_path(q, sizeof q, dir, STORE_QUARANTINE_DIR);
    assert_int_equal(tu_count_entries(q), 1);
    DIR *d = opendir(q);
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') tu_path(out, 512, q, e->d_name);
    closedir(d);
}

static void test_put_replaces_a_corrupt_object(void **state) {
    (void)state;
    char dir[512], rel[STORE_REL_MAX], src[512], path[512], hash[SHA256_HEX_LEN + 1];
    uint64_t size;
    Err err;
    state_with_abc("put", dir, rel);
    corrupt(dir, rel, "abd");
    tu_path(src, sizeof src, dir, "again.txt");
    tu_write_file(src, "abc", 3);
    assert_int_equal(store_put(dir, src, hash, rel, &size, &err), 0);
    store_abs(dir, rel, path, sizeof path);
    assert_content(path, "abc"); /* not trusted because it had the right size */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0444);
    char q[512];
    only_quarantined(dir, q);
    assert_content(q, "abd");
}

static void test_restore_refuses_a_corrupt_object(void **state) {
    (void)state;
    char dir[512], rel[STORE_REL_MAX], dest[512], path[512];
    Err err;
    state_with_abc("restore", dir, rel);
    tu_path(dest, sizeof dest, dir, "out/abc.txt");
    assert_int_equal(store_restore(dir, rel, dest, &err), 0);
    assert_content(dest, "abc");
    corrupt(dir, rel, "xbc");
    tu_path(dest, sizeof dest, dir, "out/again.txt");
    assert_int_equal(store_restore(dir, rel, dest, &err), -1);
    assert_non_null(strstr(err.msg, ABC_REL ": content does not match its name, not restored to "));
    assert_non_null(strstr(err.msg, "; moved to "));
    assert_false(tu_file_exists(dest));
    tu_path(path, sizeof path, dir, "out");
    assert_int_equal(tu_count_entries(path), 1); /* no temp file left either */
    store_abs(dir, rel, path, sizeof path);
    assert_false(tu_file_exists(path));
    char q[512];
    only_quarantined(dir, q);
    assert_content(q, "xbc");
    /* by absolute path, as stage processes restore their inputs */
    state_with_abc("restore2", dir, rel);
    store_abs(dir, rel, path, sizeof path);
    tu_path(dest, sizeof dest, dir, "copy.txt");
    assert_int_equal(store_restore_path(path, dest, &err), 0);
    assert_content(dest, "abc");
    assert_int_equal(store_restore_path("/tmp/not-a-store/abc", dest, &err), -1);
    assert_non_null(strstr(err.msg, "not an object of a store"));
}

static void test_check(void **state) {
    (void)state;
    char dir[512], rel[STORE_REL_MAX], path[512];
    StoreCheck c;
    state_with_abc("check", dir, rel);
    assert_int_equal(store_check(dir, rel, 3, 1, &c), STORE_OK);
    assert_int_equal(store_check(dir, rel, STORE_ANY_SIZE, 1, &c), STORE_OK);
    /* sound object, a size that disagrees (a bad row): bad, but not moved */
    assert_int_equal(store_check(dir, rel, 4, 1, &c), STORE_BAD);
    assert_string_equal(c.why, "the object has 3 bytes, the database says 4");
    assert_string_equal(c.quarantined, "");
    store_abs(dir, rel, path, sizeof path);
    assert_true(tu_file_exists(path));
    /* same size, other content: bad; left alone without quarantine, moved with it */
    corrupt(dir, rel, "abC");
    assert_int_equal(store_check(dir, rel, 3, 0, &c), STORE_BAD);
    assert_non_null(strstr(c.why, "content hashes to "));
    assert_non_null(strstr(c.why, ", not to its name"));
    assert_string_equal(c.fate, "");
    assert_true(tu_file_exists(path));
    assert_int_equal(store_check(dir, rel, 3, 1, &c), STORE_BAD);
    assert_false(tu_file_exists(path));
    char want[PATH_MAX + 16];
    snprintf(want, sizeof want, "%s/" STORE_QUARANTINE_DIR "/" ABC_HASH ".", dir);
    assert_memory_equal(c.quarantined, want, strlen(want)); /* named by the hash it claimed */
    snprintf(want, sizeof want, "moved to %s", c.quarantined);
    assert_string_equal(c.fate, want);
    assert_content(c.quarantined, "abC");
    /* now missing: a plain miss */
    assert_int_equal(store_check(dir, rel, 3, 1, &c), STORE_MISSING);
    /* a directory where an object should be */
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(store_check(dir, rel, 3, 0, &c), STORE_BAD);
    assert_string_equal(c.why, "not a regular file");
    /* a path that is not an object name */
    assert_int_equal(store_check(dir, "store/ba/7816", 3, 1, &c), STORE_BAD);
    assert_non_null(strstr(c.why, "not a store object path"));
    assert_int_equal(store_check(dir, "../etc/passwd", 3, 1, &c), STORE_BAD);
}

typedef struct Seen {
    StoreEntry e[16];
    int n;
} Seen;

static int collect(void *ctx, const StoreEntry *e) {
    Seen *s = ctx;
    if (s->n < 16) s->e[s->n++] = *e;
    return 0;
}

static long dead_pid(void) {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    assert_true(pid > 0);
    waitpid(pid, NULL, 0);
    return (long)pid;
}

static void test_walk_and_temp_files(void **state) {
    (void)state;
    char dir[512], rel[STORE_REL_MAX], path[600], moved[600];
    Err err;
    Seen seen = {0};
    tu_path(dir, sizeof dir, pt_tmp, "empty");
    assert_int_equal(store_walk(dir, collect, &seen, &err), 0); /* no store/ yet */
    assert_int_equal(seen.n, 0);
    state_with_abc("walk", dir, rel);
    long dead = dead_pid(), live = (long)getpid();
    const char *files[] = {"store/ba/7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.tmp.%ld",
                           "store/ba/7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.tmp.%ld",
                           "store/ba/short", "store/README", "store/zz/whatever"};
    long pids[] = {dead, live, 0, 0, 0};
    for (int i = 0; i < 5; i++) {
        char name[200];
        snprintf(name, sizeof name, files[i], pids[i]);
        tu_path(path, sizeof path, dir, name);
        char parent[600];
        fs_dirname(path, parent, sizeof parent);
        assert_int_equal(fs_mkdir_p(parent, &err), 0);
        tu_write_file(path, "x", 1);
    }
    assert_int_equal(store_walk(dir, collect, &seen, &err), 0);
    assert_int_equal(seen.n, 6); /* README, ba/ (object, 2 temps, short), zz/ */
    assert_int_equal(seen.e[0].kind, STORE_ENTRY_STRAY);
    assert_string_equal(seen.e[0].rel, "store/README");
    assert_int_equal(seen.e[1].kind, STORE_ENTRY_OBJECT);
    assert_string_equal(seen.e[1].rel, ABC_REL);
    int temps = 0;
    for (int i = 2; i < 4; i++) {
        assert_int_equal(seen.e[i].kind, STORE_ENTRY_TEMP);
        assert_true(seen.e[i].pid == dead || seen.e[i].pid == live);
        temps += seen.e[i].pid == dead ? 1 : 10;
    }
    assert_int_equal(temps, 11);
    assert_int_equal(seen.e[4].kind, STORE_ENTRY_STRAY);
    assert_string_equal(seen.e[4].rel, "store/ba/short");
    assert_int_equal(seen.e[5].kind, STORE_ENTRY_STRAY); /* zz/ as a whole: the walk does not go into it */
    assert_string_equal(seen.e[5].rel, "store/zz");
    for (int i = 0; i < seen.n; i++) {
        const StoreEntry *e = &seen.e[i];
        if (e->kind != STORE_ENTRY_TEMP) continue;
        store_abs(dir, e->rel, path, sizeof path);
        if (e->pid == dead) {
            assert_false(store_temp_alive(e));
            assert_int_equal(store_remove_dead_temp(dir, e, &err), 1);
            assert_false(tu_file_exists(path));
        } else {
            assert_true(store_temp_alive(e));
            assert_int_equal(store_remove_dead_temp(dir, e, &err), 0); /* a copy in flight stays */
            assert_true(tu_file_exists(path));
        }
    }
    StoreEntry stray = {.kind = STORE_ENTRY_STRAY, .rel = "store/README", .pid = -1};
    assert_int_equal(store_quarantine_stray(dir, &stray, moved, sizeof moved, &err), 0);
    assert_non_null(strstr(moved, "/" STORE_QUARANTINE_DIR "/stray.README."));
    assert_true(tu_file_exists(moved));
    tu_path(path, sizeof path, dir, "store/README");
    assert_false(tu_file_exists(path));
}

static void test_copy_with_expected_hash(void **state) {
    (void)state;
    char src[512], dst[512], hex[SHA256_HEX_LEN + 1];
    Err err;
    tu_path(src, sizeof src, pt_tmp, "src.txt");
    tu_path(dst, sizeof dst, pt_tmp, "dst.txt");
    tu_write_file(src, "abc", 3);
    tu_write_file(dst, "old", 3);
    int in = open(src, O_RDONLY);
    assert_true(in >= 0);
    const char *wrong = "0000000000000000000000000000000000000000000000000000000000000000";
    assert_int_equal(fs_copy_fd(in, src, dst, 0, 0644, wrong, hex, NULL, &err), FS_HASH_MISMATCH);
    assert_string_equal(hex, ABC_HASH);
    assert_non_null(strstr(err.msg, "content hashes to " ABC_HASH ", expected 0000"));
    assert_content(dst, "old");
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s" FS_TEMP_INFIX "%ld", dst, (long)getpid());
    assert_false(tu_file_exists(tmp));
    assert_int_equal(lseek(in, 0, SEEK_SET), 0);
    uint64_t size;
    assert_int_equal(fs_copy_fd(in, src, dst, 1, 0444, ABC_HASH, NULL, &size, &err), 0);
    close(in);
    assert_int_equal(size, 3);
    assert_content(dst, "abc");
    /* temp-file names */
    assert_int_equal(fs_temp_writer("store/ab/cdef.tmp.1234"), 1234);
    assert_int_equal(fs_temp_writer("x.tmp.7"), 7);
    assert_int_equal(fs_temp_writer("a.tmp.b.tmp.42"), 42);
    assert_int_equal(fs_temp_writer("x.tmp."), -1);
    assert_int_equal(fs_temp_writer("x.tmp.12a"), -1);
    assert_int_equal(fs_temp_writer("x.tmp.0"), -1);
    assert_int_equal(fs_temp_writer("x.tmp.12345678901"), -1);
    assert_int_equal(fs_temp_writer(".tmp.5"), -1);
    assert_int_equal(fs_temp_writer("dir/.tmp.5"), -1);
    assert_int_equal(fs_temp_writer("plain"), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_replaces_a_corrupt_object),
        cmocka_unit_test(test_restore_refuses_a_corrupt_object),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_walk_and_temp_files),
        cmocka_unit_test(test_copy_with_expected_hash),
    };
    return cmocka_run_group_tests(tests, pt_setup, pt_teardown);
}
