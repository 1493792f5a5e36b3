/* nn/model_build.c — architecture descriptions: ResNet-CIFAR (depth 6n+2), ResNet-18 (ImageNet
 * layout) and the AlexNet-style CIFAR network, for any input size and channel count.
 *
 * AlexNet-style network (5 conv + 3 FC; the MLCAD'19 paper does not list its layers, so dynn fixes):
 *   conv1 5x5 64  pad 2, BN, ReLU, maxpool 3x3 stride 2 pad 1
 *   conv2 5x5 128 pad 2, BN, ReLU, maxpool 3x3 stride 2 pad 1
 *   conv3 3x3 256 pad 1, BN, ReLU
 *   conv4 3x3 256 pad 1, BN, ReLU
 *   conv5 3x3 128 pad 1, BN, ReLU, maxpool 3x3 stride 2 pad 1
 *   fc1 (128*h/8*w/8 -> 512), ReLU;  fc2 (512 -> 256), ReLU;  fc3 (256 -> classes)
 * (32x32 input: 32 -> 16 -> 8 -> 4 spatially; 28x28: 28 -> 14 -> 7 -> 4.) BN replaces the original
 * LRN and dropout. Widths scale with the width multiplier. */
#include "nn/model.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/conv3x3.h"

typedef struct Builder {
    ModelDesc *d;
    Err *err;
    int failed;
} Builder;

static int fail(Builder *b, const char *what) {
    if (!b->failed) err_set(b->err, "model %s: too many %s for this build (raise MODEL_MAX_*)", b->d->arch, what);
    b->failed = 1;
    return 0;
}

static int add_slot(Builder *b, int max, const char *name) {
    ModelDesc *d = b->d;
    if (d->n_slots >= MODEL_MAX_SLOTS) return fail(b, "channel slots");
    d->slot_max[d->n_slots] = max;
    snprintf(d->slot_name[d->n_slots], sizeof d->slot_name[0], "%s", name);
    return d->n_slots++;
}

static int add_tensor(Builder *b, int c, int h, int w, int slot) {
    ModelDesc *d = b->d;
    if (d->n_tensors >= MODEL_MAX_TENSORS) return fail(b, "tensors");
    d->tensors[d->n_tensors] = (TensorDesc){c, h, w, slot};
    return d->n_tensors++;
}

static int add_param(Builder *b, const char *op, const char *suffix, ParamKind kind, int ndim, const int *dims,
                     int fan_in, int fan_out) {
    ModelDesc *d = b->d;
    if (d->n_params >= MODEL_MAX_PARAMS) return fail(b, "parameters");
    ParamDesc *p = &d->params[d->n_params];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s.%s", op, suffix);
    p->kind = kind;
    p->ndim = ndim;
    p->set_numel = 1;
    for (int i = 0; i < ndim; i++) {
        p->dims[i] = dims[i];
        p->set_numel *= (size_t)dims[i];
    }
    p->sets = 1;
    p->numel = p->set_numel;
    p->trainable = kind != PARAM_BN_MEAN && kind != PARAM_BN_VAR;
    p->fan_in = fan_in;
    p->fan_out = fan_out;
    return d->n_params++;
}

static OpDesc *add_op(Builder *b, OpKind kind, const char *name, int in0, int in1) {
    ModelDesc *d = b->d;
    if (d->n_ops >= MODEL_MAX_OPS) {
        fail(b, "ops");
        return NULL;
    }
    OpDesc *o = &d->ops[d->n_ops++];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    snprintf(o->name, sizeof o->name, "%s", name);
    o->in0 = in0;
    o->in1 = in1;
    o->weight = o->bias = o->gamma = o->beta = o->mean = o->var = -1;
    return o;
}

