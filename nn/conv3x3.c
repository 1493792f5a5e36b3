/* nn/conv3x3.c — direct 3x3 / stride 1 / pad 1 convolution (the bulk of a ResNet's FLOPs) without
 * im2col: forward, and the input gradient as the same kernel on flipped, transposed weights.
 *
 * "Padded flat" layout: each input plane is copied into a zero-bordered plane of (H+2) rows of W+1
 * floats, laid out flat: one zero column per row serves as the right border of a row and the left
 * border of the next. Output position q = y*(W+1) + x then reads input q + ky*(W+1) + kx for tap
 * (ky, kx): every tap is a constant offset, so a vector of 16 consecutive outputs is 16 consecutive
 * inputs (the one junk column per row is computed and dropped). The kernel keeps a 4 output channels x 4
 * vectors block of accumulators in registers; weights are packed as [co/4][ci][tap][4].
 * Written with GCC vector extensions: AVX-512 / AVX2 / NEON follow from the target flags. */
#include "nn/conv3x3.h"

#include <omp.h>
#include <string.h>

typedef float vf __attribute__((vector_size(64), aligned(4), may_alias));

/* Unaligned vector load/store as single instructions. (memcpy of a vector is expanded by some
 * -mtune targets into two half-width stores and a full-width reload: a store-forwarding stall on
 * every load, 5x slower on AVX-512 machines tuned as rocketlake.) */
#define vload(p) (*(const vf *)(p))
#define vstore(p, v) (*(vf *)(p) = (v))

/* Keeps a loaded vector in a register: without it GCC folds the load into every FMA that uses it,
 * doubling the (unaligned, line-crossing) loads of the weight-gradient kernel. */
#if defined(__x86_64__) && defined(__AVX512F__)
#define KEEP_IN_REGISTER(x) __asm__("" : "+v"(x))
#else
#define KEEP_IN_REGISTER(x) ((void)0)
#endif

#define VL 16 /* floats per vector */
#define CB 4  /* output channels per register block */
#define QB 4  /* vectors per register block */
#define WG 3  /* output channels per weight-gradient register block */

typedef struct Geometry {
    int h, w, w2;   /* w2 = w + 1: floats per padded row */
    int qp;         /* output positions computed per plane, multiple of VL */
    int lp;         /* floats per padded input plane */
} Geometry;

static Geometry geometry(int h, int w) {
    Geometry g;
    g.h = h;
    g.w = w;
    g.w2 = w + 1;
    int q = h * g.w2;
    g.qp = (q + VL - 1) / VL * VL;
    g.lp = (g.qp + 2 * g.w2 + 2 + VL + 15) / 16 * 16;
    return g;
}

int conv3x3_direct_applies(const ConvShape *s) { return s->k == 3 && s->stride == 1 && s->pad == 1; }

static int co_blocks(int c) { return (c + CB - 1) / CB; }

/* Weight gradient scratch: every image's padded input planes and zero-bordered output gradient. */
static size_t weight_grad_floats(const ConvShape *s, const Geometry *g) {
    size_t coutg = (size_t)(s->cout + 2) / 3 * 3; /* output channels rounded up to the group size */
    return (size_t)s->n * ((size_t)s->cin * g->lp + coutg * g->qp) + coutg * s->cin * 9 * VL;
}

size_t conv3x3_workspace_floats(const ConvShape *s, int threads) {
    Geometry g = geometry(s->h, s->w);
    int cmax = s->cin > s->cout ? s->cin : s->cout;
    size_t per_thread = (size_t)cmax * g.lp + (size_t)co_blocks(cmax) * CB * g.qp;
    size_t wpack = (size_t)co_blocks(cmax) * CB * cmax * 9;
    size_t data = wpack + per_thread * (size_t)(threads < 1 ? 1 : threads) + 64;
    size_t wgrad = weight_grad_floats(s, &g) + 64;
    return data > wgrad ? data : wgrad;
}

/* Copies planes [c][h][w] into zero-bordered flat planes [c][lp]: row r (0 = top border) holds a
 * zero then the w values of input row r-1. */
static void pad_planes(float *dst, const float *src, int c, const Geometry *g) {
    for (int ch = 0; ch < c; ch++) {
        float *d = dst + (size_t)ch * g->lp;
        const float *sp = src + (size_t)ch * g->h * g->w;
        memset(d, 0, sizeof(float) * g->w2);
        for (int y = 0; y < g->h; y++) {
            float *row = d + (size_t)(y + 1) * g->w2;
            row[0] = 0.0f; /* right border of the row above, left border of this one */
            memcpy(row + 1, sp + (size_t)y * g->w, sizeof(float) * g->w);
        }
        size_t used = (size_t)(g->h + 1) * g->w2;
        memset(d + used, 0, sizeof(float) * (g->lp - used));
    }
}

