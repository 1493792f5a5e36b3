/* nn/model.c — running a ModelDesc on the CPU (see model.h): buffers for training or for inference,
 * initialization, subnet switch, forward, backward. */
#include "nn/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "nn/conv3x3.h"
#include "nn/layers.h"
#include "util/duration.h"

_Static_assert(MODEL_MAX_SIDE <= CONV_MAX_SIDE, "the kernels take every side a description may claim");


static size_t tensor_floats(const TensorDesc *t) { return (size_t)t->c * t->h * t->w; }

/* The layout of tensor t's planes. */
static Planes tensor_planes(const Model *m, int t) {
    const TensorDesc *td = &m->d->tensors[t];
    return planes_of(td->h, td->w, m->padded[t]);
}

/* ---- creation ------------------------------------------------------------------------------ */

static ConvShape conv_shape(const Model *m, const OpDesc *o, int n) {
    const ModelDesc *d = m->d;
    const TensorDesc *in = &d->tensors[o->in0];
    ConvShape s = {
        .n = n, .cin = tensor_active_c(d, o->in0, m->active), .h = in->h, .w = in->w,
        .cout = tensor_active_c(d, o->out, m->active), .k = o->k, .stride = o->stride, .pad = o->pad,
        .w_row = in->c * o->k * o->k, .threads = m->threads,
        .in_padded = m->padded[o->in0], .out_padded = m->padded[o->out],
    };
    conv_shape_finish(&s);
    return s;
}

static int find_class(int *cls, int t) {
    while (cls[t] != t) t = cls[t] = cls[cls[t]];
    return t;
}

/* Which tensors live in padded planes (layers.h), so that 3x3 convs read and write them without
 * copies. Elementwise ops (BN, ReLU, add) need one layout on all their tensors, so tensors joined by
 * them form a class; a class is padded unless one of its tensors is the network input, a 1x1 map,
 * or touched by an op that reads compact planes only (max-pool, linear). Convs take either layout
 * on each side. */
static void plan_layouts(Model *m) {
    const ModelDesc *d = m->d;
    int cls[MODEL_MAX_TENSORS];
    uint8_t compact[MODEL_MAX_TENSORS] = {0};
    for (int t = 0; t < d->n_tensors; t++) {
        cls[t] = t;
        compact[t] = t == d->input || d->tensors[t].h * d->tensors[t].w == 1;
    }
    for (int i = 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        switch (o->kind) {
        case OP_ADD: cls[find_class(cls, o->in1)] = find_class(cls, o->out); /* fall through */
        case OP_BN:
        case OP_RELU: cls[find_class(cls, o->in0)] = find_class(cls, o->out); break;
        case OP_MAXPOOL:
        case OP_LINEAR: compact[o->in0] = compact[o->out] = 1; break;
        case OP_CONV:
        case OP_GAP: break;
        }
    }
    for (int t = 0; t < d->n_tensors; t++)
        if (compact[t]) compact[find_class(cls, t)] = 1;
    for (int t = 0; t < d->n_tensors; t++) m->padded[t] = !compact[find_class(cls, t)];
}

/* A conv whose output is read only by the BN right after it can take that BN in inference; a BN
 * (without ReLU) whose output is read only by the add right after it can take that add in training. */
