/* nn/batchnorm.c — batch normalization over N*H*W per channel, with an optional fused ReLU.
 * Channels are independent, so the OpenMP loop over channels gives thread-count-independent bits.
 * Sums over the batch are accumulated per image plane in float (vec.h) and across planes in double. */
#include "nn/layers.h"

#include <math.h>
#include <string.h>

#include "nn/vec.h"

#define PLANE(base, s, n, c) ((base) + ((size_t)(n) * (s)->c + (c)) * (s)->hw)

/* y = x * scale + shift over one plane, then max(0, .) when relu. */
static inline void affine_plane(float *y, const float *x, int hw, float scale, float shift, int relu) {
    if (relu)
        for (int i = 0; i < hw; i++) {
            float v = x[i] * scale + shift;
            y[i] = v > 0.0f ? v : 0.0f;
        }
    else
        for (int i = 0; i < hw; i++) y[i] = x[i] * scale + shift;
}

void batchnorm_forward_train(float *out, float *save_mean, float *save_invstd, const float *in,
                             const float *gamma, const float *beta, float *running_mean, float *running_var,
                             const BnShape *s) {
    const double m = (double)s->n * s->hw;
#pragma omp parallel for schedule(static)
    for (int c = s->c_begin; c < (s->c_end ? s->c_end : s->c); c++) {
        double sum = 0.0;
        for (int n = 0; n < s->n; n++) sum += vec_sum(PLANE(in, s, n, c), s->hw);
        float mean = (float)(sum / m);
        double sq = 0.0;
        for (int n = 0; n < s->n; n++) sq += vec_sumsq_centered(PLANE(in, s, n, c), s->hw, mean);
        double var = sq / m;
        float invstd = (float)(1.0 / sqrt(var + s->eps));
        save_mean[c] = mean;
        save_invstd[c] = invstd;
        if (running_mean) {
            double unbiased = m > 1 ? var * m / (m - 1) : var;
            running_mean[c] = (1.0f - s->momentum) * running_mean[c] + s->momentum * mean;
            running_var[c] = (1.0f - s->momentum) * running_var[c] + s->momentum * (float)unbiased;
        }
        float scale = gamma[c] * invstd, shift = beta[c] - mean * scale;
        for (int n = 0; n < s->n; n++) affine_plane(PLANE(out, s, n, c), PLANE(in, s, n, c), s->hw, scale, shift, s->relu);
    }
}

void batchnorm_forward_eval(float *out, const float *in, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var, const BnShape *s) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < s->n; n++)
        for (int c = s->c_begin; c < (s->c_end ? s->c_end : s->c); c++) {
            float invstd = 1.0f / sqrtf(running_var[c] + s->eps);
            float scale = gamma[c] * invstd, shift = beta[c] - running_mean[c] * scale;
            affine_plane(PLANE(out, s, n, c), PLANE(in, s, n, c), s->hw, scale, shift, s->relu);
        }
}

void batchnorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout, const float *out,
                        const float *in, const float *save_mean, const float *save_invstd, const float *gamma,
                        const BnShape *s, int accumulate) {
    const double m = (double)s->n * s->hw;
#pragma omp parallel for schedule(static)
    for (int c = s->c_begin; c < (s->c_end ? s->c_end : s->c); c++) {
        const float mean = save_mean[c], invstd = save_invstd[c];
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (int n = 0; n < s->n; n++) {
            const float *x = PLANE(in, s, n, c), *dy = PLANE(dout, s, n, c), *y = PLANE(out, s, n, c);
            float a, b;
            vec_sum_grad_centered(dy, s->relu ? y : NULL, x, s->hw, mean, &a, &b);
            sum_dy += a;
            sum_dy_xhat += (double)b * invstd;
        }
        dgamma[c] += (float)sum_dy_xhat;
        dbeta[c] += (float)sum_dy;
        if (!dinp) continue;
        const float k = (float)(gamma[c] * invstd / m);
        const float mdy = (float)sum_dy, mxh = (float)sum_dy_xhat, fm = (float)m;
        for (int n = 0; n < s->n; n++) {
            const float *x = PLANE(in, s, n, c), *dy = PLANE(dout, s, n, c), *y = PLANE(out, s, n, c);
            float *dx = PLANE(dinp, s, n, c);
            if (s->relu && accumulate) {
                for (int i = 0; i < s->hw; i++) dx[i] += k * (fm * (y[i] > 0.0f ? dy[i] : 0.0f) - mdy - (x[i] - mean) * invstd * mxh);
            } else if (s->relu) {
                for (int i = 0; i < s->hw; i++) dx[i] = k * (fm * (y[i] > 0.0f ? dy[i] : 0.0f) - mdy - (x[i] - mean) * invstd * mxh);
            } else if (accumulate) {
                for (int i = 0; i < s->hw; i++) dx[i] += k * (fm * dy[i] - mdy - (x[i] - mean) * invstd * mxh);
            } else {
                for (int i = 0; i < s->hw; i++) dx[i] = k * (fm * dy[i] - mdy - (x[i] - mean) * invstd * mxh);
            }
        }
    }
}