/* One register block: outputs [CB channels of block cob] x [nv vectors from q0]. Inlined with a
 * constant nv, so each tail length gets its own fully unrolled code. */
static inline __attribute__((always_inline)) void direct_block(float *out, const float *inp, const float *wb, int cin,
                                                               int cob, int cout, const Geometry *g, const int *offs,
                                                               int q0, const int nv) {
    vf acc[CB][QB];
    for (int c = 0; c < CB; c++)
        for (int v = 0; v < nv; v++) acc[c][v] = (vf){0};
    for (int ci = 0; ci < cin; ci++) {
        const float *ip = inp + (size_t)ci * g->lp + q0;
        const float *wp = wb + (size_t)ci * 9 * CB;
        for (int t = 0; t < 9; t++) {
            vf x[QB];
            for (int v = 0; v < nv; v++) x[v] = vload(ip + offs[t] + v * VL);
            for (int c = 0; c < CB; c++) {
                vf wv = (vf){0} + wp[t * CB + c];
                for (int v = 0; v < nv; v++) acc[c][v] += wv * x[v];
            }
        }
    }
    for (int c = 0; c < CB; c++) {
        int co = cob * CB + c;
        if (co >= cout) break;
        for (int v = 0; v < nv; v++) vstore(out + (size_t)co * g->qp + q0 + v * VL, acc[c][v]);
    }
}

/* out[co][q] for q in [0, qp), co in [0, cout) from padded planes inp[cin][lp] and packed weights. */
static void direct_kernel(float *out, const float *inp, const float *wpack, int cin, int cout, const Geometry *g,
                          int cob_begin, int cob_end) {
    const int w2 = g->w2;
    const int offs[9] = {0, 1, 2, w2, w2 + 1, w2 + 2, 2 * w2, 2 * w2 + 1, 2 * w2 + 2};
    const int full = g->qp / (VL * QB) * (VL * QB), tail = (g->qp - full) / VL;
    for (int cob = cob_begin; cob < cob_end; cob++) {
        const float *wb = wpack + (size_t)cob * cin * 9 * CB;
        for (int q0 = 0; q0 < full; q0 += VL * QB) direct_block(out, inp, wb, cin, cob, cout, g, offs, q0, QB);
        switch (tail) {
        case 1: direct_block(out, inp, wb, cin, cob, cout, g, offs, full, 1); break;
        case 2: direct_block(out, inp, wb, cin, cob, cout, g, offs, full, 2); break;
        case 3: direct_block(out, inp, wb, cin, cob, cout, g, offs, full, 3); break;
        default: break;
        }
    }
}

/* What happens to each output value on its way out (an inference-mode BN folded in). */
typedef struct Epilogue {
    int accumulate;      /* add to the destination instead of writing */
    const float *scale;  /* per output channel: v = v * scale + shift (NULL: none) */
    const float *shift;
    int relu;
} Epilogue;

/* Drops the junk column of each row: flat [c][qp] -> [c][h][w], through the epilogue. */
static void unpad_planes(float *dst, const float *flat, int c, const Geometry *g, const Epilogue *e) {
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < g->h; y++) {
            float *d = dst + ((size_t)ch * g->h + y) * g->w;
            const float *s = flat + (size_t)ch * g->qp + (size_t)y * g->w2;
            if (e->accumulate) {
                for (int x = 0; x < g->w; x++) d[x] += s[x];
            } else if (e->scale) {
                const float a = e->scale[ch], b = e->shift[ch];
                for (int x = 0; x < g->w; x++) {
                    float v = s[x] * a + b;
                    d[x] = e->relu && v < 0.0f ? 0.0f : v;
                }
            } else {
                memcpy(d, s, sizeof(float) * g->w);
            }
        }
}

/* wpack[cob][ci][t][c] = weight of (output co = cob*CB+c, input ci, tap t); zero beyond cout. */
static void pack_forward(float *wpack, const float *weight, int w_row, int cin, int cout) {
    int nb = co_blocks(cout);
    for (int cob = 0; cob < nb; cob++)
        for (int ci = 0; ci < cin; ci++)
            for (int t = 0; t < 9; t++)
                for (int c = 0; c < CB; c++) {
                    int co = cob * CB + c;
                    wpack[(((size_t)cob * cin + ci) * 9 + t) * CB + c] =
                        co < cout ? weight[(size_t)co * w_row + ci * 9 + t] : 0.0f;
                }
}