static void plan_fusion(Model *m) {
    const ModelDesc *d = m->d;
    int readers[MODEL_MAX_TENSORS] = {0};
    for (int i = 0; i < d->n_ops; i++) {
        readers[d->ops[i].in0]++;
        if (d->ops[i].in1 >= 0) readers[d->ops[i].in1]++;
    }
    for (int i = 0; i + 1 < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i], *next = &d->ops[i + 1];
        m->fuse_bn[i] = o->kind == OP_CONV && next->kind == OP_BN && next->in0 == o->out && readers[o->out] == 1;
        m->fuse_add[i] = o->kind == OP_BN && !o->relu && next->kind == OP_ADD && readers[o->out] == 1 &&
                         (next->in0 == o->out || next->in1 == o->out);
    }
    for (int i = 0; i < d->n_ops; i++) m->bn_grad_of[i] = -1;
    for (int k = 0; k < d->n_ops; k++) { /* the tensor whose gradient a BN's backward reads: its own
                                            output, or the add's it is fused with */
        if (d->ops[k].kind != OP_BN) continue;
        const int t = m->fuse_add[k] ? d->ops[k + 1].out : d->ops[k].out;
        int first = -1;
        for (int j = 0; j < d->n_ops && first < 0; j++)
            if (d->ops[j].in0 == t || d->ops[j].in1 == t) first = j;
        const OpDesc *c = first >= 0 ? &d->ops[first] : NULL;
        if (c && c->kind == OP_CONV && c->in0 == t && c->k == 3 && c->pad == 1 && c->stride == 1 && m->padded[t])
            m->bn_grad_of[first] = (int16_t)k;
    }
}

static void plan_accumulate(Model *m) {
    const ModelDesc *d = m->d;
    uint8_t seen[MODEL_MAX_TENSORS] = {0};
    for (int i = d->n_ops - 1; i >= 0; i--) {
        const OpDesc *o = &d->ops[i];
        int ins[2] = {o->in0, o->in1};
        for (int k = 0; k < 2; k++) {
            if (ins[k] < 0) continue;
            m->accumulate[i][k] = seen[ins[k]];
            seen[ins[k]] = 1;
        }
    }
}

/* Both passes of arena planning walk the same sequence: reserve when planning, take otherwise. */
static float *carve(Arena *a, size_t n, int planning) {
    if (planning) {
        arena_reserve(a, n);
        return NULL;
    }
    return arena_take(a, n);
}

/* Floats of tensor t's buffer for max_batch images: its planes, plus the kernels' over-read slack
 * when padded. */
static size_t tensor_buffer_floats(const Model *m, int t) {
    const TensorDesc *td = &m->d->tensors[t];
    size_t floats = m->padded[t] ? (size_t)td->c * planes_padded(td->h, td->w).stride : tensor_floats(td);
    size_t slack = m->padded[t] ? CONV3X3_OVERREAD_FLOATS : 0;
    return size_add_sat(size_mul_sat((size_t)m->max_batch, floats), slack);
}

/* Inference: which buffer each tensor lives in. A tensor is live from the op that writes it (the
 * conv before it when that conv writes its BN's output directly) to its last reader (the logits to
 * the end), and tensors whose lives do not overlap share a buffer: a free buffer that fits (the
 * smallest), else the largest free one grown, else a new one. Deterministic: both planning passes
 * get the same answer. Returns the number of buffers. */
static int share_buffers(const Model *m, int *buf_of, size_t *buf_floats) {
    const ModelDesc *d = m->d;
    int first[MODEL_MAX_TENSORS], last[MODEL_MAX_TENSORS], busy_until[MODEL_MAX_TENSORS], n_bufs = 0;
    for (int t = 0; t < d->n_tensors; t++) first[t] = last[t] = -1, buf_of[t] = -1;
    for (int i = 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        first[o->out] = i > 0 && o->kind == OP_BN && m->fuse_bn[i - 1] ? i - 1 : i;
        if (last[o->out] < first[o->out]) last[o->out] = i;
        last[o->in0] = i;
        if (o->in1 >= 0) last[o->in1] = i;
    }
    last[d->logits] = d->n_ops;
    for (int i = 0; i < d->n_ops; i++) /* tensors in the order their lives start */
        for (int t = 0; t < d->n_tensors; t++) {
            if (t == d->input || first[t] != i) continue;
            size_t need = tensor_buffer_floats(m, t);
            int fit = -1, largest = -1;
            for (int b = 0; b < n_bufs; b++) {
                if (busy_until[b] >= first[t]) continue;
                if (buf_floats[b] >= need && (fit < 0 || buf_floats[b] < buf_floats[fit])) fit = b;
                if (largest < 0 || buf_floats[b] > buf_floats[largest]) largest = b;
            }
            int b = fit >= 0 ? fit : largest;
            if (b < 0) {
                b = n_bufs++;
                buf_floats[b] = 0;
            }
            if (buf_floats[b] < need) buf_floats[b] = need;
            busy_until[b] = last[t];
            buf_of[t] = b;
        }
    return n_bufs;
}

