/* pipeline/runner.h — runs a DAG: cache lookups, scheduling within a job and thread budget,
 * stage processes through an executor, records into the database, Ctrl-C.
 *
 * Order of work: an instance becomes ready when everything it needs is FINISHED or CACHED; its
 * cache key is computed then (it depends on upstream artifact hashes); a FINISHED record with that
 * key in the database (and its artifacts in the store, each hashing to its name: a corrupt one is
 * quarantined, the entry voided and the miss warned about) makes it CACHED, otherwise it queues
 * to run. Queued instances start in topological order while the executor of each (its stage's
 * `executor:`, else RunOptions.executor) admits it, given the run's load (pipeline/executor.h): the
 * local executors while fewer than `jobs` run and the instance's thread demand (`resources.cpus`,
 * else `threads`) fits in the thread budget (an instance wider than the budget runs alone). Never
 * more than `jobs` run at once.
 *
 * Every state change goes to the database and to the observer. Database writes of one scheduling
 * round share one transaction; a stage's records are committed with its FINISHED state, so a
 * stage is in the database completely or not at all. SIGINT/SIGTERM/SIGHUP: running stages get
 * SIGTERM (SIGKILL after a grace period or a second signal), end up KILLED; the run is KILLED. */
#ifndef DYNN_PIPELINE_RUNNER_H
#define DYNN_PIPELINE_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline/dag.h"
#include "util/err.h"
#include "util/sha256.h"

typedef enum {
    NODE_QUEUED,
    NODE_RUNNING,
    NODE_FINISHED,
    NODE_CACHED,
    NODE_FAILED,
    NODE_KILLED,
    NODE_SKIPPED,
    NODE_STATES
} NodeState;

const char *node_state_name(NodeState s);
/* <state dir>/resume/<cache key>: what a stage interrupted in an earlier run left to go on from
 * (StageRun.resume_dir); the runner removes it when the stage finishes. */
void runner_resume_dir(const char *state_dir, const char *key, char *out, size_t size);

typedef struct RunArtifact {
    char *name, *kind, *hash, *path; /* path relative to the state directory */
    uint64_t size;
} RunArtifact;

typedef struct RunNode {
    NodeState state;
    int selected;
    size_t waiting;        /* deps not yet FINISHED/CACHED */
    int64_t stage_id, cached_from;
    char key[SHA256_HEX_LEN + 1];
    RunArtifact *arts;
    size_t n_arts;
    double started, ended;
    int exit_code;         /* DB_NO_EXIT_CODE when unknown */
    char *error;
    char *log;
    struct Records *records; /* finished, not yet committed */
    int dirty;             /* state change not yet written */
    size_t slot;           /* job slot while RUNNING (its work files) */
} RunNode;

/* What observers see. */
typedef struct RunState {
    const Dag *dag;
    const RunNode *nodes;
    size_t n_selected;
    size_t count[NODE_STATES];
    double started;
    const char *uuid;
    const char *state_dir;
} RunState;

typedef struct RunObserver {
    void *ctx;
    void (*started)(void *ctx, const RunState *rs);
    void (*changed)(void *ctx, const RunState *rs, size_t inst);
    void (*tick)(void *ctx, const RunState *rs); /* every tick_ms while waiting, if set */
    void (*finished)(void *ctx, const RunState *rs, const char *status);
} RunObserver;

/* The most stages at once (`-j`; more is refused by `dynn run`, clamped here): as many as a stage's
 * `threads` may be (spec.h). */
#define RUNNER_MAX_JOBS SPEC_MAX_THREADS

typedef struct RunOptions {
    const char *db_path;    /* the state directory is its directory: store/, logs/, work/ */
    const char *dynn_exe;   /* binary re-invoked for stage processes */
    const char *executor;   /* executor of stages without `executor:`: a name of the table, NULL = "local" */
    int jobs;               /* most stages at once (1..RUNNER_MAX_JOBS) */
    int threads;            /* thread budget */
    int keep_going;
    int force_all;
    const char *force_re;   /* PCRE2 on instance names, or NULL */
    const char *only_re;    /* PCRE2 on instance names, or NULL */
    const char *argv_text;  /* the command line, for provenance */
    int tick_ms;
    double kill_grace_s;    /* SIGTERM → SIGKILL */
    RunObserver observer;
} RunOptions;

typedef struct RunResult {
    char uuid[40];
    char status[16];        /* FINISHED, FAILED, KILLED */
    size_t count[NODE_STATES];
    double seconds;
} RunResult;

int runner_run(const Spec *spec, const Dag *dag, const RunOptions *opt, RunResult *result, Err *err);

#endif