static int conv(Builder *b, const char *name, int in, int cout, int k, int stride, int pad, int slot) {
    if (b->failed) return 0;
    const TensorDesc *t = &b->d->tensors[in];
    int ho = (t->h + 2 * pad - k) / stride + 1, wo = (t->w + 2 * pad - k) / stride + 1;
    int out = add_tensor(b, cout, ho, wo, slot);
    OpDesc *o = add_op(b, OP_CONV, name, in, -1);
    if (!o) return 0;
    o->out = out;
    o->k = k;
    o->stride = stride;
    o->pad = pad;
    int dims[4] = {cout, t->c, k, k};
    o->weight = add_param(b, name, "weight", PARAM_WEIGHT, 4, dims, t->c * k * k, cout * k * k);
    return out;
}

static int bn(Builder *b, const char *name, int in, int relu) {
    if (b->failed) return 0;
    TensorDesc t = b->d->tensors[in];
    int out = add_tensor(b, t.c, t.h, t.w, t.slot);
    OpDesc *o = add_op(b, OP_BN, name, in, -1);
    if (!o) return 0;
    o->out = out;
    o->relu = relu;
    int dims[1] = {t.c};
    o->gamma = add_param(b, name, "weight", PARAM_BN_GAMMA, 1, dims, 0, 0);
    o->beta = add_param(b, name, "bias", PARAM_BN_BETA, 1, dims, 0, 0);
    o->mean = add_param(b, name, "running_mean", PARAM_BN_MEAN, 1, dims, 0, 0);
    o->var = add_param(b, name, "running_var", PARAM_BN_VAR, 1, dims, 0, 0);
    return out;
}

static int relu(Builder *b, const char *name, int in) {
    if (b->failed) return 0;
    TensorDesc t = b->d->tensors[in];
    int out = add_tensor(b, t.c, t.h, t.w, t.slot);
    OpDesc *o = add_op(b, OP_RELU, name, in, -1);
    if (o) o->out = out;
    return out;
}

static int add(Builder *b, const char *name, int x, int y, int with_relu) {
    if (b->failed) return 0;
    TensorDesc t = b->d->tensors[x];
    int out = add_tensor(b, t.c, t.h, t.w, t.slot);
    OpDesc *o = add_op(b, OP_ADD, name, x, y);
    if (!o) return 0;
    o->out = out;
    o->relu = with_relu;
    return out;
}

static int maxpool(Builder *b, const char *name, int in, int k, int stride, int pad) {
    if (b->failed) return 0;
    TensorDesc t = b->d->tensors[in];
    int out = add_tensor(b, t.c, (t.h + 2 * pad - k) / stride + 1, (t.w + 2 * pad - k) / stride + 1, t.slot);
    OpDesc *o = add_op(b, OP_MAXPOOL, name, in, -1);
    if (!o) return 0;
    o->out = out;
    o->k = k;
    o->stride = stride;
    o->pad = pad;
    return out;
}

static int gap(Builder *b, const char *name, int in) {
    if (b->failed) return 0;
    TensorDesc t = b->d->tensors[in];
    int out = add_tensor(b, t.c, 1, 1, t.slot);
    OpDesc *o = add_op(b, OP_GAP, name, in, -1);
    if (o) o->out = out;
    return out;
}

/* A linear layer reads its input map flattened ([c][h][w] -> c*h*w features). */
static int linear(Builder *b, const char *name, int in, int nout, int slot) {
    if (b->failed) return 0;
    TensorDesc t = b->d->tensors[in];
    size_t features = (size_t)t.c * (size_t)t.h * (size_t)t.w;
    if (features > MODEL_MAX_FLOATS) {
        err_set(b->err, "model %s: input %dx%dx%d is too large: layer '%s' would read %zu features per image (at most %d)",
                b->d->arch, b->d->in_c, b->d->in_h, b->d->in_w, name, features, MODEL_MAX_FLOATS);
        b->failed = 1;
        return 0;
    }
    int nin = (int)features;
    int out = add_tensor(b, nout, 1, 1, slot);
    OpDesc *o = add_op(b, OP_LINEAR, name, in, -1);
    if (!o) return 0;
    o->out = out;
    int wd[2] = {nout, nin}, bd[1] = {nout};
    o->weight = add_param(b, name, "weight", PARAM_WEIGHT, 2, wd, nin, nout);
    o->bias = add_param(b, name, "bias", PARAM_BIAS, 1, bd, nin, nout);
    return out;
}

