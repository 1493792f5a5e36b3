/* tests/unit/test_nvml_clocks.c — an NVIDIA GPU's clocks through NVML (platforms/nvml_clocks.c) against
 * the fake NVML (tests/fake/fake_nvml.c, build/tests/fake/libnvidia-ml.so.1 beside this binary): the
 * supported clocks read at open, --gpu-freq resolved (all, min, max, Hz; an unsupported clock refused
 * listing the supported ones), a sweep through locked clocks then reset, the fallback to application
 * clocks when locked clocks are refused, a driver that refuses both (nothing set, the clocks still
 * read), the reset after a failed set, SIGINT in the middle of a sweep that changed both a devfreq
 * node and the NVML clocks (a child process: the one shared handler resets both), and the one-line
 * errors for a missing library, a driver that does not start and a device index out of range. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platforms/devfreq.h"
#include "platforms/nvml_clocks.h"
#include "tests/unit/testutil.h"

static char g_lib[PATH_MAX]; /* the fake NVML beside this binary */

/* A fresh fake GPU in the test's temp dir: the state file with `config` (lines "key value"), no log. */
static void fake_gpu(const char *dir, const char *config) {
    char path[512], log[600];
    tu_path(path, sizeof path, dir, "nvml.state");
    snprintf(log, sizeof log, "%s.log", path);
    unlink(log);
    tu_write_file(path, config, strlen(config));
    setenv("FAKE_NVML_STATE", path, 1);
}

/* The value of a state key ("" when absent). */
static const char *state(const char *dir, const char *key) {
    static char value[256];
    char path[512], line[300];
    tu_path(path, sizeof path, dir, "nvml.state");
    FILE *fp = fopen(path, "r");
    value[0] = '\0';
    size_t n = strlen(key);
    while (fp && fgets(line, sizeof line, fp))
        if (!strncmp(line, key, n) && line[n] == ' ') {
            snprintf(value, sizeof value, "%s", line + n + 1);
            value[strcspn(value, "\n")] = '\0';
        }
    if (fp) fclose(fp);
    return value;
}

/* The calls that set or reset clocks, in order, one per line. */
static char *calls(const char *dir) {
    static char text[4096];
    char path[512];
    tu_path(path, sizeof path, dir, "nvml.state.log");
    size_t len = 0;
    unsigned char *data = tu_file_exists(path) ? tu_read_file(path, &len) : NULL;
    snprintf(text, sizeof text, "%.*s", (int)len, data ? (const char *)data : "");
    free(data);
    return text;
}

static NvmlClocks *open_fake(void) {
    NvmlClocks *nc = calloc(1, sizeof *nc);
    Err err;
    assert_non_null(nc);
    if (nvml_clocks_open(nc, g_lib, 0, &err)) fail_msg("%s", err.msg);
    return nc;
}

static void close_fake(NvmlClocks *nc) {
    nvml_clocks_close(nc);
    assert_null(nc->api);
    free(nc);
}

static void test_open_and_resolve(void **state_) {
    const char *dir = *state_;
    fake_gpu(dir, "name Fake H100\nmem_clocks 1593 810\nsm_clocks 1410 300 1200 600 900\n");
    NvmlClocks *nc = open_fake();
    Err err;
    assert_string_equal(nc->name, "Fake H100");
    assert_int_equal(nc->n_mem, 2);
    assert_true(nc->mem_mhz[0] == 810 && nc->mem_mhz[1] == 1593); /* ascending */
    assert_int_equal(nc->n_sm, 5);
    assert_true(nc->sm_mhz[0] == 300 && nc->sm_mhz[2] == 900 && nc->sm_mhz[4] == 1410);
    assert_true(nc->available);
    assert_int_equal(nc->method, NVML_CLOCKS_NONE);
    assert_string_equal(state(dir, "inits"), "1");
    long long hz[NVML_MAX_CLOCKS];
    int n;
    assert_int_equal(nvml_clocks_resolve(nc, "all", hz, NVML_MAX_CLOCKS, &n, &err), 0);
    assert_int_equal(n, 5);
    assert_true(hz[0] == 300000000LL && hz[4] == 1410000000LL);
    assert_int_equal(nvml_clocks_resolve(nc, "max,300000000,min", hz, NVML_MAX_CLOCKS, &n, &err), 0);
    assert_int_equal(n, 2); /* min is 300 MHz again */
    assert_true(hz[0] == 1410000000LL && hz[1] == 300000000LL);
    assert_int_equal(nvml_clocks_resolve(nc, "1000000000", hz, NVML_MAX_CLOCKS, &n, &err), -1);
    assert_string_equal(err.msg, "--gpu-freq: 1000000000 Hz is not a supported SM clock of GPU 0 (Fake H100) at memory "
                                 "clock 1593 MHz (supported, MHz: 300 600 900 1200 1410)");
    assert_int_equal(nvml_clocks_resolve(nc, "1410000001", hz, NVML_MAX_CLOCKS, &n, &err), -1); /* not a whole MHz */
    assert_int_equal(nvml_clocks_resolve(nc, "fast", hz, NVML_MAX_CLOCKS, &n, &err), -1);
    assert_string_equal(err.msg, "--gpu-freq: 'fast' is not a frequency in Hz, all, min or max");
    assert_int_equal(nvml_clocks_resolve(nc, "all", hz, 3, &n, &err), -1);
    assert_string_equal(err.msg, "--gpu-freq: more than 3 clocks");
    close_fake(nc);
    assert_string_equal(state(dir, "inits"), "0"); /* nvmlShutdown */
    assert_string_equal(calls(dir), "");           /* nothing set */
}

