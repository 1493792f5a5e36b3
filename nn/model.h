/* nn/model.h — the CPU buffers that run a description (nn/model_desc.h): Model, the CPU executor.
 *
 * A training Model owns three arenas: parameters, gradients (same layout) and activations (forward
 * values, their gradients, BN saved statistics, max-pool argmax, conv scratch), sized for
 * `max_batch` images at full width. An inference Model (MODEL_INFERENCE: what the CPU backend of
 * nn/backend.h runs) has no gradients and no training state, and tensors whose lifetimes do not
 * overlap share one buffer; its forward is the same code, so its outputs are the training Model's
 * bit for bit. Nothing is allocated after model_create(). */
#ifndef DYNN_NN_MODEL_H
#define DYNN_NN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "nn/arena.h"
#include "nn/model_desc.h"
#include "util/err.h"

/* What a Model is created for. */
typedef enum ModelUse {
    MODEL_TRAINING,  /* forward in both modes, backward, gradients */
    MODEL_INFERENCE, /* eval-mode forward only: no gradient arena, no gradient or training buffers,
                        activations reuse buffers once their readers have run */
} ModelUse;

typedef struct Model {
    ModelDesc *d;         /* owned */
    ModelUse use;
    int max_batch;
    int threads;          /* thread count the scratch space was sized for */
    Arena param_arena, grad_arena, act_arena;
    float *param[MODEL_MAX_PARAMS]; /* into param_arena */
    float *grad[MODEL_MAX_PARAMS];  /* into grad_arena, same layout (NULL for inference) */
    float *act[MODEL_MAX_TENSORS];  /* [max_batch][c] planes [h][w] each, compact or padded */
    float *dact[MODEL_MAX_TENSORS]; /* same; NULL where no gradient is needed */
    float *bn_save_mean[MODEL_MAX_OPS], *bn_save_invstd[MODEL_MAX_OPS];
    float *bn_sums[MODEL_MAX_OPS];  /* BN op: [max_batch][c][2] per-image sums of its input, written
                                       by the conv before it in training (conv3x3_forward_sums) */
    uint8_t bn_sums_fresh[MODEL_MAX_OPS]; /* bn_sums holds this forward's sums */
    int *pool_argmax[MODEL_MAX_OPS]; /* NULL for inference */
    float *scratch;       /* conv workspace */
    size_t scratch_floats;
    uint8_t accumulate[MODEL_MAX_OPS][2]; /* backward adds into dact[in] (tensor read twice) */
    uint8_t fuse_bn[MODEL_MAX_OPS]; /* conv op whose only reader is the next op, a BN: in inference
                                       the BN is applied as the conv writes its outputs */
    uint8_t padded[MODEL_MAX_TENSORS]; /* tensor (and its gradient) stored in padded planes
                                          (layers.h); buffers fit either layout, so a test may
                                          clear these to run everything compact */
    uint8_t fuse_add[MODEL_MAX_OPS]; /* BN op whose only reader is the residual add right after
                                        it: in training both run as one pass */
    int16_t bn_grad_of[MODEL_MAX_OPS]; /* conv op: the BN op whose output gradient (dy) its input
                                          gradient completes (its earliest reader), so in training
                                          its kernel also sums what that BN's backward needs; -1 */
    int no_fusion;        /* 1: run every op on its own (tests compare both) */
    int training;         /* 1: BN uses batch statistics and updates running ones */
    float bn_momentum;    /* running-statistics update weight (0.1) */
    int bn_stats_frozen;  /* 1: training-mode BN does not update running statistics */
    const int *bn_frozen; /* per slot: leading channels whose BN stays in eval mode while training and
                             passes no input gradient (incremental training of later groups); NULL
                             or all 0: none (the fused training passes run only then) */
    int subnet;           /* current subnet index */
    const int *active;    /* d->subnets[subnet].count */
    int last_batch;       /* n of the last forward */
    double train_flops;   /* FLOPs spent in training-mode passes so far (forward 2, backward 4 x MACs) */
    int profile;          /* 1: accumulate per-op wall time in op_fwd_s / op_bwd_s */
    double op_fwd_s[MODEL_MAX_OPS], op_bwd_s[MODEL_MAX_OPS];
} Model;

