/* nn/methods.c — the five dynamic-network training methods (see methods.h). */
#include "nn/methods.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layers.h"
#include "nn/rng.h"
#include "nn/snapshot.h"
#include "nn/subnet.h"
#include "util/duration.h"

static const char *METHOD_NAMES[] = {"plain", "uniform", "nonuniform-multi", "nonuniform-single", "incremental",
                                     "individual"};

void dynamic_config_defaults(DynamicConfig *dc) {
    memset(dc, 0, sizeof *dc);
    dc->method = METHOD_PLAIN;
    const float widths[4] = {0.25f, 0.5f, 0.75f, 1.0f};
    memcpy(dc->ratios, widths, sizeof widths);
    dc->n_ratios = 4;
    dc->groups = 4;
    dc->bg_epochs = -1; /* default: the epoch budget */
    dc->slim_images = 256;
    dc->min_channels = 0.125f; /* measured: the smallest single-path subnet 90.94% -> 91.87% at 15 epochs */
    dc->slim_coarse = SLIM_COARSE_DIV_DEFAULT;
    dc->distill_temp = 4.0f;
    dc->distill_weight = 0.5f;
}

const char *method_variant_name(const DynamicConfig *dc, int teacher) {
    if (dc->method != METHOD_INCREMENTAL) return method_name(dc->method);
    if (dc->joint) return "incremental+joint";
    if (teacher) return "incremental+teacher";
    if (dc->self_distill) return "incremental+self-distill";
    return "incremental";
}

int method_parse(const char *name, TrainMethod *method, Err *err) {
    for (int i = 0; i < (int)(sizeof METHOD_NAMES / sizeof *METHOD_NAMES); i++)
        if (!strcmp(name, METHOD_NAMES[i])) {
            *method = (TrainMethod)i;
            return 0;
        }
    return err_set(err, "--method: unknown method '%s' (uniform, nonuniform-multi, nonuniform-single, incremental, "
                        "individual, plain)", name);
}

const char *method_name(TrainMethod method) { return METHOD_NAMES[method]; }

static int is_nonuniform(TrainMethod m) { return m == METHOD_NONUNIFORM_MULTI || m == METHOD_NONUNIFORM_SINGLE; }

int method_prepare_desc(ModelDesc *d, const DynamicConfig *dc, Err *err) {
    switch (dc->method) {
    case METHOD_PLAIN:
        return 0;
    case METHOD_INCREMENTAL:
        return subnets_groups(d, dc->groups, err);
    case METHOD_UNIFORM:
    case METHOD_INDIVIDUAL:
    case METHOD_NONUNIFORM_MULTI:
    case METHOD_NONUNIFORM_SINGLE:
        break;
    }
    if (dc->n_ratios < 1) return err_set(err, "--widths/--flops: the subnet list is empty");
    if (is_nonuniform(dc->method)) {
        int has_full = 0;
        for (int i = 0; i < dc->n_ratios; i++) has_full |= dc->ratios[i] == 1.0f;
        if (!has_full)
            return err_set(err, "--flops: the targets must include 1 (the full network is the largest subnet)");
    }
    /* Non-uniform subnets are placeholders (uniform widths) until training chooses them. */
    if (subnets_uniform(d, dc->ratios, dc->n_ratios, err)) return -1;
    if (is_nonuniform(dc->method)) {
        /* refuse unreachable MACs targets now, not after the background model has trained */
        double full = model_subnet_macs(d, d->slot_max);
        for (int i = 0; i < dc->n_ratios; i++)
            if (subnet_check_macs_target(d, d->slot_max, dc->ratios[i] * full, dc->min_channels, err))
                return err_prefix(err, "--flops %g", dc->ratios[i]);
        for (int i = 0; i < d->n_subnets; i++) d->subnets[i].name[0] = 'f';
    }
    model_desc_set_sets(d, d->n_subnets, dc->method == METHOD_INDIVIDUAL ? d->n_subnets : 1);
    return 0;
}

/* ---- joint training of several subnets (uniform, multi-path, single-path) ------------------ */

typedef struct JointCtx {
    int active[MODEL_MAX_SUBNETS]; /* subnets trained each iteration (candidates) */
    int n_active;
    int largest;
    int sandwich;
    int distill;
    float *teacher;                /* [batch][classes] soft predictions of the largest */
    const int *largest_counts;     /* counts for the largest path (NULL: its subnet's) */
    Rng rng;
} JointCtx;

