/* nn/vec.h — small deterministic vector reductions (fixed lane order, so the same input gives the
 * same bits whatever the thread count; 16 partial sums let the compiler vectorize). */
#ifndef DYNN_NN_VEC_H
#define DYNN_NN_VEC_H

#include <stddef.h>

static inline float vec_sum(const float *x, size_t n) {
    float acc[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) acc[l] += x[i + l];
    float s = 0.0f;
    for (; i < n; i++) s += x[i];
    for (int l = 0; l < 16; l++) s += acc[l];
    return s;
}

/* sum (x - m)^2 */
static inline float vec_sumsq_centered(const float *x, size_t n, float m) {
    float acc[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) {
            float d = x[i + l] - m;
            acc[l] += d * d;
        }
    float s = 0.0f;
    for (; i < n; i++) s += (x[i] - m) * (x[i] - m);
    for (int l = 0; l < 16; l++) s += acc[l];
    return s;
}

/* Batch-norm backward sums over one plane: *sum_g = sum g, *sum_gx = sum g (x - m), where
 * g = dy, or dy masked by y > 0 when y is given (a fused ReLU). */
static inline void vec_sum_grad_centered(const float *dy, const float *y, const float *x, size_t n, float m,
                                         float *sum_g, float *sum_gx) {
    float a[16] = {0}, b[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) {
            float g = !y || y[i + l] > 0.0f ? dy[i + l] : 0.0f;
            a[l] += g;
            b[l] += g * (x[i + l] - m);
        }
    float sa = 0.0f, sb = 0.0f;
    for (; i < n; i++) {
        float g = !y || y[i] > 0.0f ? dy[i] : 0.0f;
        sa += g;
        sb += g * (x[i] - m);
    }
    for (int l = 0; l < 16; l++) {
        sa += a[l];
        sb += b[l];
    }
    *sum_g = sa;
    *sum_gx = sb;
}

#endif
