/* nn/subnet.c — subnet lists, channel importance and reordering, greedy slimming, BN
 * re-calibration (see subnet.h). */
#include "nn/subnet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/rng.h"
#include "util/duration.h"

int parse_ratio_list(const char *text, const char *what, float *ratios, int *n, Err *err) {
    *n = 0;
    const char *p = text;
    if (!*p) return err_set(err, "%s: empty list (give ratios such as 0.25,0.5,0.75,1)", what);
    while (*p) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || (*end && *end != ','))
            return err_set(err, "%s: '%s' is not a comma-separated list of numbers", what, text);
        if (!(v > 0.0 && v <= 1.0)) return err_set(err, "%s: %g is outside (0, 1]", what, v);
        if (*n >= MODEL_MAX_SUBNETS) return err_set(err, "%s: more than %d entries", what, MODEL_MAX_SUBNETS);
        for (int i = 0; i < *n; i++)
            if (fabsf(ratios[i] - (float)v) < 1e-6f) return err_set(err, "%s: %g is listed twice", what, v);
        ratios[(*n)++] = (float)v;
        p = *end ? end + 1 : end;
        if (*end == ',' && !*p) return err_set(err, "%s: '%s' ends with a comma", what, text);
    }
    return 0;
}

int subnet_add(ModelDesc *d, const char *name, const int *counts, Err *err) {
    if (d->n_subnets >= MODEL_MAX_SUBNETS) return err_set(err, "too many subnets (at most %d)", MODEL_MAX_SUBNETS);
    for (int s = 0; s < d->n_slots; s++)
        if (counts[s] < 1 || counts[s] > d->slot_max[s])
            return err_set(err, "subnet '%s': slot %s has %d channels, allowed 1..%d", name, d->slot_name[s], counts[s],
                           d->slot_max[s]);
    for (int i = 0; i < d->n_subnets; i++)
        if (!strcmp(d->subnets[i].name, name)) return err_set(err, "subnet name '%s' is used twice", name);
    double macs = model_subnet_macs(d, counts);
    int at = d->n_subnets;
    while (at > 0 && model_subnet_macs(d, d->subnets[at - 1].count) > macs) at--;
    memmove(&d->subnets[at + 1], &d->subnets[at], sizeof(Subnet) * (size_t)(d->n_subnets - at));
    memset(&d->subnets[at], 0, sizeof(Subnet));
    snprintf(d->subnets[at].name, sizeof d->subnets[at].name, "%s", name);
    memcpy(d->subnets[at].count, counts, sizeof(int) * (size_t)d->n_slots);
    d->n_subnets++;
    return 0;
}

int subnets_uniform(ModelDesc *d, const float *ratios, int n, Err *err) {
    if (n < 1) return err_set(err, "no widths given");
    d->n_subnets = 0;
    for (int i = 0; i < n; i++) {
        if (!(ratios[i] > 0.0f && ratios[i] <= 1.0f)) return err_set(err, "width %g is outside (0, 1]", ratios[i]);
        int counts[MODEL_MAX_SLOTS];
        for (int s = 0; s < d->n_slots; s++) {
            int c = (int)lroundf(ratios[i] * (float)d->slot_max[s]);
            counts[s] = c < 1 ? 1 : c;
        }
        char name[32];
        snprintf(name, sizeof name, "w%.2f", ratios[i]);
        if (subnet_add(d, name, counts, err)) return -1;
    }
    return 0;
}

int subnets_groups(ModelDesc *d, int groups, Err *err) {
    if (groups < 1 || groups > MODEL_MAX_SUBNETS) return err_set(err, "--groups %d: must be 1..%d", groups, MODEL_MAX_SUBNETS);
    for (int s = 0; s < d->n_slots; s++)
        if (d->slot_max[s] % groups)
            return err_set(err, "--groups %d: slot %s has %d channels, not divisible into %d equal groups", groups,
                           d->slot_name[s], d->slot_max[s], groups);
    d->n_subnets = 0;
    for (int g = 1; g <= groups; g++) {
        int counts[MODEL_MAX_SLOTS];
        for (int s = 0; s < d->n_slots; s++) counts[s] = d->slot_max[s] / groups * g;
        char name[32];
        snprintf(name, sizeof name, "g%d", g);
        if (subnet_add(d, name, counts, err)) return -1;
    }
    return 0;
}

/* ---- channel importance and reordering ---------------------------------------------------- */

