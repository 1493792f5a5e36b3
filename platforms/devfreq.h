/* platforms/devfreq.h — GPU DVFS through Linux devfreq sysfs, always put back as it was found.
 *
 * devfreq_open() looks at ROOT/class/devfreq/NODE (NODE as the board file's `gpu: {devfreq: ...}` or
 * --gpu-devfreq names it: "57000000.gpu"), saves the governor and the min_freq/max_freq limits,
 * lists the frequencies in Hz (available_frequencies, else the min..max range) and picks a method:
 *   userspace  available_governors offers the userspace governor: write governor=userspace, then
 *              set_freq=F (the governor's file: NODE/userspace/set_freq, where the kernel puts it once
 *              the governor is selected, else NODE/set_freq);
 *   minmax     otherwise clamp min_freq = max_freq = F, writing them in the order that keeps
 *              min <= max at every step.
 * Where the node is absent, unreadable or not writable (checked by writing a current value back: the
 * governor, or max_freq), GPU DVFS is recorded as unavailable with the reason; nothing fails.
 *
 * The first change registers with the process's one SIGINT/SIGTERM handler (platforms/sysfs_restore.h,
 * shared with cpufreq, so both are put back when both changed something), which restores the node
 * with async-signal-safe calls only and re-raises the signal; devfreq_restore() restores on the
 * normal and error paths and unregisters. ROOT is "/sys" on a real system; tests use a fake tree. */
#ifndef DYNN_PLATFORMS_DEVFREQ_H
#define DYNN_PLATFORMS_DEVFREQ_H

#include "util/err.h"

#define DEVFREQ_MAX_FREQS 64
#define DEVFREQ_MAX_TRACE 256
#define DEVFREQ_PATH 512
#define DEVFREQ_MAX_NODE 127 /* characters of a node name */

typedef enum { DEVFREQ_NONE, DEVFREQ_USERSPACE, DEVFREQ_MINMAX } DevfreqMethod;

/* One sysfs write (kept for tests: the order matters). */
typedef struct DevfreqWrite {
    char file[24]; /* "governor", "set_freq", "min_freq", "max_freq" */
    char value[64];
} DevfreqWrite;

typedef struct Devfreq {
    char root[DEVFREQ_PATH - 200];
    char node[DEVFREQ_MAX_NODE + 1];
    char dir[DEVFREQ_PATH];  /* ROOT/class/devfreq/NODE */
    int available;
    char reason[700];        /* why not available ("" when available) */
    DevfreqMethod method;
    int n_freqs;
    long long freqs_hz[DEVFREQ_MAX_FREQS]; /* ascending */
    int discrete;            /* 1: available_frequencies; 0: a min..max range */
    char orig_governor[64];  /* as found */
    long long orig_min_hz, orig_max_hz, cur_hz; /* cur_hz: cur_freq at open, -1 when unreadable */
    int changed;             /* written since open (restore needed) */
    int n_trace;             /* writes made by devfreq_set/restore/the signal handler, in order */
    DevfreqWrite trace[DEVFREQ_MAX_TRACE];
} Devfreq;

/* Fills df (caller-allocated) from ROOT/class/devfreq/NODE. Fails only when ROOT or NODE is too long
 * or NODE is not a plain name (empty, '/', "." or ".."); unavailability is recorded in df->available
 * and df->reason. */
int devfreq_open(Devfreq *df, const char *root, const char *node, Err *err);

/* "userspace", "minmax", "none". */
const char *devfreq_method_name(DevfreqMethod m);

/* Resolves a --gpu-freq list ("all", "min", "max", Hz numbers, comma-separated) against the node's
 * frequencies. Writes at most `max` values to hz[] (in the order given, duplicates removed) and their
 * count to *n. Errors name the option, the node and what is available. */
int devfreq_resolve(const Devfreq *df, const char *spec, long long *hz, int max, int *n, Err *err);

/* Sets the node to hz (or, without that frequency, the highest one below it, else its lowest). */
int devfreq_set(Devfreq *df, long long hz, Err *err);

/* Puts the node back (governor, or min/max limits) when it was changed and unregisters from the signal
 * handler. Returns -1 with the file that could not be written. */
int devfreq_restore(Devfreq *df, Err *err);

#endif