static void layout_activations(Model *m, int planning) {
    const ModelDesc *d = m->d;
    size_t nb = (size_t)m->max_batch;
    const int training = m->use == MODEL_TRAINING;
    if (training) {
        for (int t = 0; t < d->n_tensors; t++) {
            if (t == d->input) continue; /* points at the caller's batch during forward */
            m->act[t] = carve(&m->act_arena, tensor_buffer_floats(m, t), planning);
            m->dact[t] = carve(&m->act_arena, tensor_buffer_floats(m, t), planning);
        }
    } else {
        int buf_of[MODEL_MAX_TENSORS];
        size_t buf_floats[MODEL_MAX_TENSORS];
        float *buf[MODEL_MAX_TENSORS];
        int n_bufs = share_buffers(m, buf_of, buf_floats);
        for (int b = 0; b < n_bufs; b++) buf[b] = carve(&m->act_arena, buf_floats[b], planning);
        for (int t = 0; t < d->n_tensors; t++)
            if (t != d->input) m->act[t] = buf[buf_of[t]];
    }
    for (int i = 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        if (o->kind == OP_BN) { /* inference: the scale and shift of a BN fused into its conv */
            m->bn_save_mean[i] = carve(&m->act_arena, d->tensors[o->out].c, planning);
            m->bn_save_invstd[i] = carve(&m->act_arena, d->tensors[o->out].c, planning);
            if (training)
                m->bn_sums[i] = carve(&m->act_arena, size_mul_sat(nb, (size_t)d->tensors[o->out].c * 2), planning);
        } else if (o->kind == OP_MAXPOOL && training) {
            m->pool_argmax[i] = (int *)carve(&m->act_arena, size_mul_sat(nb, tensor_floats(&d->tensors[o->out])), planning);
        }
    }
    m->scratch = carve(&m->act_arena, m->scratch_floats, planning);
}

/* The planning pass of model_create: m gets d, the sizes of its arenas, its layouts, fusions and
 * scratch size; nothing is allocated. Every size saturates at SIZE_MAX (arena.h). */
static void plan_model(Model *m, ModelDesc *d, ModelUse use, int max_batch, int threads) {
    memset(m, 0, sizeof *m);
    m->d = d;
    m->use = use;
    m->max_batch = max_batch < 1 ? 1 : max_batch;
    m->threads = threads < 1 ? 1 : threads;
    for (int i = 0; i < d->n_params; i++) {
        arena_reserve(&m->param_arena, d->params[i].numel);
        if (use == MODEL_TRAINING) arena_reserve(&m->grad_arena, d->params[i].numel);
    }
    m->active = d->slot_max; /* scratch sized for the full width: every subnet fits */
    for (int i = 0; i < d->n_ops; i++) {
        if (d->ops[i].kind != OP_CONV) continue;
        ConvShape s = conv_shape(m, &d->ops[i], m->max_batch);
        size_t need = conv2d_workspace_floats(&s, m->threads);
        if (need > m->scratch_floats) m->scratch_floats = need;
    }
    plan_layouts(m);
    plan_fusion(m);
    layout_activations(m, 1);
}

static size_t planned_bytes(const Model *m) {
    return size_add_sat(size_add_sat(arena_bytes(&m->param_arena), arena_bytes(&m->grad_arena)),
                        arena_bytes(&m->act_arena));
}

size_t model_memory_bytes_for(const ModelDesc *d, ModelUse use, int max_batch, int threads) {
    Model *m = malloc(sizeof *m);
    if (!m) return 0;
    plan_model(m, (ModelDesc *)d, use, max_batch, threads); /* planning only reads d */
    size_t bytes = planned_bytes(m);
    free(m);
    return bytes;
}