static float joint_step(Model *m, const float *x, const int *labels, int n, int *correct, void *vctx) {
    JointCtx *c = vctx;
    int others[MODEL_MAX_SUBNETS], n_others = 0, run[MODEL_MAX_SUBNETS], n_run = 0;
    for (int i = 0; i < c->n_active; i++)
        if (c->active[i] != c->largest) others[n_others++] = c->active[i];
    run[n_run++] = c->largest;
    if (c->sandwich >= 2 && n_others > c->sandwich - 1) {
        /* sandwich rule: largest, smallest, and sandwich-2 random others (others[] is MACs-ordered) */
        run[n_run++] = others[0];
        int pool[MODEL_MAX_SUBNETS], n_pool = 0;
        for (int i = 1; i < n_others; i++) pool[n_pool++] = others[i];
        for (int k = 0; k < c->sandwich - 2; k++) {
            int j = (int)rng_below(&c->rng, (uint32_t)n_pool);
            run[n_run++] = pool[j];
            pool[j] = pool[--n_pool];
        }
    } else {
        for (int i = 0; i < n_others; i++) run[n_run++] = others[i];
    }
    float reported = 0.0f;
    const int classes = m->d->classes;
    for (int k = 0; k < n_run; k++) {
        model_set_subnet(m, run[k]);
        if (k == 0 && c->largest_counts) m->active = c->largest_counts;
        const float *z = model_forward(m, x, n);
        if (k == 0) {
            reported = model_loss(m, labels, correct);
            if (c->distill) softmax_rows(c->teacher, z, n, classes, 1.0f);
        } else if (c->distill) {
            soft_xent_forward_backward(model_dlogits(m), z, c->teacher, n, classes, 1.0f);
        } else {
            model_loss(m, labels, NULL);
        }
        model_backward(m);
    }
    model_set_subnet(m, c->largest);
    return reported;
}

static int joint_ctx_init(JointCtx *c, const Model *m, const DynamicConfig *dc, uint64_t seed, Err *err) {
    memset(c, 0, sizeof *c);
    c->largest = model_largest_subnet(m->d);
    c->sandwich = dc->sandwich;
    c->distill = dc->distill;
    rng_derive(&c->rng, seed, 0x5A4DULL, 0);
    c->teacher = malloc(sizeof(float) * (size_t)m->max_batch * m->d->classes);
    if (!c->teacher) return err_set(err, "out of memory");
    return 0;
}

/* ---- group-lasso background step -------------------------------------------------------- */

typedef struct LassoCtx {
    float strength;
    const int *counts; /* full width */
} LassoCtx;

/* Cross-entropy plus strength * sum over conv filters of ||filter||_2 (pushes whole output
 * channels toward zero so that channel importance separates). */
static float lasso_step(Model *m, const float *x, const int *labels, int n, int *correct, void *vctx) {
    LassoCtx *c = vctx;
    m->active = c->counts;
    float loss = train_step_xent(m, x, labels, n, correct, NULL);
    const ModelDesc *d = m->d;
    for (int i = 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        if (o->kind != OP_CONV) continue;
        const ParamDesc *p = &d->params[o->weight];
        size_t row = p->set_numel / (size_t)p->dims[0];
        float *w = model_param(m, o->weight), *g = model_grad(m, o->weight);
        for (int co = 0; co < p->dims[0]; co++) {
            double sq = 0.0;
            for (size_t j = 0; j < row; j++) sq += (double)w[co * row + j] * w[co * row + j];
            float inv = (float)(c->strength / (sqrt(sq) + 1e-8));
            for (size_t j = 0; j < row; j++) g[co * row + j] += inv * w[co * row + j];
        }
    }
    return loss;
}

/* ---- shared helpers ------------------------------------------------------------------- */

#define CHOSEN_RECAL_BATCHES 4

/* Copies BN set `from` into set `to` for every BN parameter (gamma, beta, running statistics). */
static void copy_bn_set(Model *m, int from, int to) {
    const ModelDesc *d = m->d;
    for (int p = 0; p < d->n_params; p++) {
        const ParamDesc *pd = &d->params[p];
        if (pd->kind == PARAM_WEIGHT || pd->kind == PARAM_BIAS || pd->sets < 2) continue;
        memcpy(m->param[p] + (size_t)to * pd->set_numel, m->param[p] + (size_t)from * pd->set_numel,
               sizeof(float) * pd->set_numel);
    }
}

