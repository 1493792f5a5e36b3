/* nn/train.h — the training loop and evaluation of a Model on a Dataset.
 *
 * One epoch: a permutation from rng_derive(seed, epoch, SHUFFLE), batches of `batch` images
 * (the last partial batch is dropped so every BN step sees the same batch size), each assembled
 * with augmentation, then `step` (forward + backward, by default plain cross-entropy on the
 * current subnet), one SGD update with the scheduled learning rate. Same seed + same thread count
 * gives bit-identical parameters. A training *method* (dynamic networks, nn/methods.h) plugs in its own
 * step function (e.g. several subnet widths per batch) and an optional gradient mask. */
#ifndef DYNN_NN_TRAIN_H
#define DYNN_NN_TRAIN_H

#include <stdint.h>

#include "nn/backend.h"
#include "nn/data.h"
#include "nn/model.h"
#include "nn/optim.h"

typedef struct TrainProgress {
    const char *phase;        /* TrainConfig.phase */
    int epoch, epochs;        /* 1-based epoch within this call */
    int batch, batches;       /* 1-based batch within the epoch */
    float loss;               /* running mean loss of this epoch */
    float train_acc;          /* running accuracy of this epoch (on augmented batches) */
    float lr;
    double img_per_s;         /* this epoch so far */
    double elapsed_s, eta_s;  /* whole run */
    int epoch_done;           /* 1 on the call that closes an epoch */
    float test_acc;           /* at epoch end when evaluated, else -1 */
} TrainProgress;

typedef void (*TrainProgressFn)(const TrainProgress *p, void *ctx);

/* Forward + backward on one batch; gradients accumulate into m->grad (already zeroed). Returns the
 * loss to report and fills *correct (argmax hits of the reported prediction). */
typedef float (*TrainStepFn)(Model *m, const float *x, const int *labels, int n, int *correct, void *ctx);

typedef struct TrainConfig {
    int epochs;
    int batch;
    LrSchedule sched;        /* base_lr, kind, ...; total/warm-up iterations filled by train_run */
    float warmup_epochs;
    SgdConfig sgd;
    Augment aug;
    int augment;             /* 0: no augmentation */
    uint64_t seed;
    int eval_each_epoch;     /* evaluate on the test set at the end of every epoch */
    int eval_batch;
    TrainStepFn step;        /* NULL: cross-entropy on the current subnet */
    void *step_ctx;
    float *const *grad_mask; /* optional, see sgd_step */
    TrainProgressFn progress;
    void *progress_ctx;
    /* Several calls forming one training round (phases of a method): */
    Sgd *opt;                /* optional: keep momentum across calls (else a fresh optimizer) */
    int epoch_offset;        /* first epoch's global index (shuffle/augmentation streams, schedule) */
    int schedule_epochs;     /* epochs the LR schedule spans (0: this call's epochs) */
    const char *phase;       /* shown in progress lines ("background", "g2", ...) or NULL */
    /* Snapshots (nn/snapshot.h): after every epoch the state is saved; epochs an earlier process
     * finished are skipped and the snapshot loaded at the last of them. NULL: none. */
    struct TrainResume *resume;
    void *step_state;        /* what the step function keeps across batches (saved with it), or NULL */
    size_t step_state_bytes;
} TrainConfig;

typedef struct TrainStats {
    double wall_s;
    double images;           /* training images processed (epochs x batches x batch) */
    double step_passes;      /* forward+backward passes summed over subnets (for cost) */
    float final_loss;
    float test_acc;          /* last evaluation, -1 if none */
} TrainStats;

void train_config_defaults(TrainConfig *cfg);

int train_run(Model *m, const Dataset *train, const Dataset *test, const TrainConfig *cfg, TrainStats *stats,
              Err *err);

typedef struct EvalResult {
    double accuracy;         /* fraction in [0,1] */
    double loss;
    int n;
} EvalResult;

/* Accuracy and mean loss of the current subnet over the whole dataset (eval-mode BN). */
int evaluate(Model *m, const Dataset *ds, EvalResult *res, Err *err);
/* The same through an inference backend (nn/backend.h) opened for d, on its current subnet, in
 * batches of its maximum batch: what `dynn eval --backend` reports. */
int evaluate_backend(Backend *b, const ModelDesc *d, const Dataset *ds, EvalResult *res, Err *err);

/* The default step: forward, softmax cross-entropy, backward. */
float train_step_xent(Model *m, const float *x, const int *labels, int n, int *correct, void *ctx);

#endif
