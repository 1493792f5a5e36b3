/* nn/optim.c — SGD and learning-rate schedules (see optim.h). */
#include "nn/optim.h"

#include <math.h>
#include <string.h>

int sgd_create(Sgd *opt, const Model *m, const SgdConfig *cfg, Err *err) {
    memset(opt, 0, sizeof *opt);
    opt->cfg = *cfg;
    const ModelDesc *d = m->d;
    for (int i = 0; i < d->n_params; i++) arena_reserve(&opt->velocity_arena, d->params[i].numel);
    if (arena_commit(&opt->velocity_arena, "momentum", err)) return -1;
    for (int i = 0; i < d->n_params; i++) opt->velocity[i] = arena_take(&opt->velocity_arena, d->params[i].numel);
    return 0;
}

void sgd_free(Sgd *opt) { arena_free(&opt->velocity_arena); }

void sgd_step(Sgd *opt, Model *m, float lr, float *const *grad_mask) {
    const ModelDesc *d = m->d;
    const float mu = opt->cfg.momentum;
    for (int p = 0; p < d->n_params; p++) {
        const ParamDesc *pd = &d->params[p];
        if (!pd->trainable) continue;
        const float wd = (pd->kind == PARAM_WEIGHT || opt->cfg.decay_bn) ? opt->cfg.weight_decay : 0.0f;
        /* A parameter with one copy per subnet: only the current subnet's copy is trained. */
        size_t off = pd->sets > 1 ? (size_t)m->subnet * pd->set_numel : 0;
        float *w = m->param[p] + off, *g = m->grad[p] + off, *v = opt->velocity[p] + off;
        const float *mask = grad_mask && grad_mask[p] ? grad_mask[p] + off : NULL;
        const long n = (long)pd->set_numel;
        const int nesterov = opt->cfg.nesterov;
#pragma omp parallel for schedule(static) if (n > 4096)
        for (long j = 0; j < n; j++) {
            if (mask && mask[j] == 0.0f) continue;
            float gj = g[j] + wd * w[j];
            float vj = mu * v[j] + gj;
            v[j] = vj;
            w[j] -= lr * (nesterov ? gj + mu * vj : vj);
        }
    }
}

float lr_at(const LrSchedule *s, int iter) {
    if (s->warmup_iters > 0 && iter < s->warmup_iters) return s->base_lr * (float)(iter + 1) / (float)s->warmup_iters;
    switch (s->kind) {
    case LR_COSINE: {
        int span = s->total_iters - s->warmup_iters;
        if (span <= 0) return s->base_lr;
        double t = (double)(iter - s->warmup_iters) / span;
        if (t > 1.0) t = 1.0;
        return (float)(s->min_lr + 0.5 * (s->base_lr - s->min_lr) * (1.0 + cos(M_PI * t)));
    }
    case LR_STEP: {
        float lr = s->base_lr;
        for (int i = 0; i < s->n_milestones; i++)
            if (iter >= (int)(s->milestones[i] * s->total_iters)) lr *= s->step_gamma;
        return lr;
    }
    case LR_CONSTANT:
        break;
    }
    return s->base_lr;
}

int lr_schedule_parse(const char *name, LrScheduleKind *kind) {
    if (!strcmp(name, "cosine")) *kind = LR_COSINE;
    else if (!strcmp(name, "step")) *kind = LR_STEP;
    else if (!strcmp(name, "constant")) *kind = LR_CONSTANT;
    else return -1;
    return 0;
}