/* A view of ds without its last `held` images, and a view of those. No copies. */
static void split_held_out(const Dataset *ds, int held, Dataset *train, Dataset *heldout) {
    *train = *ds;
    *heldout = *ds;
    train->n = ds->n - held;
    heldout->n = held;
    size_t per = (size_t)ds->c * ds->h * ds->w;
    heldout->images = ds->images + (size_t)train->n * per;
    heldout->labels = ds->labels + train->n;
}

typedef struct HeldBatch {
    float *x;
    int *labels;
    int n;
} HeldBatch;

static int held_batch_make(HeldBatch *hb, const Model *m, const Dataset *held, Err *err) {
    hb->n = held->n < m->max_batch ? held->n : m->max_batch;
    size_t per = (size_t)held->c * held->h * held->w;
    hb->x = aligned_calloc((size_t)hb->n * per * sizeof(float));
    hb->labels = malloc(sizeof(int) * (size_t)hb->n);
    int *idx = malloc(sizeof(int) * (size_t)hb->n);
    if (!hb->x || !hb->labels || !idx) {
        free(idx);
        return err_set(err, "out of memory for the held-out batch");
    }
    for (int i = 0; i < hb->n; i++) idx[i] = i;
    batch_assemble(hb->x, hb->labels, held, idx, hb->n, NULL, m->d->norm_mean, m->d->norm_std, 0, 0, 0);
    free(idx);
    return 0;
}

static void held_batch_free(HeldBatch *hb) {
    free(hb->x);
    free(hb->labels);
}

/* The MACs targets in increasing order: subnet k (MACs-ordered) gets sorted[k]. */
static void sorted_ratios(const DynamicConfig *dc, float *sorted) {
    memcpy(sorted, dc->ratios, sizeof(float) * (size_t)dc->n_ratios);
    for (int i = 1; i < dc->n_ratios; i++)
        for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
            float t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
}

/* Chooses subnet `k`'s counts for its MACs target by greedy slimming from `from` (dc: the floor,
 * min_channels of every slot's width, and the coarse steps), its cost added to rep->slim. */
static int choose_subnet(Model *m, int k, const int *from, float ratio, const DynamicConfig *dc, const HeldBatch *hb,
                         MethodReport *rep, Err *err) {
    ModelDesc *d = m->d;
    int counts[MODEL_MAX_SLOTS];
    double target = ratio * model_subnet_macs(d, d->slot_max);
    if (ratio >= 1.0f) memcpy(counts, d->slot_max, sizeof(int) * (size_t)d->n_slots);
    else if (subnet_greedy_slim(m, from, target, dc->min_channels, dc->slim_coarse, hb->x, hb->labels, hb->n, counts,
                                &rep->slim, err))
        return err_prefix(err, "--flops %g", ratio);
    memcpy(d->subnets[k].count, counts, sizeof(int) * (size_t)d->n_slots);
    return 0;
}

static int check_held_out(const Dataset *train, const DynamicConfig *dc, int batch, Err *err) {
    if (dc->slim_images < 2 || train->n - dc->slim_images < batch)
        return err_set(err, "%s: %d training images leave too few for training after holding out %d for slimming",
                       train->name, train->n, dc->slim_images);
    return 0;
}

/* ---- the methods ---------------------------------------------------------------------- */

/* Every subnet in every iteration (joint_step), the gradients summed, for cfg->epochs: uniform's
 * recipe, and incremental --joint's on its block lower-triangular weights (cfg->grad_mask). */
static int train_every_subnet(Model *m, const Dataset *train, const Dataset *test, const TrainConfig *base,
                              const DynamicConfig *dc, const char *phase, MethodReport *rep, Err *err) {
    JointCtx jc;
    if (joint_ctx_init(&jc, m, dc, base->seed, err)) return -1;
    for (int i = 0; i < m->d->n_subnets; i++) jc.active[jc.n_active++] = i;
    TrainConfig cfg = *base;
    cfg.step = joint_step;
    cfg.step_ctx = &jc;
    cfg.step_state = &jc.rng; /* the sandwich rule's stream */
    cfg.step_state_bytes = sizeof jc.rng;
    cfg.phase = phase;
    TrainStats st;
    int rc = train_run(m, train, test, &cfg, &st, err);
    rep->epochs = cfg.epochs;
    rep->final_loss = st.final_loss;
    free(jc.teacher);
    return rc;
}

static int train_uniform(Model *m, const Dataset *train, const Dataset *test, const TrainConfig *base,
                         const DynamicConfig *dc, MethodReport *rep, Err *err) {
    return train_every_subnet(m, train, test, base, dc, "uniform", rep, err);
}

