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

#endif
