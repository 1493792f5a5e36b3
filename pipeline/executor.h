/* pipeline/executor.h — how stage processes are started and watched, behind one small interface,
 * and the table of executors a stage's `executor:` key names.
 *
 * The runner hands an executor jobs (a stage description file, a log path, and what the instance
 * asks for) and waits for them to end; it never forks itself. Before starting a queued instance it
 * asks the instance's executor whether to start it now (`admit`, given the run's load). The
 * built-in executors:
 *   local  (default) one fork server per job slot: `dynn stage-exec --serve`, started once, forks a
 *          fresh stage process per job. Each stage is still its own process in its own process
 *          group, but the cost of exec-ing dynn (dynamic linking) is paid once per slot, not per stage.
 *   spawn  `dynn stage-exec FILE` started per job: the shape a batch-system executor (sbatch per
 *          stage, the runner keeping the DAG) takes.
 *   slurm  one sbatch job per stage instance (pipeline/executor_slurm.h); remote.
 * Both admit by `-j` and the thread budget (executor_admit_budget) and use only `resources.cpus`.
 * Both deliver the stage process's wait status; the records file says the rest.
 *
 * A new executor is one file, pipeline/executor_NAME.c: an ExecutorType whose create() returns an
 * Executor filling every callback below, listed in builtin_executors (pipeline/executor.c) or
 * registered with executor_type_register. Its stage processes run `dynn stage-exec FILE` wherever
 * they like: they need the description, the paths in it, and nothing of the runner's process. */
#ifndef DYNN_PIPELINE_EXECUTOR_H
#define DYNN_PIPELINE_EXECUTOR_H

#include <stddef.h>
#include <sys/types.h>

#include "pipeline/resources.h"
#include "util/err.h"

typedef struct ExecJob {
    size_t id;                  /* the runner's instance index, echoed in events */
    const char *name;           /* the instance name ("train@seed=1") */
    int threads;                /* the instance's `threads` (what its stage may use) */
    const Resources *resources; /* its `resources:` (never NULL; unset fields are 0, -1 or "") */
    const char *desc_path;      /* serialized stage description (NULL when asked to admit) */
    const char *log_path;       /* stdout and stderr of the stage process, appended (NULL when asked to admit) */
    /* The board it measures on (pipeline/board_claims.h: "local", "ssh:HOST:PORT"), NULL: none. The
     * runner starts one job per board at a time; a remote board's stage only drives it from here
     * (platform_remote: its thread demand is 1, the ssh client) and stays on the runner's machine. */
    const char *platform;
    int platform_remote;
} ExecJob;

typedef struct ExecEvent {
    size_t id;
    int status; /* wait status of the stage process */
} ExecEvent;

/* The run's load when an executor is asked to admit a job. */
typedef struct ExecLoad {
    size_t running;     /* jobs running now, over every executor of the run */
    size_t jobs;        /* the most at once (`-j`) */
    int threads_in_use; /* thread demand of the running jobs (executor_thread_demand each) */
    int budget;         /* the thread budget (`--threads`) */
} ExecLoad;

typedef struct Executor Executor;
struct Executor {
    const char *name;
    /* 1: start the job now; 0: not yet (asked again after a job ended). The runner starts queued
     * jobs in topological order and stops at the first one not admitted. An executor that admits
     * nothing while nothing runs stops the run with an error. */
    int (*admit)(Executor *ex, const ExecJob *job, const ExecLoad *load);
    int (*submit)(Executor *ex, const ExecJob *job, Err *err);
    /* Waits up to timeout_ms (-1: no limit) for jobs to end, or until wake_fd (may be -1) is
     * readable. Fills up to max events; returns their number (0 on timeout/wake) or -1. */
    int (*wait)(Executor *ex, int timeout_ms, int wake_fd, ExecEvent *events, size_t max, Err *err);
    /* Sends sig to the process group of every running job. */
    void (*signal)(Executor *ex, int sig);
    size_t (*running)(const Executor *ex);
    void (*destroy)(Executor *ex);
};

/* A row of the table: create() makes one executor for a run. dynn_exe: the dynn binary to
 * re-invoke (`dynn stage-exec`); slots: the most jobs it will be given at once (`-j`). */
typedef struct ExecutorType {
    const char *name;
    const char *summary;
    Executor *(*create)(const char *dynn_exe, size_t slots, Err *err);
    /* 1: its stage processes run on other machines (a batch system). As the run's default
     * (`dynn run --executor`), the stages that belong on the runner's machine stay on `local`
     * unless they name an executor themselves (executor_for_stage). */
    int remote;
} ExecutorType;

/* The table of executors (pipeline/executor.c): the built-in ones (local, spawn), then registered
 * ones. */
int executor_type_register(const ExecutorType *type, Err *err);
const ExecutorType *executor_type_find(const char *name);
/* Names of every executor into out[max]; returns the count. */
size_t executor_type_names(const char **out, size_t max);
/* "unknown executor 'x' (did you mean 'local'?); known executors: local, spawn" into buf. */
const char *executor_unknown_message(const char *name, char *buf, size_t size);

/* The executor a stage of type `type` uses: `named` (its `executor:` key) when set; else the run's
 * default, except that aggregate, report and profile stages (they read the results database, or
 * drive a board) stay on `local` when the default is a remote executor. */
const char *executor_for_stage(const char *type, const char *named, const char *run_default);

/* By name through the table; the error names the choices. */
Executor *executor_new(const char *name, const char *dynn_exe, size_t slots, Err *err);

Executor *executor_local_new(const char *dynn_exe, size_t slots, Err *err);
Executor *executor_spawn_new(const char *dynn_exe, size_t slots, Err *err);
Executor *executor_slurm_new(const char *dynn_exe, size_t slots, Err *err); /* pipeline/executor_slurm.h */

/* Threads a job takes from the budget: `resources.cpus` when given, else its `threads` (1 for a
 * stage that drives a remote board: its threads are the board's); at most the whole budget (an
 * instance wider than the budget runs alone). */
int executor_thread_demand(const ExecJob *job, int budget);
/* The local executors' admission: fewer than `-j` jobs run and the job's demand fits in the thread
 * budget, or nothing runs at all. */
int executor_admit_budget(Executor *ex, const ExecJob *job, const ExecLoad *load);

#endif
