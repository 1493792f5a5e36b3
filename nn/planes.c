/* nn/planes.c — the two plane layouts of activation tensors (compact and padded, see layers.h):
 * constructors, keeping a padded plane's borders zero, and conversion between the layouts. */
#include "nn/layers.h"

#include <string.h>

#include "nn/conv3x3.h"

Planes planes_compact(int h, int w) {
    Planes p = {.h = h, .w = w, .row = w, .origin = 0, .stride = (size_t)h * w};
    return p;
}

Planes planes_padded(int h, int w) {
    Planes p = {.h = h, .w = w, .row = w + 1, .origin = conv3x3_padded_origin(h, w),
                .stride = conv3x3_padded_plane_floats(h, w)};
    return p;
}

Planes planes_of(int h, int w, int padded) { return padded ? planes_padded(h, w) : planes_compact(h, w); }

/* Non-values of a padded plane: [0, origin), the border after each row but the last, and
 * [origin + (h-1)*row + w, stride) (the last row's border, the bottom row and the rounding). */
void planes_zero_borders(float *plane, const Planes *p) {
    if (!planes_padded_p(p)) return;
    memset(plane, 0, sizeof(float) * p->origin);
    for (int y = 0; y + 1 < p->h; y++) plane[p->origin + (size_t)y * p->row + p->w] = 0.0f;
    size_t end = p->origin + (size_t)(p->h - 1) * p->row + p->w;
    memset(plane + end, 0, sizeof(float) * (p->stride - end));
}

void planes_from_compact(float *dst, const Planes *p, const float *src, int c) {
    const size_t hw = (size_t)p->h * p->w;
    if (!planes_padded_p(p)) {
        memcpy(dst, src, sizeof(float) * hw * c);
        return;
    }
    for (int ch = 0; ch < c; ch++) {
        float *d = dst + (size_t)ch * p->stride;
        const float *s = src + (size_t)ch * hw;
        for (int y = 0; y < p->h; y++) memcpy(d + p->origin + (size_t)y * p->row, s + (size_t)y * p->w, sizeof(float) * p->w);
        planes_zero_borders(d, p);
    }
}

void planes_to_compact(float *dst, const float *src, const Planes *p, int c) {
    const size_t hw = (size_t)p->h * p->w;
    if (!planes_padded_p(p)) {
        memcpy(dst, src, sizeof(float) * hw * c);
        return;
    }
    for (int ch = 0; ch < c; ch++) {
        const float *s = src + (size_t)ch * p->stride + p->origin;
        for (int y = 0; y < p->h; y++) memcpy(dst + (size_t)ch * hw + (size_t)y * p->w, s + (size_t)y * p->row, sizeof(float) * p->w);
    }
}
