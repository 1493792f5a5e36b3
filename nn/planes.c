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

/* c planes of h rows of w floats: dst (plane stride dst_plane, row stride dst_row) = src (likewise). */
static void copy_rows(float *dst, size_t dst_plane, int dst_row, const float *src, size_t src_plane, int src_row,
                      int c, int h, int w) {
    if (dst_row == w && src_row == w && dst_plane == (size_t)h * w && src_plane == dst_plane) { /* compact */
        memcpy(dst, src, sizeof(float) * dst_plane * c);
        return;
    }
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < h; y++)
            memcpy(dst + ch * dst_plane + (size_t)y * dst_row, src + ch * src_plane + (size_t)y * src_row,
                   sizeof(float) * w);
}

void planes_from_compact(float *dst, const Planes *p, const float *src, int c) {
    copy_rows(dst + p->origin, p->stride, p->row, src, (size_t)p->h * p->w, p->w, c, p->h, p->w);
    for (int ch = 0; ch < c && planes_padded_p(p); ch++) planes_zero_borders(dst + ch * p->stride, p);
}

void planes_to_compact(float *dst, const float *src, const Planes *p, int c) {
    copy_rows(dst, (size_t)p->h * p->w, p->w, src + p->origin, p->stride, p->row, c, p->h, p->w);
}
