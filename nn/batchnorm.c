/* nn/batchnorm.c — batch normalization over N*H*W per channel, with an optional fused ReLU.
 * Sums over the batch are accumulated per image plane in float (vec.h) and across planes in double,
 * per channel in image order, so the bits do not depend on the thread count. Passes over whole
 * tensors (the elementwise outputs, the gradient sums) run in memory order, images then channels:
 * per-channel passes jump between planes a whole image apart and reached a third of the bandwidth.
 * Each plane is processed over its span (layers.h): in padded planes that includes one zero border
 * float per row, which adds nothing to the sums (the centered sum of squares is corrected for it)
 * and is zeroed again in the outputs. The passes over planes (the affine, the backward's sums and
 * input gradient) are the kernel set's (nn/bn_kernels.h): as wide as its vectors. */
#include "nn/layers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/bn_kernels.h"
#include "nn/kernel_set.h"
#include "nn/vec.h"

/* The layout of s's planes. */
static Planes bn_planes(const BnShape *s) { return s->planes.stride ? s->planes : planes_compact(1, s->hw); }

/* Plane (n, c) of a tensor [n][s->c] in layout pl: its start, and its span's start. */
#define PLANE0(base, s, pl, n, c) ((base) + ((size_t)(n) * (s)->c + (c)) * (pl)->stride)
#define PLANE(base, s, pl, n, c) (PLANE0(base, s, pl, n, c) + planes_span_begin(pl))

/* y = x * scale + shift (+ r), then max(0, .) when relu: the kernel set's (nn/kernel_set.h), so that
 * its rounding is the fused conv epilogue's (an inference BN folded into the conv gives the same bits). */
static inline void affine_plane(float *y, const float *x, const float *r, size_t len, float scale, float shift,
                                int relu) {
    kernel_set()->affine_plane(y, x, r, len, scale, shift, relu);
}

void batchnorm_forward_train(float *out, float *save_mean, float *save_invstd, const float *in,
                             const float *gamma, const float *beta, float *running_mean, float *running_var,
                             const BnShape *s) {
    batchnorm_forward_train_fused(out, save_mean, save_invstd, in, NULL, NULL, gamma, beta, running_mean,
                                  running_var, s);
}

/* Mean and variance of channel c: from the per-image sums when given (one pass, in double), else
 * two passes over the planes (the centered sum of squares; the second in reverse, so the planes
 * read last are still cached). */
static void channel_stats(const float *in, const float *sums, const BnShape *s, const Planes *pl, int c,
                          double *mean_out, double *var_out) {
    const double m = (double)s->n * s->hw;
    const size_t len = planes_span_len(pl);
    if (sums) {
        double sum = 0.0, sq = 0.0;
        for (int n = 0; n < s->n; n++) {
            sum += sums[((size_t)n * s->c + c) * 2];
            sq += sums[((size_t)n * s->c + c) * 2 + 1];
        }
        double mean = sum / m, var = sq / m - mean * mean;
        *mean_out = mean;
        *var_out = var > 0.0 ? var : 0.0;
        return;
    }
    double sum = 0.0;
    for (int n = 0; n < s->n; n++) sum += vec_sum(PLANE(in, s, pl, n, c), len);
    float mean = (float)(sum / m);
    double sq = 0.0;
    for (int n = s->n - 1; n >= 0; n--) sq += vec_sumsq_centered(PLANE(in, s, pl, n, c), len, mean);
    sq -= (double)s->n * planes_span_zeros(pl) * mean * mean; /* the border zeros' (0 - mean)^2 */
    *mean_out = mean;
    *var_out = sq > 0.0 ? sq / m : 0.0;
}

void batchnorm_forward_train_fused(float *out, float *save_mean, float *save_invstd, const float *in,
                                   const float *residual, const float *sums, const float *gamma,
                                   const float *beta, float *running_mean, float *running_var, const BnShape *s) {
    const double m = (double)s->n * s->hw;
    const Planes pl = bn_planes(s);
    const size_t len = planes_span_len(&pl);
    const int c0 = s->c_begin, c1 = s->c_end ? s->c_end : s->c;
    float scale[c1 > c0 ? c1 - c0 : 1], shift[c1 > c0 ? c1 - c0 : 1];
#pragma omp parallel
    {
#pragma omp for schedule(static)
        for (int c = c0; c < c1; c++) {
            double mean_d, var;
            channel_stats(in, sums, s, &pl, c, &mean_d, &var);
            float mean = (float)mean_d;
            float invstd = (float)(1.0 / sqrt(var + s->eps));
            save_mean[c] = mean;
            save_invstd[c] = invstd;
            if (running_mean) {
                double unbiased = m > 1 ? var * m / (m - 1) : var;
                running_mean[c] = (1.0f - s->momentum) * running_mean[c] + s->momentum * mean;
                running_var[c] = (1.0f - s->momentum) * running_var[c] + s->momentum * (float)unbiased;
            }
            scale[c - c0] = gamma[c] * invstd;
            shift[c - c0] = beta[c] - mean * scale[c - c0];
        }
        /* the elementwise pass in memory order (images, then channels): long sequential streams */
#pragma omp for schedule(static)
        for (int n = 0; n < s->n; n++)
            for (int c = c0; c < c1; c++) {
                affine_plane(PLANE(out, s, &pl, n, c), PLANE(in, s, &pl, n, c),
                             residual ? PLANE(residual, s, &pl, n, c) : NULL, len, scale[c - c0], shift[c - c0],
                             s->relu);
                planes_zero_borders(PLANE0(out, s, &pl, n, c), &pl);
            }
    }
}

