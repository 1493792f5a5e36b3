/* nn/model.h — a network as plain data (ModelDesc) plus the CPU buffers that run it (Model).
 *
 * ModelDesc is what an executor needs to know and what a checkpoint stores: the ops in execution
 * order, the tensors between them (full-width shape per image), the parameter tensors, the channel
 * *slots* and the subnets. A slot is a set of channels whose count must change together: one conv's
 * output, or a whole residual stream (every conv that writes into the same identity-shortcut sum).
 * A subnet is one active-channel count per slot; a layer computes on the leading `count` channels
 * of its weights, so subnets nest and share weights, and switching is one integer assignment.
 *
 * Model owns three arenas: parameters, gradients (same layout) and activations (forward values,
 * their gradients, BN saved statistics, max-pool argmax, conv scratch), sized for `max_batch`
 * images at full width. Nothing is allocated after model_create(). */
#ifndef DYNN_NN_MODEL_H
#define DYNN_NN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "nn/arena.h"
#include "util/err.h"

#define MODEL_MAX_OPS 1024
#define MODEL_MAX_TENSORS 1024
#define MODEL_MAX_PARAMS 1024
#define MODEL_MAX_SLOTS 128
#define MODEL_MAX_SUBNETS 32
#define MODEL_MAX_META 64
#define MODEL_MAX_CHANNELS 4
/* Input sides and classes a description may claim. MODEL_MAX_SIDE keeps every index within one
 * plane in int (the kernels' arithmetic; layers.h CONV_MAX_SIDE); model_desc_build also refuses a
 * layer whose one-image tensor or whose parameter would exceed MODEL_MAX_FLOATS. Memory for a
 * batch is checked separately, before anything is allocated (model_create). */
#define MODEL_MAX_SIDE 16384
#define MODEL_MAX_CLASSES 1000000
#define MODEL_MAX_FLOATS 2147483647 /* INT_MAX */

typedef enum OpKind { OP_CONV, OP_BN, OP_RELU, OP_MAXPOOL, OP_GAP, OP_LINEAR, OP_ADD } OpKind;

typedef struct TensorDesc {
    int c, h, w; /* full-width shape of one image */
    int slot;    /* channel slot (active channels = subnet count); -1: fixed (input, logits) */
} TensorDesc;

typedef struct OpDesc {
    OpKind kind;
    char name[48];           /* "layer2.0.conv1" */
    int in0, in1, out;       /* tensor ids; in1 only for OP_ADD (else -1) */
    int k, stride, pad;      /* OP_CONV, OP_MAXPOOL */
    int relu;                /* fused ReLU after OP_BN / OP_ADD */
    int weight, bias;        /* param ids for OP_CONV / OP_LINEAR (-1: none) */
    int gamma, beta, mean, var; /* param ids for OP_BN */
} OpDesc;

typedef enum ParamKind { PARAM_WEIGHT, PARAM_BIAS, PARAM_BN_GAMMA, PARAM_BN_BETA, PARAM_BN_MEAN, PARAM_BN_VAR } ParamKind;

typedef struct ParamDesc {
    char name[64];  /* "layer2.0.conv1.weight" */
    ParamKind kind;
    int ndim;
    int dims[4];    /* logical shape of one set */
    size_t set_numel; /* prod(dims) */
    int sets;       /* copies: 1 = shared by every subnet, else one per subnet (indexed by subnet) */
    size_t numel;   /* sets * set_numel: floats stored */
    int trainable;  /* 0 for BN running statistics */
    int fan_in, fan_out; /* for initialization */
} ParamDesc;

typedef struct Subnet {
    char name[32];
    int count[MODEL_MAX_SLOTS]; /* active channels per slot */
} Subnet;

typedef struct ModelDesc {
    char arch[32];       /* canonical model name: "resnet20", "resnet18", "alexnet" */
    int in_c, in_h, in_w, classes;
    float width;         /* width multiplier used when building */
    int n_ops, n_tensors, n_params, n_slots;
    OpDesc ops[MODEL_MAX_OPS];
    TensorDesc tensors[MODEL_MAX_TENSORS];
    ParamDesc params[MODEL_MAX_PARAMS];
    int slot_max[MODEL_MAX_SLOTS];
    char slot_name[MODEL_MAX_SLOTS][40];
    int input, logits;   /* tensor ids */
    int bn_sets;         /* BN parameter/statistic sets (switchable BN); 1 = shared by all subnets */
    int weight_sets;     /* conv/linear weight sets: 1 = shared (nested subnets), n_subnets = separate
                            models packaged together (the individually trained baseline) */
    int n_subnets;       /* >= 1; subnet 0 is the first one listed, full width by default */
    Subnet subnets[MODEL_MAX_SUBNETS];
    /* Normalization the model was trained with (applied to pixel/255). */
    float norm_mean[MODEL_MAX_CHANNELS], norm_std[MODEL_MAX_CHANNELS];
    /* Free-form provenance (training recipe, cost), stored in the checkpoint. */
    int n_meta;
    char meta_key[MODEL_MAX_META][48];
    char meta_val[MODEL_MAX_META][256];
} ModelDesc;

