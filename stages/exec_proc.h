/* stages/exec_proc.h — the exec stage's command as a process: start it, wait for it with an
 * optional time limit, and on expiry end every process it started.
 *
 * Which processes are the command's: its process group. A stage process leads its own process
 * group (both executors make it so), and the command stays in that group, so a stop signal sent to
 * the stage's group reaches the command as it reaches the stage. A
 * time limit therefore signals every process of the group except the stage process itself, found
 * in /proc (field pgrp of /proc/PID/stat). Outside a stage process (a unit test, a caller that
 * does not lead its group) the command gets a process group of its own and the same applies to it.
 *
 * On expiry: SIGTERM to each of those processes, then, after EXEC_KILL_GRACE_S seconds while any
 * is still alive (zombies do not count), SIGKILL until none is left. A process the command moved
 * to another group or session (setsid) is not the command's here: the stage process ends it with
 * everything else the stage left when the stage ends (pipeline/stage_exec.h). */
#ifndef DYNN_STAGES_EXEC_PROC_H
#define DYNN_STAGES_EXEC_PROC_H

#include <sys/types.h>

#include "pipeline/executor_common.h"
#include "util/err.h"

#define EXEC_KILL_GRACE_S (EXECUTOR_KILL_GRACE_MS / 1000.0) /* the grace period of every stop */

typedef struct ExecProc {
    pid_t pid;  /* the command */
    pid_t pgid; /* its process group */
} ExecProc;

/* Starts argv[0] (looked up in PATH) with envp in directory cwd, stdin from /dev/null, stdout and
 * stderr inherited. */
int exec_proc_start(char *const *argv, char *const *envp, const char *cwd, ExecProc *p, Err *err);

/* Waits for the command. timeout_s <= 0: no limit. Returns 0 with its wait status in *status, or 1
 * when the limit passed: its processes were ended (SIGTERM, then SIGKILL when *killed is set) and
 * *status is the command's wait status. -1 on a waiting error (err set). */
int exec_proc_wait(ExecProc *p, double timeout_s, int *status, int *killed, Err *err);

#endif
