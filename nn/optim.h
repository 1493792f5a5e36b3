/* nn/optim.h — SGD with momentum (optionally Nesterov) and weight decay, PyTorch semantics:
 *   g' = g + wd * w;  v = mu * v + g';  w -= lr * (nesterov ? g' + mu * v : v)
 * and the learning-rate schedules: linear warm-up, then cosine, step or constant. */
#ifndef DYNN_NN_OPTIM_H
#define DYNN_NN_OPTIM_H

#include "nn/model.h"

typedef struct SgdConfig {
    float momentum;     /* 0.9 */
    float weight_decay; /* 5e-4 */
    int nesterov;
    int decay_bn;       /* 1: weight decay also on BN gamma/beta and biases */
} SgdConfig;

typedef struct Sgd {
    SgdConfig cfg;
    Arena velocity_arena; /* same layout as the parameters */
    float *velocity[MODEL_MAX_PARAMS];
} Sgd;

int sgd_create(Sgd *opt, const Model *m, const SgdConfig *cfg, Err *err);
/* One update of every trainable parameter from m->grad (for parameters with one copy per subnet,
 * only the current subnet's copy). When grad_mask[p] is non-NULL, element j of parameter p is
 * updated only where grad_mask[p][j] != 0 (frozen weights stay bit-identical). */
void sgd_step(Sgd *opt, Model *m, float lr, float *const *grad_mask);
void sgd_free(Sgd *opt);

typedef enum LrScheduleKind { LR_COSINE, LR_STEP, LR_CONSTANT } LrScheduleKind;

typedef struct LrSchedule {
    LrScheduleKind kind;
    float base_lr;
    float min_lr;          /* cosine floor (default 0) */
    int warmup_iters;      /* linear warm-up from base_lr/warmup_iters to base_lr */
    int total_iters;
    float step_gamma;      /* LR_STEP: multiply by this at each milestone (0.1) */
    float milestones[4];   /* LR_STEP: fractions of total_iters (0.5, 0.75) */
    int n_milestones;
} LrSchedule;

float lr_at(const LrSchedule *s, int iter);
/* Parses "cosine", "step", "constant"; returns -1 on anything else. */
int lr_schedule_parse(const char *name, LrScheduleKind *kind);

#endif