size_t model_memory_bytes(const ModelDesc *d, int max_batch, int threads) {
    return model_memory_bytes_for(d, MODEL_TRAINING, max_batch, threads);
}

/* "1.5 GiB" (binary units) into buf. */
static const char *human_bytes(char *buf, size_t size, double bytes) {
    static const char *units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    while (bytes >= 1024.0 && u < 6) {
        bytes /= 1024.0;
        u++;
    }
    snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
    return buf;
}

/* Memory and swap of this machine in bytes (SIZE_MAX when unknown). */
static size_t machine_memory_bytes(void) {
    struct sysinfo si;
    if (sysinfo(&si) != 0) return SIZE_MAX;
    return size_mul_sat(size_add_sat(si.totalram, si.totalswap), si.mem_unit ? si.mem_unit : 1);
}

int model_create_for(Model *m, ModelDesc *d, ModelUse use, int max_batch, int threads, Err *err) {
    plan_model(m, d, use, max_batch, threads);
    const int training = use == MODEL_TRAINING;
    size_t need = planned_bytes(m), machine = machine_memory_bytes();
    char why[96] = "";
    Err aerr;
    if (need == SIZE_MAX) snprintf(why, sizeof why, "more than size_t can count");
    else if (need > machine) {
        char have[32];
        snprintf(why, sizeof why, "more than the %s of memory and swap of this machine",
                 human_bytes(have, sizeof have, (double)machine));
    } else if (arena_commit(&m->param_arena, "parameter", &aerr) ||
               (training && arena_commit(&m->grad_arena, "gradient", &aerr)) ||
               arena_commit(&m->act_arena, "activation", &aerr))
        snprintf(why, sizeof why, "and allocating them failed (out of memory)");
    if (why[0]) { /* formatted before model_free releases d */
        char total[32], acts[32], weights[32];
        size_t w = size_add_sat(arena_bytes(&m->param_arena), arena_bytes(&m->grad_arena));
        err_set(err, "model %s, batch %d: needs %s%zu bytes (%s: activations %s, parameters%s %s), %s; "
                "use a smaller batch or input",
                d->arch, m->max_batch, need == SIZE_MAX ? "over " : "", need,
                human_bytes(total, sizeof total, (double)need), human_bytes(acts, sizeof acts, (double)arena_bytes(&m->act_arena)),
                training ? " and gradients" : "", human_bytes(weights, sizeof weights, (double)w), why);
        model_free(m);
        return -1;
    }
    for (int i = 0; i < d->n_params; i++) {
        m->param[i] = arena_take(&m->param_arena, d->params[i].numel);
        if (training) m->grad[i] = arena_take(&m->grad_arena, d->params[i].numel);
    }
    layout_activations(m, 0);
    plan_accumulate(m);
    model_set_subnet(m, model_largest_subnet(d));
    m->training = 0;
    m->bn_momentum = 0.1f;
    return 0;
}

int model_create(Model *m, ModelDesc *d, int max_batch, int threads, Err *err) {
    return model_create_for(m, d, MODEL_TRAINING, max_batch, threads, err);
}

int model_weights_copy(const Model *m, ModelWeights *w, Err *err) {
    if (model_weights_alloc(w, m->d, err)) return -1;
    for (int p = 0; p < m->d->n_params; p++) memcpy(w->param[p], m->param[p], sizeof(float) * m->d->params[p].numel);
    return 0;
}

void model_free(Model *m) {
    arena_free(&m->param_arena);
    arena_free(&m->grad_arena);
    arena_free(&m->act_arena);
    free(m->d);
    memset(m, 0, sizeof *m);
}

void model_init_params(Model *m, uint64_t seed) {
    const ModelDesc *d = m->d;
    for (int i = 0; i < d->n_params; i++) {
        const ParamDesc *p = &d->params[i];
        for (int set = 0; set < p->sets; set++) model_param_init_set(p, m->param[i] + (size_t)set * p->set_numel, seed, i, set);
    }
}

