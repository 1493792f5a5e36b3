/* platforms/counter.c — instruction counting under callgrind (see counter.h). */
#include "platforms/counter.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <valgrind/callgrind.h>
#include <valgrind/valgrind.h>

#include "util/fs.h"
#include "util/version.h"

const char *counter_name(void) {
    static char name[256];
    if (!name[0]) {
        const BuildInfo *b = dynn_build_info();
        char version[64] = "", cc[64] = "";
        sscanf(b->compiler, "%63s %63s", version, cc); /* "12.2.0 gcc" */
        snprintf(name, sizeof name, "callgrind %s (%s %s, %s; allocator not counted)", COUNTER_KERNEL_SET, cc, version,
                 b->cflags);
    }
    return name;
}

int counter_under_valgrind(void) { return RUNNING_ON_VALGRIND ? 1 : 0; }

int counter_binary_ok(Err *err) {
#if defined(__AVX512F__)
    return err_set(err, "--count instructions: this dynn is built for %s (AVX-512, -march=native here), which valgrind "
                        "cannot run: count with an x86-64-v3 build: make BUILD=build-v3 OPT=\"-O3 -march=x86-64-v3\" and run "
                        "build-v3/dynn",
                   COUNTER_KERNEL_SET);
#else
    (void)err;
    return 0;
#endif
}

/* valgrind's path in PATH, into out; -1 when there is none. */
static int find_valgrind(char *out, size_t size) {
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/bin:/bin";
    for (const char *p = path; *p;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len && snprintf(out, size, "%.*s/valgrind", (int)len, p) < (int)size && access(out, X_OK) == 0) return 0;
        p += len + (end ? 1 : 0);
    }
    return -1;
}

/* The C allocator's entry points, each given to callgrind as --toggle-collect=NAME: collection flips off
 * on entering one and back on when it returns, so a counted forward's count leaves out what malloc and
 * free execute. That depends on the heap's history, not on the forward: the same code and model counted
 * 174244 and 178870 at one point (0.9-2.7% apart) in two processes whose earlier allocations differed,
 * all of it in malloc, free and their consolidation. None of these calls another of them on the paths
 * dynn uses (a nested one would flip collection back on). */
static const char *const allocator_functions[] = {"malloc", "free", "calloc", "realloc", "memalign", "posix_memalign",
                                                   "aligned_alloc", "valloc", "pvalloc", "reallocarray"};
#define N_ALLOCATOR_FUNCTIONS (sizeof allocator_functions / sizeof *allocator_functions)

int counter_rerun_under_callgrind(int argc, char **argv, Err *err) {
    char valgrind[PATH_MAX], self[PATH_MAX], dir[PATH_MAX], out_file[PATH_MAX + 16], out_opt[PATH_MAX + 40];
    if (find_valgrind(valgrind, sizeof valgrind))
        return err_set(err, "--count instructions needs valgrind (callgrind), which is not in PATH: install it (Debian: apt-get "
                            "install valgrind, or ci/deps.sh)");
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return err_set(err, "--count instructions: cannot find this dynn executable (/proc/self/exe)");
    self[n] = '\0';
    const char *tmp = getenv("TMPDIR");
    if (snprintf(dir, sizeof dir, "%s/dynn-count.XXXXXX", tmp && *tmp ? tmp : "/tmp") >= (int)sizeof dir)
        return err_set(err, "--count instructions: TMPDIR is too long");
    if (!mkdtemp(dir)) return err_set(err, "--count instructions: cannot make a temp directory %s: %s", dir, strerror(errno));
    snprintf(out_file, sizeof out_file, "%s/callgrind.out", dir);
    snprintf(out_opt, sizeof out_opt, "--callgrind-out-file=%s", out_file);
    char toggles[N_ALLOCATOR_FUNCTIONS][48];
    char **args = calloc((size_t)argc + 8 + N_ALLOCATOR_FUNCTIONS, sizeof *args);
    if (!args) {
        rmdir(dir);
        return err_set(err, "out of memory");
    }
    size_t k = 0;
    args[k++] = valgrind;
    args[k++] = "-q";
    args[k++] = "--tool=callgrind";
    args[k++] = "--collect-atstart=no";
    args[k++] = out_opt;
    for (size_t i = 0; i < N_ALLOCATOR_FUNCTIONS; i++) {
        snprintf(toggles[i], sizeof toggles[i], "--toggle-collect=%s", allocator_functions[i]);
        args[k++] = toggles[i];
    }
    args[k++] = self;
    for (int i = 0; i < argc; i++) args[k++] = argv[i]; /* the command's name, then its arguments */
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        setenv(COUNTER_ENV_OUT, out_file, 1);
        setenv("OMP_WAIT_POLICY", "passive", 1);
#if defined(__x86_64__)
        setenv("OPENBLAS_CORETYPE", "Haswell", 1); /* the AVX2 kernels on every x86-64 machine */
        setenv("DYNN_KERNELS", "avx2", 1);         /* and dynn's (nn/kernel_set.h): valgrind runs no AVX-512 */
#endif
        execv(valgrind, args);
        fprintf(stderr, "dynn profile: --count instructions: cannot run %s: %s\n", valgrind, strerror(errno));
        _exit(127);
    }
    int rc;
    if (pid < 0) rc = err_set(err, "--count instructions: fork: %s", strerror(errno));
    else {
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
        rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    free(args);
    Err rerr;
    if (fs_remove_tree(dir, &rerr)) fprintf(stderr, "dynn profile: warning: %s\n", rerr.msg);
    return rc;
}

int counter_parse_dump(const char *text, const char *what, long long *instructions, Err *err) {
    static const char *const keys[] = {"\ntotals:", "\nsummary:"};
    for (size_t i = 0; i < 2; i++) {
        const char *p = strstr(text, keys[i]);
        if (!p) continue;
        p += strlen(keys[i]);
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno || v < 0) return err_set(err, "%s: '%s' is not followed by a count", what, keys[i] + 1);
        *instructions = v;
        return 0;
    }
    return err_set(err, "%s: no 'totals:' or 'summary:' line (not a callgrind dump?)", what);
}

int counter_count(int (*work)(void *ctx, Err *err), void *ctx, long long *instructions, Err *err) {
    static unsigned dumps; /* callgrind numbers the dumps of a process 1, 2, ... */
    const char *out = getenv(COUNTER_ENV_OUT);
    if (!counter_under_valgrind() || !out || !*out)
        return err_set(err, "counting instructions needs this process under callgrind (dynn profile --count instructions "
                            "re-runs itself so)");
    CALLGRIND_ZERO_STATS;
    CALLGRIND_TOGGLE_COLLECT;
    int rc = work(ctx, err);
    CALLGRIND_TOGGLE_COLLECT;
    CALLGRIND_DUMP_STATS_AT("dynn forward");
    dumps++;
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s.%u", out, dumps) >= (int)sizeof path) return err_set(err, "%s: path too long", out);
    char *text;
    size_t len;
    Err rerr;
    if (fs_read_file(path, &text, &len, &rerr)) {
        if (!rc) *err = rerr;
        return -1;
    }
    if (!rc) rc = counter_parse_dump(text, path, instructions, err);
    free(text);
    unlink(path);
    return rc;
}
