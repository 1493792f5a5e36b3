/* nn/model_desc.h — a network as plain data: what every executor of it (the training Model of
 * nn/model.h, an inference backend of nn/backend.h) needs to know and what a checkpoint stores.
 *
 * ModelDesc holds the ops in execution order, the tensors between them (full-width shape per image),
 * the parameter tensors, the channel *slots* and the subnets, and the constants of the computation
 * (the BN epsilon). A slot is a set of channels whose count must change together: one conv's output,
 * or a whole residual stream (every conv that writes into the same identity-shortcut sum). A subnet
 * is one active-channel count per slot; a layer computes on the leading `count` channels of its
 * weights, so subnets nest and share weights, and switching is one integer assignment.
 *
 * Built by nn/model_build.c; what needs only the description (MACs, parameters and bytes per
 * subnet, the largest subnet, weight storage) is nn/model_desc.c. */
#ifndef DYNN_NN_MODEL_DESC_H
#define DYNN_NN_MODEL_DESC_H

#include <stddef.h>
#include <stdint.h>

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
/* The BN epsilon of a description built here or read from a checkpoint without a `bn_eps` line. */
#define MODEL_BN_EPS 1e-5f

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
    float bn_eps;        /* added to the running variance in BN (MODEL_BN_EPS unless the checkpoint says) */
    int synthetic;       /* 1: random weights, never trained (nn/synthetic.h): latency only, no accuracy */
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

/* Index of the subnet with the most MACs. */
int model_largest_subnet(const ModelDesc *d);

/* The parameter id by name, or -1. */
int model_find_param(const ModelDesc *d, const char *name);

/* The values of a description's parameters, without any buffer for running it: what a checkpoint
 * holds and what an inference backend (nn/backend.h) is opened with. param[i] holds
 * d->params[i].numel floats (every set, set-major), all in one allocation. */
typedef struct ModelWeights {
    float *data;
    float *param[MODEL_MAX_PARAMS];
} ModelWeights;

/* Fills one set (p->set_numel floats at w) of parameter `index` with its initial values, from the
 * random stream (seed, index, set): conv weights Kaiming normal (fan_out, ReLU gain), linear weights
 * and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as PyTorch, BN gamma and running variance 1, beta
 * and running mean 0. What a new Model starts from (model_init_params) and what a synthetic model
 * keeps (nn/synthetic.h). */
void model_param_init_set(const ParamDesc *p, float *w, uint64_t seed, int index, int set);
/* Every set of every parameter of d initialized that way. */
void model_weights_init(ModelWeights *w, const ModelDesc *d, uint64_t seed);

/* Allocates (zeroed) the weights of d. */
int model_weights_alloc(ModelWeights *w, const ModelDesc *d, Err *err);
void model_weights_free(ModelWeights *w);
/* The floats of parameter p that subnet s reads: its set when the parameter has several. */
static inline const float *model_weights_param(const ModelWeights *w, const ModelDesc *d, int p, int s) {
    const ParamDesc *pd = &d->params[p];
    return w->param[p] + (pd->sets > 1 ? (size_t)s * pd->set_numel : 0);
}

#endif
