/* util/proctree.h — a process's descendants: found through /proc/PID/task/TID/children (Linux,
 * CONFIG_PROC_CHILDREN), signalled, and ended with escalation (SIGTERM, a grace period, SIGKILL).
 *
 * The supervisors of stage processes (pipeline/stage_exec.c, pipeline/executor_*.c) make
 * themselves child subreapers (PR_SET_CHILD_SUBREAPER): a process whose parent dies is then
 * re-parented to its nearest subreaper ancestor instead of init, so every process a stage started
 * stays a descendant of its supervisor, also after `setsid` or a double fork, and this module can
 * find it. Limits: a process that leaves the tree by other means (started through a daemon such
 * as systemd-run, at, ssh to localhost) is out of reach; a tree larger than PROCTREE_MAX is
 * handled in several passes.
 *
 * Every function is async-signal-safe (raw system calls, no allocation, no stdio), so signal
 * handlers use them. */
#ifndef DYNN_UTIL_PROCTREE_H
#define DYNN_UTIL_PROCTREE_H

#include <sys/types.h>

#define PROCTREE_MAX 1024 /* processes handled per pass */

/* Makes the calling process a child subreaper (on = 1) or not (on = 0). 0, or -1 with errno. */
int proctree_set_subreaper(int on);

/* Children of pid (of every thread of it, zombies included), at most max written to out. Returns
 * how many were written; 0 when pid is gone or has none. */
int proctree_children(pid_t pid, pid_t *out, int max);

/* Every descendant of pid (not pid itself), parents before their children, at most max. */
int proctree_descendants(pid_t pid, pid_t *out, int max);

/* Sends sig to pid and to every descendant of it (parents first). Returns how many were signalled. */
int proctree_signal_tree(pid_t pid, int sig);

/* For a subreaper whose every descendant is a leftover: SIGTERM (then SIGCONT, so that a stopped
 * process gets it) to each, up to grace_ms for them to exit, then SIGKILL to whatever is left,
 * until the caller has no child at all; every child is reaped. grace_ms <= 0: SIGKILL at once.
 * Returns how many processes were found (0: nothing was left). */
int proctree_end_all(int grace_ms);

#endif
