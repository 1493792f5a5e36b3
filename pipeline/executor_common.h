/* pipeline/executor_common.h — helpers shared by the executors (pipeline/executor_*.c) and the
 * stage-exec command. */
#ifndef DYNN_PIPELINE_EXECUTOR_COMMON_H
#define DYNN_PIPELINE_EXECUTOR_COMMON_H

#include <signal.h>
#include <spawn.h>
#include <sys/types.h>

/* The runner's pid, passed to stage processes so that they can die with it. */
#define EXECUTOR_PARENT_ENV "DYNN_PARENT_PID"

/* environ plus DYNN_PARENT_PID=<this pid> (the array is malloc'd, its strings are not copied). */
char **executor_environment(void);
pid_t executor_parent_from_env(void);

/* Spawn attributes for a child that leads its own process group with default signal handling. */
int executor_spawn_attrs(posix_spawnattr_t *attr);

#endif
