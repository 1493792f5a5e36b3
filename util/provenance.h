/* util/provenance.h — facts about this machine and process recorded with every run: host name,
 * CPU model, wall-clock time, and a process's start time (to tell a live runner from a dead one
 * whose pid was reused). */
#ifndef DYNN_UTIL_PROVENANCE_H
#define DYNN_UTIL_PROVENANCE_H

#include <stddef.h>
#include <sys/types.h>

void provenance_host(char *out, size_t size);
/* "model name" from /proc/cpuinfo, or "unknown". */
void provenance_cpu_model(char *out, size_t size);
/* Seconds since the Unix epoch, with sub-millisecond resolution. */
double provenance_now(void);
/* Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat); -1 if gone. */
long long provenance_pid_start(pid_t pid);
/* Whether a process with this pid exists here and is not a zombie (it can still write files). */
int provenance_pid_running(long long pid);
/* Whether a run recorded with (host, pid, pid_start) still has its runner alive. Runs of other
 * hosts are assumed alive (nothing can be known about them from here). */
int provenance_run_alive(const char *host, long long pid, long long pid_start, void *ctx);

#endif