void model_set_subnet(Model *m, int i) {
    m->subnet = i;
    m->active = m->d->subnets[i].count;
}

void model_zero_grad(Model *m) {
    if (m->grad_arena.base) memset(m->grad_arena.base, 0, sizeof(float) * m->grad_arena.size);
}

/* ---- forward / backward ---------------------------------------------------------------------- */

/* Floats of one image of tensor t under the current subnet, in its layout. */
static size_t active_floats(const Model *m, int t) {
    const Planes p = tensor_planes(m, t);
    return planes_floats(&p, (size_t)tensor_active_c(m->d, t, m->active));
}

static BnShape bn_shape(const Model *m, const OpDesc *o, int n) {
    const TensorDesc *t = &m->d->tensors[o->out];
    BnShape s = {.n = n, .c = tensor_active_c(m->d, o->out, m->active), .hw = t->h * t->w,
                 .planes = tensor_planes(m, o->out), .eps = m->d->bn_eps, .momentum = m->bn_momentum, .relu = o->relu};
    return s;
}

/* Leading channels of this BN op that are frozen (eval-mode statistics while training). */
static int bn_frozen_channels(const Model *m, const OpDesc *o, int c) {
    int slot = m->d->tensors[o->out].slot;
    if (!m->training || !m->bn_frozen || slot < 0) return 0;
    return m->bn_frozen[slot] < c ? m->bn_frozen[slot] : c;
}

static PoolShape pool_shape(const Model *m, const OpDesc *o, int n) {
    const TensorDesc *t = &m->d->tensors[o->in0];
    PoolShape s = {.n = n, .c = tensor_active_c(m->d, o->in0, m->active), .h = t->h, .w = t->w, .k = o->k,
                   .stride = o->stride, .pad = o->pad};
    pool_shape_finish(&s);
    return s;
}

static LinearShape linear_shape(const Model *m, const OpDesc *o, int n) {
    const TensorDesc *in = &m->d->tensors[o->in0];
    LinearShape s = {.n = n, .in = (int)active_floats(m, o->in0), .out = tensor_active_c(m->d, o->out, m->active),
                     .w_row = (int)tensor_floats(in)};
    return s;
}


/* Zeroes channels [0, frozen) of a [n][c] planes gradient. */
static void zero_channels(float *d, const BnShape *s, int frozen) {
    const size_t plane = s->planes.stride;
    for (int n = 0; n < s->n; n++) memset(d + (size_t)n * s->c * plane, 0, sizeof(float) * (size_t)frozen * plane);
}

/* Whether some BN channel is frozen now (the fused training passes have no frozen channels). */
static int freezing(const Model *m) {
    if (!m->bn_frozen) return 0;
    for (int s = 0; s < m->d->n_slots; s++)
        if (m->bn_frozen[s] > 0) return 1;
    return 0;
}

/* Whether BN op i and the add after it run as one pass now (training, no frozen channels). */
static int fused_add_now(const Model *m, int i) {
    return m->training && !freezing(m) && !m->no_fusion && m->fuse_add[i];
}

int model_slot_first_op(const Model *m, int slot) {
    const ModelDesc *d = m->d;
    int first = d->n_ops;
    for (int i = 0; i < d->n_ops && first == d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        if (d->tensors[o->in0].slot == slot || d->tensors[o->out].slot == slot ||
            (o->in1 >= 0 && d->tensors[o->in1].slot == slot))
            first = i;
    }
    /* a BN right after the conv that makes its input, an add right after a BN that makes one of its
     * inputs: run as one (the conv's epilogue sums, the BN writing the add's output) */
    while (first > 0 && first < d->n_ops) {
        const OpDesc *o = &d->ops[first], *prev = &d->ops[first - 1];
        if ((o->kind == OP_BN && prev->kind == OP_CONV && prev->out == o->in0) ||
            (o->kind == OP_ADD && prev->kind == OP_BN && (o->in0 == prev->out || o->in1 == prev->out)))
            first--;
        else
            break;
    }
    return first;
}

