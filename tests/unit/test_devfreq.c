/* tests/unit/test_devfreq.c — GPU DVFS against fake devfreq sysfs trees built in a temp dir: the
 * node's state read at open, frequencies resolved (all, min, max, Hz; errors naming the node), the
 * files written and their order (userspace: governor then set_freq; minmax: min <= max after every
 * write), the original state back after success and after a failed write, "unavailable" with a
 * reason for an absent or read-only node, and SIGINT in the middle of a sweep that changed both a
 * cpufreq policy and the devfreq node (a child process): the one shared handler puts both back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platforms/cpufreq.h"
#include "platforms/devfreq.h"
#include "tests/unit/testutil.h"

#define NODE "class/devfreq/57000000.gpu/"

#define put tu_put_rel /* fake sysfs files */
#define get tu_get_rel

/* A Tegra-like GPU node: governor nvhost_podgov, three frequencies (listed out of order), limits at
 * the ends; with the userspace governor (and its userspace/set_freq) or without it. */
static void make_node(const char *root, int userspace) {
    put(root, NODE "governor", "nvhost_podgov\n");
    put(root, NODE "available_governors",
        userspace ? "wmark_active nvhost_podgov userspace performance\n" : "wmark_active nvhost_podgov performance\n");
    put(root, NODE "available_frequencies", "921600000 76800000 153600000\n");
    put(root, NODE "min_freq", "76800000\n");
    put(root, NODE "max_freq", "921600000\n");
    put(root, NODE "cur_freq", "153600000\n");
    if (userspace) put(root, NODE "userspace/set_freq", "0\n");
}

static void assert_write(const Devfreq *df, int i, const char *file, const char *value) {
    assert_true(i < df->n_trace);
    assert_string_equal(df->trace[i].file, file);
    assert_string_equal(df->trace[i].value, value);
}

