/* pipeline/executor_common.h — helpers shared by the executors (pipeline/executor_*.c) and the
 * stage-exec command. */
#ifndef DYNN_PIPELINE_EXECUTOR_COMMON_H
#define DYNN_PIPELINE_EXECUTOR_COMMON_H

#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <sys/types.h>

/* The runner's pid, passed to stage processes so that they can die with it. */
#define EXECUTOR_PARENT_ENV "DYNN_PARENT_PID"

/* Between SIGTERM and SIGKILL, whenever a stage's processes are ended (by the stage process, the
 * fork server, or the runner after Ctrl-C). */
#define EXECUTOR_KILL_GRACE_MS 5000

/* environ plus DYNN_PARENT_PID=<this pid> (the array is malloc'd, its strings are not copied). */
char **executor_environment(void);
pid_t executor_parent_from_env(void);

/* Spawn attributes for a child that leads its own process group with default signal handling. */
int executor_spawn_attrs(posix_spawnattr_t *attr);

/* The runner supervises: it becomes a child subreaper (on = 1) while an executor exists, so that a
 * process whose supervisor below died uncleanly (a fork server or a spawned stage process killed
 * with SIGKILL) comes back to it instead of escaping to init. */
void executor_supervise(int on);

/* Ends, with SIGKILL, every child of this process that is not in known[] (the executor's own fork
 * servers or stage processes) together with its descendants, and reaps them: they are what a
 * supervisor that died uncleanly left. Called by the executors when one of theirs ended, so the
 * runner's process must have no children of its own besides the executor's. */
void executor_kill_strays(const pid_t *known, size_t n_known);

#endif
