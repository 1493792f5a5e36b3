/* tests/unit/test_cpufreq.c — DVFS against fake cpufreq sysfs trees built in a temp dir: policies
 * shared by CPUs (links, as the kernel makes them), the files written and their order (userspace:
 * governor then setspeed; minmax: min <= max after every write), the original state back after
 * success, after a failed write, and after SIGINT in the middle of a sweep (a child process),
 * and "unavailable" with a reason when cpufreq is absent or not writable. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platforms/cpufreq.h"
#include "tests/unit/testutil.h"

#define put tu_put_rel /* fake sysfs files */
#define get tu_get_rel

/* policy<first> shared by CPUs first..first+n-1 (cpuN/cpufreq links to ../cpufreq/policyM). */
static void make_policy(const char *root, int first, int n, int userspace) {
    char rel[256], link[1024], target[64];
    snprintf(rel, sizeof rel, "devices/system/cpu/cpufreq/policy%d/", first);
    char f[300];
#define PUT(name, text) (snprintf(f, sizeof f, "%s%s", rel, name), put(root, f, text))
    PUT("scaling_governor", "schedutil\n");
    PUT("scaling_available_governors", userspace ? "performance powersave userspace schedutil\n"
                                                 : "performance powersave schedutil\n");
    PUT("scaling_available_frequencies", "1400000 200000 800000 \n");
    PUT("scaling_min_freq", "200000\n");
    PUT("scaling_max_freq", "1400000\n");
    PUT("cpuinfo_min_freq", "200000\n");
    PUT("cpuinfo_max_freq", "1400000\n");
    if (userspace) PUT("scaling_setspeed", "<unsupported>\n");
#undef PUT
    for (int c = first; c < first + n; c++) {
        snprintf(link, sizeof link, "%s/devices/system/cpu/cpu%d", root, c);
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", link);
        assert_int_equal(system(cmd), 0);
        strcat(link, "/cpufreq");
        snprintf(target, sizeof target, "../cpufreq/policy%d", first);
        assert_int_equal(symlink(target, link), 0);
    }
}

static void make_tree(const char *root, int userspace) {
    make_policy(root, 0, 2, userspace);
    make_policy(root, 2, 2, userspace);
}

static cpu_set_t cpus(int lo, int hi) {
    cpu_set_t s;
    CPU_ZERO(&s);
    for (int c = lo; c <= hi; c++) CPU_SET(c, &s);
    return s;
}

static void assert_write(const Cpufreq *cf, int i, int cpu, const char *file, const char *value) {
    assert_true(i < cf->n_trace);
    assert_int_equal(cf->trace[i].cpu, cpu);
    assert_string_equal(cf->trace[i].file, file);
    assert_string_equal(cf->trace[i].value, value);
}