static void test_userspace_resolve_order_restore(void **state) {
    const char *root = *state;
    make_node(root, 1);
    Devfreq *df = calloc(1, sizeof *df);
    Err err;
    char buf[128];
    assert_int_equal(devfreq_open(df, root, "57000000.gpu", &err), 0);
    assert_true(df->available);
    assert_int_equal(df->method, DEVFREQ_USERSPACE);
    assert_string_equal(devfreq_method_name(df->method), "userspace");
    assert_int_equal(df->n_freqs, 3);
    assert_true(df->discrete);
    assert_true(df->freqs_hz[0] == 76800000 && df->freqs_hz[1] == 153600000 && df->freqs_hz[2] == 921600000);
    assert_string_equal(df->orig_governor, "nvhost_podgov");
    assert_true(df->orig_min_hz == 76800000 && df->orig_max_hz == 921600000 && df->cur_hz == 153600000);
    assert_int_equal(df->n_trace, 0); /* the writability check is not a change */

    long long hz[8];
    int n;
    assert_int_equal(devfreq_resolve(df, "max,min,153600000,min", hz, 8, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_true(hz[0] == 921600000 && hz[1] == 76800000 && hz[2] == 153600000);
    assert_int_equal(devfreq_resolve(df, "all", hz, 8, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_true(hz[0] == 76800000 && hz[2] == 921600000);
    assert_int_equal(devfreq_resolve(df, "100000000", hz, 8, &n, &err), -1);
    assert_string_equal(err.msg, "--gpu-freq: 100000000 Hz is not available on GPU devfreq node 57000000.gpu "
                                 "(available: 76800000 153600000 921600000)");
    assert_int_equal(devfreq_resolve(df, "fast", hz, 8, &n, &err), -1);
    assert_string_equal(err.msg, "--gpu-freq: 'fast' is not a frequency in Hz, all, min or max");
    assert_int_equal(devfreq_resolve(df, "all", hz, 2, &n, &err), -1);
    assert_string_equal(err.msg, "--gpu-freq: more than 2 frequencies");

    assert_int_equal(devfreq_set(df, 153600000, &err), 0);
    assert_int_equal(df->n_trace, 2);
    assert_write(df, 0, "governor", "userspace");
    assert_write(df, 1, "set_freq", "153600000");
    assert_string_equal(get(root, NODE "governor", buf, sizeof buf), "userspace");
    assert_string_equal(get(root, NODE "userspace/set_freq", buf, sizeof buf), "153600000");
    assert_int_equal(devfreq_set(df, 921600000, &err), 0); /* governor already userspace */
    assert_int_equal(df->n_trace, 3);
    assert_write(df, 2, "set_freq", "921600000");
    assert_int_equal(devfreq_set(df, 100000000, &err), 0); /* not offered: the highest one below */
    assert_write(df, 3, "set_freq", "76800000");
    assert_int_equal(devfreq_restore(df, &err), 0);
    assert_int_equal(df->n_trace, 5);
    assert_write(df, 4, "governor", "nvhost_podgov");
    assert_string_equal(get(root, NODE "governor", buf, sizeof buf), "nvhost_podgov");
    assert_int_equal(devfreq_restore(df, &err), 0); /* nothing more to do */
    assert_int_equal(df->n_trace, 5);
    free(df);
}

/* Without the userspace governor: min_freq = max_freq = F, min <= max after every write. */
static void test_minmax_order_restore(void **state) {
    const char *root = *state;
    make_node(root, 0);
    Devfreq *df = calloc(1, sizeof *df);
    Err err;
    char buf[128];
    assert_int_equal(devfreq_open(df, root, "57000000.gpu", &err), 0);
    assert_true(df->available);
    assert_int_equal(df->method, DEVFREQ_MINMAX);
    assert_int_equal(devfreq_set(df, 153600000, &err), 0); /* down from 76.8M..921.6M: min first */
    assert_write(df, 0, "min_freq", "153600000");
    assert_write(df, 1, "max_freq", "153600000");
    assert_int_equal(devfreq_set(df, 921600000, &err), 0); /* up: max first */
    assert_write(df, 2, "max_freq", "921600000");
    assert_write(df, 3, "min_freq", "921600000");
    assert_string_equal(get(root, NODE "min_freq", buf, sizeof buf), "921600000");
    assert_int_equal(devfreq_set(df, 76800000, &err), 0); /* down again: min first */
    assert_write(df, 4, "min_freq", "76800000");
    assert_write(df, 5, "max_freq", "76800000");
    assert_int_equal(devfreq_restore(df, &err), 0); /* back to 76.8M..921.6M */
    assert_int_equal(df->n_trace, 8);
    assert_write(df, 6, "min_freq", "76800000");
    assert_write(df, 7, "max_freq", "921600000");
    assert_string_equal(get(root, NODE "min_freq", buf, sizeof buf), "76800000");
    assert_string_equal(get(root, NODE "max_freq", buf, sizeof buf), "921600000");
    assert_string_equal(get(root, NODE "governor", buf, sizeof buf), "nvhost_podgov");
    free(df);
}

/* A node whose limits are one range (no available_frequencies): any Hz inside it. */
static void test_range_without_table(void **state) {
    const char *root = *state;
    make_node(root, 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/" NODE "available_frequencies", root);
    assert_int_equal(unlink(path), 0);
    Devfreq *df = calloc(1, sizeof *df);
    Err err;
    long long hz[4];
    int n;
    assert_int_equal(devfreq_open(df, root, "57000000.gpu", &err), 0);
    assert_true(df->available);
    assert_false(df->discrete);
    assert_int_equal(devfreq_resolve(df, "400000000,max", hz, 4, &n, &err), 0);
    assert_true(n == 2 && hz[0] == 400000000 && hz[1] == 921600000);
    assert_int_equal(devfreq_resolve(df, "1000000000", hz, 4, &n, &err), -1);
    assert_non_null(strstr(err.msg, "(available: 76800000..921600000)"));
    free(df);
}

/* A write that fails mid-sweep (set_freq is a directory): the error names the file, and restore
 * still puts the governor back. */
static void test_restore_after_failure(void **state) {
    const char *root = *state;
    make_node(root, 1);
    char path[1024];
    snprintf(path, sizeof path, "%s/" NODE "userspace/set_freq", root);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0755), 0);
    Devfreq *df = calloc(1, sizeof *df);
    Err err;
    char buf[128];
    assert_int_equal(devfreq_open(df, root, "57000000.gpu", &err), 0);
    assert_int_equal(devfreq_set(df, 153600000, &err), -1);
    assert_non_null(strstr(err.msg, "57000000.gpu/userspace/set_freq: cannot write 153600000"));
    assert_string_equal(get(root, NODE "governor", buf, sizeof buf), "userspace");
    assert_int_equal(devfreq_restore(df, &err), 0);
    assert_string_equal(get(root, NODE "governor", buf, sizeof buf), "nvhost_podgov");
    free(df);
}

static void test_absent_and_bad_name(void **state) {
    const char *root = *state;
    Devfreq *df = calloc(1, sizeof *df);
    Err err;
    char expect[1200];
    assert_int_equal(devfreq_open(df, root, "11800000.mali", &err), 0);
    assert_false(df->available);
    assert_int_equal(df->method, DEVFREQ_NONE);
    snprintf(expect, sizeof expect, "no devfreq node %s/class/devfreq/11800000.mali (No such file or directory)", root);
    assert_string_equal(df->reason, expect);
    long long hz[4];
    int n;
    assert_int_equal(devfreq_resolve(df, "max", hz, 4, &n, &err), -1);
    assert_non_null(strstr(err.msg, "--gpu-freq: GPU DVFS is not available: no devfreq node"));
    assert_int_equal(devfreq_set(df, 1000, &err), -1);
    assert_non_null(strstr(err.msg, "not available"));
    assert_int_equal(devfreq_restore(df, &err), 0); /* nothing to do */
    assert_int_equal(df->n_trace, 0);
    assert_int_equal(devfreq_open(df, root, "../../etc", &err), -1);
    assert_non_null(strstr(err.msg, "GPU devfreq node '../../etc': give the name of a directory of /sys/class/devfreq"));
    assert_int_equal(devfreq_open(df, root, "", &err), -1);
    free(df);
}

/* A read-only node: files mode 0444, opened by an unprivileged user (a child that drops root). */
static void read_only(const char *root, int userspace, const char *want) {
    make_node(root, userspace);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "chmod -R a+rX '%s' && find '%s' -type f -exec chmod 0444 {} +", root, root);
    assert_int_equal(system(cmd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) || setuid(65534))) _exit(5);
        Devfreq *df = calloc(1, sizeof *df);
        Err err;
        if (!df || devfreq_open(df, root, "57000000.gpu", &err)) _exit(3);
        if (df->available || df->method != DEVFREQ_NONE || df->n_trace) _exit(4);
        _exit(strstr(df->reason, want) && strstr(df->reason, "GPU DVFS needs root") ? 0 : 6);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    char buf[128];
    assert_string_equal(get(root, NODE "governor", buf, sizeof buf), "nvhost_podgov");
    snprintf(cmd, sizeof cmd, "chmod -R u+w '%s'", root);
    assert_int_equal(system(cmd), 0);
}

static void test_read_only_minmax(void **state) { read_only(*state, 0, "57000000.gpu/max_freq is not writable"); }
static void test_read_only_userspace(void **state) { read_only(*state, 1, "57000000.gpu/governor is not writable"); }

/* A child changes a cpufreq policy (userspace) and the GPU node (minmax or userspace), reports and
 * waits; SIGINT must put both back and end the child by SIGINT. */
static void sigint_both(const char *root, int gpu_userspace) {
    make_node(root, gpu_userspace);
    const char *pol = "devices/system/cpu/cpu0/cpufreq/";
    char rel[256];
    snprintf(rel, sizeof rel, "%sscaling_governor", pol), put(root, rel, "schedutil\n");
    snprintf(rel, sizeof rel, "%sscaling_available_governors", pol), put(root, rel, "schedutil userspace\n");
    snprintf(rel, sizeof rel, "%sscaling_available_frequencies", pol), put(root, rel, "200000 800000\n");
    snprintf(rel, sizeof rel, "%sscaling_min_freq", pol), put(root, rel, "200000\n");
    snprintf(rel, sizeof rel, "%sscaling_max_freq", pol), put(root, rel, "800000\n");
    snprintf(rel, sizeof rel, "%sscaling_setspeed", pol), put(root, rel, "0\n");
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        Cpufreq *cf = calloc(1, sizeof *cf);
        Devfreq *df = calloc(1, sizeof *df);
        Err err;
        cpu_set_t c0;
        CPU_ZERO(&c0);
        CPU_SET(0, &c0);
        if (!cf || !df || cpufreq_open(cf, root, &err) || !cf->available || devfreq_open(df, root, "57000000.gpu", &err) ||
            !df->available || cpufreq_set(cf, &c0, 200000, &err) || devfreq_set(df, 153600000, &err))
            _exit(3);
        if (write(fds[1], "x", 1) != 1) _exit(4);
        for (;;) pause(); /* "measuring" */
    }
    close(fds[1]);
    char c, buf[128];
    assert_int_equal(read(fds[0], &c, 1), 1);
    close(fds[0]);
    snprintf(rel, sizeof rel, "%sscaling_governor", pol);
    assert_string_equal(get(root, rel, buf, sizeof buf), "userspace");
    if (gpu_userspace) assert_string_equal(get(root, NODE "governor", buf, sizeof buf), "userspace");
    else assert_string_equal(get(root, NODE "max_freq", buf, sizeof buf), "153600000");
    assert_int_equal(kill(pid, SIGINT), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGINT);
    assert_string_equal(get(root, rel, buf, sizeof buf), "schedutil");
    assert_string_equal(get(root, NODE "governor", buf, sizeof buf), "nvhost_podgov");
    assert_string_equal(get(root, NODE "min_freq", buf, sizeof buf), "76800000");
    assert_string_equal(get(root, NODE "max_freq", buf, sizeof buf), "921600000");
}

static void test_sigint_restores_cpu_and_gpu_minmax(void **state) { sigint_both(*state, 0); }
static void test_sigint_restores_cpu_and_gpu_userspace(void **state) { sigint_both(*state, 1); }

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_userspace_resolve_order_restore, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_minmax_order_restore, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_range_without_table, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_restore_after_failure, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_absent_and_bad_name, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_read_only_minmax, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_read_only_userspace, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_sigint_restores_cpu_and_gpu_minmax, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_sigint_restores_cpu_and_gpu_userspace, tu_setup_tmpdir, tu_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