/* Takes ownership of d (freed on failure too). Allocates every buffer for max_batch images and
 * `threads` threads. The whole size is computed first (saturating, so nothing wraps around); a
 * request larger than this machine's memory and swap, or one that cannot be allocated, is refused
 * with a message saying how many bytes it needed. model_create is model_create_for(MODEL_TRAINING). */
int model_create(Model *m, ModelDesc *d, int max_batch, int threads, Err *err);
int model_create_for(Model *m, ModelDesc *d, ModelUse use, int max_batch, int threads, Err *err);
/* Bytes model_create_for(d, use, max_batch, threads) would allocate (parameters, gradients,
 * activations and scratch); SIZE_MAX when that does not fit in size_t. Allocates nothing but a
 * planning copy; 0 when even that fails. model_memory_bytes is the training Model's. */
size_t model_memory_bytes(const ModelDesc *d, int max_batch, int threads);
size_t model_memory_bytes_for(const ModelDesc *d, ModelUse use, int max_batch, int threads);
void model_free(Model *m);
/* A copy of m's parameters as ModelWeights (what an inference backend is opened with): after BN
 * re-calibration or with a subnet added at run time, the Model is what holds them. */
int model_weights_copy(const Model *m, ModelWeights *w, Err *err);

/* Kaiming-normal (fan_out, ReLU gain) convs, PyTorch-default linears, BN gamma=1 beta=0,
 * running var 1. Each tensor has its own stream rng_derive(seed, param_index, 0). */
void model_init_params(Model *m, uint64_t seed);

/* O(1), allocation-free: the next forward runs subnet i. */
void model_set_subnet(Model *m, int i);

/* Forward of n <= max_batch images, input [n][in_c][in_h][in_w]. Returns the logits [n][classes].
 * An inference Model runs in eval mode only (m->training stays 0). */
const float *model_forward(Model *m, const float *input, int n);
/* The same forward from op first_op on (a training Model): ops before it are not run, their outputs
 * must still be in place from an earlier forward of the same input and batch at the same active
 * counts of every slot they touch (greedy slimming's trials change one slot: model_slot_first_op).
 * The logits are then bit for bit those of a whole forward. */
const float *model_forward_from(Model *m, const float *input, int n, int first_op);
/* The first op a forward must run when only `slot`'s active count changed: the first op reading or
 * writing one of its tensors, moved back to the start of a fused group (conv+BN, BN+add). */
int model_slot_first_op(const Model *m, int slot);
/* Softmax cross-entropy on the last forward's logits; writes the logits gradient. */
float model_loss(Model *m, const int *labels, int *correct);
/* The logits ([n][classes], n of the last forward) that the nested subnet `subnet` would give, from
 * the last forward's classifier input: its leading features are that subnet's when the subnet's
 * channels are computed exactly as in its own forward (incremental training: frozen groups with
 * their BN in inference mode, block lower-triangular weights). The classifier restricted to those
 * features, plus its bias. Needs a final linear layer whose input channels are a prefix for the
 * subnet (model_has_nested_logits: every built architecture); returns -1 otherwise, or when
 * `subnet` is not nested in the current one. */
int model_nested_logits(const Model *m, int subnet, float *out);
int model_has_nested_logits(const ModelDesc *d);
/* The logits gradient buffer ([n][classes]) for custom losses (e.g. distillation). */
float *model_dlogits(Model *m);
/* Backward from the logits gradient of the last forward; parameter gradients accumulate (training
 * Models only). */
void model_backward(Model *m);
void model_zero_grad(Model *m);

/* The current subnet's copy of parameter p (its set when the parameter has several), and its
 * gradient. */
static inline float *model_param(const Model *m, int p) {
    const ParamDesc *pd = &m->d->params[p];
    return m->param[p] + (pd->sets > 1 ? (size_t)m->subnet * pd->set_numel : 0);
}
static inline float *model_grad(const Model *m, int p) {
    const ParamDesc *pd = &m->d->params[p];
    return m->grad[p] + (pd->sets > 1 ? (size_t)m->subnet * pd->set_numel : 0);
}

#endif