static int train_nonuniform_multi(Model *m, const Dataset *full_train, const Dataset *test, const TrainConfig *base,
                                  const DynamicConfig *dc, MethodReport *rep, Err *err) {
    ModelDesc *d = m->d;
    if (check_held_out(full_train, dc, base->batch, err)) return -1;
    Dataset train, held;
    split_held_out(full_train, dc->slim_images, &train, &held);
    const int largest = model_largest_subnet(d);
    /* 1. background model: full width, the largest subnet's BN set */
    LassoCtx lc = {dc->group_lasso, d->slot_max};
    TrainConfig cfg = *base;
    cfg.epochs = dc->bg_epochs >= 0 ? dc->bg_epochs : base->epochs;
    cfg.phase = "background";
    model_set_subnet(m, largest);
    if (dc->group_lasso > 0.0f) {
        cfg.step = lasso_step;
        cfg.step_ctx = &lc;
    }
    TrainStats st;
    if (cfg.epochs > 0 && train_run(m, &train, test, &cfg, &st, err)) return -1;
    rep->epochs += cfg.epochs;
    /* 2. channel order by importance, 3. subnets by greedy slimming, largest target first */
    model_sort_channels_by_importance(m, NULL);
    HeldBatch hb;
    if (held_batch_make(&hb, m, &held, err)) {
        held_batch_free(&hb);
        return -1;
    }
    const int *from = d->slot_max;
    float sorted[MODEL_MAX_SUBNETS];
    sorted_ratios(dc, sorted);
    for (int k = d->n_subnets - 1; k >= 0; k--) {
        if (choose_subnet(m, k, from, sorted[k], dc, &hb, rep, err)) {
            held_batch_free(&hb);
            return -1;
        }
        from = d->subnets[k].count;
        if (k != largest) {
            /* a new subnet starts from the background's BN affine parameters and its own statistics */
            copy_bn_set(m, largest, k);
            model_set_subnet(m, k);
            if (model_recalibrate_bn(m, &train, CHOSEN_RECAL_BATCHES, base->seed, err)) {
                held_batch_free(&hb);
                return -1;
            }
        }
    }
    model_set_subnet(m, largest);
    held_batch_free(&hb);
    /* 4. multi-path retraining: every subnet's path in every iteration */
    JointCtx jc;
    if (joint_ctx_init(&jc, m, dc, base->seed, err)) return -1;
    for (int i = 0; i < d->n_subnets; i++) jc.active[jc.n_active++] = i;
    cfg = *base;
    cfg.step = joint_step;
    cfg.step_ctx = &jc;
    cfg.phase = "multi-path";
    cfg.epoch_offset = dc->bg_epochs >= 0 ? dc->bg_epochs : base->epochs;
    int rc = train_run(m, &train, test, &cfg, &st, err);
    rep->epochs += cfg.epochs;
    rep->final_loss = st.final_loss;
    free(jc.teacher);
    return rc;
}

int single_path_phases(const DynamicConfig *dc, int S, int epochs, const char *what, int *out, Err *err) {
    if (!dc->n_phase_epochs) { /* one epoch per phase but the last, which gets the rest: every subnet
                                  joins early and trains through the schedule (epochs >= S) */
        for (int p = 0; p < S - 1; p++) out[p] = 1;
        out[S - 1] = epochs - (S - 1);
        return 0;
    }
    if (dc->n_phase_epochs != S - 1)
        return err_set(err, "%s: %d entries for %d subnets (give the epochs of the first %d phases; the last phase "
                            "gets the rest of the budget)", what, dc->n_phase_epochs, S, S - 1);
    int used = 0;
    for (int p = 0; p < S - 1; p++) used += out[p] = dc->phase_epochs[p];
    if (used >= epochs)
        return err_set(err, "%s: the first %d phases take %d of the %d epochs, none left for the last (raise "
                            "epochs or shorten the phases)", what, S - 1, used, epochs);
    out[S - 1] = epochs - used;
    return 0;
}