/* For the input gradient: outputs are the conv's inputs, inputs its outputs, taps reversed. */
static void pack_backward(float *wpack, const float *weight, int w_row, int cin, int cout) {
    int nb = co_blocks(cin);
    for (int cib = 0; cib < nb; cib++)
        for (int co = 0; co < cout; co++)
            for (int t = 0; t < 9; t++)
                for (int c = 0; c < CB; c++) {
                    int ci = cib * CB + c;
                    wpack[(((size_t)cib * cout + co) * 9 + t) * CB + c] =
                        ci < cin ? weight[(size_t)co * w_row + ci * 9 + (8 - t)] : 0.0f;
                }
}

/* Runs planes [n][cin_k][h][w] -> [n][cout_k][h][w] with packed weights, over images in parallel when
 * there are enough of them, else over output-channel blocks. */
static void run(float *dst, const float *src, const float *wpack, int n, int cin_k, int cout_k, const Geometry *g,
                float *ws, int threads, const Epilogue *e) {
    int cmax = cin_k > cout_k ? cin_k : cout_k;
    size_t per_thread = (size_t)cmax * g->lp + (size_t)co_blocks(cmax) * CB * g->qp;
    size_t src_img = (size_t)cin_k * g->h * g->w, dst_img = (size_t)cout_k * g->h * g->w;
    if (n >= threads || threads == 1) {
#pragma omp parallel for schedule(static) num_threads(threads)
        for (int i = 0; i < n; i++) {
            float *pad = ws + per_thread * omp_get_thread_num();
            float *flat = pad + (size_t)cmax * g->lp;
            pad_planes(pad, src + i * src_img, cin_k, g);
            direct_kernel(flat, pad, wpack, cin_k, cout_k, g, 0, co_blocks(cout_k));
            unpad_planes(dst + i * dst_img, flat, cout_k, g, e);
        }
        return;
    }
    float *pad = ws, *flat = pad + (size_t)cmax * g->lp;
    for (int i = 0; i < n; i++) {
        pad_planes(pad, src + i * src_img, cin_k, g);
        int nb = co_blocks(cout_k);
#pragma omp parallel for schedule(static) num_threads(threads)
        for (int b = 0; b < nb; b++) direct_kernel(flat, pad, wpack, cin_k, cout_k, g, b, b + 1);
        unpad_planes(dst + i * dst_img, flat, cout_k, g, e);
    }
}

void conv3x3_forward_affine(float *out, const float *in, const float *weight, const ConvShape *s, float *ws,
                            const float *scale, const float *shift, int relu) {
    Geometry g = geometry(s->h, s->w);
    int cmax = s->cin > s->cout ? s->cin : s->cout;
    float *wpack = ws, *rest = ws + (size_t)co_blocks(cmax) * CB * cmax * 9;
    pack_forward(wpack, weight, s->w_row, s->cin, s->cout);
    Epilogue e = {0, scale, shift, relu};
    run(out, in, wpack, s->n, s->cin, s->cout, &g, rest, s->threads, &e);
}

void conv3x3_forward(float *out, const float *in, const float *weight, const ConvShape *s, float *ws) {
    conv3x3_forward_affine(out, in, weight, s, ws, NULL, NULL, 0);
}

void conv3x3_backward_data(float *dinp, const float *dout, const float *weight, const ConvShape *s, float *ws,
                           int accumulate) {
    Geometry g = geometry(s->h, s->w);
    int cmax = s->cin > s->cout ? s->cin : s->cout;
    float *wpack = ws, *rest = ws + (size_t)co_blocks(cmax) * CB * cmax * 9;
    pack_backward(wpack, weight, s->w_row, s->cin, s->cout);
    Epilogue e = {accumulate, NULL, NULL, 0};
    run(dinp, dout, wpack, s->n, s->cout, s->cin, &g, rest, s->threads, &e);
}

/* Output gradient plane [h][w] -> flat [qp] on the output grid, zero in the junk column of each row
 * and past the last row, so those positions add nothing to the weight gradient. */
static void flatten_grad_plane(float *dst, const float *src, const Geometry *g) {
    for (int y = 0; y < g->h; y++) {
        float *row = dst + (size_t)y * g->w2;
        memcpy(row, src + (size_t)y * g->w, sizeof(float) * g->w);
        row[g->w] = 0.0f;
    }
    memset(dst + (size_t)g->h * g->w2, 0, sizeof(float) * (g->qp - (size_t)g->h * g->w2));
}

static float lane_sum(vf v) {
    float s = 0.0f;
    for (int l = 0; l < VL; l++) s += v[l];
    return s;
}

/* Partial sums of the weight gradient of output channels [co0, co0+wg) (wg <= WG), all input channels,
 * over images [0, n) taken in cache-sized blocks: pacc[(ci*WG + c)*9 + t] (vectors, summed across
 * lanes by the caller). Inlined with a constant wg so each group size has its own register code. */