const float *model_forward(Model *m, const float *input, int n) { return model_forward_from(m, input, n, 0); }

const float *model_forward_from(Model *m, const float *input, int n, int first_op) {
    const ModelDesc *d = m->d;
    m->act[d->input] = (float *)input;
    m->last_batch = n;
    if (m->training) m->train_flops += 2.0 * model_subnet_macs(d, m->active) * n;
    for (int i = first_op > 0 ? first_op : 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        double t0 = m->profile ? duration_now_s() : 0.0;
        float *out = m->act[o->out];
        const float *in = m->act[o->in0];
        switch (o->kind) {
        case OP_CONV: {
            ConvShape s = conv_shape(m, o, n);
            if (!m->training && !m->no_fusion && m->fuse_bn[i] && conv3x3_direct_applies(&s)) {
                i++; /* the BN is applied as the conv writes: its output lands in the BN's tensor */
                const OpDesc *bn = &d->ops[i];
                float *scale = m->bn_save_mean[i], *shift = m->bn_save_invstd[i]; /* unused in inference */
                const float *g = model_param(m, bn->gamma), *b = model_param(m, bn->beta);
                const float *rm = model_param(m, bn->mean), *rv = model_param(m, bn->var);
                for (int c = 0; c < s.cout; c++) { /* exactly as batchnorm_forward_eval computes them */
                    float invstd = 1.0f / sqrtf(rv[c] + d->bn_eps);
                    scale[c] = g[c] * invstd;
                    shift[c] = b[c] - rm[c] * scale[c];
                }
                conv3x3_forward_affine(m->act[bn->out], in, model_param(m, o->weight), &s, m->scratch, scale, shift,
                                       bn->relu);
                if (m->profile) m->op_fwd_s[i - 1] += duration_now_s() - t0;
                continue;
            }
            if (m->training && !m->no_fusion && m->fuse_bn[i] && !freezing(m) && conv3x3_direct_applies(&s)) {
                /* the BN after it gets its batch statistics from the conv's epilogue */
                conv3x3_forward_sums(out, in, model_param(m, o->weight), &s, m->scratch, m->bn_sums[i + 1]);
                m->bn_sums_fresh[i + 1] = 1;
                break;
            }
            conv2d_forward(out, in, model_param(m, o->weight), &s, m->scratch);
            break;
        }
        case OP_BN: {
            BnShape s = bn_shape(m, o, n);
            const float *sums = m->bn_sums_fresh[i] ? m->bn_sums[i] : NULL;
            m->bn_sums_fresh[i] = 0;
            if (m->training) {
                /* fused with the add after it: out = relu?(bn(in) + the add's other input), in the
                 * add's tensor; sums (from the conv before it) replace the statistics passes */
                const OpDesc *add = fused_add_now(m, i) ? &d->ops[i + 1] : NULL;
                if (add) s.relu = add->relu;
                int frozen = bn_frozen_channels(m, o, s.c); /* 0 when fused: nothing is frozen then */
                if (frozen > 0) { /* frozen channels: inference-mode statistics */
                    BnShape head = s;
                    head.c_end = frozen;
                    batchnorm_forward_eval(out, in, model_param(m, o->gamma), model_param(m, o->beta),
                                           model_param(m, o->mean), model_param(m, o->var), &head);
                    s.c_begin = frozen;
                }
                batchnorm_forward_train_fused(add ? m->act[add->out] : out, m->bn_save_mean[i], m->bn_save_invstd[i],
                                              in, add ? m->act[add->in0 == o->out ? add->in1 : add->in0] : NULL, sums,
                                              model_param(m, o->gamma), model_param(m, o->beta),
                                              m->bn_stats_frozen ? NULL : model_param(m, o->mean),
                                              m->bn_stats_frozen ? NULL : model_param(m, o->var), &s);
                if (add) i++;
            } else
                batchnorm_forward_eval(out, in, model_param(m, o->gamma), model_param(m, o->beta),
                                       model_param(m, o->mean), model_param(m, o->var), &s);
            break;
        }
        case OP_RELU:
            relu_forward(out, in, (size_t)n * active_floats(m, o->in0));
            break;
        case OP_ADD:
            add_forward(out, in, m->act[o->in1], (size_t)n * active_floats(m, o->out), o->relu);
            break;
        case OP_MAXPOOL: {
            PoolShape s = pool_shape(m, o, n);
            maxpool_forward(out, m->pool_argmax[i], in, &s);
            break;
        }
        case OP_GAP: {
            const Planes p = tensor_planes(m, o->in0);
            gap_forward(out, in, n, tensor_active_c(d, o->in0, m->active), &p);
            break;
        }
        case OP_LINEAR: {
            LinearShape s = linear_shape(m, o, n);
            linear_forward(out, in, model_param(m, o->weight), o->bias >= 0 ? model_param(m, o->bias) : NULL, &s);
            break;
        }
        }
        if (m->profile) m->op_fwd_s[i] += duration_now_s() - t0;
    }
    return m->act[d->logits];
}

