/* stages/train_job.h — one training job, described by named options, shared by `dynn train` (flags
 * `--epochs 15`) and the pipeline's `train` stage (params `epochs: 15`).
 *
 * Options are set one at a time by name (train_job_set), checked as a whole (train_job_check), then
 * the job runs: load the data, build and prepare the model for the method, train, evaluate every
 * subnet on the test split, save the checkpoint atomically. The option table is the single list of
 * what a training job accepts; `dynn train --help` and the stage's validation both follow it. */
#ifndef DYNN_STAGES_TRAIN_JOB_H
#define DYNN_STAGES_TRAIN_JOB_H

#include <stddef.h>

#include "nn/methods.h"
#include "nn/model.h"
#include "nn/train.h"
#include "util/err.h"

typedef struct TrainJob {
    const char *model, *data, *method_name, *schedule, *widths, *flops, *phase_epochs; /* borrowed strings */
    float width;
    int threads; /* 0: all available CPUs */
    int train_limit, test_limit, crop_pad, json, quiet;
    unsigned long long seed;
    TrainConfig cfg;
    DynamicConfig dc;
} TrainJob;

typedef enum { TRAIN_OPT_STRING, TRAIN_OPT_INT, TRAIN_OPT_FLOAT, TRAIN_OPT_U64, TRAIN_OPT_FLAG } TrainOptKind;

typedef struct TrainOption {
    const char *name;  /* "epochs", "bg-epochs", "distill" (flag) */
    TrainOptKind kind;
    size_t offset;     /* of the field in TrainJob */
    double min, max;   /* range of a number; for a flag, min is the int it stores */
    const char *arg;   /* the value in --help: "N", "LIST"; NULL for a flag */
    const char *help;  /* --help text; lines after the first ('\n') are indented under it */
    const char *dflt;  /* the default as --help shows it, or NULL */
} TrainOption;

/* The options a job accepts, in --help order; *n gets their count. */
const TrainOption *train_job_options(size_t *n);
const TrainOption *train_job_option_find(const char *name); /* '_' and '-' are the same */

void train_job_defaults(TrainJob *job);
/* Sets one option. `value` is NULL for flags; for a flag, "false" leaves it unset. Messages name
 * the option as given in `shown` ("--epochs", "param 'epochs'"). */
int train_job_set(TrainJob *job, const char *name, const char *value, const char *shown, Err *err);
/* Cross-option checks and derived settings (method, schedule, widths/flops lists). Messages name
 * options with `prefix` ("--" for the command line, "" for stage params). */
int train_job_check(TrainJob *job, const char *prefix, Err *err);

typedef struct TrainJobResult {
    int n_subnets;
    EvalResult eval[MODEL_MAX_SUBNETS]; /* per subnet, on the test split */
    int largest;                        /* index of the largest subnet */
    MethodReport report;
    int train_images, test_images, threads;
    double images_trained;               /* images seen by training passes */
    ModelDesc *desc;                     /* the trained model's description (owned; train_job_result_free) */
} TrainJobResult;

typedef void (*TrainJobStart)(const TrainJob *job, const Model *m, int train_images, int test_images, void *ctx);

/* Runs the job and writes the checkpoint to out_path (temp file + rename). `start` (optional) is
 * called once the data is loaded and the model built, before training. */
int train_job_run(TrainJob *job, const char *out_path, TrainJobStart start, void *start_ctx, TrainJobResult *res,
                  Err *err);
void train_job_result_free(TrainJobResult *res);

#endif
