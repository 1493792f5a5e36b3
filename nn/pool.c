/* nn/pool.c — max pooling (with argmax for backward) and global average pooling. */
#include "nn/layers.h"

#include <float.h>
#include <string.h>

void pool_shape_finish(PoolShape *s) {
    s->ho = (s->h + 2 * s->pad - s->k) / s->stride + 1;
    s->wo = (s->w + 2 * s->pad - s->k) / s->stride + 1;
}

/* One output row of one plane: window rows [ky0, ky1) of the input are inside it. The first element of
 * the window is the start, then a strictly greater one replaces it (the first maximum wins; a NaN
 * start stays), as selects rather than branches: which element wins is data-dependent, and a branch
 * on it mispredicts about once per window. */
static void maxpool_row(float *y, int *am, const float *x, const PoolShape *s, int oy, int ky0, int ky1) {
    const int w = s->w, k = s->k;
    for (int ox = 0; ox < s->wo; ox++) {
        const int ix0 = ox * s->stride - s->pad;
        const int kx0 = ix0 < 0 ? -ix0 : 0, kx1 = ix0 + k > w ? w - ix0 : k;
        if (ky0 >= ky1 || kx0 >= kx1) { /* a window wholly in the padding */
            y[ox] = 0.0f;
            if (am) am[ox] = -1;
            continue;
        }
        int at = (oy * s->stride - s->pad + ky0) * w + ix0 + kx0;
        float best = x[at];
        for (int ky = ky0; ky < ky1; ky++) {
            const int row = (oy * s->stride - s->pad + ky) * w + ix0;
            for (int kx = ky == ky0 ? kx0 + 1 : kx0; kx < kx1; kx++) {
                const float v = x[row + kx];
                const int take = v > best;
                best = take ? v : best;
                at = take ? row + kx : at;
            }
        }
        y[ox] = best;
        if (am) am[ox] = at;
    }
}

void maxpool_forward(float *out, int *argmax, const float *in, const PoolShape *s) {
    const int planes = s->n * s->c;
#pragma omp parallel for schedule(static)
    for (int pl = 0; pl < planes; pl++) {
        const float *x = in + (size_t)pl * s->h * s->w;
        float *y = out + (size_t)pl * s->ho * s->wo;
        int *am = argmax ? argmax + (size_t)pl * s->ho * s->wo : NULL;
        for (int oy = 0; oy < s->ho; oy++) {
            const int iy0 = oy * s->stride - s->pad;
            const int ky0 = iy0 < 0 ? -iy0 : 0, ky1 = iy0 + s->k > s->h ? s->h - iy0 : s->k;
            maxpool_row(y + (size_t)oy * s->wo, am ? am + (size_t)oy * s->wo : NULL, x, s, oy, ky0, ky1);
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
