/* stages/train_job.h — one training job, described by named options, shared by `dynn train` (flags
 * `--epochs 15`) and the pipeline's `train` stage (params `epochs: 15`).
 *
 * Options are set one at a time by name (train_job_set), checked as a whole (train_job_check), then
 * the job runs: load the data, build and prepare the model for the method, train, evaluate every
 * subnet on the test split, save the checkpoint atomically. The option table is the single list of
 * what a training job accepts; `dynn train --help` and the stage's validation both follow it.
 *
 * With `synthetic-weights` the job trains nothing: it makes a synthetic model (nn/synthetic.h) from
 * `model`, `input`, `classes`, `width` and the subnets of `widths` or `channels`, with random weights
 * from `seed`, and saves it; no data set is read and no accuracy exists. Options that only mean
 * something for training (data, method, epochs, ...) are refused with it, and `input`, `classes` and
 * `channels` without it. */
#ifndef DYNN_STAGES_TRAIN_JOB_H
#define DYNN_STAGES_TRAIN_JOB_H

#include <stddef.h>

#include <stdint.h>

#include "nn/methods.h"
#include "nn/model.h"
#include "nn/synthetic.h"
#include "nn/train.h"
#include "util/err.h"

/* The text of a list option: its values joined with '/' (one per occurrence). */
#define TRAIN_LIST_MAX SYNTHETIC_MAX_CHANNELS_TEXT

typedef struct TrainJob {
    const char *model, *data, *method_name, *schedule, *widths, *flops, *phase_epochs; /* borrowed strings */
    const char *teacher; /* incremental: a checkpoint path, or "train" (one trained first); NULL: none */
    /* Where the training snapshot lives (nn/snapshot.h): written after every epoch, read at the start
     * to go on where an interrupted run of the same job stopped, removed once the checkpoint is saved.
     * NULL: none. Not an option of the table (it does not change the result): `dynn train
     * --snapshot`, and the train stage's resume directory. */
    const char *snapshot;
    float width;
    int threads; /* 0: all available CPUs */
    int train_limit, test_limit, crop_pad, json, quiet;
    unsigned long long seed;
    TrainConfig cfg;
    DynamicConfig dc;
    /* synthetic-weights: a synthetic model instead of training (nn/synthetic.h) */
    int synthetic;
    const char *input;             /* "224", "HxW" or "CxHxW" (borrowed); parsed by train_job_check into in_* */
    int in_c, in_h, in_w, classes;
    char channels[TRAIN_LIST_MAX]; /* one subnet's counts per value, values joined with '/' */
    uint64_t given;                /* bit i: option i of the table was set (train_job_set) */
} TrainJob;

/* TRAIN_OPT_LIST: a repeatable value appended to a char[TRAIN_LIST_MAX] field, joined with '/'. */
typedef enum { TRAIN_OPT_STRING, TRAIN_OPT_INT, TRAIN_OPT_FLOAT, TRAIN_OPT_U64, TRAIN_OPT_FLAG, TRAIN_OPT_LIST } TrainOptKind;

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
/* Sets one option. `value` is NULL for flags; for a flag, "false" leaves it unset; a list option
 * appends (joined with '/'). Messages name the option as given in `shown` ("--epochs", "param
 * 'epochs'"). */
int train_job_set(TrainJob *job, const char *name, const char *value, const char *shown, Err *err);
/* Cross-option checks and derived settings (method, schedule, widths/flops lists; for
 * synthetic-weights the input shape, and the whole description built once to check the model, the
 * widths and every channel count). Messages name options with `prefix` ("--" for the command line,
 * "" for stage params). */
int train_job_check(TrainJob *job, const char *prefix, Err *err);

/* 64 hex digits naming what the job computes: the build and its kernels, the thread count (0: the
 * resolved one is given), every option of the table, and a teacher checkpoint's content. Two jobs with
 * the same fingerprint train bit-identical models; a snapshot is only taken up by its own job. */
int train_job_fingerprint(const TrainJob *job, int threads, char out[65], Err *err);

typedef struct TrainJobResult {
    int synthetic;                      /* 1: a synthetic model (no training; eval[] are NaN) */
    int n_subnets;
    EvalResult eval[MODEL_MAX_SUBNETS]; /* per subnet, on the test split */
    int largest;                        /* index of the largest subnet */
    MethodReport report;
    int train_images, test_images, threads;
    double images_trained;               /* images seen by training passes */
    double teacher_acc;                  /* distillation from a teacher: its test accuracy (NaN: none) */
    int resumed_epochs;                  /* epochs a snapshot of an earlier run covered (0: none) */
    ModelDesc *desc;                     /* the trained model's description (owned; train_job_result_free) */
} TrainJobResult;

typedef void (*TrainJobStart)(const TrainJob *job, const Model *m, int train_images, int test_images, void *ctx);

/* Runs the job and writes the checkpoint to out_path (temp file + rename). `start` (optional) is
 * called once the data is loaded and the model built, before training (not for a synthetic model,
 * which is only built and saved; its report.wall_s is the time that took). */
int train_job_run(TrainJob *job, const char *out_path, TrainJobStart start, void *start_ctx, TrainJobResult *res,
                  Err *err);
void train_job_result_free(TrainJobResult *res);

#endif
