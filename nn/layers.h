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

/* ---- plane layouts (planes.c) ------------------------------------------------------------ */
/* Where the [h][w] planes of a tensor [n][c][h][w] live. Compact: h*w floats each, row after row.
 * Padded: the layout the direct 3x3 kernels compute in (conv3x3.c): rows of w+1 floats, one zero
 * row above and below the values and one zero column between rows (right border of a row, left
 * border of the next), a few zeros before the top row so that the origin is 64-byte aligned, the
 * plane rounded up to `stride` floats (a multiple of 16). Value (y, x) sits at origin + y*row + x. Every float of a padded plane that is not a value is zero: each producer keeps
 * it so (planes_zero_borders), and elementwise ops (ReLU, add) keep it by themselves. A tensor of
 * padded planes passes between 3x3 convs, BN, ReLU and adds without a copy. */
typedef struct Planes {
    int h, w;
    int row;       /* floats from one row to the next: w, or w + 1 */
    int origin;    /* offset of value (0, 0) in a plane: 0, or a multiple of 16 >= row + 1 */
    size_t stride; /* floats from one plane to the next */
} Planes;

Planes planes_compact(int h, int w);
Planes planes_padded(int h, int w);
Planes planes_of(int h, int w, int padded);
static inline int planes_padded_p(const Planes *p) { return p->origin != 0; }
/* Floats of n*c planes. */
static inline size_t planes_floats(const Planes *p, size_t planes) { return planes * p->stride; }
/* The floats a per-plane pass reads, [begin, begin + len): every value and, when padded, the h
 * border floats between rows (zero, so they add nothing to a sum). */
static inline size_t planes_span_begin(const Planes *p) { return (size_t)p->origin - (p->origin ? 1 : 0); }
static inline size_t planes_span_len(const Planes *p) { return (size_t)p->h * p->row; }
/* Zero floats inside the span (h when padded, 0 when compact). */
static inline int planes_span_zeros(const Planes *p) { return p->origin ? p->h : 0; }
/* Writes zero to every float of a padded plane that is not a value (nothing when compact). */
void planes_zero_borders(float *plane, const Planes *p);
/* c compact planes [c][h][w] -> c planes of layout p, and back. */
void planes_from_compact(float *dst, const Planes *p, const float *src, int c);
void planes_to_compact(float *dst, const float *src, const Planes *p, int c);

/* ---- conv2d (no bias): im2col + sgemm --------------------------------------------------- */
typedef struct ConvShape {
    int n, cin, h, w;       /* input [n][cin][h][w] (cin = active input channels) */
    int cout, k, stride, pad;
    int ho, wo;             /* output [n][cout][ho][wo] */
    int w_row;              /* weight row stride in floats (Cin_max*K*K) */
    int threads;            /* threads to use (scratch must be sized for at least this many) */
    int in_padded;          /* input (and its gradient) in padded planes; 0: compact */
    int out_padded;         /* output (and its gradient) in padded planes; 0: compact */
} ConvShape;

static inline Planes conv_in_planes(const ConvShape *s) { return planes_of(s->h, s->w, s->in_padded); }
static inline Planes conv_out_planes(const ConvShape *s) { return planes_of(s->ho, s->wo, s->out_padded); }

/* Fills ho/wo from the others. */
void conv_shape_finish(ConvShape *s);

/* Largest input or output side the convolution kernels take: planes of up to
 * (CONV_MAX_SIDE + 2) x (CONV_MAX_SIDE + 1) floats keep every index within a plane in int. */
#define CONV_MAX_SIDE 16384

/* Floats of scratch memory conv2d_forward/backward need with `threads` threads, computed in size_t
 * with overflow checks; SIZE_MAX when that does not fit, or for a side over CONV_MAX_SIDE (no
 * buffer can serve such a shape, so sizing it as too large refuses it). */
size_t conv2d_workspace_floats(const ConvShape *s, int threads);

/* out[n][cout][ho][wo] = sum_{ci,ky,kx} weight[co][ci][ky][kx] * in[n][ci][y*s-p+ky][x*s-p+kx] */
void conv2d_forward(float *out, const float *in, const float *weight, const ConvShape *s, float *ws);
/* dweight += dout (x) in; dinp (=, or += if accumulate; NULL to skip) = weight^T * dout. */
void conv2d_backward(float *dinp, float *dweight, const float *dout, const float *in,
                     const float *weight, const ConvShape *s, float *ws, int accumulate);