static int train_nonuniform_single(Model *m, const Dataset *full_train, const Dataset *test, const TrainConfig *base,
                                   const DynamicConfig *dc, MethodReport *rep, Err *err) {
    ModelDesc *d = m->d;
    if (check_held_out(full_train, dc, base->batch, err)) return -1;
    Dataset train, held;
    split_held_out(full_train, dc->slim_images, &train, &held);
    const int S = d->n_subnets, largest = model_largest_subnet(d);
    if (largest != S - 1) return err_set(err, "internal: the full subnet must be last");
    memcpy(d->subnets[largest].count, d->slot_max, sizeof(int) * (size_t)d->n_slots);
    float sorted[MODEL_MAX_SUBNETS];
    sorted_ratios(dc, sorted);
    if (base->epochs < S) return err_set(err, "--epochs %d: nonuniform-single needs at least one epoch per subnet (%d)", base->epochs, S);
    int phase_epochs[MODEL_MAX_SUBNETS];
    if (single_path_phases(dc, S, base->epochs, "phase-epochs", phase_epochs, err)) return -1;
    Sgd opt;
    if (sgd_create(&opt, m, &base->sgd, err)) return -1;
    JointCtx jc;
    if (joint_ctx_init(&jc, m, dc, base->seed, err)) {
        sgd_free(&opt);
        return -1;
    }
    HeldBatch hb = {0};
    int rc = held_batch_make(&hb, m, &held, err);
    jc.active[jc.n_active++] = largest;
    int epoch = 0;
    char phase[48];
    for (int p = 0; rc == 0 && p < S; p++) {
        /* phase p trains the subnets chosen so far */
        const int epochs = phase_epochs[p];
        TrainConfig cfg = *base;
        cfg.epochs = epochs;
        cfg.epoch_offset = epoch;
        cfg.schedule_epochs = base->epochs;
        cfg.opt = &opt;
        cfg.step = joint_step;
        cfg.step_ctx = &jc;
        snprintf(phase, sizeof phase, "single-path %d/%d (%d subnets)", p + 1, S, jc.n_active);
        cfg.phase = phase;
        TrainStats st;
        rc = train_run(m, &train, test, &cfg, &st, err);
        epoch += epochs;
        rep->epochs += epochs;
        rep->final_loss = st.final_loss;
        if (rc || p == S - 1) break;
        if (p == 0) model_sort_channels_by_importance(m, opt.velocity); /* once; momentum follows */
        int k = S - 2 - p; /* next smaller subnet */
        rc = choose_subnet(m, k, d->subnets[k + 1].count, sorted[k], dc, &hb, rep, err);
        if (rc == 0) {
            copy_bn_set(m, k + 1, k);
            model_set_subnet(m, k);
            rc = model_recalibrate_bn(m, &train, CHOSEN_RECAL_BATCHES, base->seed, err);
            model_set_subnet(m, largest);
            jc.active[jc.n_active++] = k;
        }
    }
    held_batch_free(&hb);
    free(jc.teacher);
    sgd_free(&opt);
    return rc;
}

/* Group of channel c in a slot of `total` channels split into `groups`. */
static inline int group_of(int c, int total, int groups) { return c / (total / groups); }

typedef struct GroupMasks {
    float *stage[MODEL_MAX_PARAMS]; /* 1 where the current stage trains */
} GroupMasks;

/* Group of output row r / input column block j of a weight, or -1 when that side is not grouped. */
static int row_group(const ModelDesc *d, const OpDesc *o, int r, int G) {
    int slot = d->tensors[o->out].slot;
    return slot < 0 ? -1 : group_of(r, d->slot_max[slot], G);
}

static int col_group(const ModelDesc *d, const OpDesc *o, int ci, int G) {
    int slot = d->tensors[o->in0].slot;
    return slot < 0 ? -1 : group_of(ci, d->slot_max[slot], G);
}

/* Whether output row r of op o's weight may read input channel ci (block lower-triangular). */
static int may_read(const ModelDesc *d, const OpDesc *o, int r, int ci, int G) {
    int rg = row_group(d, o, r, G), cg = col_group(d, o, ci, G);
    return rg < 0 || cg < 0 || cg <= rg;
}

void incremental_zero_upper_blocks(Model *m, int G) {
    const ModelDesc *d = m->d;
    for (int i = 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        if (o->kind != OP_CONV && o->kind != OP_LINEAR) continue;
        const ParamDesc *p = &d->params[o->weight];
        int rows = p->dims[0], cin = d->tensors[o->in0].c;
        size_t row = p->set_numel / (size_t)rows, block = row / (size_t)cin;
        for (int r = 0; r < rows; r++)
            for (int ci = 0; ci < cin; ci++)
                if (!may_read(d, o, r, ci, G))
                    memset(m->param[o->weight] + (size_t)r * row + (size_t)ci * block, 0, sizeof(float) * block);
    }
}