/* Locked clocks: each point's SM clock locked (the memory clock locked once, at its highest), the clocks
 * read are the ones set, and the restore resets both. */
static void test_locked_sweep_and_restore(void **state_) {
    const char *dir = *state_;
    fake_gpu(dir, "");
    NvmlClocks *nc = open_fake();
    Err err;
    unsigned sm, mem;
    assert_int_equal(nvml_clocks_read(nc, &sm, &mem, &err), 0);
    assert_true(sm == 900 && mem == 810); /* the driver's choice before anything is set */
    assert_int_equal(nvml_clocks_set(nc, 300, &err), 0);
    assert_int_equal(nc->method, NVML_CLOCKS_LOCKED);
    assert_string_equal(nvml_clocks_method_name(nc->method), "locked");
    assert_true(nc->mem_locked);
    assert_int_equal(nvml_clocks_read(nc, &sm, &mem, &err), 0);
    assert_true(sm == 300 && mem == 1593);
    assert_int_equal(nvml_clocks_set(nc, 1410, &err), 0);
    assert_int_equal(nvml_clocks_read(nc, &sm, &mem, &err), 0);
    assert_true(sm == 1410 && mem == 1593);
    assert_int_equal(nvml_clocks_restore(nc, &err), 0);
    assert_string_equal(state(dir, "locked_sm"), "0");
    assert_string_equal(state(dir, "locked_mem"), "0");
    assert_string_equal(calls(dir), "SetGpuLockedClocks 300 300 = ok\n"
                                    "SetMemoryLockedClocks 1593 1593 = ok\n"
                                    "SetGpuLockedClocks 1410 1410 = ok\n"
                                    "ResetGpuLockedClocks = ok\n"
                                    "ResetMemoryLockedClocks = ok\n");
    assert_int_equal(nvml_clocks_restore(nc, &err), 0); /* twice: nothing more to reset */
    assert_int_equal(nvml_clocks_read(nc, &sm, &mem, &err), 0);
    assert_true(sm == 900 && mem == 810);
    close_fake(nc);
}

/* The memory clock cannot be locked (before Ampere): the SM clock is locked alone, only it is reset. */
static void test_memory_lock_refused(void **state_) {
    const char *dir = *state_;
    fake_gpu(dir, "mem_locked not_supported\n");
    NvmlClocks *nc = open_fake();
    Err err;
    assert_int_equal(nvml_clocks_set(nc, 600, &err), 0);
    assert_int_equal(nc->method, NVML_CLOCKS_LOCKED);
    assert_false(nc->mem_locked);
    assert_int_equal(nvml_clocks_restore(nc, &err), 0);
    assert_string_equal(calls(dir), "SetGpuLockedClocks 600 600 = ok\n"
                                    "SetMemoryLockedClocks 1593 1593 = not_supported\n"
                                    "ResetGpuLockedClocks = ok\n");
    close_fake(nc);
}

/* Locked clocks refused (no permission, or not supported): application clocks at the highest memory
 * clock instead, reset afterwards. */