/* ---- batch normalization (per channel over N*H*W), optional fused ReLU ------------------ */
typedef struct BnShape {
    int n, c, hw;   /* tensor [n][c][hw] */
    Planes planes;  /* how the planes are stored; stride 0: compact hw */
    int c_begin;    /* process channels [c_begin, c_end) only; planes are strided by c */
    int c_end;      /* 0: c */
    float eps;      /* the description's bn_eps (MODEL_BN_EPS, 1e-5, unless its checkpoint says) */
    float momentum; /* running = (1-momentum)*running + momentum*batch, 0.1 */
    int relu;       /* 1: out = max(0, bn(x)) */
} BnShape;

/* Training: batch statistics; saves mean[c], invstd[c]; updates running stats (unbiased var)
 * when running_mean != NULL. */
void batchnorm_forward_train(float *out, float *save_mean, float *save_invstd, const float *in,
                             const float *gamma, const float *beta, float *running_mean,
                             float *running_var, const BnShape *s);
/* The same, fused with its neighbours: with residual (in in's layout), a residual add before the
 * ReLU, out = relu?(bn(in) + residual) (a BN and the add after it in one pass); with sums ([n][c][2],
 * each image's per-channel sum and sum of squares of in, from the conv that wrote it), the batch
 * statistics without reading in twice more. Either may be NULL. */
void batchnorm_forward_train_fused(float *out, float *save_mean, float *save_invstd, const float *in,
                                   const float *residual, const float *sums, const float *gamma,
                                   const float *beta, float *running_mean, float *running_var, const BnShape *s);
/* Evaluation: running statistics. */
void batchnorm_forward_eval(float *out, const float *in, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var, const BnShape *s);
/* out is the forward output (used for the fused ReLU mask). dgamma/dbeta accumulate. Returns -1
 * (nothing written) when the sums' buffer cannot be allocated, else 0. */
int batchnorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout, const float *out,
                       const float *in, const float *save_mean, const float *save_invstd,
                       const float *gamma, const BnShape *s, int accumulate);
/* The sums the backward reads ([n][c][2]: sum g and sum g (x - mean) per image and channel,
 * g = dout masked by the ReLU), in one pass in memory order. */
void batchnorm_backward_sums(float *sums, const float *dout, const float *out, const float *in,
                             const float *save_mean, const BnShape *s);
/* batchnorm_backward from its sums (batchnorm_backward_sums, or the conv that wrote dout), fused
 * with its neighbours: with dres (may be NULL), the backward of batchnorm_forward_train_fused with
 * a residual (out: its output), also writing the residual's gradient dres (= or += when
 * accumulate_res) = dout masked by the ReLU. */
void batchnorm_backward_fused(float *dinp, float *dres, const float *sums, float *dgamma, float *dbeta,
                              const float *dout, const float *out, const float *in, const float *save_mean,
                              const float *save_invstd, const float *gamma, const BnShape *s, int accumulate,
                              int accumulate_res);

/* ---- ReLU (elementwise over whole tensors of either plane layout: zero borders stay zero) ----- */
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
/* argmax[n][c][ho][wo] keeps the input offset (within the [h][w] plane) of each maximum (NULL:
 * not kept, for inference). */
void maxpool_forward(float *out, int *argmax, const float *in, const PoolShape *s);
void maxpool_backward(float *dinp, const float *dout, const int *argmax, const PoolShape *s, int accumulate);

/* ---- global average pooling: [n][c][h][w] (planes p) -> [n][c] ------------------------------ */
void gap_forward(float *out, const float *in, int n, int c, const Planes *p);
void gap_backward(float *dinp, const float *dout, int n, int c, const Planes *p, int accumulate);

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
/* Knowledge distillation (Hinton et al.): loss = (1-a) * CE(z, labels) + a * T^2 * CE(softmax(t/T),
 * softmax(z/T)) with `targets` = softmax(t/T) of a teacher's logits t; dlogits = (1-a)(softmax(z) -
 * onehot)/n + a*T*(softmax(z/T) - targets)/n (the T^2 keeps the soft gradient's scale independent of
 * T). Returns the mean hard cross-entropy (what training reports); *soft (if not NULL) gets the mean
 * soft one; *correct as for softmax_xent_forward_backward. */
float distill_xent_forward_backward(float *dlogits, const float *logits, const int *labels, const float *targets,
                                    int n, int classes, float temperature, float weight, float *soft, int *correct);
/* Row-wise softmax(z/T) (used to make distillation targets). */
void softmax_rows(float *probs, const float *logits, int n, int classes, float temperature);

#endif