/* Floats per input channel in a weight row: K*K for convs, H*W of the input map for linears. */
static size_t input_block(const ModelDesc *d, const OpDesc *o) {
    if (o->kind == OP_CONV) return (size_t)o->k * o->k;
    const TensorDesc *t = &d->tensors[o->in0];
    return (size_t)t->h * t->w;
}

void slot_channel_importance(const Model *m, int slot, float *score) {
    const ModelDesc *d = m->d;
    memset(score, 0, sizeof(float) * (size_t)d->slot_max[slot]);
    for (int i = 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        if ((o->kind != OP_CONV && o->kind != OP_LINEAR) || d->tensors[o->out].slot != slot) continue;
        const ParamDesc *p = &d->params[o->weight];
        size_t row = p->set_numel / (size_t)p->dims[0];
        for (int c = 0; c < p->dims[0]; c++) {
            double l1 = 0.0;
            const float *w = m->param[o->weight] + (size_t)c * row;
            for (size_t j = 0; j < row; j++) l1 += fabsf(w[j]);
            score[c] += (float)(l1 / (double)row);
        }
    }
}

/* Reorders rows of `rows` x `row` floats: new row i = old row perm[i]. */
static void permute_rows(float *data, int rows, size_t row, const int *perm, float *tmp) {
    memcpy(tmp, data, sizeof(float) * (size_t)rows * row);
    for (int i = 0; i < rows; i++) memcpy(data + (size_t)i * row, tmp + (size_t)perm[i] * row, sizeof(float) * row);
}

/* Reorders blocks within each row: row r = [blocks][block]; new block i = old block perm[i]. */
static void permute_blocks(float *data, int rows, int blocks, size_t block, const int *perm, float *tmp) {
    size_t row = (size_t)blocks * block;
    for (int r = 0; r < rows; r++) {
        float *x = data + (size_t)r * row;
        memcpy(tmp, x, sizeof(float) * row);
        for (int i = 0; i < blocks; i++) memcpy(x + (size_t)i * block, tmp + (size_t)perm[i] * block, sizeof(float) * block);
    }
}

static void permute_param_rows(const ModelDesc *d, float *const *bufs, int p, const int *perm, float *tmp) {
    const ParamDesc *pd = &d->params[p];
    size_t row = pd->set_numel / (size_t)pd->dims[0];
    for (int set = 0; set < pd->sets; set++) permute_rows(bufs[p] + (size_t)set * pd->set_numel, pd->dims[0], row, perm, tmp);
}

void slot_permute_buffers(const ModelDesc *d, float *const *bufs, int slot, const int *perm) {
    size_t biggest = 0;
    for (int p = 0; p < d->n_params; p++)
        if (d->params[p].set_numel > biggest) biggest = d->params[p].set_numel;
    float *tmp = malloc(sizeof(float) * (biggest ? biggest : 1));
    if (!tmp) return;
    for (int i = 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        int out_here = d->tensors[o->out].slot == slot, in_here = d->tensors[o->in0].slot == slot;
        if (o->kind == OP_CONV || o->kind == OP_LINEAR) {
            if (out_here) {
                permute_param_rows(d, bufs, o->weight, perm, tmp);
                if (o->bias >= 0) permute_param_rows(d, bufs, o->bias, perm, tmp);
            }
            if (in_here) {
                const ParamDesc *pd = &d->params[o->weight];
                size_t block = input_block(d, o);
                int blocks = d->tensors[o->in0].c;
                for (int set = 0; set < pd->sets; set++)
                    permute_blocks(bufs[o->weight] + (size_t)set * pd->set_numel, pd->dims[0], blocks, block, perm, tmp);
            }
        } else if (o->kind == OP_BN && out_here) {
            int ps[4] = {o->gamma, o->beta, o->mean, o->var};
            for (int k = 0; k < 4; k++) permute_param_rows(d, bufs, ps[k], perm, tmp);
        }
    }
    free(tmp);
}

void slot_permute(Model *m, int slot, const int *perm) { slot_permute_buffers(m->d, m->param, slot, perm); }

typedef struct ScoredChannel {
    float score;
    int index;
} ScoredChannel;

static int by_score_desc(const void *a, const void *b) {
    const ScoredChannel *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->index - y->index; /* stable: ties keep their order */
}

