/* platforms/counter.h — instruction counts of one forward pass under valgrind's callgrind: the
 * latency measure of the CI gate (`dynn profile --count instructions`, the profile stage's
 * `count: instructions`).
 *
 * Why instructions: wall time on the shared machines CI lands on moves by 10-40% with the CPU model and
 * with whatever runs beside the test (docs/PERFORMANCE.md, "The CI latency gate"); callgrind counts the
 * instructions a forward executes, the same number on every run of the same binary and input, whatever
 * the load. It is blind to vectorization width and memory effects, so counts are compared only within
 * one kernel set: the ISA this dynn was compiled for (COUNTER_KERNEL_SET) with OpenBLAS forced to its
 * Haswell (AVX2) kernels; valgrind 3.19 cannot run AVX-512 code, so an x86-64 counting binary is an
 * x86-64-v3 build (`make BUILD=build-v3 OPT="-O3 -march=x86-64-v3"`).
 *
 * How: `dynn profile --count instructions` started outside valgrind re-runs itself under
 * `valgrind --tool=callgrind --collect-atstart=no` with the callgrind dump file in a private temp
 * directory (DYNN_CALLGRIND_OUT) and one OpenMP thread (OMP_WAIT_POLICY=passive: libgomp's spin-waits
 * would make the count depend on timing). Inside, each counted forward is bracketed by the client
 * requests ZERO_STATS / TOGGLE_COLLECT … TOGGLE_COLLECT / DUMP_STATS_AT, and the dump's `totals:` line
 * is that forward's instruction count, without the C allocator's own instructions (malloc, free, ...:
 * their count depends on what the process allocated before, not on the forward; counter.c). */
#ifndef DYNN_PLATFORMS_COUNTER_H
#define DYNN_PLATFORMS_COUNTER_H

#include "util/err.h"

/* The instruction set the compiler was allowed to use for this binary's own kernels. */
#if defined(__AVX512F__)
#define COUNTER_KERNEL_SET "x86-64-v4"
#elif defined(__AVX2__) && defined(__FMA__)
#define COUNTER_KERNEL_SET "x86-64-v3"
#elif defined(__x86_64__)
#define COUNTER_KERNEL_SET "x86-64"
#elif defined(__aarch64__)
#define COUNTER_KERNEL_SET "aarch64"
#else
#define COUNTER_KERNEL_SET "unknown"
#endif
/* The value of the `counter` condition (db/conditions.h) of a counted point: the tool, the kernel set
 * and the build that produced the code counted (another compiler or other flags count differently):
 * "callgrind x86-64-v3 (gcc 12.2.0, -O3 -march=x86-64-v3; allocator not counted)". */
const char *counter_name(void);
#define COUNTER_ENV_OUT "DYNN_CALLGRIND_OUT" /* the callgrind out file, set for the re-run process */
#define COUNTER_REPEATS 2                     /* counted forwards per point: the least count is kept */

/* 1 when this process runs under valgrind. */
int counter_under_valgrind(void);

/* Whether this binary can be counted: 0, or err "this dynn is built for x86-64-v4 (AVX-512), which
 * valgrind cannot run: ..." naming the build to use. */
int counter_binary_ok(Err *err);

/* Runs this dynn with argv (a command's: argv[0] is its name, "profile") again under callgrind and waits for it:
 * its stdout and stderr are this process's. The dump file lives in a temp directory removed
 * afterwards. Returns the child's exit status (128 + signal), or -1 with err when valgrind is
 * missing or could not be started. */
int counter_rerun_under_callgrind(int argc, char **argv, Err *err);

/* Instructions of `work(ctx)`: collected from a zeroed counter, dumped, and read back from the
 * dump file (COUNTER_ENV_OUT). Only under valgrind (else err). */
int counter_count(int (*work)(void *ctx, Err *err), void *ctx, long long *instructions, Err *err);

/* The event total of a callgrind dump's text: its `totals:` line (else `summary:`), first number.
 * err names `what` when neither is there. */
int counter_parse_dump(const char *text, const char *what, long long *instructions, Err *err);

#endif
