/* pipeline/executor.h — how stage processes are started and watched, behind one small interface.
 *
 * The runner hands an executor jobs (a stage description file and a log path) and waits for
 * them to end; it never forks itself. Two executors exist:
 *   local  (default) one fork server per job slot: `dynn stage-exec --serve`, started once, forks a
 *          fresh stage process per job. Each stage is still its own process in its own process
 *          group, but the cost of exec-ing dynn (dynamic linking) is paid once per slot, not per stage.
 *   spawn  posix_spawn of `dynn stage-exec FILE` per job: the shape a batch-system executor
 *          (sbatch per stage, the runner keeping the DAG) would take.
 * Both deliver the stage process's wait status; the records file says the rest. */
#ifndef DYNN_PIPELINE_EXECUTOR_H
#define DYNN_PIPELINE_EXECUTOR_H

#include <stddef.h>

#include "util/err.h"

typedef struct ExecJob {
    size_t id;             /* the runner's instance index, echoed in events */
    const char *desc_path; /* serialized stage description */
    const char *log_path;  /* stdout and stderr of the stage process, appended */
} ExecJob;

typedef struct ExecEvent {
    size_t id;
    int status; /* wait status of the stage process */
} ExecEvent;

typedef struct Executor Executor;
struct Executor {
    const char *name;
    int (*submit)(Executor *ex, const ExecJob *job, Err *err);
    /* Waits up to timeout_ms (-1: no limit) for jobs to end, or until wake_fd (may be -1) is
     * readable. Fills up to max events; returns their number (0 on timeout/wake) or -1. */
    int (*wait)(Executor *ex, int timeout_ms, int wake_fd, ExecEvent *events, size_t max, Err *err);
    /* Sends sig to the process group of every running job. */
    void (*signal)(Executor *ex, int sig);
    size_t (*running)(const Executor *ex);
    void (*destroy)(Executor *ex);
};

/* dynn_exe: path of the dynn binary to re-invoke; slots: most jobs at once (local). */
Executor *executor_local_new(const char *dynn_exe, size_t slots, Err *err);
Executor *executor_spawn_new(const char *dynn_exe, size_t slots, Err *err);

/* By name ("local" or "spawn"); the error names the choices. */
Executor *executor_new(const char *name, const char *dynn_exe, size_t slots, Err *err);

#endif