float model_loss(Model *m, const int *labels, int *correct) {
    return softmax_xent_forward_backward(m->dact[m->d->logits], m->act[m->d->logits], labels, m->last_batch,
                                         m->d->classes, correct);
}

float *model_dlogits(Model *m) { return m->dact[m->d->logits]; }

/* The op producing the logits when it is a linear layer (its input: a prefix per nested subnet). */
static const OpDesc *logits_linear(const ModelDesc *d) {
    for (int i = d->n_ops - 1; i >= 0; i--)
        if (d->ops[i].out == d->logits) return d->ops[i].kind == OP_LINEAR ? &d->ops[i] : NULL;
    return NULL;
}

int model_has_nested_logits(const ModelDesc *d) { return logits_linear(d) != NULL; }

int model_nested_logits(const Model *m, int subnet, float *out) {
    const ModelDesc *d = m->d;
    const OpDesc *o = logits_linear(d);
    if (!o || subnet < 0 || subnet >= d->n_subnets) return -1;
    const int *counts = d->subnets[subnet].count;
    for (int s = 0; s < d->n_slots; s++)
        if (counts[s] > m->active[s]) return -1; /* not nested in the current subnet */
    const Planes p = tensor_planes(m, o->in0);
    const size_t stride = active_floats(m, o->in0);
    const size_t k_in = planes_floats(&p, (size_t)tensor_active_c(d, o->in0, counts));
    const size_t w_row = tensor_floats(&d->tensors[o->in0]);
    const float *x = m->act[o->in0], *w = model_param(m, o->weight), *b = o->bias >= 0 ? model_param(m, o->bias) : NULL;
    for (int n = 0; n < m->last_batch; n++)
        for (int c = 0; c < d->classes; c++) {
            float acc = b ? b[c] : 0.0f;
            const float *xr = x + (size_t)n * stride, *wr = w + (size_t)c * w_row;
            for (size_t k = 0; k < k_in; k++) acc += xr[k] * wr[k];
            out[(size_t)n * d->classes + c] = acc;
        }
    return 0;
}

