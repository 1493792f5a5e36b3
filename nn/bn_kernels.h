/* nn/bn_kernels.h — a batch norm's passes over whole planes (nn/bn_kernels.c), built once per kernel
 * set next to nn/conv3x3.c, whose table (Conv3x3Kernels) points at them; nn/batchnorm.c calls them
 * through kernel_set(). Built for the set's instruction set, they run as wide as its vectors (the rest
 * of nn/ is built for the x86-64 baseline: the backward's passes there ran at SSE2 width, 2-4x
 * slower than memory allowed), and they round as the set's convolution epilogues do (FMAs where it has them). */
#ifndef DYNN_NN_BN_KERNELS_H
#define DYNN_NN_BN_KERNELS_H

#include <stddef.h>

/* The functions of kernel set NAME are bn_kernels_<fn>_NAME (the file is compiled with -DDYNN_KSET=NAME). */
#define BN_KERNELS_FN3(fn, set) bn_kernels_##fn##_##set
#define BN_KERNELS_FN2(fn, set) BN_KERNELS_FN3(fn, set)
#define BN_KERNELS_FN(fn) BN_KERNELS_FN2(fn, DYNN_KSET)

/* How the backward's plane pass treats the residual's gradient (a BN fused with the add after it). */
enum { BN_RES_NONE, BN_RES_WRITE, BN_RES_ADD };

#ifdef DYNN_KSET
/* y = x * scale + shift (+ r when r is given), then max(0, .) when relu, over len floats. */
void BN_KERNELS_FN(affine_plane)(float *y, const float *x, const float *r, size_t len, float scale, float shift,
                                 int relu);
/* The backward's sums over one plane: *sum_g = sum g, *sum_gx = sum g (x - mean), g = dy, or dy masked
 * by y > 0 when y is given (a fused ReLU); 16 partial sums in a fixed order (nn/vec.h). */
void BN_KERNELS_FN(grad_sums)(const float *dy, const float *y, const float *x, size_t len, float mean, float *sum_g,
                              float *sum_gx);
/* The input gradient over one plane: g = dy (masked by y > 0 when relu);
 * dx (= or += when acc) k (m g - sum_g - (x - mean) invstd sum_gxhat); dres (res: none, = or +=) g. */
void BN_KERNELS_FN(backward_plane)(float *dx, float *dres, const float *dy, const float *y, const float *x, size_t len,
                                   float k, float m, float sum_g, float sum_gxhat, float mean, float invstd, int relu,
                                   int acc, int res);
#endif

#endif