static int scaled(int c, float width) {
    int v = (int)lroundf((float)c * width);
    return v < 1 ? 1 : v;
}

/* Basic residual block: conv3x3-BN-ReLU-conv3x3-BN (+ shortcut) -> ReLU. `stream` is the slot of
 * the block's output (shared with the identity shortcut). */
static int basic_block(Builder *b, const char *prefix, int in, int planes, int stride, int stream) {
    char name[48], slotname[40];
    const TensorDesc *t = &b->d->tensors[in];
    int need_proj = stride != 1 || t->c != planes;
    snprintf(slotname, sizeof slotname, "%s.conv1", prefix);
    int inner = add_slot(b, planes, slotname);
    snprintf(name, sizeof name, "%s.conv1", prefix);
    int x = conv(b, name, in, planes, 3, stride, 1, inner);
    snprintf(name, sizeof name, "%s.bn1", prefix);
    x = bn(b, name, x, 1);
    snprintf(name, sizeof name, "%s.conv2", prefix);
    x = conv(b, name, x, planes, 3, 1, 1, stream);
    snprintf(name, sizeof name, "%s.bn2", prefix);
    x = bn(b, name, x, 0);
    int sc = in;
    if (need_proj) {
        snprintf(name, sizeof name, "%s.shortcut.conv", prefix);
        sc = conv(b, name, in, planes, 1, stride, 0, stream);
        snprintf(name, sizeof name, "%s.shortcut.bn", prefix);
        sc = bn(b, name, sc, 0);
    }
    snprintf(name, sizeof name, "%s.add", prefix);
    return add(b, name, x, sc, 1);
}

/* Residual stages after the stem: stage st has `blocks` basic blocks of widths[st] channels (the
 * first block of every stage but the first halves the map); then global pooling and the
 * classifier. `stream` is the stem's slot, shared with stage 1's identity shortcuts. */
static void residual_stages(Builder *b, int x, int stream, const int *widths, int stages, int blocks) {
    for (int st = 0; st < stages; st++) {
        if (st > 0) {
            char sname[16];
            snprintf(sname, sizeof sname, "stage%d", st + 1);
            stream = add_slot(b, widths[st], sname);
        }
        for (int i = 0; i < blocks && !b->failed; i++) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "layer%d.%d", st + 1, i);
            x = basic_block(b, prefix, x, widths[st], (i == 0 && st > 0) ? 2 : 1, stream);
        }
    }
    x = gap(b, "avgpool", x);
    b->d->logits = linear(b, "fc", x, b->d->classes, -1);
}

/* The deepest ResNet-CIFAR of He et al.; deeper ones are refused before building (an arch name
 * claiming depth 140000000 would otherwise add blocks for seconds after the op table is full). */
#define RESNET_CIFAR_MAX_DEPTH 1202

static void build_resnet_cifar(Builder *b, int depth, float width) {
    int widths[3] = {scaled(16, width), scaled(32, width), scaled(64, width)};
    int s0 = add_slot(b, widths[0], "stage1");
    int x = conv(b, "conv1", b->d->input, widths[0], 3, 1, 1, s0);
    x = bn(b, "bn1", x, 1);
    residual_stages(b, x, s0, widths, 3, (depth - 2) / 6);
}

static void build_resnet18(Builder *b, float width) {
    int widths[4] = {scaled(64, width), scaled(128, width), scaled(256, width), scaled(512, width)};
    int s0 = add_slot(b, widths[0], "stage1");
    int x = conv(b, "conv1", b->d->input, widths[0], 7, 2, 3, s0);
    x = bn(b, "bn1", x, 1);
    x = maxpool(b, "maxpool", x, 3, 2, 1);
    residual_stages(b, x, s0, widths, 4, 2);
}