static void free_masks(GroupMasks *gm) {
    for (int p = 0; p < MODEL_MAX_PARAMS; p++) free(gm->stage[p]);
}

/* Fills the stage mask for training group g (0-based; -1: every group, nothing frozen). */
static void build_masks(const Model *m, GroupMasks *gm, int G, int g) {
    const int all = g < 0;
    const ModelDesc *d = m->d;
    for (int i = 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        if (o->kind == OP_CONV || o->kind == OP_LINEAR) {
            const ParamDesc *p = &d->params[o->weight];
            int rows = p->dims[0], cin = d->tensors[o->in0].c;
            size_t row = p->set_numel / (size_t)rows, block = row / (size_t)cin;
            for (int r = 0; r < rows; r++) {
                int rg = row_group(d, o, r, G);
                for (int ci = 0; ci < cin; ci++) {
                    int cg = col_group(d, o, ci, G);
                    /* trained now: the group's own rows, or (classifier) the group's own columns */
                    float now = may_read(d, o, r, ci, G) && (all || (rg >= 0 ? rg == g : (cg < 0 || cg == g)));
                    float *at = gm->stage[o->weight] + (size_t)r * row + (size_t)ci * block;
                    for (size_t k = 0; k < block; k++) at[k] = now;
                }
            }
            if (o->bias >= 0)
                for (int r = 0; r < rows; r++) {
                    int rg = row_group(d, o, r, G);
                    gm->stage[o->bias][r] = all || (rg >= 0 ? (rg == g) : (g == 0));
                }
        } else if (o->kind == OP_BN) {
            int slot = d->tensors[o->out].slot, c = d->tensors[o->out].c;
            for (int ch = 0; ch < c; ch++) {
                float now = all || slot < 0 || group_of(ch, d->slot_max[slot], G) == g;
                gm->stage[o->gamma][ch] = now;
                gm->stage[o->beta][ch] = now;
            }
        }
    }
}

/* One incremental step with distillation: the current subnet learns the labels and the soft
 * predictions of the teacher (its forward on the same batch, re-normalized to its own input
 * statistics) or, self-distilled, of the frozen subnet `prev` (its logits from this forward). The
 * first group learns the labels only, as without distillation: it stays the individually trained
 * smallest network (measured: a teacher at T = 4 cost it 0.9 and 7 points on two seeds, RESULTS.md). */
typedef struct DistillCtx {
    const DynamicConfig *dc;
    int prev;               /* the frozen subnet (-1: the first group, labels only) */
    float *targets;         /* [batch][classes] soft predictions */
    float *nested;          /* [batch][classes] the frozen subnet's logits */
    float *teacher_x;       /* [batch][c][h][w] the batch in the teacher's normalization (NULL: the same) */
    float scale[MODEL_MAX_CHANNELS], shift[MODEL_MAX_CHANNELS];
} DistillCtx;

static float distill_step(Model *m, const float *x, const int *labels, int n, int *correct, void *vctx) {
    DistillCtx *c = vctx;
    const DynamicConfig *dc = c->dc;
    const int classes = m->d->classes;
    if (c->prev < 0) return train_step_xent(m, x, labels, n, correct, NULL); /* the first group: labels only */
    if (dc->teacher) {
        const float *tx = x;
        if (c->teacher_x) {
            const size_t plane = (size_t)m->d->in_h * m->d->in_w;
            for (int i = 0; i < n; i++)
                for (int ch = 0; ch < m->d->in_c; ch++) {
                    const size_t at = ((size_t)i * m->d->in_c + ch) * plane;
                    for (size_t k = 0; k < plane; k++) c->teacher_x[at + k] = x[at + k] * c->scale[ch] + c->shift[ch];
                }
            tx = c->teacher_x;
        }
        Model *t = dc->teacher;
        softmax_rows(c->targets, model_forward(t, tx, n), n, classes, dc->distill_temp);
        m->train_flops += 2.0 * model_subnet_macs(t->d, t->active) * n; /* the teacher's pass is training cost */
    }
    const float *z = model_forward(m, x, n);
    if (!dc->teacher) {
        model_nested_logits(m, c->prev, c->nested); /* checked when the stage starts */
        softmax_rows(c->targets, c->nested, n, classes, dc->distill_temp);
    }
    float loss = distill_xent_forward_backward(model_dlogits(m), z, labels, c->targets, n, classes, dc->distill_temp,
                                               dc->distill_weight, NULL, correct);
    model_backward(m);
    return loss;
}

