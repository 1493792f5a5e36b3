/* nn/winograd3x3.h — the Winograd F(2x2, 3x3) forward of 3x3 / pad 1 / stride 1 convolutions
 * (nn/winograd3x3.c), built once per kernel set next to nn/conv3x3.c, which routes the forwards to it
 * where conv3x3.c's winograd_chosen says so (conv3x3.h's functions are the entry points). Same
 * conventions as layers.h: compact active channels, w_row weight stride, compact or padded planes. */
#ifndef DYNN_NN_WINOGRAD3X3_H
#define DYNN_NN_WINOGRAD3X3_H

#include <stddef.h>
#include <stdint.h>
#include "nn/conv3x3.h"

/* What happens to each output on its way out (conv3x3.c's epilogues): out = relu?(v * scale[c] + shift[c])
 * when scale is set; with sums (and no bn), each image's per-channel sum and sum of squares go to
 * sums [n][c][2]; accumulate adds to the destination; with bn (the input gradient of a conv after a BN,
 * destination in padded planes), the written gradient is bn's g and sums gets bn's sums (Conv3x3BnGrad),
 * x_off / y_off being the offsets of bn->x / bn->y from the destination. */
typedef struct Winograd3x3Epilogue {
    const float *scale, *shift;
    int relu;
    float *sums;
    int accumulate;
    const Conv3x3BnGrad *bn;
    ptrdiff_t x_off, y_off;
} Winograd3x3Epilogue;

/* The functions of kernel set NAME are winograd3x3_<fn>_NAME (the file is compiled with -DDYNN_KSET=NAME). */
#define WINOGRAD3X3_FN3(fn, set) winograd3x3_##fn##_##set
#define WINOGRAD3X3_FN2(fn, set) WINOGRAD3X3_FN3(fn, set)
#define WINOGRAD3X3_FN(fn) WINOGRAD3X3_FN2(fn, DYNN_KSET)

#ifdef DYNN_KSET
/* Independent work items of the forward of s (chunks of tile rows; the threads take whole ones). */
int WINOGRAD3X3_FN(chunks)(const ConvShape *s);
/* Scratch floats the forward of s needs with `threads` threads. */
size_t WINOGRAD3X3_FN(workspace_floats)(const ConvShape *s, int threads);
/* out[n][cout][h][w] = 3x3 pad-1 correlation of in[n][cin][h][w] with weight, through e. */
void WINOGRAD3X3_FN(forward)(float *out, const float *in, const float *weight, const ConvShape *s, float *ws,
                             const Winograd3x3Epilogue *e);
/* dinp (through e: written, accumulated, or a BN's g) = full correlation of dout with the flipped,
 * transposed weights. */
void WINOGRAD3X3_FN(backward_data)(float *dinp, const float *dout, const float *weight, const ConvShape *s, float *ws,
                                   const Winograd3x3Epilogue *e);
/* dweight (row stride w_row) += the weight gradient; the same for any thread count. */
void WINOGRAD3X3_FN(backward_weight)(float *dweight, const float *dout, const float *in, const ConvShape *s,
                                     float *ws);
#endif

#endif
