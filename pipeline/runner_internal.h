/* pipeline/runner_internal.h — the runner's state, shared by runner.c (the loop), runner_db.c
 * (database writes) and runner_jobs.c (cache lookups, starting and finishing stage processes).
 * Not for use outside the runner. */
#ifndef DYNN_PIPELINE_RUNNER_INTERNAL_H
#define DYNN_PIPELINE_RUNNER_INTERNAL_H

#include <limits.h>

#include "db/db.h"
#include "pipeline/board_claims.h"
#include "pipeline/executor.h"
#include "pipeline/run_note.h"
#include "pipeline/runner.h"
#include "util/regex.h"

typedef struct Runner {
    const Spec *spec;
    const Dag *dag;
    const RunOptions *opt;
    Db *db;
    /* The executors of the run, one per name its stages use (`executor:`, else the run's default),
     * each created when asked to admit its first job; stage_ex[s] is stage s's index here. */
    Executor **exs;
    const char **ex_names;
    size_t n_exs, *stage_ex;
    RunNode *nodes;
    RunState rs;
    size_t *ready, ready_head, ready_tail; /* each instance enters at most once */
    size_t *runq, runq_head, runq_tail;
    BoardClaims boards;                    /* the board each instance measures on; who holds, who waits */
    size_t *dirty, n_dirty;
    size_t *free_slots, n_free_slots; /* job slots: indices of reusable work files */
    int jobs, budget, threads_in_use;
    int failed, stopping, hard_killed, log_dir_made;
    RunNote note;                          /* heartbeat; the run's end if the database will not take it */
    int note_kept;                         /* the note holds the run's end: keep the work directory */
    double stop_time;
    Regex *force;
    int64_t run_id;
    char uuid[40];
    char workdir[PATH_MAX];
    char db_path[PATH_MAX];                /* absolute, handed to stages that read results */
    char state_dir[PATH_MAX - 512], work_dir[PATH_MAX - 256], log_dir[PATH_MAX - 256]; /* room for what is appended */
} Runner;

/* State changes (runner.c): every change is queued for the next flush and told to the observer. */
void runner_set_state(Runner *r, size_t i, NodeState state);
/* Users of a FINISHED/CACHED instance whose needs are now all met become ready. */
void runner_release_users(Runner *r, size_t i);
/* Everything downstream of a failed or killed instance is SKIPPED. */
void runner_skip_users(Runner *r, size_t i);

/* Database (runner_db.c): pending state changes and records in one transaction (the run and its
 * stage rows on the first call). */
int runner_flush(Runner *r, Err *err);

/* Cache and stage processes (runner_jobs.c). */
int runner_compute_key(Runner *r, size_t i, Err *err);
/* The instance's log: logs/<run>/<instance>.log (very long names shortened with a hash). */
void runner_log_path(const Runner *r, size_t i, char *out, size_t size);
/* 1 on a usable cache hit (the instance's artifacts and cached_from are set), 0 on a miss. Every
 * artifact's object is verified against its hash (pipeline/store.h); a bad one is quarantined and
 * the miss is warned about on stderr and in the instance's log. */
int runner_try_cache(Runner *r, size_t i, Err *err);
/* What the executor is handed for an instance (desc_path and log_path NULL). */
ExecJob runner_job(const Runner *r, size_t i);
/* The executor of an instance, created on first use; NULL with err when it cannot be. */
Executor *runner_executor(Runner *r, size_t i, Err *err);
/* Threads an instance takes from the budget (executor_thread_demand: resources.cpus or threads, at
 * most the whole budget). */
int runner_thread_share(const Runner *r, size_t i);
int runner_start_job(Runner *r, size_t i, Err *err);
/* A stage process ended with wait status `status`: read its records, set its state. */
void runner_finish_job(Runner *r, size_t i, int status);

#endif