static void distill_ctx_free(DistillCtx *c) {
    free(c->targets);
    free(c->nested);
    free(c->teacher_x);
}

/* The teacher's input normalization from the student's (x_teacher = x * scale + shift per channel),
 * and the buffers. */
static int distill_ctx_init(DistillCtx *c, const Model *m, const DynamicConfig *dc, Err *err) {
    memset(c, 0, sizeof *c);
    c->dc = dc;
    c->prev = -1;
    const ModelDesc *d = m->d;
    size_t logits = (size_t)m->max_batch * d->classes;
    c->targets = malloc(sizeof(float) * logits);
    c->nested = malloc(sizeof(float) * logits);
    if (!c->targets || !c->nested) return distill_ctx_free(c), err_set(err, "out of memory for distillation");
    if (!dc->teacher) return 0;
    const ModelDesc *t = dc->teacher->d;
    if (t->classes != d->classes || t->in_c != d->in_c || t->in_h != d->in_h || t->in_w != d->in_w)
        return distill_ctx_free(c), err_set(err, "teacher: it takes %dx%dx%d images into %d classes, this model "
                                            "%dx%dx%d into %d", t->in_c, t->in_h, t->in_w, t->classes, d->in_c, d->in_h,
                                            d->in_w, d->classes);
    if (dc->teacher->max_batch < m->max_batch)
        return distill_ctx_free(c), err_set(err, "teacher: built for batches of %d, fewer than %d", dc->teacher->max_batch,
                                            m->max_batch);
    int same = 1;
    for (int ch = 0; ch < d->in_c; ch++) {
        /* student x = (p - ms) / ss, teacher wants (p - mt) / st */
        c->scale[ch] = d->norm_std[ch] / t->norm_std[ch];
        c->shift[ch] = (d->norm_mean[ch] - t->norm_mean[ch]) / t->norm_std[ch];
        same &= d->norm_std[ch] == t->norm_std[ch] && d->norm_mean[ch] == t->norm_mean[ch];
    }
    if (!same && !(c->teacher_x = aligned_calloc(sizeof(float) * (size_t)m->max_batch * d->in_c * d->in_h * d->in_w)))
        return distill_ctx_free(c), err_set(err, "out of memory for the teacher's input");
    return 0;
}

/* --joint: every group-subnet in every iteration on the block lower-triangular network, nothing
 * frozen (the upper blocks stay zero through the mask), E/G epochs: each subnet gets as many passes
 * as in incremental. */
static int train_incremental_joint(Model *m, const Dataset *train, const Dataset *test, const TrainConfig *base,
                                   const DynamicConfig *dc, GroupMasks *gm, MethodReport *rep, Err *err) {
    const int G = m->d->n_subnets;
    DynamicConfig plain = *dc; /* all groups at once, labels only */
    plain.sandwich = plain.distill = 0;
    build_masks(m, gm, G, -1);
    TrainConfig cfg = *base;
    cfg.epochs = base->epochs / G > 0 ? base->epochs / G : 1;
    cfg.grad_mask = gm->stage;
    int rc = train_every_subnet(m, train, test, &cfg, &plain, "joint", rep, err);
    if (rc == 0 && dc->after_stage) dc->after_stage(m, G - 1, dc->after_stage_ctx);
    return rc;
}

