/* pipeline/executor_common.h — helpers shared by the executors (pipeline/executor_*.c) and the
 * stage-exec command: starting a child that dies with the runner, and the runner's supervision of
 * what a supervisor below it left. */
#ifndef DYNN_PIPELINE_EXECUTOR_COMMON_H
#define DYNN_PIPELINE_EXECUTOR_COMMON_H

#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"

/* Between SIGTERM and SIGKILL, whenever a stage's processes are ended (by the stage process, the
 * fork server, or the runner after Ctrl-C). */
#define EXECUTOR_KILL_GRACE_MS 5000

/* Starts `exe argv` (this process's environment) as a child: its own process group, default
 * handling of every signal the runner catches or ignores, nothing blocked, fds[0..2] as its stdin,
 * stdout and stderr (-1: inherited). On Linux it asks for SIGTERM when this process dies
 * (PR_SET_PDEATHSIG, set in the child after fork; if this process died before that took effect,
 * the child exits at once with status 143). The child's pid is owned by the executors (see
 * executor_kill_strays) until executor_disown. Returns the pid, or -1 with err (an exec failure
 * included). */
pid_t executor_start_child(const char *exe, char *const argv[], const int fds[3], Err *err);

/* A child started by executor_start_child was reaped: it no longer counts as the executors'. */
void executor_disown(pid_t pid);

/* The runner supervises: it becomes a child subreaper while at least one executor exists (on = 1
 * per executor created, on = 0 per executor destroyed), so that a process whose supervisor below
 * died uncleanly (a fork server or a spawned stage process killed with SIGKILL) comes back to it
 * instead of escaping to init. */
void executor_supervise(int on);

/* Ends, with SIGKILL, every child of this process that no executor owns, together with its
 * descendants, and reaps them: they are what a supervisor that died uncleanly left. Called by the
 * executors when one of theirs ended, so the runner's process must have no children of its own
 * besides the executors'. */
void executor_kill_strays(void);

#endif