static void test_discovery_and_resolve(void **state) {
    const char *root = *state;
    make_tree(root, 1);
    Cpufreq *cf = calloc(1, sizeof *cf);
    Err err;
    assert_int_equal(cpufreq_open(cf, root, &err), 0);
    assert_true(cf->available);
    assert_string_equal(cf->reason, "");
    assert_int_equal(cf->method, CPUFREQ_USERSPACE);
    assert_int_equal(cf->n_policies, 2);
    assert_int_equal(cf->policies[0].cpu, 0);
    assert_int_equal(CPU_COUNT(&cf->policies[0].cpus), 2);
    assert_true(cpufreq_policy_of(cf, 3) == &cf->policies[1]);
    assert_int_equal(cf->policies[0].n_freqs, 3);
    assert_int_equal(cf->policies[0].freqs_khz[0], 200000); /* sorted */
    assert_int_equal(cf->policies[0].freqs_khz[2], 1400000);
    assert_string_equal(cf->policies[0].orig_governor, "schedutil");
    long khz[8];
    int n;
    cpu_set_t c0 = cpus(0, 0);
    assert_int_equal(cpufreq_resolve(cf, &c0, "max,min,800000,min", khz, 8, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_true(khz[0] == 1400000 && khz[1] == 200000 && khz[2] == 800000);
    assert_int_equal(cpufreq_resolve(cf, &c0, "all", khz, 8, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(cpufreq_resolve(cf, &c0, "900000", khz, 8, &n, &err), -1);
    assert_non_null(strstr(err.msg, "900000 kHz is not available on CPU 0 (available: 200000 800000 1400000)"));
    assert_int_equal(cpufreq_resolve(cf, &c0, "fast", khz, 8, &n, &err), -1);
    assert_non_null(strstr(err.msg, "'fast'"));
    cpu_set_t c9 = cpus(9, 9);
    assert_int_equal(cpufreq_resolve(cf, &c9, "max", khz, 8, &n, &err), -1);
    assert_non_null(strstr(err.msg, "CPU 9 has no cpufreq policy"));
    assert_int_equal(cf->n_trace, 0); /* discovery changes nothing */
    free(cf);
}

static void test_userspace_order_and_restore(void **state) {
    const char *root = *state;
    make_tree(root, 1);
    Cpufreq *cf = calloc(1, sizeof *cf);
    Err err;
    char buf[64];
    assert_int_equal(cpufreq_open(cf, root, &err), 0);
    cpu_set_t c01 = cpus(0, 1);
    assert_int_equal(cpufreq_set(cf, &c01, 800000, &err), 0);
    assert_int_equal(cf->n_trace, 2);
    assert_write(cf, 0, 0, "scaling_governor", "userspace"); /* governor first */
    assert_write(cf, 1, 0, "scaling_setspeed", "800000");
    assert_string_equal(get(root, "devices/system/cpu/cpu1/cpufreq/scaling_governor", buf, sizeof buf), "userspace");
    assert_string_equal(get(root, "devices/system/cpu/cpu0/cpufreq/scaling_setspeed", buf, sizeof buf), "800000");
    /* the other policy is untouched */
    assert_string_equal(get(root, "devices/system/cpu/cpu2/cpufreq/scaling_governor", buf, sizeof buf), "schedutil");
    assert_int_equal(cpufreq_set(cf, &c01, 1400000, &err), 0); /* governor already userspace */
    assert_int_equal(cf->n_trace, 3);
    assert_write(cf, 2, 0, "scaling_setspeed", "1400000");
    assert_int_equal(cpufreq_restore(cf, &err), 0);
    assert_int_equal(cf->n_trace, 4);
    assert_write(cf, 3, 0, "scaling_governor", "schedutil");
    assert_string_equal(get(root, "devices/system/cpu/cpu0/cpufreq/scaling_governor", buf, sizeof buf), "schedutil");
    free(cf);
}

/* Replays the trace from the original limits: min <= max after every write. */
static void assert_minmax_order(const Cpufreq *cf, int cpu, long min, long max) {
    for (int i = 0; i < cf->n_trace; i++) {
        if (cf->trace[i].cpu != cpu) continue;
        long v = atol(cf->trace[i].value);
        if (!strcmp(cf->trace[i].file, "scaling_min_freq")) min = v;
        else if (!strcmp(cf->trace[i].file, "scaling_max_freq")) max = v;
        else fail_msg("unexpected write to %s", cf->trace[i].file);
        assert_true(min <= max);
    }
}

static void test_minmax_order_and_restore(void **state) {
    const char *root = *state;
    make_tree(root, 0);
    Cpufreq *cf = calloc(1, sizeof *cf);
    Err err;
    char buf[64];
    assert_int_equal(cpufreq_open(cf, root, &err), 0);
    assert_true(cf->available);
    assert_int_equal(cf->method, CPUFREQ_MINMAX);
    cpu_set_t all = cpus(0, 3);
    assert_int_equal(cpufreq_set(cf, &all, 800000, &err), 0);   /* down: min first */
    assert_write(cf, 0, 0, "scaling_min_freq", "800000");
    assert_write(cf, 1, 0, "scaling_max_freq", "800000");
    assert_int_equal(cpufreq_set(cf, &all, 1400000, &err), 0);  /* up: max first */
    assert_write(cf, 4, 0, "scaling_max_freq", "1400000");
    assert_write(cf, 5, 0, "scaling_min_freq", "1400000");
    assert_int_equal(cpufreq_set(cf, &all, 200000, &err), 0);
    assert_string_equal(get(root, "devices/system/cpu/cpu3/cpufreq/scaling_max_freq", buf, sizeof buf), "200000");
    assert_int_equal(cpufreq_restore(cf, &err), 0);
    assert_minmax_order(cf, 0, 200000, 1400000);
    assert_minmax_order(cf, 2, 200000, 1400000);
    assert_string_equal(get(root, "devices/system/cpu/cpu0/cpufreq/scaling_min_freq", buf, sizeof buf), "200000");
    assert_string_equal(get(root, "devices/system/cpu/cpu2/cpufreq/scaling_max_freq", buf, sizeof buf), "1400000");
    free(cf);
}

static void test_restore_after_failure(void **state) {
    const char *root = *state;
    make_tree(root, 1);
    char path[1024];
    /* policy2's setspeed cannot be written (a directory): the sweep fails there */
    snprintf(path, sizeof path, "%s/devices/system/cpu/cpufreq/policy2/scaling_setspeed", root);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0755), 0);
    Cpufreq *cf = calloc(1, sizeof *cf);
    Err err;
    char buf[64];
    assert_int_equal(cpufreq_open(cf, root, &err), 0);
    cpu_set_t all = cpus(0, 3);
    assert_int_equal(cpufreq_set(cf, &all, 800000, &err), -1);
    assert_non_null(strstr(err.msg, "policy2/scaling_setspeed"));
    assert_string_equal(get(root, "devices/system/cpu/cpu0/cpufreq/scaling_governor", buf, sizeof buf), "userspace");
    assert_int_equal(cpufreq_restore(cf, &err), 0);
    assert_string_equal(get(root, "devices/system/cpu/cpu0/cpufreq/scaling_governor", buf, sizeof buf), "schedutil");
    assert_string_equal(get(root, "devices/system/cpu/cpu2/cpufreq/scaling_governor", buf, sizeof buf), "schedutil");
    free(cf);
}

/* A child sets a frequency, reports it and waits; SIGINT must restore the tree and end the child
 * by SIGINT. */
static void sigint_mid_sweep(const char *root, int userspace) {
    make_tree(root, userspace);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        Cpufreq *cf = calloc(1, sizeof *cf);
        Err err;
        cpu_set_t all = cpus(0, 3);
        if (!cf || cpufreq_open(cf, root, &err) || !cf->available || cpufreq_set(cf, &all, 800000, &err) ||
            cpufreq_set(cf, &all, 200000, &err))
            _exit(3);
        if (write(fds[1], "x", 1) != 1) _exit(4);
        for (;;) pause(); /* "measuring" */
    }
    close(fds[1]);
    char c;
    assert_int_equal(read(fds[0], &c, 1), 1);
    close(fds[0]);
    char buf[64];
    if (userspace) assert_string_equal(get(root, "devices/system/cpu/cpu2/cpufreq/scaling_governor", buf, sizeof buf), "userspace");
    else assert_string_equal(get(root, "devices/system/cpu/cpu2/cpufreq/scaling_max_freq", buf, sizeof buf), "200000");
    assert_int_equal(kill(pid, SIGINT), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGINT);
    for (int cpu = 0; cpu < 4; cpu += 2) {
        char rel[128];
        snprintf(rel, sizeof rel, "devices/system/cpu/cpu%d/cpufreq/scaling_governor", cpu);
        assert_string_equal(get(root, rel, buf, sizeof buf), "schedutil");
        snprintf(rel, sizeof rel, "devices/system/cpu/cpu%d/cpufreq/scaling_min_freq", cpu);
        assert_string_equal(get(root, rel, buf, sizeof buf), "200000");
        snprintf(rel, sizeof rel, "devices/system/cpu/cpu%d/cpufreq/scaling_max_freq", cpu);
        assert_string_equal(get(root, rel, buf, sizeof buf), "1400000");
    }
}

static void test_sigint_restores_userspace(void **state) { sigint_mid_sweep(*state, 1); }
static void test_sigint_restores_minmax(void **state) { sigint_mid_sweep(*state, 0); }

static void test_absent(void **state) {
    const char *root = *state;
    Cpufreq *cf = calloc(1, sizeof *cf);
    Err err;
    char expect[1024];
    put(root, "devices/system/cpu/cpu0/online", "1\n"); /* CPUs without cpufreq, as on this VM */
    assert_int_equal(cpufreq_open(cf, root, &err), 0);
    assert_false(cf->available);
    assert_int_equal(cf->method, CPUFREQ_NONE);
    snprintf(expect, sizeof expect, "no cpufreq under %s/devices/system/cpu/cpu0/cpufreq", root);
    assert_string_equal(cf->reason, expect);
    cpu_set_t c0 = cpus(0, 0);
    assert_int_equal(cpufreq_set(cf, &c0, 800000, &err), -1);
    assert_non_null(strstr(err.msg, "not available"));
    assert_int_equal(cpufreq_restore(cf, &err), 0); /* nothing to do */
    char missing[1024];
    snprintf(missing, sizeof missing, "%s/nothing-here", root);
    assert_int_equal(cpufreq_open(cf, missing, &err), 0);
    assert_false(cf->available);
    assert_non_null(strstr(cf->reason, "no CPU directory"));
    free(cf);
}

/* Read-only cpufreq: files mode 0444, opened by an unprivileged user (a child that drops root). */
static void test_read_only(void **state) {
    const char *root = *state;
    make_tree(root, 0);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "chmod -R a+rX '%s' && find '%s' -type f -exec chmod 0444 {} +", root, root);
    assert_int_equal(system(cmd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) || setuid(65534))) _exit(5);
        Cpufreq *cf = calloc(1, sizeof *cf);
        Err err;
        if (!cf || cpufreq_open(cf, root, &err)) _exit(3);
        if (cf->available || cf->method != CPUFREQ_NONE) _exit(4);
        _exit(strstr(cf->reason, "scaling_max_freq is not writable") ? 0 : 6);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    snprintf(cmd, sizeof cmd, "chmod -R u+w '%s'", root);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_discovery_and_resolve, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_userspace_order_and_restore, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_minmax_order_and_restore, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_restore_after_failure, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_sigint_restores_userspace, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_sigint_restores_minmax, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_absent, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_read_only, tu_setup_tmpdir, tu_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