static int train_incremental(Model *m, const Dataset *train, const Dataset *test, const TrainConfig *base,
                             const DynamicConfig *dc, MethodReport *rep, Err *err) {
    ModelDesc *d = m->d;
    const int G = d->n_subnets;
    GroupMasks gm;
    memset(&gm, 0, sizeof gm);
    for (int p = 0; p < d->n_params; p++) {
        if (!d->params[p].trainable) continue;
        gm.stage[p] = calloc(d->params[p].numel, sizeof(float));
        if (!gm.stage[p]) {
            free_masks(&gm);
            return err_set(err, "out of memory for the incremental masks");
        }
    }
    incremental_zero_upper_blocks(m, G);
    if (dc->joint) {
        int rc = train_incremental_joint(m, train, test, base, dc, &gm, rep, err);
        model_set_subnet(m, model_largest_subnet(d));
        free_masks(&gm);
        return rc;
    }
    DistillCtx dctx;
    const int distilling = dc->teacher || dc->self_distill;
    if (distilling && distill_ctx_init(&dctx, m, dc, err)) {
        free_masks(&gm);
        return -1;
    }
    if (dc->self_distill) {
        if (!model_has_nested_logits(d)) {
            distill_ctx_free(&dctx);
            free_masks(&gm);
            return err_set(err, "self-distillation: model %s's classifier does not read a prefix of its features", d->arch);
        }
    }
    int frozen[MODEL_MAX_SLOTS];
    char phase[32];
    int rc = 0, epoch = 0;
    for (int g = 0; g < G && rc == 0; g++) {
        /* the budget split over the groups, the remainder to the first ones (at least one each) */
        int epochs = base->epochs / G + (g < base->epochs % G ? 1 : 0);
        if (epochs < 1) epochs = 1;
        build_masks(m, &gm, G, g);
        for (int s = 0; s < d->n_slots; s++) frozen[s] = d->slot_max[s] / G * g;
        m->bn_frozen = frozen; /* the frozen groups' BN stays in inference mode */
        model_set_subnet(m, g);
        TrainConfig cfg = *base;
        cfg.epochs = epochs;
        cfg.epoch_offset = epoch;
        cfg.grad_mask = gm.stage;
        if (distilling) {
            dctx.prev = g - 1;
            cfg.step = distill_step;
            cfg.step_ctx = &dctx;
        }
        snprintf(phase, sizeof phase, "group %d/%d", g + 1, G);
        cfg.phase = phase;
        TrainStats st;
        rc = train_run(m, train, test, &cfg, &st, err);
        rep->epochs += epochs;
        epoch += epochs;
        rep->final_loss = st.final_loss;
        if (rc == 0 && dc->after_stage) {
            m->bn_frozen = NULL;
            dc->after_stage(m, g, dc->after_stage_ctx);
        }
    }
    m->bn_frozen = NULL;
    model_set_subnet(m, model_largest_subnet(d));
    if (distilling) distill_ctx_free(&dctx);
    free_masks(&gm);
    return rc;
}

static int train_individual(Model *m, const Dataset *train, const Dataset *test, const TrainConfig *base,
                            MethodReport *rep, Err *err) {
    char phase[48];
    for (int k = 0; k < m->d->n_subnets; k++) {
        model_set_subnet(m, k);
        TrainConfig cfg = *base;
        snprintf(phase, sizeof phase, "individual %s", m->d->subnets[k].name);
        cfg.phase = phase;
        TrainStats st;
        if (train_run(m, train, test, &cfg, &st, err)) return -1;
        rep->epochs += cfg.epochs;
        rep->final_loss = st.final_loss;
    }
    model_set_subnet(m, model_largest_subnet(m->d));
    return 0;
}

int method_resumable(TrainMethod method) {
    return method != METHOD_NONUNIFORM_MULTI && method != METHOD_NONUNIFORM_SINGLE;
}

int method_train(Model *m, const Dataset *train, const Dataset *test, const TrainConfig *base,
                 const DynamicConfig *dc, MethodReport *rep, Err *err) {
    memset(rep, 0, sizeof *rep);
    if (base->resume && !method_resumable(dc->method))
        return err_set(err, "method %s cannot go on from a training snapshot (greedy slimming chooses the subnets "
                       "between its phases): train without one", method_name(dc->method));
    double t0 = duration_now_s(), f0 = m->train_flops;
    int rc;
    switch (dc->method) {
    case METHOD_UNIFORM: rc = train_uniform(m, train, test, base, dc, rep, err); break;
    case METHOD_NONUNIFORM_MULTI: rc = train_nonuniform_multi(m, train, test, base, dc, rep, err); break;
    case METHOD_NONUNIFORM_SINGLE: rc = train_nonuniform_single(m, train, test, base, dc, rep, err); break;
    case METHOD_INCREMENTAL: rc = train_incremental(m, train, test, base, dc, rep, err); break;
    case METHOD_INDIVIDUAL: rc = train_individual(m, train, test, base, rep, err); break;
    default: {
        TrainStats st;
        rc = train_run(m, train, test, base, &st, err);
        rep->epochs = base->epochs;
        rep->final_loss = st.final_loss;
    }
    }
    if (rc == 0 && base->resume && base->resume->done < base->resume->skip) /* never loaded: never trained */
        rc = err_set(err, "%s: the snapshot covers %d epochs, this job trains %d: remove it", base->resume->path,
                     base->resume->skip, base->resume->done);
    rep->wall_s = base->resume ? train_resume_wall(base->resume) : duration_now_s() - t0;
    rep->train_flops = m->train_flops - f0;
    return rc;
}
