/* nn/pool.c — max pooling (with argmax for backward) and global average pooling. */
#include "nn/layers.h"

#include <float.h>
#include <string.h>

void pool_shape_finish(PoolShape *s) {
    s->ho = (s->h + 2 * s->pad - s->k) / s->stride + 1;
    s->wo = (s->w + 2 * s->pad - s->k) / s->stride + 1;
}

void maxpool_forward(float *out, int *argmax, const float *in, const PoolShape *s) {
    const int planes = s->n * s->c;
#pragma omp parallel for schedule(static)
    for (int pl = 0; pl < planes; pl++) {
        const float *x = in + (size_t)pl * s->h * s->w;
        float *y = out + (size_t)pl * s->ho * s->wo;
        int *am = argmax ? argmax + (size_t)pl * s->ho * s->wo : NULL;
        for (int oy = 0; oy < s->ho; oy++)
            for (int ox = 0; ox < s->wo; ox++) {
                float best = -FLT_MAX;
                int best_at = -1;
                for (int ky = 0; ky < s->k; ky++) {
                    int iy = oy * s->stride - s->pad + ky;
                    if (iy < 0 || iy >= s->h) continue;
                    for (int kx = 0; kx < s->k; kx++) {
                        int ix = ox * s->stride - s->pad + kx;
                        if (ix < 0 || ix >= s->w) continue;
                        float v = x[iy * s->w + ix];
                        if (best_at < 0 || v > best) {
                            best = v;
                            best_at = iy * s->w + ix;
                        }
                    }
                }
                y[oy * s->wo + ox] = best_at < 0 ? 0.0f : best;
                if (am) am[oy * s->wo + ox] = best_at;
            }
    }
}

void maxpool_backward(float *dinp, const float *dout, const int *argmax, const PoolShape *s, int accumulate) {
    const int planes = s->n * s->c;
#pragma omp parallel for schedule(static)
    for (int pl = 0; pl < planes; pl++) {
        float *dx = dinp + (size_t)pl * s->h * s->w;
        const float *dy = dout + (size_t)pl * s->ho * s->wo;
        const int *am = argmax + (size_t)pl * s->ho * s->wo;
        if (!accumulate) memset(dx, 0, sizeof(float) * s->h * s->w);
        for (int i = 0; i < s->ho * s->wo; i++)
            if (am[i] >= 0) dx[am[i]] += dy[i];
    }
}

void gap_forward(float *out, const float *in, int n, int c, const Planes *p) {
    const float inv = 1.0f / (float)(p->h * p->w);
    const size_t begin = planes_span_begin(p), len = planes_span_len(p);
#pragma omp parallel for schedule(static)
    for (int pl = 0; pl < n * c; pl++) {
        const float *x = in + (size_t)pl * p->stride + begin; /* the span's border floats are zero */
        float s = 0.0f;
        for (size_t i = 0; i < len; i++) s += x[i];
        out[pl] = s * inv;
    }
}

void gap_backward(float *dinp, const float *dout, int n, int c, const Planes *p, int accumulate) {
    const float inv = 1.0f / (float)(p->h * p->w);
    const size_t begin = planes_span_begin(p), len = planes_span_len(p);
#pragma omp parallel for schedule(static)
    for (int pl = 0; pl < n * c; pl++) {
        float *dx = dinp + (size_t)pl * p->stride + begin;
        float g = dout[pl] * inv;
        if (accumulate)
            for (size_t i = 0; i < len; i++) dx[i] += g;
        else
            for (size_t i = 0; i < len; i++) dx[i] = g;
        planes_zero_borders(dinp + (size_t)pl * p->stride, p);
    }
}