void model_backward(Model *m) {
    const ModelDesc *d = m->d;
    const int n = m->last_batch;
    m->train_flops += 4.0 * model_subnet_macs(d, m->active) * n;
    for (int i = d->n_ops - 1; i >= 0; i--) {
        const OpDesc *o = &d->ops[i];
        double t0 = m->profile ? duration_now_s() : 0.0;
        const float *dout = m->dact[o->out], *out = m->act[o->out], *in = m->act[o->in0];
        float *dinp = o->in0 == d->input ? NULL : m->dact[o->in0];
        int acc = m->accumulate[i][0];
        switch (o->kind) {
        case OP_CONV: {
            ConvShape s = conv_shape(m, o, n);
            const int k = m->bn_grad_of[i];
            Conv3x3BnGrad g, *bn_grad = NULL;
            if (k >= 0 && dinp && s.in_padded && m->training && !m->no_fusion && !freezing(m) &&
                (!m->fuse_add[k] || fused_add_now(m, k))) {
                /* dinp is BN k's dy, complete once this kernel has written it: it also sums what
                 * BN k's backward needs */
                const OpDesc *bn = &d->ops[k], *add = m->fuse_add[k] ? &d->ops[k + 1] : NULL;
                g = (Conv3x3BnGrad){.x = m->act[bn->in0], .y = m->act[add ? add->out : bn->out],
                                    .mean = m->bn_save_mean[k], .relu = add ? add->relu : bn->relu,
                                    .sums = m->bn_sums[k]};
                bn_grad = &g;
                m->bn_sums_fresh[k] = 1;
            }
            conv2d_backward_bn(dinp, model_grad(m, o->weight), dout, in, model_param(m, o->weight), &s, m->scratch,
                               acc, bn_grad);
            break;
        }
        case OP_BN: {
            BnShape s = bn_shape(m, o, n);
            /* fused with the add after it (see model_forward): the add's gradient is the BN's */
            const OpDesc *add = fused_add_now(m, i) ? &d->ops[i + 1] : NULL;
            const int k = add && add->in0 == o->out ? 1 : 0, r = add ? (k ? add->in1 : add->in0) : -1;
            if (add) s.relu = add->relu;
            int frozen = bn_frozen_channels(m, o, s.c); /* 0 when fused: nothing is frozen then */
            if (frozen > 0 && dinp && !acc) zero_channels(dinp, &s, frozen);
            s.c_begin = frozen;
            if (m->bn_sums_fresh[i]) s.relu = 0; /* the conv that summed them wrote dout masked */
            else /* no conv summed them as it wrote dout */
                batchnorm_backward_sums(m->bn_sums[i], add ? m->dact[add->out] : dout, add ? m->act[add->out] : out,
                                        in, m->bn_save_mean[i], &s);
            const float *sums = m->bn_sums[i];
            m->bn_sums_fresh[i] = 0;
            batchnorm_backward_fused(dinp, add && r != d->input ? m->dact[r] : NULL, sums, model_grad(m, o->gamma),
                                     model_grad(m, o->beta), add ? m->dact[add->out] : dout,
                                     add ? m->act[add->out] : out, in, m->bn_save_mean[i], m->bn_save_invstd[i],
                                     model_param(m, o->gamma), &s, acc, add ? m->accumulate[i + 1][k] : 0);
            break;
        }
        case OP_RELU:
            if (dinp) relu_backward(dinp, dout, out, (size_t)n * active_floats(m, o->in0), acc);
            break;
        case OP_ADD:
            if (i > 0 && fused_add_now(m, i - 1)) break; /* done with the BN before it */
            add_backward(dinp, o->in1 == d->input ? NULL : m->dact[o->in1], dout, out,
                         (size_t)n * active_floats(m, o->out), o->relu, acc, m->accumulate[i][1]);
            break;
        case OP_MAXPOOL: {
            PoolShape s = pool_shape(m, o, n);
            if (dinp) maxpool_backward(dinp, dout, m->pool_argmax[i], &s, acc);
            break;
        }
        case OP_GAP: {
            const Planes p = tensor_planes(m, o->in0);
            if (dinp) gap_backward(dinp, dout, n, tensor_active_c(d, o->in0, m->active), &p, acc);
            break;
        }
        case OP_LINEAR: {
            LinearShape s = linear_shape(m, o, n);
            linear_backward(dinp, model_grad(m, o->weight), o->bias >= 0 ? model_grad(m, o->bias) : NULL, dout, in,
                            model_param(m, o->weight), &s, acc);
            break;
        }
        }
        if (m->profile) m->op_bwd_s[i] += duration_now_s() - t0;
    }
}