void model_sort_channels_by_importance(Model *m, float *const *also) {
    const ModelDesc *d = m->d;
    for (int s = 0; s < d->n_slots; s++) {
        int n = d->slot_max[s];
        float *score = malloc(sizeof(float) * (size_t)n);
        ScoredChannel *sc = malloc(sizeof(ScoredChannel) * (size_t)n);
        int *perm = malloc(sizeof(int) * (size_t)n);
        if (score && sc && perm) {
            slot_channel_importance(m, s, score);
            for (int c = 0; c < n; c++) sc[c] = (ScoredChannel){score[c], c};
            qsort(sc, (size_t)n, sizeof *sc, by_score_desc);
            for (int c = 0; c < n; c++) perm[c] = sc[c].index;
            slot_permute(m, s, perm);
            if (also) slot_permute_buffers(d, also, s, perm);
        }
        free(score);
        free(sc);
        free(perm);
    }
}

/* ---- greedy slimming ---------------------------------------------------------------------- */

/* Loss of the model at `counts` on the held-out batch, BN on batch statistics, running stats kept;
 * the forward from op first_op (model_forward_from: the ops before it ran last at these counts). */
static double probe_loss(Model *m, const int *counts, const float *x, const int *labels, int n, int first_op) {
    const int *saved_active = m->active;
    int saved_training = m->training, saved_frozen = m->bn_stats_frozen;
    m->active = counts;
    m->training = 1;
    m->bn_stats_frozen = 1;
    model_forward_from(m, x, n, first_op);
    double loss = model_loss(m, labels, NULL);
    m->active = saved_active;
    m->training = saved_training;
    m->bn_stats_frozen = saved_frozen;
    return loss;
}

/* The fewest channels slimming may leave per slot: ceil(min_frac x width), at least 1, never above
 * `from` (subnets stay nested). */
static void slim_floor(const ModelDesc *d, const int *from, float min_frac, int *smallest) {
    for (int s = 0; s < d->n_slots; s++) {
        smallest[s] = (int)ceilf(min_frac * (float)d->slot_max[s]);
        if (smallest[s] > from[s]) smallest[s] = from[s];
        if (smallest[s] < 1) smallest[s] = 1;
    }
}

int subnet_check_macs_target(const ModelDesc *d, const int *from, double target_macs, float min_frac, Err *err) {
    int smallest[MODEL_MAX_SLOTS];
    slim_floor(d, from, min_frac, smallest);
    double floor_macs = model_subnet_macs(d, smallest);
    if (target_macs < floor_macs)
        return err_set(err, "MACs target %.3f M cannot be met: the smallest reachable subnet has %.3f M (%s)",
                       target_macs / 1e6, floor_macs / 1e6,
                       min_frac > 0.0f ? "every slot at the --min-channels floor; lower it" : "1 channel per slot");
    return 0;
}

/* The step slot s can take from `cur`: 1/div of its full width, at least one channel, but not below
 * its floor (0: the slot is at its floor). */
static int slim_step(const ModelDesc *d, const int *cur, const int *smallest, int s, int div) {
    int step = d->slot_max[s] / div;
    if (step < 1) step = 1;
    if (cur[s] - step < smallest[s]) step = cur[s] - smallest[s];
    return step;
}

/* Whether the search steps coarsely from `cur` (MACs `macs`): no slot's coarse step reaches the
 * target, so whichever slot the step takes, fine steps still follow. */
static int coarse_step_fits(const ModelDesc *d, const int *cur, const int *smallest, double macs, double target_macs,
                            int coarse_div) {
    if (coarse_div < 2 || coarse_div >= SLIM_FINE_DIV) return 0;
    int trial[MODEL_MAX_SLOTS];
    double largest_saving = 0.0;
    for (int s = 0; s < d->n_slots; s++) {
        const int step = slim_step(d, cur, smallest, s, coarse_div);
        if (step < 1) continue;
        memcpy(trial, cur, sizeof(int) * (size_t)d->n_slots);
        trial[s] -= step;
        const double saving = macs - model_subnet_macs(d, trial);
        if (saving > largest_saving) largest_saving = saving;
    }
    return macs - largest_saving > target_macs;
}

