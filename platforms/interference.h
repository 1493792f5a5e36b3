/* platforms/interference.h — how much of the measured CPUs a profiling point really had: the
 * process's CPU time against wall time x threads, the time its threads waited, runnable, for a CPU
 * (per-thread run delay, /proc/self/task/TID/schedstat), and the other work the kernel counted on
 * the mapping's CPUs (/proc/stat busy ticks, steal included, minus this process's CPU time); and
 * the OpenMP wait policy the process runs under.
 *
 * Why: with one unrelated CPU-bound process on one of two measured cores, 2-thread OpenMP barriers
 * wait on the thread that shares its core, and a batch-1 forward of 0.14-1.65 ms took ~264 ms; the
 * profiler stored that as the latency. A point's *interference* is the share of its threads' time
 * they spent runnable but without a CPU (wait_share, nanoseconds from the kernel), less what its own
 * threads cause when there are more of them than CPUs (1 - CPUs / threads); where schedstat cannot be
 * read (CONFIG_SCHED_INFO off) it is others_share instead, from /proc/stat, whose 10 ms ticks need a
 * loop of INTERFERENCE_MIN_TICKS_S to mean anything. A loop shorter than INTERFERENCE_MIN_WALL_S is not
 * judged (a few time slices decide its shares). A point is flagged when its interference is above
 * `max`: the threshold (INTERFERENCE_MAX_DEFAULT) and its measurement are in docs/PERFORMANCE.md,
 * "Interference". A share that cannot be known is NaN and never flags a point. */
#ifndef DYNN_PLATFORMS_INTERFERENCE_H
#define DYNN_PLATFORMS_INTERFERENCE_H

#include <sched.h>
#include <stddef.h>

#include "util/err.h"

/* The default --interf-max (fraction of the measured capacity; docs/PERFORMANCE.md). */
#define INTERFERENCE_MAX_DEFAULT 0.15
#define INTERFERENCE_MAX_DEFAULT_TEXT "0.15"
/* Timed loops shorter than this are not judged (--min-time-ms below 50 turns the check off). */
#define INTERFERENCE_MIN_WALL_S 0.05
/* others_share stands in for wait_share only over loops at least this long (100 ticks at 100 Hz). */
#define INTERFERENCE_MIN_TICKS_S 1.0
/* The default --interf-retries: re-measurements of a flagged point before it is kept flagged. */
#define INTERFERENCE_RETRIES_DEFAULT_TEXT "2"

/* What is read before and after a timed loop. */
typedef struct InterferenceSnap {
    double wall_s;      /* CLOCK_MONOTONIC */
    double cpu_s;       /* CLOCK_PROCESS_CPUTIME_ID */
    double run_delay_s; /* summed over this process's threads; NaN when unreadable */
    double busy_s;      /* busy time of the mapping's CPUs (user, nice, system, irq, softirq, steal); NaN when unreadable */
} InterferenceSnap;

/* The shares of one timed loop, each a fraction (NaN when its source was unreadable). */
typedef struct InterferenceShares {
    double cpu_share;    /* process CPU time / (wall x threads): ~1 with spinning threads on free cores */
    double wait_share;   /* run delay of this process's threads / (wall x threads) */
    double others_share; /* (busy of the mapping's CPUs - this process's CPU time) / (wall x CPUs), >= 0 */
    double wall_s;       /* the loop's wall time */
    int threads, cpus;   /* compute threads, CPUs of the mapping */
} InterferenceShares;

/* Takes a snapshot; cpus is the mapping measured. Never fails (unreadable sources give NaN). */
void interference_snap(const cpu_set_t *cpus, InterferenceSnap *out);
/* The shares between two snapshots of a loop run with `threads` threads on `cpus`. */
void interference_shares(const InterferenceSnap *a, const InterferenceSnap *b, int threads, const cpu_set_t *cpus,
                         InterferenceShares *out);
/* The interference of a loop (see the top of this file): NaN when it cannot be judged. */
double interference_level(const InterferenceShares *s);
/* 1 when the interference is above max. */
int interference_flagged(const InterferenceShares *s, double max);

/* The OpenMP wait policy of this process as the `omp_wait` condition: OMP_WAIT_POLICY's value
 * lower-cased ("active", "passive") or "default" when unset, then ",spincount=N" when GOMP_SPINCOUNT
 * is set. Written into out (size >= 64). */
void interference_omp_wait(char *out, size_t size);

/* Makes OMP_WAIT_POLICY `policy` ("active", "passive"; "inherit" or NULL: leave the environment as
 * it is) the runtime's: OpenMP reads it once, when the process starts, so when the environment
 * differs this sets it and execs this executable again with `dynn` + argv (argc words: the command's
 * name, then its arguments); the new process finds it set and goes on. Returns 0 when nothing had to
 * change or the exec failed (an emulator that cannot exec a foreign binary: a note on stderr, the
 * environment put back, the runtime's policy measured and recorded), -1 with err when out of memory. */
int interference_apply_wait_policy(const char *policy, int argc, char **argv, Err *err);

#endif