static void fallback(const char *dir, const char *locked) {
    char config[64];
    snprintf(config, sizeof config, "locked %s\n", locked);
    fake_gpu(dir, config);
    NvmlClocks *nc = open_fake();
    Err err;
    unsigned sm, mem;
    assert_int_equal(nvml_clocks_set(nc, 600, &err), 0);
    assert_int_equal(nc->method, NVML_CLOCKS_APPLICATION);
    assert_string_equal(nvml_clocks_method_name(nc->method), "application");
    assert_int_equal(nvml_clocks_set(nc, 1200, &err), 0);
    assert_int_equal(nvml_clocks_read(nc, &sm, &mem, &err), 0);
    assert_true(sm == 1200 && mem == 1593);
    assert_int_equal(nvml_clocks_restore(nc, &err), 0);
    assert_string_equal(state(dir, "app_sm"), "0");
    char want[512];
    snprintf(want, sizeof want,
             "SetGpuLockedClocks 600 600 = %s\nSetApplicationsClocks 1593 600 = ok\nSetApplicationsClocks 1593 1200 = ok\n"
             "ResetApplicationsClocks = ok\n", locked);
    assert_string_equal(calls(dir), want);
    close_fake(nc);
}
static void test_fallback_no_permission(void **state_) { fallback(*state_, "no_permission"); }
static void test_fallback_not_supported(void **state_) { fallback(*state_, "not_supported"); }

/* The driver refuses both: set answers 1, nothing is changed or reset, the clocks are still read. */
static void test_no_permission_records(void **state_) {
    const char *dir = *state_;
    fake_gpu(dir, "locked no_permission\napp no_permission\n");
    NvmlClocks *nc = open_fake();
    Err err;
    unsigned sm, mem;
    assert_int_equal(nvml_clocks_set(nc, 600, &err), 1);
    assert_false(nc->available);
    assert_false(nc->changed);
    assert_int_equal(nc->method, NVML_CLOCKS_NONE);
    assert_string_equal(nc->reason, "the driver refuses setting the clocks of GPU 0 (Fake GPU): locked clocks: Insufficient "
                                    "Permissions; application clocks: Insufficient Permissions (setting clocks needs root, or "
                                    "`nvidia-smi -acp UNRESTRICTED` for application clocks)");
    assert_int_equal(nvml_clocks_set(nc, 600, &err), -1); /* not again */
    assert_int_equal(nvml_clocks_read(nc, &sm, &mem, &err), 0);
    assert_true(sm == 900 && mem == 810);
    assert_int_equal(nvml_clocks_restore(nc, &err), 0);
    assert_string_equal(calls(dir), "SetGpuLockedClocks 600 600 = no_permission\n"
                                    "SetApplicationsClocks 1593 600 = no_permission\n");
    close_fake(nc);
}

/* A set that fails mid-sweep: the error names the clock and NVML's message; the restore still resets. */
static void test_restore_after_error(void **state_) {
    const char *dir = *state_;
    fake_gpu(dir, "fail_set 600\n");
    NvmlClocks *nc = open_fake();
    Err err;
    assert_int_equal(nvml_clocks_set(nc, 300, &err), 0);
    assert_int_equal(nvml_clocks_set(nc, 600, &err), -1);
    assert_string_equal(err.msg, "GPU 0 (Fake GPU): cannot set the SM clock to 600 MHz (locked clocks): Unknown Error");
    assert_string_equal(state(dir, "locked_sm"), "300");
    assert_int_equal(nvml_clocks_restore(nc, &err), 0);
    assert_string_equal(state(dir, "locked_sm"), "0");
    assert_string_equal(state(dir, "locked_mem"), "0");
    close_fake(nc);
    /* a failing reset is reported, naming the call and what to do */
    fake_gpu(dir, "");
    nc = open_fake();
    assert_int_equal(nvml_clocks_set(nc, 300, &err), 0);
    fake_gpu(dir, "locked_sm 300\nlocked not_supported\n");
    assert_int_equal(nvml_clocks_restore(nc, &err), -1);
    assert_string_equal(err.msg, "GPU 0 (Fake GPU): nvmlDeviceResetGpuLockedClocks failed: Not Supported; reset the clocks "
                                 "by hand (nvidia-smi -rgc -rmc -rac)");
    close_fake(nc);
}

/* A child sets a devfreq node and the NVML clocks, then gets SIGINT: the one handler puts back both and
 * the child ends by SIGINT. */
