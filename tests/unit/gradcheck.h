/* tests/unit/gradcheck.h — numerical gradient checking by central differences (header-only).
 *
 * A check compares an analytical gradient g[i] = dL/dx[i] against
 *   (L(x + h e_i) - L(x - h e_i)) / (2h)
 * where L = sum_j G_j * f(x)_j for a random upstream gradient G. The error measure is
 *   |num - ana| / max(|num| + |ana|, 0.05 * rms(analytic), 1e-6)
 * (relative, with a floor at 5% of the gradient's RMS so that coordinates whose gradient is tiny
 * are not judged on float32 rounding noise of L), which must stay below tol (stated by callers). */
#ifndef DYNN_TESTS_GRADCHECK_H
#define DYNN_TESTS_GRADCHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/rng.h"

typedef double (*GcLossFn)(void *ctx); /* recomputes L from the current inputs */

static inline void gc_fill_normal(float *x, size_t n, uint64_t seed, float scale) {
    Rng r;
    rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) x[i] = scale * rng_normal(&r);
}

static inline double gc_dot(const float *a, const float *b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* Checks `count` coordinates of x (every one if count >= n, else a seeded random sample) and
 * returns the worst relative error seen (the first offender beyond tol is printed).
 *
 * For functions with kinks (ReLU, max-pool, BN over tiny batches) pass `skipped`: a coordinate
 * whose one-sided differences (L(x+h)-L(x))/h and (L(x)-L(x-h))/h disagree by more than tol sits on
 * a kink within h, where no derivative exists to compare; it is skipped and counted in *skipped.
 * With skipped == NULL every coordinate is compared. */
static inline double gc_check_kinked(const char *what, float *x, const float *analytic, size_t n, size_t count,
                                     float h, double tol, GcLossFn loss, void *ctx, uint64_t seed, int *skipped) {
    Rng r;
    rng_seed(&r, seed ^ 0x5eedULL);
    double worst = 0.0, sumsq = 0.0;
    int reported = 0;
    for (size_t i = 0; i < n; i++) sumsq += (double)analytic[i] * analytic[i];
    double floor_ = 0.05 * sqrt(sumsq / (double)n);
    if (floor_ < 1e-6) floor_ = 1e-6;
    size_t todo = count >= n ? n : count;
    double l0 = skipped ? loss(ctx) : 0.0;
    for (size_t k = 0; k < todo; k++) {
        size_t i = count >= n ? k : (size_t)rng_below(&r, (uint32_t)n);
        float saved = x[i];
        x[i] = saved + h;
        double lp = loss(ctx);
        x[i] = saved - h;
        double lm = loss(ctx);
        x[i] = saved;
        if (skipped) {
            double fwd = (lp - l0) / h, bwd = (l0 - lm) / h;
            double side_denom = fabs(fwd) + fabs(bwd);
            if (side_denom < floor_) side_denom = floor_;
            if (fabs(fwd - bwd) / side_denom > tol) {
                (*skipped)++;
                continue;
            }
        }
        double num = (lp - lm) / (2.0 * h), ana = analytic[i];
        double denom = fabs(num) + fabs(ana);
        if (denom < floor_) denom = floor_;
        double rel = fabs(num - ana) / denom;
        if (rel > worst) worst = rel;
        if (rel > tol && !reported) {
            fprintf(stderr, "gradcheck %s[%zu]: numerical %.6g analytical %.6g (rel %.3g > %.3g)\n", what, i, num, ana,
                    rel, tol);
            reported = 1;
        }
    }
    return worst;
}

static inline double gc_check(const char *what, float *x, const float *analytic, size_t n, size_t count, float h,
                              double tol, GcLossFn loss, void *ctx, uint64_t seed) {
    return gc_check_kinked(what, x, analytic, n, count, h, tol, loss, ctx, seed, NULL);
}

/* ---- whole networks: L = sum G * logits for a random upstream gradient G ---------------- */
#ifdef DYNN_NN_MODEL_H
typedef struct GcNet {
    Model *m;
    float *x, *G;
    int n;
} GcNet;

static inline double gc_net_loss(void *p) {
    GcNet *c = p;
    const float *z = model_forward(c->m, c->x, c->n);
    return gc_dot(z, c->G, (size_t)c->n * c->m->d->classes);
}

/* Random input and G, one forward/backward (training-mode BN), then `per_tensor` coordinates of
 * every trainable parameter (only weights when weights_only) checked with kink detection. */
static inline double gc_network(Model *m, int n, float h, double tol, size_t per_tensor, int weights_only,
                                int *skipped, int *checked) {
    const ModelDesc *d = m->d;
    size_t in_n = (size_t)n * d->in_c * d->in_h * d->in_w, zn = (size_t)n * d->classes;
    GcNet c = {m, malloc(in_n * 4), malloc(zn * 4), n};
    gc_fill_normal(c.x, in_n, 7, 1.0f);
    gc_fill_normal(c.G, zn, 8, 1.0f);
    m->training = 1;
    model_zero_grad(m);
    gc_net_loss(&c);
    memcpy(model_dlogits(m), c.G, zn * 4);
    model_backward(m);
    double worst = 0.0;
    for (int p = 0; p < d->n_params; p++) {
        if (!d->params[p].trainable || (weights_only && d->params[p].kind != PARAM_WEIGHT)) continue;
        double e = gc_check_kinked(d->params[p].name, m->param[p], m->grad[p], d->params[p].numel, per_tensor, h, tol,
                                   gc_net_loss, &c, (uint64_t)p, skipped);
        *checked += d->params[p].numel < per_tensor ? (int)d->params[p].numel : (int)per_tensor;
        if (e > worst) worst = e;
    }
    free(c.x);
    free(c.G);
    return worst;
}
#endif

#endif