/* Builds the description of a named architecture for an input shape:
 *   resnet<6n+2> (resnet20/32/44/56/110: CIFAR layout), resnet18 (ImageNet layout), alexnet
 * width scales every channel count (1.0 = the paper's widths). Starts with one full-width subnet.
 * Refuses input sides over MODEL_MAX_SIDE, more than MODEL_MAX_CLASSES classes, and shapes whose
 * layers would exceed MODEL_MAX_FLOATS, naming the value and the limit. */
int model_desc_build(ModelDesc *d, const char *arch, int in_c, int in_h, int in_w, int classes, float width,
                     Err *err);

/* Sets how many BN sets and weight sets the parameters have (each 1 or n_subnets). */
void model_desc_set_sets(ModelDesc *d, int bn_sets, int weight_sets);

/* Sets a metadata key (replacing an existing one). */
void model_desc_set_meta(ModelDesc *d, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *model_desc_get_meta(const ModelDesc *d, const char *key);

/* Active channels of tensor t under subnet counts `active`. */
static inline int tensor_active_c(const ModelDesc *d, int t, const int *active) {
    const TensorDesc *td = &d->tensors[t];
    return td->slot >= 0 ? active[td->slot] : td->c;
}

/* Multiply-accumulates per image of the given subnet (FLOPs = 2 x MACs). */
double model_subnet_macs(const ModelDesc *d, const int *active);
/* Parameters (trainable + BN statistics) the subnet uses. */
double model_subnet_params(const ModelDesc *d, const int *active);
/* Floats of parameters a subnet reads, BN running statistics included (what a separate model of
 * that subnet would store). */
double model_subnet_stored_floats(const ModelDesc *d, const int *active);
/* Floats of activations one image writes through the subnet (every op's output). */
double model_subnet_activation_floats(const ModelDesc *d, const int *active);
/* All parameter floats stored (every BN set). */
size_t model_desc_param_floats(const ModelDesc *d);

typedef struct Model {
    ModelDesc *d;         /* owned */
    int max_batch;
    int threads;          /* thread count the scratch space was sized for */
    Arena param_arena, grad_arena, act_arena;
    float *param[MODEL_MAX_PARAMS]; /* into param_arena */
    float *grad[MODEL_MAX_PARAMS];  /* into grad_arena, same layout */
    float *act[MODEL_MAX_TENSORS];  /* [max_batch][c] planes [h][w] each, compact or padded */
    float *dact[MODEL_MAX_TENSORS]; /* same; NULL where no gradient is needed */
    float *bn_save_mean[MODEL_MAX_OPS], *bn_save_invstd[MODEL_MAX_OPS];
    float *bn_sums[MODEL_MAX_OPS];  /* BN op: [max_batch][c][2] per-image sums of its input, written
                                       by the conv before it in training (conv3x3_forward_sums) */
    uint8_t bn_sums_fresh[MODEL_MAX_OPS]; /* bn_sums holds this forward's sums */
    int *pool_argmax[MODEL_MAX_OPS];
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
 * with a message saying how many bytes it needed. */
int model_create(Model *m, ModelDesc *d, int max_batch, int threads, Err *err);
/* Bytes model_create(d, max_batch, threads) would allocate (parameters, gradients, activations
 * and scratch); SIZE_MAX when that does not fit in size_t. Allocates nothing but a planning copy;
 * 0 when even that fails. */
size_t model_memory_bytes(const ModelDesc *d, int max_batch, int threads);
void model_free(Model *m);

/* Kaiming-normal (fan_out, ReLU gain) convs, PyTorch-default linears, BN gamma=1 beta=0,
 * running var 1. Each tensor has its own stream rng_derive(seed, param_index, 0). */
void model_init_params(Model *m, uint64_t seed);

/* Index of the subnet with the most MACs. */
int model_largest_subnet(const ModelDesc *d);

/* O(1), allocation-free: the next forward runs subnet i. */
void model_set_subnet(Model *m, int i);

/* Forward of n <= max_batch images, input [n][in_c][in_h][in_w]. Returns the logits [n][classes]. */
const float *model_forward(Model *m, const float *input, int n);
/* Softmax cross-entropy on the last forward's logits; writes the logits gradient. */
float model_loss(Model *m, const int *labels, int *correct);
/* The logits gradient buffer ([n][classes]) for custom losses (e.g. distillation). */
float *model_dlogits(Model *m);
/* Backward from the logits gradient of the last forward; parameter gradients accumulate. */
void model_backward(Model *m);
void model_zero_grad(Model *m);

/* The parameter id by name, or -1. */
int model_find_param(const ModelDesc *d, const char *name);

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
