/* tests/unit/test_proctree.c — util/proctree.c: children and descendants through /proc, and ending a
 * subreaper's whole tree — a child that ignores SIGTERM, a grandchild that left with setsid and was
 * orphaned — with and without a grace period. Each case runs in a forked process (the tree's
 * subreaper), which reports through its exit status. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/proctree.h"

static void nap_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

/* Forks a child that runs body() and exits with its result. */
static int in_child(int (*body)(void)) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(body());
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static pid_t sleeper(int ignore_term) {
    pid_t pid = fork();
    if (pid == 0) {
        if (ignore_term) signal(SIGTERM, SIG_IGN);
        for (;;) pause();
    }
    return pid;
}

/* A child that ignores SIGTERM and whose own child (setsid, ignoring SIGTERM too) is orphaned: its
 * parent exits, so it is re-parented to the subreaper. Returns the grandchild's pid through a pipe. */
static pid_t orphan(int ignore_term) {
    int fds[2];
    if (pipe(fds)) return -1;
    pid_t mid = fork();
    if (mid == 0) {
        pid_t g = fork();
        if (g == 0) {
            setsid();
            if (ignore_term) signal(SIGTERM, SIG_IGN);
            for (;;) pause();
        }
        if (write(fds[1], &g, sizeof g) != sizeof g) _exit(1);
        _exit(0);
    }
    pid_t g = -1;
    if (read(fds[0], &g, sizeof g) != sizeof g) g = -1;
    waitpid(mid, NULL, 0);
    close(fds[0]), close(fds[1]);
    return g;
}

static int lists_children_and_descendants(void) {
    pid_t a = sleeper(0), b = sleeper(0);
    pid_t kids[8];
    nap_ms(50);
    int n = proctree_children(getpid(), kids, 8);
    int ok = n == 2 && ((kids[0] == a && kids[1] == b) || (kids[0] == b && kids[1] == a));
    if (proctree_children(getpid(), kids, 1) != 1) ok = 0; /* max is respected */
    if (proctree_children(999999999, kids, 8) != 0) ok = 0; /* no such process */
    kill(a, SIGKILL), kill(b, SIGKILL);
    waitpid(a, NULL, 0), waitpid(b, NULL, 0);
    return ok ? 0 : 1;
}

static void test_children(void **state) {
    (void)state;
    assert_int_equal(in_child(lists_children_and_descendants), 0);
}

/* The subreaper's tree: a TERM-ignoring child, an ordinary one, and an orphaned setsid grandchild. */
static int end_tree(int grace_ms, int ignore_term) {
    if (proctree_set_subreaper(1)) return 10;
    pid_t a = sleeper(ignore_term), b = sleeper(0), g = orphan(ignore_term);
    if (g <= 0) return 11;
    nap_ms(50);
    pid_t list[16];
    int n = proctree_descendants(getpid(), list, 16);
    int has_g = 0;
    for (int i = 0; i < n; i++) has_g |= list[i] == g;
    if (n != 3 || !has_g) return 12; /* the orphan came back to the subreaper */
    int found = proctree_end_all(grace_ms);
    if (found != 3) return 13;
    if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD) return 14; /* all reaped */
    if (kill(a, 0) == 0 || kill(b, 0) == 0 || kill(g, 0) == 0) return 15;
    return proctree_end_all(grace_ms) == 0 ? 0 : 16; /* nothing left the second time */
}

static int end_with_grace(void) { return end_tree(200, 1); }
static int end_at_once(void) { return end_tree(0, 1); }
static int end_obedient(void) { return end_tree(60000, 0); } /* SIGTERM is enough: no need to wait */

static void test_end_all(void **state) {
    (void)state;
    assert_int_equal(in_child(end_with_grace), 0);
    assert_int_equal(in_child(end_at_once), 0);
    assert_int_equal(in_child(end_obedient), 0);
}

static int signal_tree_body(void) {
    if (proctree_set_subreaper(1)) return 10;
    pid_t a = fork();
    if (a == 0) {
        sleeper(0);
        for (;;) pause();
    }
    nap_ms(50);
    pid_t list[4];
    if (proctree_descendants(a, list, 4) != 1) return 11;
    if (proctree_signal_tree(a, SIGKILL) != 2) return 12;
    proctree_end_all(0); /* reaps the zombies, the grandchild's too (re-parented here) */
    return waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD ? 0 : 13;
}

static void test_signal_tree(void **state) {
    (void)state;
    assert_int_equal(in_child(signal_tree_body), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_children),
        cmocka_unit_test(test_end_all),
        cmocka_unit_test(test_signal_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
