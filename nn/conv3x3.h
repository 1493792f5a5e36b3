/* nn/conv3x3.h — direct 3x3 pad-1 convolution kernels (see conv3x3.c): forward at stride 1 and 2,
 * backward at stride 1; conv2d.c routes eligible layers here. Same conventions as layers.h (compact
 * active channels, w_row stride). The kernels come in kernel sets (nn/kernel_set.h: on x86-64 one per
 * instruction set, chosen at run time); the functions below run the chosen set's (nn/kernel_set.c). */
#ifndef DYNN_NN_CONV3X3_H
#define DYNN_NN_CONV3X3_H

#include <stddef.h>
#include "nn/layers.h"

/* Whether the forward (stride 1 or 2) / the backward (stride 1) has a direct kernel for s. */
int conv3x3_direct_applies(const ConvShape *s);
int conv3x3_backward_applies(const ConvShape *s);
size_t conv3x3_workspace_floats(const ConvShape *s, int threads);
/* Floats per plane of the padded layout (layers.h) for [h][w] planes. */
/* A buffer of padded planes needs this many floats of slack after its last plane, holding finite
 * values: the kernels read past a plane's end for positions whose results they drop. */
#define CONV3X3_OVERREAD_FLOATS 64
size_t conv3x3_padded_plane_floats(int h, int w);
/* Offset of value (0, 0) in a padded plane (64-byte aligned when the plane is). */
int conv3x3_padded_origin(int h, int w);
void conv3x3_forward(float *out, const float *in, const float *weight, const ConvShape *s, float *ws);
/* The same with a per-output-channel affine (an inference-mode BN folded in) and optional ReLU
 * applied as the outputs are written: out = relu?(conv * scale[c] + shift[c]). */
void conv3x3_forward_affine(float *out, const float *in, const float *weight, const ConvShape *s, float *ws,
                            const float *scale, const float *shift, int relu);
/* The forward, also storing each image's per-output-channel sum and sum of squares of the outputs
 * in sums [n][cout][2] (a following BN's batch statistics, without reading the outputs again). */
void conv3x3_forward_sums(float *out, const float *in, const float *weight, const ConvShape *s, float *ws,
                          float *sums);
/* Backward, stride 1 only. dinp (= or += when accumulate) = full correlation of dout with the flipped, transposed weights. */
void conv3x3_backward_data(float *dinp, const float *dout, const float *weight, const ConvShape *s, float *ws,
                           int accumulate);

/* When the input gradient is the output gradient dy of a BN (its input x, output y, all in padded
 * planes of one layout): the BN backward's sums, computed as the gradient is written, and the
 * gradient written as g (dy masked by the ReLU, zero outside the values), which is all the BN
 * backward reads of it: it need not read y again. */
typedef struct Conv3x3BnGrad {
    const float *x, *y;  /* the BN's input, and its output (or the residual add's, when fused) */
    const float *mean;   /* the BN's batch mean per channel */
    int relu;            /* g = dy masked by y > 0 (else g = dy) */
    float *sums;         /* out: [n][cin][2] per image and channel: sum g, sum g (x - mean) */
} Conv3x3BnGrad;
/* conv3x3_backward_data, also computing bn's sums (dinp in padded planes); bn NULL: none. */
void conv3x3_backward_data_bn(float *dinp, const float *dout, const float *weight, const ConvShape *s, float *ws,
                              int accumulate, const Conv3x3BnGrad *bn);
/* conv2d_backward, with bn's sums from the input gradient (bn only for shapes where
 * conv3x3_backward_applies, padded input; NULL: none). */
void conv2d_backward_bn(float *dinp, float *dweight, const float *dout, const float *in, const float *weight,
                        const ConvShape *s, float *ws, int accumulate, const Conv3x3BnGrad *bn);

/* dweight (row stride w_row) += gradient of the weights; independent of the thread count. */
void conv3x3_backward_weight(float *dweight, const float *dout, const float *in, const ConvShape *s, float *ws);

/* One compiled kernel set: nn/conv3x3.c built for an instruction set (its table is
 * conv3x3_kernels_NAME). The padded layout (plane size, origin) is the set's too: one process uses
 * one set for every model it builds. */
typedef struct Conv3x3Kernels {
    const char *name;         /* "avx512", "avx2", "sse2", "native" (a cross target's one set) */
    const char *isa;          /* for people: "AVX-512", "AVX2+FMA", "SSE2", "NEON", "NEON (armv7)" */
    int vector_floats;        /* floats per vector register */
    size_t (*workspace_floats)(const ConvShape *s, int threads);
    size_t (*padded_plane_floats)(int h, int w);
    int (*padded_origin)(int h, int w);
    void (*forward_affine)(float *out, const float *in, const float *weight, const ConvShape *s, float *ws,
                           const float *scale, const float *shift, int relu);
    void (*forward)(float *out, const float *in, const float *weight, const ConvShape *s, float *ws);
    void (*forward_sums)(float *out, const float *in, const float *weight, const ConvShape *s, float *ws, float *sums);
    void (*backward_data_bn)(float *dinp, const float *dout, const float *weight, const ConvShape *s, float *ws,
                             int accumulate, const Conv3x3BnGrad *bn);
    void (*backward_weight)(float *dweight, const float *dout, const float *in, const ConvShape *s, float *ws);
    /* a BN's passes over one plane (nn/bn_kernels.h): the affine (rounded as the forward_affine
     * epilogue rounds it), the backward's sums and its input gradient */
    void (*affine_plane)(float *y, const float *x, const float *r, size_t len, float scale, float shift, int relu);
    void (*bn_grad_sums)(const float *dy, const float *y, const float *x, size_t len, float mean, float *sum_g,
                         float *sum_gx);
    void (*bn_backward_plane)(float *dx, float *dres, const float *dy, const float *y, const float *x, size_t len,
                              float k, float m, float sum_g, float sum_gxhat, float mean, float invstd, int relu,
                              int acc, int res);
} Conv3x3Kernels;

#endif