static inline __attribute__((always_inline)) void weight_grad_group(vf *pacc, const float *inpad, const float *dflat,
                                                                    int n, int cin, int coutg, int co0, int block,
                                                                    const Geometry *g, const int *offs, const int wg) {
    for (int k = 0; k < cin * WG * 9; k++) pacc[k] = (vf){0};
    for (int i0 = 0; i0 < n; i0 += block) {
        int i1 = i0 + block < n ? i0 + block : n;
        for (int ci = 0; ci < cin; ci++) {
            vf a[WG][9];
            for (int c = 0; c < wg; c++)
                for (int t = 0; t < 9; t++) a[c][t] = pacc[(ci * WG + c) * 9 + t];
            for (int i = i0; i < i1; i++) {
                const float *ip = inpad + ((size_t)i * cin + ci) * g->lp;
                const float *d0 = dflat + ((size_t)i * coutg + co0) * g->qp;
                for (int q = 0; q < g->qp; q += VL) {
                    vf d[WG];
                    for (int c = 0; c < wg; c++) d[c] = vload(d0 + (size_t)c * g->qp + q);
                    for (int t = 0; t < 9; t++) {
                        vf x = vload(ip + q + offs[t]);
                        KEEP_IN_REGISTER(x);
                        for (int c = 0; c < wg; c++) a[c][t] += d[c] * x;
                    }
                }
            }
            for (int c = 0; c < wg; c++)
                for (int t = 0; t < 9; t++) pacc[(ci * WG + c) * 9 + t] = a[c][t];
        }
    }
}

/* dweight[co][ci][t] += sum over images and positions q of dout[co][q] * in_pad[ci][q + off_t].
 * Output channels go in groups of WG (WG x 9 partial-sum vectors stay in registers; the last group
 * takes the remainder). Images are taken in blocks small enough to stay in a core's L2 cache;
 * between blocks the partial sums of each (group, input channel) live in `acc`. Each group is one
 * task and owns whole rows of the gradient, so the result is the same for any thread count and
 * any assignment of tasks to threads. */
void conv3x3_backward_weight(float *dweight, const float *dout, const float *in, const ConvShape *s, float *ws) {
    Geometry g = geometry(s->h, s->w);
    const int n = s->n, cin = s->cin, cout = s->cout, w2 = g.w2;
    const int groups = (cout + WG - 1) / WG, coutg = groups * WG;
    float *inpad = ws, *dflat = ws + (size_t)n * cin * g.lp;
    vf *acc = (vf *)(void *)(dflat + (size_t)n * coutg * g.qp);
    const size_t in_img = (size_t)cin * s->h * s->w, out_img = (size_t)cout * s->h * s->w;
    const size_t img_floats = (size_t)cin * g.lp + (size_t)coutg * g.qp;
    int block = (int)((128u * 1024u) / (img_floats + 1)); /* ~512 KiB of planes per block */
    if (block < 1) block = 1;
#pragma omp parallel for schedule(static) num_threads(s->threads)
    for (int i = 0; i < n; i++) {
        pad_planes(inpad + (size_t)i * cin * g.lp, in + i * in_img, cin, &g);
        float *df = dflat + (size_t)i * coutg * g.qp;
        for (int co = 0; co < cout; co++)
            flatten_grad_plane(df + (size_t)co * g.qp, dout + i * out_img + (size_t)co * s->h * s->w, &g);
        if (coutg > cout) memset(df + (size_t)cout * g.qp, 0, sizeof(float) * g.qp * (coutg - cout));
    }
    const int offs[9] = {0, 1, 2, w2, w2 + 1, w2 + 2, 2 * w2, 2 * w2 + 1, 2 * w2 + 2};
#pragma omp parallel for schedule(dynamic, 1) num_threads(s->threads)
    for (int p = 0; p < groups; p++) {
        vf *pacc = acc + (size_t)p * cin * WG * 9;
        const int co0 = WG * p, wg = cout - co0 < WG ? cout - co0 : WG;
        switch (wg) {
        case 1: weight_grad_group(pacc, inpad, dflat, n, cin, coutg, co0, block, &g, offs, 1); break;
        case 2: weight_grad_group(pacc, inpad, dflat, n, cin, coutg, co0, block, &g, offs, 2); break;
        default: weight_grad_group(pacc, inpad, dflat, n, cin, coutg, co0, block, &g, offs, WG); break;
        }
        for (int c = 0; c < wg; c++) {
            float *dwr = dweight + (size_t)(co0 + c) * s->w_row;
            for (int ci = 0; ci < cin; ci++)
                for (int t = 0; t < 9; t++) dwr[ci * 9 + t] += lane_sum(pacc[(ci * WG + c) * 9 + t]);
        }
    }
}