static void build_alexnet(Builder *b, float width) {
    static const struct { const char *name; int c, k, pad, pool; } convs[5] = {
        {"conv1", 64, 5, 2, 1}, {"conv2", 128, 5, 2, 1}, {"conv3", 256, 3, 1, 0},
        {"conv4", 256, 3, 1, 0}, {"conv5", 128, 3, 1, 1},
    };
    int x = b->d->input;
    for (int i = 0; i < 5; i++) {
        char name[48];
        int c = scaled(convs[i].c, width);
        int slot = add_slot(b, c, convs[i].name);
        x = conv(b, convs[i].name, x, c, convs[i].k, 1, convs[i].pad, slot);
        snprintf(name, sizeof name, "bn%d", i + 1);
        x = bn(b, name, x, 1);
        if (convs[i].pool) {
            snprintf(name, sizeof name, "pool%d", i + 1);
            x = maxpool(b, name, x, 3, 2, 1);
        }
    }
    int f1 = scaled(512, width), f2 = scaled(256, width);
    x = linear(b, "fc1", x, f1, add_slot(b, f1, "fc1"));
    x = relu(b, "fc1.relu", x);
    x = linear(b, "fc2", x, f2, add_slot(b, f2, "fc2"));
    x = relu(b, "fc2.relu", x);
    b->d->logits = linear(b, "fc3", x, b->d->classes, -1);
}

/* Every op's output of one image (in its larger layout, padded planes included) and every
 * parameter must stay within MODEL_MAX_FLOATS: the kernels index within them in int. */
static int check_sizes(const ModelDesc *d, Err *err) {
    for (int i = 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        const TensorDesc *t = &d->tensors[o->out];
        size_t plane = conv3x3_padded_plane_floats(t->h, t->w), compact = (size_t)t->h * (size_t)t->w;
        size_t floats = (size_t)t->c * (plane > compact ? plane : compact);
        if (floats > MODEL_MAX_FLOATS)
            return err_set(err, "model %s: input %dx%dx%d is too large: the output of '%s' (%dx%dx%d) would hold %zu "
                           "floats per image (at most %d)", d->arch, d->in_c, d->in_h, d->in_w, o->name, t->c, t->h,
                           t->w, floats, MODEL_MAX_FLOATS);
    }
    for (int i = 0; i < d->n_params; i++)
        if (d->params[i].set_numel > MODEL_MAX_FLOATS)
            return err_set(err, "model %s: parameter '%s' would hold %zu floats (at most %d)", d->arch, d->params[i].name,
                           d->params[i].set_numel, MODEL_MAX_FLOATS);
    return 0;
}