int subnet_greedy_slim(Model *m, const int *from, double target_macs, float min_frac, int coarse_div, const float *x,
                       const int *labels, int n, int *out, SlimStats *stats, Err *err) {
    const ModelDesc *d = m->d;
    if (subnet_check_macs_target(d, from, target_macs, min_frac, err)) return -1;
    const double t0 = duration_now_s();
    SlimStats cost = {0};
    int cur[MODEL_MAX_SLOTS], trial[MODEL_MAX_SLOTS], smallest[MODEL_MAX_SLOTS];
    memcpy(cur, from, sizeof(int) * (size_t)d->n_slots);
    slim_floor(d, from, min_frac, smallest);
    double macs = model_subnet_macs(d, cur);
    /* Each trial changes one slot, so its forward starts at that slot's first op (the ops before it
     * hold the base forward's outputs): trials run latest start first, so that none overwrites what a
     * later one reads; the choice below still scans the slots in order (the same ties as ever). */
    int first_op[MODEL_MAX_SLOTS], order[MODEL_MAX_SLOTS];
    for (int s = 0; s < d->n_slots; s++) {
        first_op[s] = model_slot_first_op(m, s);
        order[s] = s;
    }
    for (int i = 1; i < d->n_slots; i++) /* stable: by decreasing first op */
        for (int j = i; j > 0 && first_op[order[j - 1]] < first_op[order[j]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    while (macs > target_macs) {
        const int coarse = coarse_step_fits(d, cur, smallest, macs, target_macs, coarse_div);
        const int div = coarse ? coarse_div : SLIM_FINE_DIV;
        double base = probe_loss(m, cur, x, labels, n, 0);
        cost.trials++;
        int steps[MODEL_MAX_SLOTS];
        double trial_loss[MODEL_MAX_SLOTS], saved_macs[MODEL_MAX_SLOTS];
        for (int k = 0; k < d->n_slots; k++) {
            const int s = order[k];
            const int step = slim_step(d, cur, smallest, s, div);
            steps[s] = step;
            if (step < 1) continue;
            memcpy(trial, cur, sizeof(int) * (size_t)d->n_slots);
            trial[s] -= step;
            saved_macs[s] = macs - model_subnet_macs(d, trial);
            if (saved_macs[s] <= 0.0) continue;
            trial_loss[s] = probe_loss(m, trial, x, labels, n, first_op[s]);
            cost.trials++;
        }
        int best = -1, best_step = 0;
        double best_score = 0.0;
        for (int s = 0; s < d->n_slots; s++) {
            const int step = steps[s];
            if (step < 1 || saved_macs[s] <= 0.0) continue;
            double score = (trial_loss[s] - base) / saved_macs[s];
            if (best < 0 || score < best_score) {
                best = s;
                best_step = step;
                best_score = score;
            }
        }
        if (best < 0)
            return err_set(err, "MACs target %.3f M cannot be met: no slot can lose more channels", target_macs / 1e6);
        cur[best] -= best_step;
        macs = model_subnet_macs(d, cur);
        cost.steps++;
        cost.coarse_steps += coarse;
    }
    memcpy(out, cur, sizeof(int) * (size_t)d->n_slots);
    if (stats) {
        stats->steps += cost.steps;
        stats->coarse_steps += cost.coarse_steps;
        stats->trials += cost.trials;
        stats->seconds += duration_now_s() - t0;
    }
    return 0;
}

/* ---- BN re-calibration -------------------------------------------------------------------- */

int model_recalibrate_bn(Model *m, const Dataset *train, int batches, uint64_t seed, Err *err) {
    int bs = m->max_batch;
    if (batches < 1) return err_set(err, "BN re-calibration needs at least one batch");
    if (train->n < bs) bs = train->n;
    size_t per = (size_t)train->c * train->h * train->w;
    float *x = aligned_calloc((size_t)bs * per * sizeof(float));
    int *labels = malloc(sizeof(int) * (size_t)bs), *order = malloc(sizeof(int) * (size_t)train->n);
    if (!x || !labels || !order) {
        free(x);
        free(labels);
        free(order);
        return err_set(err, "out of memory for BN re-calibration");
    }
    for (int i = 0; i < train->n; i++) order[i] = i;
    Rng r;
    rng_derive(&r, seed, 0xBCA1ULL, 0);
    rng_shuffle(&r, order, train->n);
    int saved_training = m->training, saved_frozen = m->bn_stats_frozen;
    float saved_momentum = m->bn_momentum;
    m->training = 1;
    m->bn_stats_frozen = 0;
    for (int b = 0; b < batches; b++) {
        int start = (int)(((long)b * bs) % (train->n - bs + 1));
        batch_assemble(x, labels, train, order + start, bs, NULL, m->d->norm_mean, m->d->norm_std, 0, 0, 0);
        m->bn_momentum = 1.0f / (float)(b + 1); /* running = exact mean of the batch statistics so far */
        model_forward(m, x, bs);
    }
    m->training = saved_training;
    m->bn_stats_frozen = saved_frozen;
    m->bn_momentum = saved_momentum;
    free(x);
    free(labels);
    free(order);
    return 0;
}
