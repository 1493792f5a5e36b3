/* nn/bn_kernels.c — a batch norm's passes over whole planes, built once per kernel set (see
 * nn/bn_kernels.h): the affine of the forward (and of an inference BN), the backward's per-plane sums
 * and its input gradient. Shapes: one plane of len floats (a span of a padded plane included, whose
 * border floats the callers zero again); no threads here (nn/batchnorm.c splits the planes). */
#include "nn/bn_kernels.h"

#ifndef DYNN_KSET
#error "nn/bn_kernels.c is compiled per kernel set: build it with -DDYNN_KSET=NAME (see the Makefile's KSETS)"
#endif

#include "nn/vec.h"

/* Rounds as conv3x3.c's forward_affine epilogue (the same expression, the same flags: fused into one
 * FMA where the set has FMA, -ffp-contract=fast), so an inference BN folded into a conv gives the same
 * bits as one applied after it. */
void BN_KERNELS_FN(affine_plane)(float *y, const float *x, const float *r, size_t len, float scale, float shift,
                                 int relu) {
    if (r && relu)
        for (size_t i = 0; i < len; i++) {
            float v = x[i] * scale + shift + r[i];
            y[i] = v > 0.0f ? v : 0.0f;
        }
    else if (r)
        for (size_t i = 0; i < len; i++) y[i] = x[i] * scale + shift + r[i];
    else if (relu)
        for (size_t i = 0; i < len; i++) {
            float v = x[i] * scale + shift;
            y[i] = v > 0.0f ? v : 0.0f;
        }
    else
        for (size_t i = 0; i < len; i++) y[i] = x[i] * scale + shift;
}

void BN_KERNELS_FN(grad_sums)(const float *dy, const float *y, const float *x, size_t len, float mean, float *sum_g,
                              float *sum_gx) {
    if (y)
        vec_sum_grad_centered(dy, y, x, len, mean, sum_g, sum_gx);
    else
        vec_sum_grad_centered(dy, NULL, x, len, mean, sum_g, sum_gx);
}

/* One combination of the flags, inlined with them constant: each is its own vectorized loop. */
static inline __attribute__((always_inline)) void plane(float *dx, float *dres, const float *dy, const float *y,
                                                        const float *x, size_t len, float k, float m, float sum_g,
                                                        float sum_gxhat, float mean, float invstd, const int relu,
                                                        const int acc, const int res) {
    for (size_t i = 0; i < len; i++) {
        /* dy loaded unconditionally: a load under the ReLU's condition vectorizes only as a masked load */
        const float d = dy[i];
        const float g = !relu || y[i] > 0.0f ? d : 0.0f;
        const float v = k * (m * g - sum_g - (x[i] - mean) * invstd * sum_gxhat);
        dx[i] = acc ? dx[i] + v : v;
        if (res != BN_RES_NONE) dres[i] = res == BN_RES_ADD ? dres[i] + g : g;
    }
}

void BN_KERNELS_FN(backward_plane)(float *dx, float *dres, const float *dy, const float *y, const float *x, size_t len,
                                   float k, float m, float sum_g, float sum_gxhat, float mean, float invstd, int relu,
                                   int acc, int res) {
    switch ((relu * 2 + acc) * 3 + res) {
/* one case per (relu, acc, res) */
#define BN_CASE(relu_, acc_, res_)                                                                             \
    case ((relu_) * 2 + (acc_)) * 3 + (res_):                                                                  \
        plane(dx, dres, dy, y, x, len, k, m, sum_g, sum_gxhat, mean, invstd, relu_, acc_, res_);              \
        break;
        BN_CASE(0, 0, 0) BN_CASE(0, 0, 1) BN_CASE(0, 0, 2)
        BN_CASE(0, 1, 0) BN_CASE(0, 1, 1) BN_CASE(0, 1, 2)
        BN_CASE(1, 0, 0) BN_CASE(1, 0, 1) BN_CASE(1, 0, 2)
        BN_CASE(1, 1, 0) BN_CASE(1, 1, 1) BN_CASE(1, 1, 2)
#undef BN_CASE
    default: break;
    }
}
