/* nn/elementwise.c — ReLU and residual add (with fused ReLU), forward and backward. */
#include "nn/layers.h"

void relu_forward(float *out, const float *in, size_t n) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

void relu_backward(float *dinp, const float *dout, const float *out, size_t n, int accumulate) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float d = dout[i]; /* loaded unconditionally: a select, vectorized without masked loads */
        float g = out[i] > 0.0f ? d : 0.0f;
        dinp[i] = accumulate ? dinp[i] + g : g;
    }
}

void add_forward(float *out, const float *a, const float *b, size_t n, int relu) {
    if (relu) {
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) {
            float v = a[i] + b[i];
            out[i] = v > 0.0f ? v : 0.0f;
        }
    } else {
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
    }
}

void add_backward(float *da, float *db, const float *dout, const float *out, size_t n, int relu,
                  int accumulate_a, int accumulate_b) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float d = dout[i]; /* as in relu_backward */
        float g = (!relu || out[i] > 0.0f) ? d : 0.0f;
        if (da) da[i] = accumulate_a ? da[i] + g : g;
        if (db) db[i] = accumulate_b ? db[i] + g : g;
    }
}
