/* nn/layers.h — the layer kernels as forward/backward pairs (llm.c style).
 *
 * Tensors are float32 NCHW and compact for the *active* channels: a subnet that runs a layer on its
 * leading k of C channels stores activations as [N][k][H][W]. Weights keep their full shape and a
 * layer reads the leading block through a row stride (prefix view, no copy):
 *   conv weight  [Cout_max][Cin_max][K][K]  -> active block rows 0..cout, columns 0..cin*K*K,
 *                                              row stride w_row = Cin_max*K*K
 *   linear weight [O_max][I_max]            -> rows 0..o, columns 0..i, row stride I_max
 * Backward functions ACCUMULATE parameter gradients (+=) so several passes (e.g. several subnet
 * widths) can sum into one optimizer step; input gradients are written (accumulate = 0) or added
 * (accumulate = 1) as the caller asks, which handles tensors read by two layers. */
#ifndef DYNN_NN_LAYERS_H
#define DYNN_NN_LAYERS_H

#include <stddef.h>

/* ---- conv2d (no bias): im2col + sgemm --------------------------------------------------- */
typedef struct ConvShape {
    int n, cin, h, w;       /* input [n][cin][h][w] (cin = active input channels) */
    int cout, k, stride, pad;
    int ho, wo;             /* output [n][cout][ho][wo] */
    int w_row;              /* weight row stride in floats (Cin_max*K*K) */
    int threads;            /* threads to use (scratch must be sized for at least this many) */
} ConvShape;

/* Fills ho/wo from the others. */
void conv_shape_finish(ConvShape *s);

/* Floats of scratch memory conv2d_forward/backward need with `threads` threads. */
size_t conv2d_workspace_floats(const ConvShape *s, int threads);

/* out[n][cout][ho][wo] = sum_{ci,ky,kx} weight[co][ci][ky][kx] * in[n][ci][y*s-p+ky][x*s-p+kx] */
void conv2d_forward(float *out, const float *in, const float *weight, const ConvShape *s, float *ws);
/* dweight += dout (x) in; dinp (=, or += if accumulate; NULL to skip) = weight^T * dout. */
void conv2d_backward(float *dinp, float *dweight, const float *dout, const float *in,
                     const float *weight, const ConvShape *s, float *ws, int accumulate);

/* ---- batch normalization (per channel over N*H*W), optional fused ReLU ------------------ */
typedef struct BnShape {
    int n, c, hw;   /* tensor [n][c][hw] */
    int c_begin;    /* process channels [c_begin, c_end) only; planes are strided by c */
    int c_end;      /* 0: c */
    float eps;      /* 1e-5 */
    float momentum; /* running = (1-momentum)*running + momentum*batch, 0.1 */
    int relu;       /* 1: out = max(0, bn(x)) */
} BnShape;

/* Training: batch statistics; saves mean[c], invstd[c]; updates running stats (unbiased var)
 * when running_mean != NULL. */
void batchnorm_forward_train(float *out, float *save_mean, float *save_invstd, const float *in,
                             const float *gamma, const float *beta, float *running_mean,
                             float *running_var, const BnShape *s);
/* Evaluation: running statistics. */
void batchnorm_forward_eval(float *out, const float *in, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var, const BnShape *s);
/* out is the forward output (used for the fused ReLU mask). dgamma/dbeta accumulate. */
void batchnorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout, const float *out,
                        const float *in, const float *save_mean, const float *save_invstd,
                        const float *gamma, const BnShape *s, int accumulate);

/* ---- ReLU ---------------------------------------------------------------------------------- */
void relu_forward(float *out, const float *in, size_t n);
/* dinp (=/+=) dout * (out > 0) */
void relu_backward(float *dinp, const float *dout, const float *out, size_t n, int accumulate);

/* ---- residual add, optional fused ReLU ------------------------------------------------------ */
void add_forward(float *out, const float *a, const float *b, size_t n, int relu);
/* da, db (=/+= each per its flag) dout * mask; mask = (out > 0) when relu */
void add_backward(float *da, float *db, const float *dout, const float *out, size_t n, int relu,
                  int accumulate_a, int accumulate_b);

/* ---- max pooling ------------------------------------------------------------------------------ */
typedef struct PoolShape {
    int n, c, h, w, k, stride, pad, ho, wo;
} PoolShape;
void pool_shape_finish(PoolShape *s);
/* argmax[n][c][ho][wo] keeps the input offset (within the [h][w] plane) of each maximum. */
void maxpool_forward(float *out, int *argmax, const float *in, const PoolShape *s);
void maxpool_backward(float *dinp, const float *dout, const int *argmax, const PoolShape *s, int accumulate);

/* ---- global average pooling: [n][c][h][w] -> [n][c] ------------------------------------------ */
void gap_forward(float *out, const float *in, int n, int c, int hw);
void gap_backward(float *dinp, const float *dout, int n, int c, int hw, int accumulate);

/* ---- linear: out[n][o] = in[n][i] . weight[o][0..i)^T + bias[o] ------------------------------- */
typedef struct LinearShape {
    int n, in, out;
    int w_row; /* weight row stride (I_max) */
} LinearShape;
void linear_forward(float *out, const float *in, const float *weight, const float *bias, const LinearShape *s);
/* dweight, dbias accumulate; dinp (=/+=; NULL to skip). */
void linear_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *in,
                     const float *weight, const LinearShape *s, int accumulate);

/* ---- losses (mean over the batch) ------------------------------------------------------------ */
/* Softmax cross-entropy with integer labels; writes dlogits = (softmax - onehot)/n; returns the
 * mean loss; *correct (if not NULL) gets the number of argmax hits. */
float softmax_xent_forward_backward(float *dlogits, const float *logits, const int *labels, int n,
                                    int classes, int *correct);
/* Soft-target cross-entropy at temperature T: loss = -1/n sum_i sum_k t_ik log softmax(z_i/T)_k;
 * dlogits = (softmax(z/T) - t) / (n*T). Targets rows must sum to 1 (e.g. a teacher's softmax). */
float soft_xent_forward_backward(float *dlogits, const float *logits, const float *targets, int n,
                                 int classes, float temperature);
/* Row-wise softmax(z/T) (used to make distillation targets). */
void softmax_rows(float *probs, const float *logits, int n, int classes, float temperature);

#endif
