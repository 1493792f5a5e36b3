/* tests/unit/test_platform_lock.c — platforms/platform_lock.c: board identities, the lock directory
 * and wait limit from the environment, and the lock itself between processes: a second process
 * waits (saying who holds the board), gives up after its limit naming the holder, gets the board as
 * soon as the holder releases it or is killed with SIGKILL, and two boards never block each other.
 * The holder is a forked child that reports through a pipe. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platforms/platform_lock.h"
#include "util/provenance.h"
#include "testutil.h"

static int setup(void **state) {
    tu_setup_tmpdir(state);
    char dir[4096];
    tu_path(dir, sizeof dir, *state, "locks/sub");
    setenv(PLATFORM_LOCK_DIR_ENV, dir, 1);
    unsetenv(PLATFORM_LOCK_WAIT_ENV);
    return 0;
}

static int teardown(void **state) {
    unsetenv(PLATFORM_LOCK_DIR_ENV);
    unsetenv(PLATFORM_LOCK_WAIT_ENV);
    return tu_teardown_tmpdir(state);
}

static void test_identity(void **state) {
    (void)state;
    char id[PLATFORM_IDENTITY_MAX];
    PlatformDesc local = {.name = "laptop", .type = "local"};
    platform_identity(&local, id, sizeof id);
    assert_string_equal(id, "local");
    assert_false(platform_is_remote(&local));
    PlatformDesc xu3 = {.name = "odroid-xu3", .type = "ssh", .host = "XU3.Lab", .user = "odroid", .port = 2222};
    platform_identity(&xu3, id, sizeof id);
    assert_string_equal(id, "ssh:xu3.lab:2222"); /* the user is not part of it: one board */
    assert_true(platform_is_remote(&xu3));
    PlatformDesc other = {.name = "sim", .type = "gem5"};
    platform_identity(&other, id, sizeof id);
    assert_string_equal(id, "gem5:sim");
    assert_true(platform_is_remote(&other));
}

static void test_dir_and_limit(void **state) {
    char dir[4096], file[4096];
    Err err;
    assert_int_equal(platform_lock_dir(dir, sizeof dir, &err), 0);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0); /* made with its parents */
    assert_true(S_ISDIR(st.st_mode));
    tu_path(file, sizeof file, *state, "plain");
    tu_write_file(file, "x", 1);
    char under[4200];
    snprintf(under, sizeof under, "%s/locks", file);
    setenv(PLATFORM_LOCK_DIR_ENV, under, 1);
    assert_int_equal(platform_lock_dir(dir, sizeof dir, &err), -1);
    assert_non_null(strstr(err.msg, "DYNN_LOCK_DIR (dynn run --lock-dir)"));
    assert_non_null(strstr(err.msg, "point it to a directory you can write"));
    double s = -1;
    assert_int_equal(platform_lock_wait_limit(&s, &err), 0);
    assert_true(s == 0); /* unset: no limit */
    setenv(PLATFORM_LOCK_WAIT_ENV, "1m30s", 1);
    assert_int_equal(platform_lock_wait_limit(&s, &err), 0);
    assert_true(s == 90);
    setenv(PLATFORM_LOCK_WAIT_ENV, "soon", 1);
    assert_int_equal(platform_lock_wait_limit(&s, &err), -1);
    assert_string_equal(err.msg, "DYNN_BOARD_WAIT (dynn run --board-wait) 'soon' is not a duration such as 90s, 10m or 2h");
}

static PlatformLockRequest request(const char *identity, const char *holder, double timeout_s, FILE *progress) {
    return (PlatformLockRequest){.identity = identity, .label = "board 'b' (ssh:b:22)", .holder = holder,
                                 .timeout_s = timeout_s, .report_s = 0.2, .progress = progress};
}