void batchnorm_forward_eval(float *out, const float *in, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var, const BnShape *s) {
    const Planes pl = bn_planes(s);
#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < s->n; n++)
        for (int c = s->c_begin; c < (s->c_end ? s->c_end : s->c); c++) {
            float invstd = 1.0f / sqrtf(running_var[c] + s->eps);
            float scale = gamma[c] * invstd, shift = beta[c] - running_mean[c] * scale;
            affine_plane(PLANE(out, s, &pl, n, c), PLANE(in, s, &pl, n, c), NULL, planes_span_len(&pl), scale,
                         shift, s->relu);
            planes_zero_borders(PLANE0(out, s, &pl, n, c), &pl);
        }
}

void batchnorm_backward_sums(float *sums, const float *dout, const float *out, const float *in,
                             const float *save_mean, const BnShape *s) {
    const Planes pl = bn_planes(s);
    const size_t len = planes_span_len(&pl);
    const int c0 = s->c_begin, c1 = s->c_end ? s->c_end : s->c;
    const Conv3x3Kernels *ks = kernel_set();
#pragma omp parallel for schedule(static)
    for (int n = 0; n < s->n; n++) /* memory order: long sequential streams */
        for (int c = c0; c < c1; c++) {
            float *ab = sums + ((size_t)n * s->c + c) * 2; /* dout is zero on the span's border floats */
            ks->bn_grad_sums(PLANE(dout, s, &pl, n, c), s->relu ? PLANE(out, s, &pl, n, c) : NULL,
                             PLANE(in, s, &pl, n, c), len, save_mean[c], &ab[0], &ab[1]);
        }
}

int batchnorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout, const float *out,
                       const float *in, const float *save_mean, const float *save_invstd, const float *gamma,
                       const BnShape *s, int accumulate) {
    float *sums = malloc(sizeof(float) * 2 * (size_t)s->n * s->c);
    if (!sums) return -1;
    batchnorm_backward_sums(sums, dout, out, in, save_mean, s);
    batchnorm_backward_fused(dinp, NULL, sums, dgamma, dbeta, dout, out, in, save_mean, save_invstd, gamma, s,
                             accumulate, 0);
    free(sums);
    return 0;
}

void batchnorm_backward_fused(float *dinp, float *dres, const float *sums, float *dgamma, float *dbeta,
                              const float *dout, const float *out, const float *in, const float *save_mean,
                              const float *save_invstd, const float *gamma, const BnShape *s, int accumulate,
                              int accumulate_res) {
    const double m = (double)s->n * s->hw;
    const Planes pl = bn_planes(s);
    const size_t len = planes_span_len(&pl);
    const int c0 = s->c_begin, c1 = s->c_end ? s->c_end : s->c;
    float sum_g[c1 > c0 ? c1 - c0 : 1], sum_gxhat[c1 > c0 ? c1 - c0 : 1];
    const Conv3x3Kernels *ks = kernel_set();
#pragma omp parallel
    {
#pragma omp for schedule(static)
        for (int c = c0; c < c1; c++) {
            const float invstd = save_invstd[c];
            double sum_dy = 0.0, sum_dy_xhat = 0.0;
            for (int n = 0; n < s->n; n++) {
                sum_dy += sums[((size_t)n * s->c + c) * 2];
                sum_dy_xhat += (double)sums[((size_t)n * s->c + c) * 2 + 1] * invstd;
            }
            dgamma[c] += (float)sum_dy_xhat;
            dbeta[c] += (float)sum_dy;
            sum_g[c - c0] = (float)sum_dy;
            sum_gxhat[c - c0] = (float)sum_dy_xhat;
        }
        /* the input gradient in memory order (images, then channels), in reverse: the planes the
         * sums read last are still cached. (A BN always has an input gradient when it has a
         * residual.) */
        const int res = dres ? (accumulate_res ? BN_RES_ADD : BN_RES_WRITE) : BN_RES_NONE;
        const float fm = (float)m;
#pragma omp for schedule(static)
        for (int r = 0; r < (dinp ? s->n : 0); r++) {
            const int n = s->n - 1 - r;
            for (int c = c0; c < c1; c++) {
                const float mean = save_mean[c], invstd = save_invstd[c];
                const float k = (float)(gamma[c] * invstd / m);
                ks->bn_backward_plane(PLANE(dinp, s, &pl, n, c), dres ? PLANE(dres, s, &pl, n, c) : NULL,
                                      PLANE(dout, s, &pl, n, c), PLANE(out, s, &pl, n, c), PLANE(in, s, &pl, n, c),
                                      len, k, fm, sum_g[c - c0], sum_gxhat[c - c0], mean, invstd, !!s->relu,
                                      !!accumulate, res);
                planes_zero_borders(PLANE0(dinp, s, &pl, n, c), &pl);
                if (dres && !accumulate_res) planes_zero_borders(PLANE0(dres, s, &pl, n, c), &pl);
            }
        }
    }
}
