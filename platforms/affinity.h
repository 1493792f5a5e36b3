/* platforms/affinity.h — task mapping: CPU lists ("0,2-3"), pinning the whole process to a set of
 * CPUs, and observing which CPUs its threads actually ran on.
 *
 * Pinning covers every thread of the process (each task under /proc/self/task, OpenMP's pool
 * included), not only the caller: sched_setaffinity(0, ...) alone would leave existing OpenMP
 * workers where they were. Threads created afterwards inherit the mask of their creator. */
#ifndef DYNN_PLATFORMS_AFFINITY_H
#define DYNN_PLATFORMS_AFFINITY_H

#include <sched.h>
#include <stddef.h>

#include "util/err.h"

/* Parses a kernel-style CPU list ("0", "0-3", "0,2-3") into set (cleared first). `what` names the
 * option or file in errors. Refuses empty items, reversed ranges and CPUs >= CPU_SETSIZE. */
int cpulist_parse(const char *text, const char *what, cpu_set_t *set, Err *err);
/* Canonical kernel-style list of set ("0-1,4") into out[size] ("" for an empty set). */
void cpulist_format(const cpu_set_t *set, char *out, size_t size);

/* The CPUs this process may run on now (sched_getaffinity). */
int affinity_get(cpu_set_t *set, Err *err);
/* Pins every thread of the process to set. Every CPU of set must be in `allowed` (the mask the
 * process started with), else an error names the first missing CPU and what is allowed. */
int affinity_pin_process(const cpu_set_t *set, const cpu_set_t *allowed, const char *what, Err *err);

/* Adds to seen the CPU each thread of the process last ran on (field 39 of
 * /proc/self/task/TID/stat), skipping the calling thread when skip_self. Returns the number of
 * threads read, or -1. */
int affinity_tasks_last_cpu(cpu_set_t *seen, int skip_self);
/* Runs an OpenMP parallel region of the current thread count in which every thread adds
 * sched_getcpu() to seen. */
void affinity_omp_probe(cpu_set_t *seen);

#endif