int model_desc_build(ModelDesc *d, const char *arch, int in_c, int in_h, int in_w, int classes, float width,
                     Err *err) {
    memset(d, 0, sizeof *d);
    if (in_c < 1 || in_c > MODEL_MAX_CHANNELS || in_h < 1 || in_w < 1 || in_h > MODEL_MAX_SIDE || in_w > MODEL_MAX_SIDE)
        return err_set(err, "model %s: unsupported input shape %dx%dx%d (channels 1..%d, height and width 1..%d)", arch,
                       in_c, in_h, in_w, MODEL_MAX_CHANNELS, MODEL_MAX_SIDE);
    if (classes < 2 || classes > MODEL_MAX_CLASSES)
        return err_set(err, "model %s: %d classes, outside 2..%d", arch, classes, MODEL_MAX_CLASSES);
    if (!(width > 0.0f) || width > 16.0f) return err_set(err, "model %s: width multiplier %g outside (0, 16]", arch, width);
    d->in_c = in_c;
    d->in_h = in_h;
    d->in_w = in_w;
    d->classes = classes;
    d->width = width;
    d->bn_sets = 1;
    d->weight_sets = 1;
    d->bn_eps = MODEL_BN_EPS;
    for (int c = 0; c < MODEL_MAX_CHANNELS; c++) {
        d->norm_mean[c] = 0.0f;
        d->norm_std[c] = 1.0f;
    }
    Builder b = {d, err, 0};
    d->input = add_tensor(&b, in_c, in_h, in_w, -1);
    if (!strncmp(arch, "resnet", 6) && strcmp(arch, "resnet18") != 0) {
        char *end;
        long depth = strtol(arch + 6, &end, 10);
        if (*end || depth < 8 || (depth - 2) % 6 != 0)
            return err_set(err, "unknown model '%s': ResNet-CIFAR depth must be 6n+2 (resnet20, resnet32, resnet56, resnet110)", arch);
        if (depth > RESNET_CIFAR_MAX_DEPTH)
            return err_set(err, "model '%s': ResNet-CIFAR depth must be at most %d (ResNet-1202, the deepest of He et al.)", arch,
                           RESNET_CIFAR_MAX_DEPTH);
        snprintf(d->arch, sizeof d->arch, "resnet%ld", depth);
        build_resnet_cifar(&b, (int)depth, width);
    } else if (!strcmp(arch, "resnet18")) {
        snprintf(d->arch, sizeof d->arch, "resnet18");
        build_resnet18(&b, width);
    } else if (!strcmp(arch, "alexnet")) {
        snprintf(d->arch, sizeof d->arch, "alexnet");
        if (in_h < 8 || in_w < 8) return err_set(err, "model alexnet: input %dx%d is smaller than 8x8", in_h, in_w);
        build_alexnet(&b, width);
    } else {
        return err_set(err, "unknown model '%s' (known: resnet20, resnet32, resnet44, resnet56, resnet110, resnet18, alexnet)", arch);
    }
    if (b.failed) return -1;
    for (int i = 0; i < d->n_tensors; i++)
        if (d->tensors[i].h < 1 || d->tensors[i].w < 1)
            return err_set(err, "model %s: input %dx%d is too small (a layer's output would be empty)", d->arch, in_h, in_w);
    if (check_sizes(d, err)) return -1;
    d->n_subnets = 1;
    snprintf(d->subnets[0].name, sizeof d->subnets[0].name, "full");
    memcpy(d->subnets[0].count, d->slot_max, sizeof(int) * d->n_slots);
    return 0;
}

static int is_bn_param(ParamKind k) {
    return k == PARAM_BN_GAMMA || k == PARAM_BN_BETA || k == PARAM_BN_MEAN || k == PARAM_BN_VAR;
}

void model_desc_set_sets(ModelDesc *d, int bn_sets, int weight_sets) {
    d->bn_sets = bn_sets;
    d->weight_sets = weight_sets;
    for (int i = 0; i < d->n_params; i++) {
        ParamDesc *p = &d->params[i];
        p->sets = is_bn_param(p->kind) ? bn_sets : weight_sets;
        p->numel = (size_t)p->sets * p->set_numel;
    }
}

void model_desc_set_meta(ModelDesc *d, const char *key, const char *fmt, ...) {
    int i = 0;
    while (i < d->n_meta && strcmp(d->meta_key[i], key)) i++;
    if (i == d->n_meta) {
        if (d->n_meta >= MODEL_MAX_META) return;
        d->n_meta++;
    }
    snprintf(d->meta_key[i], sizeof d->meta_key[i], "%s", key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->meta_val[i], sizeof d->meta_val[i], fmt, ap);
    va_end(ap);
}

const char *model_desc_get_meta(const ModelDesc *d, const char *key) {
    for (int i = 0; i < d->n_meta; i++)
        if (!strcmp(d->meta_key[i], key)) return d->meta_val[i];
    return NULL;
}

int model_find_param(const ModelDesc *d, const char *name) {
    for (int i = 0; i < d->n_params; i++)
        if (!strcmp(d->params[i].name, name)) return i;
    return -1;
}