static void test_sigint_restores_devfreq_and_nvml(void **state_) {
    const char *dir = *state_;
    const char *node = "class/devfreq/57000000.gpu/";
    char rel[128];
    snprintf(rel, sizeof rel, "%sgovernor", node), tu_put_rel(dir, rel, "nvhost_podgov\n");
    snprintf(rel, sizeof rel, "%savailable_governors", node), tu_put_rel(dir, rel, "nvhost_podgov performance\n");
    snprintf(rel, sizeof rel, "%savailable_frequencies", node), tu_put_rel(dir, rel, "76800000 921600000\n");
    snprintf(rel, sizeof rel, "%smin_freq", node), tu_put_rel(dir, rel, "76800000\n");
    snprintf(rel, sizeof rel, "%smax_freq", node), tu_put_rel(dir, rel, "921600000\n");
    for (int app = 0; app < 2; app++) {
        fake_gpu(dir, app ? "locked no_permission\n" : "");
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            Devfreq *df = calloc(1, sizeof *df);
            NvmlClocks *nc = calloc(1, sizeof *nc);
            Err err;
            if (!df || !nc || devfreq_open(df, dir, "57000000.gpu", &err) || !df->available ||
                devfreq_set(df, 76800000, &err) || nvml_clocks_open(nc, g_lib, 0, &err) || nvml_clocks_set(nc, 1200, &err))
                _exit(3);
            kill(getpid(), SIGINT);
            _exit(4); /* not reached: the handler restores and re-raises */
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGINT);
        char buf[64];
        snprintf(rel, sizeof rel, "%smax_freq", node);
        assert_string_equal(tu_get_rel(dir, rel, buf, sizeof buf), "921600000"); /* devfreq put back */
        assert_int_equal(atoi(state(dir, "locked_sm")), 0); /* reset ("" : never set) */
        assert_int_equal(atoi(state(dir, "locked_mem")), 0);
        assert_int_equal(atoi(state(dir, "app_sm")), 0);
        const char *log = calls(dir);
        if (app) assert_non_null(strstr(log, "SetApplicationsClocks 1593 1200 = ok\nResetApplicationsClocks = ok\n"));
        else assert_non_null(strstr(log, "SetGpuLockedClocks 1200 1200 = ok\nSetMemoryLockedClocks 1593 1593 = ok\n"
                                         "ResetGpuLockedClocks = ok\nResetMemoryLockedClocks = ok\n"));
    }
}

/* Errors at open: one line each, nothing left loaded. */
static void test_open_errors(void **state_) {
    const char *dir = *state_;
    NvmlClocks *nc = calloc(1, sizeof *nc);
    Err err;
    assert_int_equal(nvml_clocks_open(nc, "/nonexistent/libnvidia-ml.so.1", 0, &err), -1);
    assert_null(nc->api);
    assert_non_null(strstr(err.msg, "--gpu-nvml: cannot load /nonexistent/libnvidia-ml.so.1, the NVIDIA driver's NVML "
                                    "library ("));
    assert_non_null(strstr(err.msg, "): install the NVIDIA driver, or put the directory holding libnvidia-ml.so.1 on "
                                    "LD_LIBRARY_PATH"));
    assert_null(strchr(err.msg, '\n'));
    fake_gpu(dir, "devices 2\n");
    assert_int_equal(nvml_clocks_open(nc, g_lib, 2, &err), -1);
    assert_string_equal(err.msg, "--gpu-nvml: no NVIDIA GPU 2: NVML sees 2 (indices 0..1, as nvidia-smi lists them)");
    assert_null(nc->api);
    assert_string_equal(state(dir, "inits"), "0"); /* shut down again */
    assert_int_equal(nvml_clocks_open(nc, g_lib, 64, &err), -1);
    assert_string_equal(err.msg, "--gpu-nvml: 64 is not a device index 0..63");
    unsetenv("FAKE_NVML_STATE"); /* the fake's "driver not loaded" */
    assert_int_equal(nvml_clocks_open(nc, g_lib, 0, &err), -1);
    assert_string_equal(err.msg, "--gpu-nvml: NVML cannot start (Driver Not Loaded): is the NVIDIA driver loaded (nvidia-smi)?");
    assert_null(nc->api);
    /* a GPU that lists no clocks: opened, clocks not settable (with the reason), still read */
    fake_gpu(dir, "supported not_supported\n");
    assert_int_equal(nvml_clocks_open(nc, g_lib, 0, &err), 0);
    assert_false(nc->available);
    assert_string_equal(nc->reason, "GPU 0 (Fake GPU) lists no supported clocks through NVML");
    long long hz[4];
    int n;
    assert_int_equal(nvml_clocks_resolve(nc, "max", hz, 4, &n, &err), -1);
    assert_string_equal(err.msg, "--gpu-freq: GPU 0 (Fake GPU) lists no supported clocks through NVML");
    unsigned sm, mem;
    assert_int_equal(nvml_clocks_read(nc, &sm, &mem, &err), 0);
    assert_true(sm == 900 && mem == 810);
    close_fake(nc);
}

int main(void) {
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) return 1;
    exe[len] = '\0';
    snprintf(g_lib, sizeof g_lib, "%s/fake/libnvidia-ml.so.1", dirname(exe));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_and_resolve, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_locked_sweep_and_restore, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_memory_lock_refused, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_fallback_no_permission, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_fallback_not_supported, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_no_permission_records, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_restore_after_error, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_sigint_restores_devfreq_and_nvml, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_open_errors, tu_setup_tmpdir, tu_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
