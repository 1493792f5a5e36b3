/* platforms/cpufreq.h — DVFS through Linux cpufreq sysfs, always put back as it was found.
 *
 * cpufreq_open() looks at ROOT/devices/system/cpu/cpuN/cpufreq for every CPU (CPUs sharing a
 * policy — the same directory after resolving links — are grouped), saves each policy's governor
 * and min/max limits, lists its frequencies (scaling_available_frequencies, else the
 * cpuinfo_min_freq/cpuinfo_max_freq pair) and picks a method:
 *   userspace  the policy offers the userspace governor: write scaling_governor=userspace, then
 *              scaling_setspeed=F;
 *   minmax     otherwise clamp scaling_min_freq = scaling_max_freq = F, writing them in the order
 *              that keeps min <= max at every step.
 * Where cpufreq is absent, unreadable or not writable (checked by writing a current value back),
 * DVFS is recorded as unavailable with the reason; nothing fails.
 *
 * The first change registers with the process's one SIGINT/SIGTERM handler (platforms/sysfs_restore.h,
 * shared with devfreq), which restores every changed policy (with async-signal-safe calls only) and
 * re-raises the signal; cpufreq_restore() restores on the normal and error paths and unregisters. ROOT is "/sys" on a real system; tests use a fake tree. */
#ifndef DYNN_PLATFORMS_CPUFREQ_H
#define DYNN_PLATFORMS_CPUFREQ_H

#include <sched.h>

#include "util/err.h"

#define CPUFREQ_MAX_POLICIES 64
#define CPUFREQ_MAX_FREQS 64
#define CPUFREQ_MAX_TRACE 256
#define CPUFREQ_PATH 512

typedef enum { CPUFREQ_NONE, CPUFREQ_USERSPACE, CPUFREQ_MINMAX } CpufreqMethod;

typedef struct CpufreqPolicy {
    int cpu;          /* lowest CPU using this policy */
    cpu_set_t cpus;   /* every CPU found using it */
    char dir[CPUFREQ_PATH];
    char governor_path[CPUFREQ_PATH], setspeed_path[CPUFREQ_PATH];
    char min_path[CPUFREQ_PATH], max_path[CPUFREQ_PATH];
    int n_freqs;
    long freqs_khz[CPUFREQ_MAX_FREQS]; /* ascending */
    int discrete;                      /* 1: scaling_available_frequencies; 0: a min..max range */
    char orig_governor[64];            /* as found */
    long orig_min_khz, orig_max_khz;
    int changed;                       /* written since open (restore needed) */
} CpufreqPolicy;

/* One sysfs write (kept for tests: the order matters). */
typedef struct CpufreqWrite {
    int cpu;         /* the policy's lowest CPU */
    char file[24];   /* "scaling_governor", "scaling_setspeed", "scaling_min_freq", "scaling_max_freq" */
    char value[64];
} CpufreqWrite;

typedef struct Cpufreq {
    char root[CPUFREQ_PATH - 64];
    int available;
    char reason[600];        /* why not available ("" when available) */
    CpufreqMethod method;
    int n_policies;
    CpufreqPolicy policies[CPUFREQ_MAX_POLICIES];
    int n_trace;             /* writes made by cpufreq_set/restore/the signal handler, in order */
    CpufreqWrite trace[CPUFREQ_MAX_TRACE];
} Cpufreq;

/* Fills cf (caller-allocated; large, allocate it on the heap) from ROOT. Fails only when ROOT is
 * too long; unavailability is recorded in cf->available / cf->reason. */
int cpufreq_open(Cpufreq *cf, const char *root, Err *err);

/* "userspace", "minmax", "none". */
const char *cpufreq_method_name(CpufreqMethod m);

/* The policy a CPU belongs to, or NULL. */
const CpufreqPolicy *cpufreq_policy_of(const Cpufreq *cf, int cpu);

/* Resolves a --freq list ("all", "min", "max", kHz numbers, comma-separated) for a CPU mapping
 * against the frequencies of the mapping's lowest CPU's policy. Writes at most `max` values to
 * khz[] (in the order given, duplicates removed) and their count to *n. Errors name the option,
 * the CPU and what is available. */
int cpufreq_resolve(const Cpufreq *cf, const cpu_set_t *cpus, const char *spec, long *khz, int max, int *n,
                    Err *err);

/* Sets every policy that has a CPU in cpus to khz (or, on a policy without that frequency, the
 * highest one below it, else its lowest). */
int cpufreq_set(Cpufreq *cf, const cpu_set_t *cpus, long khz, Err *err);

/* Puts every changed policy back (governor, or min/max limits) and removes the signal handler.
 * Tries every policy even after a failure; returns -1 with the first error. */
int cpufreq_restore(Cpufreq *cf, Err *err);

#endif
