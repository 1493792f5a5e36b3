/* pipeline/executor_slurm.h — the `slurm` executor: each stage instance is one `sbatch` job running
 * `dynn stage-exec` on a copy of its stage description (see executor_slurm.c for the whole shape),
 * and the settings `dynn run` gives it (--slurm-opt, --slurm-workdir, --slurm-retries).
 *
 * What must be shared between the runner's machine and the compute nodes: the state directory
 * (`.dynn`: logs/, store/) and the executor's work directory (`<state dir>/slurm` or
 * --slurm-workdir), plus the experiment's working directory. The results database stays with the
 * runner (stage processes never write it). */
#ifndef DYNN_PIPELINE_EXECUTOR_SLURM_H
#define DYNN_PIPELINE_EXECUTOR_SLURM_H

#include <stddef.h>

#include "pipeline/executor.h"
#include "pipeline/resources.h"
#include "util/strbuf.h"

#define SLURM_POLL_MS 1000      /* squeue/sacct/scontrol at most this often (one call for all jobs) */
#define SLURM_MAX_RETRIES 10    /* --slurm-retries */
#define SLURM_MAX_OPTS 64       /* --slurm-opt */

typedef struct SlurmSettings {
    const char *const *opts; /* extra sbatch options, each one word ("--exclusive", "--nice=10") */
    size_t n_opts;
    const char *workdir;     /* the executor's files (job scripts, copies of descriptions, job ids);
                              * NULL: <state dir>/slurm */
    int retries;             /* resubmissions of a job that ended NODE_FAIL or PREEMPTED */
    int poll_ms;             /* 0: SLURM_POLL_MS */
} SlurmSettings;

/* Settings for the slurm executors created afterwards (strings are not copied: they must live as
 * long as the run). */
void executor_slurm_configure(const SlurmSettings *s);

Executor *executor_slurm_new(const char *dynn_exe, size_t slots, Err *err);

/* The sbatch options for a job's resources, one word each, appended to out (strings owned by the
 * caller's array, see slurm_free_words): --cpus-per-task (resources.cpus, else threads), --mem
 * (MiB, rounded up), --time (minutes, rounded up: Slurm's unit), --gpus, --partition, --account,
 * --qos, --constraint, then resources.sbatch words. */
int slurm_resource_options(const Resources *r, int threads, char ***words, size_t *n, Err *err);
void slurm_free_words(char **words, size_t n);

/* A Slurm job state that will not change any more (COMPLETED, FAILED, TIMEOUT, CANCELLED,
 * OUT_OF_MEMORY, NODE_FAIL, PREEMPTED, BOOT_FAIL, DEADLINE, REVOKED); "CANCELLED by 0" counts. */
int slurm_state_final(const char *state);

#endif