/* A child holding `identity` until it reads a byte from *release (or is killed). */
static pid_t holder(const char *identity, int *release) {
    int ready[2], go[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]), close(go[1]);
        PlatformLock lock;
        PlatformLockRequest req = request(identity, "stage 'p' of run r1", 5, NULL);
        Err err;
        if (platform_lock_acquire(&req, &lock, &err)) _exit(1);
        if (write(ready[1], "1", 1) != 1) _exit(2);
        char c;
        if (read(go[0], &c, 1) < 0) _exit(3);
        platform_lock_release(&lock);
        _exit(0);
    }
    close(ready[1]), close(go[0]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    *release = go[1];
    return pid;
}

static void test_wait_release_and_limit(void **state) {
    char progress_path[4096];
    tu_path(progress_path, sizeof progress_path, *state, "progress.txt");
    int release;
    pid_t pid = holder("ssh:b:22", &release);
    long who;
    char line[1024];
    Err err;
    assert_int_equal(platform_lock_holder("ssh:b:22", &who, line, sizeof line, &err), 0);
    assert_int_equal(who, pid);
    assert_non_null(strstr(line, ": stage 'p' of run r1"));
    assert_int_equal(strncmp(line, "since ", 6), 0);

    /* held: the limit runs out, the message names the holder */
    FILE *progress = fopen(progress_path, "w");
    assert_non_null(progress);
    PlatformLock lock;
    PlatformLockRequest req = request("ssh:b:22", "stage 'q' of run r2", 0.5, progress);
    double t0 = provenance_now();
    assert_int_equal(platform_lock_acquire(&req, &lock, &err), -1);
    double took = provenance_now() - t0;
    fclose(progress);
    assert_true(took >= 0.5 && took < 2);
    char expect[256];
    snprintf(expect, sizeof expect, "board 'b' (ssh:b:22) is still held by pid %ld (since ", (long)pid);
    assert_non_null(strstr(err.msg, expect));
    assert_non_null(strstr(err.msg, "stage 'p' of run r1) after waiting"));
    assert_non_null(strstr(err.msg, "(limit DYNN_BOARD_WAIT, dynn run --board-wait)"));
    size_t len;
    unsigned char *bytes = tu_read_file(progress_path, &len);
    assert_non_null(bytes);
    bytes[len] = '\0';
    char *text = (char *)bytes;
    snprintf(expect, sizeof expect, "waiting for board 'b' (ssh:b:22), held by pid %ld (since ", (long)pid);
    assert_non_null(strstr(text, expect));
    assert_non_null(strstr(text, "still waiting for board 'b' (ssh:b:22) after")); /* repeated every report_s */
    free(text);

    /* another board is free meanwhile */
    PlatformLockRequest other = request("ssh:c:22", "stage 'x' of run r2", 0.5, NULL);
    assert_int_equal(platform_lock_acquire(&other, &lock, &err), 0);
    assert_true(lock.waited_s < 0.2);
    platform_lock_release(&lock);

    /* released while waiting: taken at once, without a limit */
    req = request("ssh:b:22", "stage 'q' of run r2", 0, NULL);
    assert_int_equal(write(release, "1", 1), 1);
    assert_int_equal(platform_lock_acquire(&req, &lock, &err), 0);
    assert_true(lock.waited_s < 2);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(release);
    platform_lock_release(&lock);
    assert_int_equal(platform_lock_holder("ssh:b:22", &who, line, sizeof line, &err), 0);
    assert_int_equal(who, 0);
}

static void test_holder_killed(void **state) {
    (void)state;
    int release;
    pid_t pid = holder("local", &release);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(release);
    PlatformLock lock;
    Err err;
    PlatformLockRequest req = request("local", "stage 'q' of run r2", 1, NULL);
    assert_int_equal(platform_lock_acquire(&req, &lock, &err), 0); /* the kernel dropped the dead holder's lock */
    assert_true(lock.waited_s < 0.2);
    platform_lock_release(&lock);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity),
        cmocka_unit_test_setup_teardown(test_dir_and_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_release_and_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_holder_killed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
