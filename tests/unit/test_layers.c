/* tests/unit/test_layers.c — every layer kernel against hand-computed small cases and against
 * numerical gradients (central differences, random upstream gradient G, L = sum G*f(x)).
 * Tolerance: relative error |num-ana|/max(|num|+|ana|, 5% of the gradient RMS) < 2e-2 with h = 1e-2 (float32 forward);
 * conv/linear are checked at a *slimmed* width (active channels < stored channels, non-uniform
 * in/out ratios) so the prefix-view weight indexing is covered too. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layers.h"
#include "nn/conv3x3.h"
#include "tests/unit/gradcheck.h"

#define TOL 2e-2
#define H 1e-2f

/* ---------------- conv2d ---------------- */
typedef struct ConvCtx {
    ConvShape s;
    float *in, *w, *out, *G, *ws;
    size_t out_n;
} ConvCtx;

static double conv_loss(void *p) {
    ConvCtx *c = p;
    conv2d_forward(c->out, c->in, c->w, &c->s, c->ws);
    return gc_dot(c->out, c->G, c->out_n);
}

static void check_conv(int n, int cin, int cin_max, int h, int w, int cout, int cout_max, int k, int stride, int pad,
                       int threads) {
    ConvCtx c;
    c.s = (ConvShape){.n = n, .cin = cin, .h = h, .w = w, .cout = cout, .k = k, .stride = stride, .pad = pad,
                      .w_row = cin_max * k * k, .threads = threads};
    conv_shape_finish(&c.s);
    size_t in_n = (size_t)n * cin * h * w, w_n = (size_t)cout_max * cin_max * k * k;
    c.out_n = (size_t)n * cout * c.s.ho * c.s.wo;
    c.in = malloc(in_n * 4);
    c.w = malloc(w_n * 4);
    c.out = malloc(c.out_n * 4);
    c.G = malloc(c.out_n * 4);
    c.ws = calloc(conv2d_workspace_floats(&c.s, threads), 4);
    float *din = malloc(in_n * 4), *dw = calloc(w_n, 4);
    gc_fill_normal(c.in, in_n, 1, 1.0f);
    gc_fill_normal(c.w, w_n, 2, 0.5f);
    gc_fill_normal(c.G, c.out_n, 3, 1.0f);
    omp_set_num_threads(threads);
    conv_loss(&c);
    /* accumulate=1 must add to what is there: start din at 1 and subtract afterwards */
    for (size_t i = 0; i < in_n; i++) din[i] = 1.0f;
    conv2d_backward(din, dw, c.G, c.in, c.w, &c.s, c.ws, 1);
    for (size_t i = 0; i < in_n; i++) din[i] -= 1.0f;
    assert_true(gc_check("conv.dinp", c.in, din, in_n, 200, H, TOL, conv_loss, &c, 4) < TOL);
    /* only the active block of dw may be touched */
    for (int co = 0; co < cout_max; co++)
        for (int j = 0; j < cin_max * k * k; j++)
            if (co >= cout || j >= cin * k * k) assert_true(dw[(size_t)co * cin_max * k * k + j] == 0.0f);
    assert_true(gc_check("conv.dweight", c.w, dw, w_n, 200, H, TOL, conv_loss, &c, 5) < TOL);
    /* accumulate=0 overwrites */
    for (size_t i = 0; i < in_n; i++) din[i] = 123.0f;
    float *dw2 = calloc(w_n, 4), *din2 = malloc(in_n * 4);
    conv2d_backward(din2, dw2, c.G, c.in, c.w, &c.s, c.ws, 0);
    for (size_t i = 0; i < in_n; i++) din[i] = din2[i];
    assert_true(gc_check("conv.dinp(overwrite)", c.in, din, in_n, 50, H, TOL, conv_loss, &c, 6) < TOL);
    free(dw2); free(din2);
    free(c.in); free(c.w); free(c.out); free(c.G); free(c.ws); free(din); free(dw);
    omp_set_num_threads(1);
}

static void test_conv_gradcheck_serial_path(void **state) {
    (void)state;
    check_conv(3, 3, 3, 7, 6, 4, 4, 3, 1, 1, 1);       /* 3x3, pad 1 */
    check_conv(2, 3, 5, 9, 9, 5, 8, 3, 2, 1, 1);       /* stride 2, slimmed in and out */
    check_conv(2, 4, 4, 6, 6, 3, 3, 1, 2, 0, 1);       /* 1x1 stride 2 (projection shortcut) */
    check_conv(2, 4, 6, 5, 5, 3, 3, 1, 1, 0, 1);       /* pointwise fast path, slimmed */
    check_conv(1, 2, 2, 11, 11, 3, 3, 7, 2, 3, 2);     /* 7x7 stride 2 pad 3, batch 1 with 2 threads */
}

static void test_conv_gradcheck_parallel_path(void **state) {
    (void)state;
    check_conv(4, 3, 4, 16, 16, 5, 6, 3, 1, 1, 2);     /* 4 chunks of one image over 2 threads */
    check_conv(3, 2, 2, 3, 9, 4, 4, 3, 1, 1, 2);       /* direct 3x3 with a 2-vector tail */
    check_conv(2, 3, 3, 4, 10, 3, 5, 3, 1, 1, 1);      /* direct 3x3 with a 3-vector tail, slimmed out */
    check_conv(6, 2, 2, 8, 8, 3, 3, 3, 2, 1, 2);       /* several images per chunk */
    check_conv(5, 3, 3, 16, 16, 2, 4, 1, 1, 0, 2);     /* pointwise, parallel */
}

/* The direct 3x3 path (stride 1, pad 1) against a naive loop in double: shapes whose padded planes
 * end in a full register block (6 vectors) and in tails of 1 to 5 vectors, slimmed channel counts (w_row of
 * the full tensor), one and two threads, one image (channel-parallel) and several; forward, input
 * gradient and weight gradient (whose output channels go in groups of 3 with a remainder). */
static void check_direct_matches_naive(int n, int cin, int cin_max, int h, int w, int cout, int threads, int stride) {
    ConvShape s = {.n = n, .cin = cin, .h = h, .w = w, .cout = cout, .k = 3, .stride = stride, .pad = 1,
                   .w_row = cin_max * 9, .threads = threads};
    conv_shape_finish(&s);
    const int ho = s.ho, wo = s.wo;
    size_t in_n = (size_t)n * cin * h * w, out_n = (size_t)n * cout * ho * wo;
    float *in = malloc(in_n * 4), *wt = malloc((size_t)cout * cin_max * 9 * 4), *out = malloc(out_n * 4);
    float *ws = calloc(conv2d_workspace_floats(&s, threads), 4);
    gc_fill_normal(in, in_n, 7, 1.0f);
    gc_fill_normal(wt, (size_t)cout * cin_max * 9, 8, 0.5f);
    conv2d_forward(out, in, wt, &s, ws);
    /* Backward against the same naive loops: dx[ci][yy][xx] = sum w * dy, dw[co][ci][t] = sum dy * x. */
    float *dy = malloc(out_n * 4), *dx = malloc(in_n * 4), *dw = calloc((size_t)cout * cin_max * 9, 4);
    double *ref_dx = calloc(in_n, sizeof(double)), *ref_dw = calloc((size_t)cout * cin * 9, sizeof(double));
    /* sums of |terms|: the scale of a float sum's rounding error, against which errors are measured */
    double *abs_dx = calloc(in_n, sizeof(double)), *abs_dw = calloc((size_t)cout * cin * 9, sizeof(double));
    gc_fill_normal(dy, out_n, 9, 1.0f);
    conv2d_backward(dx, dw, dy, in, wt, &s, ws, 0);
    double worst = 0.0;
    for (int i = 0; i < n; i++)
        for (int co = 0; co < cout; co++)
            for (int y = 0; y < ho; y++)
                for (int x = 0; x < wo; x++) {
                    double ref = 0.0, abs_ref = 0.0, g = dy[(((size_t)i * cout + co) * ho + y) * wo + x];
                    for (int ci = 0; ci < cin; ci++)
                        for (int t = 0; t < 9; t++) {
                            int yy = y * stride + t / 3 - 1, xx = x * stride + t % 3 - 1;
                            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                            size_t xi = (((size_t)i * cin + ci) * h + yy) * w + xx;
                            double wv = wt[(size_t)co * cin_max * 9 + ci * 9 + t];
                            ref += (double)in[xi] * wv;
                            abs_ref += fabs(in[xi] * wv);
                            ref_dx[xi] += g * wv;
                            abs_dx[xi] += fabs(g * wv);
                            ref_dw[((size_t)co * cin + ci) * 9 + t] += g * in[xi];
                            abs_dw[((size_t)co * cin + ci) * 9 + t] += fabs(g * in[xi]);
                        }
                    double got = out[(((size_t)i * cout + co) * ho + y) * wo + x];
                    double e = fabs(got - ref) / (1.0 + abs_ref);
                    if (e > worst) worst = e;
                }
    double worst_dx = 0.0, worst_dw = 0.0;
    for (size_t k = 0; k < in_n; k++) {
        double e = fabs(dx[k] - ref_dx[k]) / (1.0 + abs_dx[k]);
        if (e > worst_dx) worst_dx = e;
    }
    for (int co = 0; co < cout; co++)
        for (int k = 0; k < cin * 9; k++) {
            double r = ref_dw[(size_t)co * cin * 9 + k];
            double e = fabs(dw[(size_t)co * cin_max * 9 + k] - r) / (1.0 + abs_dw[(size_t)co * cin * 9 + k]);
            if (e > worst_dw) worst_dw = e;
        }
    if (worst >= 1e-5 || worst_dx >= 1e-5 || worst_dw >= 1e-5)
        fprintf(stderr, "direct conv n=%d cin=%d %dx%d cout=%d stride %d threads %d: forward %.2g, dx %.2g, dw %.2g\n", n,
                cin, h, w, cout, stride, threads, worst, worst_dx, worst_dw);
    assert_true(worst < 1e-5);
    assert_true(worst_dx < 1e-5);
    assert_true(worst_dw < 1e-5); /* each relative to the sum of its terms' sizes (errors seen: < 1e-6) */
    free(in); free(wt); free(out); free(ws);
    free(dy); free(dx); free(dw); free(ref_dx); free(ref_dw); free(abs_dx); free(abs_dw);
}

static void test_conv3x3_direct_matches_naive(void **state) {
    (void)state;
    check_direct_matches_naive(2, 3, 3, 8, 10, 4, 1, 1);   /* 8 rows of 11: 88 -> 96, one full block of 6 */
    check_direct_matches_naive(2, 3, 5, 9, 10, 5, 2, 1);   /* 99 -> 112: a full block + tail of 1 vector */
    check_direct_matches_naive(3, 2, 2, 3, 9, 6, 2, 1);    /* 30 -> tail of 2 vectors only */
    check_direct_matches_naive(1, 4, 4, 4, 10, 7, 2, 1);   /* 44 -> tail of 3, one image over channels */
    check_direct_matches_naive(2, 3, 3, 7, 6, 4, 1, 1);    /* 7 rows of 7: 49 -> 64, tail of 4 */
    check_direct_matches_naive(2, 3, 5, 16, 16, 5, 2, 1);  /* 272 positions: 2 blocks + tail of 5 */
    check_direct_matches_naive(2, 16, 16, 28, 28, 16, 2, 1); /* the ResNet-20 stage-1 shape: 816 -> 8 blocks + 3 */
    check_direct_matches_naive(10, 16, 16, 28, 28, 16, 2, 1); /* weight gradient over 2 image blocks (7 + 3) */
    check_direct_matches_naive(3, 5, 5, 27, 30, 6, 2, 1);  /* Winograd: images split into chunks, odd rows */
    check_direct_matches_naive(7, 4, 4, 5, 3, 9, 2, 1);    /* Winograd: 7 images of 3x2 tiles in one chunk */
    /* planes shorter than the zero-extended margins (two rows each side) of the weight gradient by rows
     * (AVX2, SSE2, armv7) */
    check_direct_matches_naive(2, 3, 3, 1, 5, 4, 1, 1);    /* one row */
    check_direct_matches_naive(3, 2, 2, 2, 3, 3, 2, 1);    /* two rows shorter than a vector */
    check_direct_matches_naive(2, 2, 2, 1, 1, 3, 1, 1);    /* one value */
    check_direct_matches_naive(2, 3, 3, 2, 17, 4, 1, 1);   /* two rows longer than two vectors */
    check_direct_matches_naive(30, 64, 64, 7, 7, 5, 2, 1); /* 7x7 planes stacked in image blocks (AVX2: 25 + 5) */
    /* weight gradient with partial sums larger than the L2 budget: input channels in chunks, images in
     * blocks (AVX-512: 18 + 18 + 12 channels x 78 + 22 images; AVX2: 29 + 19 x 54 + 46) */
    check_direct_matches_naive(100, 48, 48, 7, 7, 40, 3, 1);
    check_direct_matches_naive(40, 64, 64, 7, 7, 64, 2, 1); /* chunked on every set (SSE2: 42 + 22 x 38 + 2) */
    /* wide layers, whose weight gradient goes through im2col + sgemm (conv2d.c's weight_grad_by_gemm):
     * one chunk of images (the sgemm on all threads), and chunks on two threads, slimmed inputs */
    check_direct_matches_naive(3, 128, 128, 7, 7, 256, 1, 1);
    check_direct_matches_naive(13, 130, 132, 5, 5, 256, 2, 1);
    /* stride 2 (parity planes; the input gradient by parity class): even and odd sizes, tails,
     * slimmed channels, one image over channel blocks, and ResNet-20's downsampling shapes */
    check_direct_matches_naive(2, 3, 5, 8, 8, 4, 1, 2);
    check_direct_matches_naive(3, 2, 2, 7, 9, 5, 2, 2);
    check_direct_matches_naive(1, 4, 4, 11, 6, 7, 2, 2);
    check_direct_matches_naive(4, 16, 16, 28, 28, 32, 2, 2);
    check_direct_matches_naive(4, 32, 32, 14, 14, 64, 2, 2);
}

/* Forward, input gradient and weight gradient of a 3x3 stride-1 conv: the same bits with 1 and 3 threads
 * (whichever kernels run: tests/run.sh also runs this with the Winograd path forced, whose weight
 * gradient sums its chunks in fixed groups). The shape has images split into chunks and an odd side. */
static void test_conv3x3_same_for_any_thread_count(void **state) {
    (void)state;
    const int shapes[2][5] = {{5, 6, 7, 30, 27}, {9, 16, 16, 14, 14}}; /* n, cin, cout, h, w */
    for (int k = 0; k < 2; k++) {
        const int n = shapes[k][0], cin = shapes[k][1], cout = shapes[k][2], h = shapes[k][3], w = shapes[k][4];
        size_t in_n = (size_t)n * cin * h * w, out_n = (size_t)n * cout * h * w, w_n = (size_t)cout * cin * 9;
        float *in = malloc(in_n * 4), *wt = malloc(w_n * 4), *dy = malloc(out_n * 4);
        gc_fill_normal(in, in_n, 11, 1.0f);
        gc_fill_normal(wt, w_n, 12, 0.5f);
        gc_fill_normal(dy, out_n, 13, 1.0f);
        float *out[2], *dx[2], *dw[2];
        for (int t = 0; t < 2; t++) {
            ConvShape s = {.n = n, .cin = cin, .h = h, .w = w, .cout = cout, .k = 3, .stride = 1, .pad = 1,
                           .w_row = cin * 9, .threads = t ? 3 : 1};
            conv_shape_finish(&s);
            float *ws = calloc(conv2d_workspace_floats(&s, s.threads), 4);
            out[t] = malloc(out_n * 4);
            dx[t] = malloc(in_n * 4);
            dw[t] = calloc(w_n, 4);
            conv2d_forward(out[t], in, wt, &s, ws);
            conv2d_backward(dx[t], dw[t], dy, in, wt, &s, ws, 0);
            free(ws);
        }
        assert_memory_equal(out[0], out[1], out_n * 4);
        assert_memory_equal(dx[0], dx[1], in_n * 4);
        assert_memory_equal(dw[0], dw[1], w_n * 4);
        for (int t = 0; t < 2; t++) {
            free(out[t]);
            free(dx[t]);
            free(dw[t]);
        }
        free(in); free(wt); free(dy);
    }
}

static void test_conv_hand_computed(void **state) {
    (void)state;
    /* 1 channel 4x4 input 1..16, 3x3 kernel of ones, stride 2, pad 1 -> 2x2 */
    float in[16], w[9], out[4];
    for (int i = 0; i < 16; i++) in[i] = (float)(i + 1);
    for (int i = 0; i < 9; i++) w[i] = 1.0f;
    ConvShape s = {.n = 1, .cin = 1, .h = 4, .w = 4, .cout = 1, .k = 3, .stride = 2, .pad = 1, .w_row = 9, .threads = 1};
    conv_shape_finish(&s);
    assert_int_equal(s.ho, 2);
    assert_int_equal(s.wo, 2);
    float *ws = calloc(conv2d_workspace_floats(&s, 1), 4);
    conv2d_forward(out, in, w, &s, ws);
    assert_true(out[0] == 14.0f && out[1] == 30.0f && out[2] == 57.0f && out[3] == 99.0f);
    /* backward with dout = 1: dinp[i] = how many windows cover pixel i */
    float dout[4] = {1, 1, 1, 1}, din[16], dw[9] = {0};
    conv2d_backward(din, dw, dout, in, w, &s, ws, 0);
    const float cover[16] = {1, 2, 1, 1, 2, 4, 2, 2, 1, 2, 1, 1, 1, 2, 1, 1};
    for (int i = 0; i < 16; i++) assert_true(din[i] == cover[i]);
    /* dw[ky][kx] = sum of the inputs each kernel tap saw: tap (1,1) sees 1,3,9,11 */
    assert_true(dw[4] == 1 + 3 + 9 + 11);
    free(ws);
}

/* ---------------- batch norm ---------------- */
typedef struct BnCtx {
    BnShape s;
    float *in, *gamma, *beta, *out, *G, *mean, *invstd;
    size_t n;
} BnCtx;

static double bn_loss(void *p) {
    BnCtx *c = p;
    batchnorm_forward_train(c->out, c->mean, c->invstd, c->in, c->gamma, c->beta, NULL, NULL, &c->s);
    return gc_dot(c->out, c->G, c->n);
}

static void check_bn(int relu) {
    BnCtx c;
    c.s = (BnShape){.n = 3, .c = 4, .hw = 5, .eps = 1e-5f, .momentum = 0.1f, .relu = relu};
    c.n = (size_t)3 * 4 * 5;
    c.in = malloc(c.n * 4); c.out = malloc(c.n * 4); c.G = malloc(c.n * 4);
    c.gamma = malloc(16); c.beta = malloc(16); c.mean = malloc(16); c.invstd = malloc(16);
    float *din = malloc(c.n * 4), dgamma[4] = {0}, dbeta[4] = {0};
    /* With a fused ReLU, pick a seed whose pre-activations all stay clear of the kink by more than
     * a perturbation can move them, so central differences are valid. */
    for (uint64_t seed = 10;; seed++) {
        gc_fill_normal(c.in, c.n, seed, 2.0f);
        gc_fill_normal(c.gamma, 4, seed + 100, 1.0f);
        gc_fill_normal(c.beta, 4, seed + 200, 0.5f);
        if (!relu) break;
        BnShape lin = c.s;
        lin.relu = 0;
        batchnorm_forward_train(c.out, c.mean, c.invstd, c.in, c.gamma, c.beta, NULL, NULL, &lin);
        int ok = 1;
        for (size_t i = 0; i < c.n; i++) ok &= fabsf(c.out[i]) > 0.15f;
        if (ok) break;
    }
    gc_fill_normal(c.G, c.n, 3, 1.0f);
    bn_loss(&c);
    assert_int_equal(batchnorm_backward(din, dgamma, dbeta, c.G, c.out, c.in, c.mean, c.invstd, c.gamma, &c.s, 0), 0);
    assert_true(gc_check("bn.dinp", c.in, din, c.n, c.n, 1e-3f, TOL, bn_loss, &c, 1) < TOL);
    assert_true(gc_check("bn.dgamma", c.gamma, dgamma, 4, 4, 1e-3f, TOL, bn_loss, &c, 2) < TOL);
    assert_true(gc_check("bn.dbeta", c.beta, dbeta, 4, 4, 1e-3f, TOL, bn_loss, &c, 3) < TOL);
    free(c.in); free(c.out); free(c.G); free(c.gamma); free(c.beta); free(c.mean); free(c.invstd); free(din);
}

static void test_bn_gradcheck(void **state) {
    (void)state;
    check_bn(0);
    check_bn(1);
}

static void test_bn_hand_computed(void **state) {
    (void)state;
    /* one channel, 4 images of one pixel: x = 1,2,3,4 -> mean 2.5, biased var 1.25 */
    float x[4] = {1, 2, 3, 4}, y[4], mean, invstd, g = 2.0f, b = 0.5f, rm = 0.0f, rv = 1.0f;
    BnShape s = {.n = 4, .c = 1, .hw = 1, .eps = 1e-5f, .momentum = 0.1f, .relu = 0};
    batchnorm_forward_train(y, &mean, &invstd, x, &g, &b, &rm, &rv, &s);
    assert_float_equal(mean, 2.5f, 1e-6);
    assert_float_equal(invstd, 1.0f / sqrtf(1.25f + 1e-5f), 1e-6);
    const float xhat[4] = {-1.3416355f, -0.4472118f, 0.4472118f, 1.3416355f};
    for (int i = 0; i < 4; i++) assert_float_equal(y[i], 2.0f * xhat[i] + 0.5f, 1e-5);
    assert_float_equal(rm, 0.25f, 1e-6);                      /* 0.9*0 + 0.1*2.5 */
    assert_float_equal(rv, 0.9f + 0.1f * (5.0f / 3.0f), 1e-6); /* unbiased var 5/3 */
    /* eval mode uses the running statistics */
    float ye[4];
    float m0 = 1.0f, v0 = 4.0f;
    batchnorm_forward_eval(ye, x, &g, &b, &m0, &v0, &s);
    for (int i = 0; i < 4; i++) assert_float_equal(ye[i], 2.0f * (x[i] - 1.0f) / sqrtf(4.0f + 1e-5f) + 0.5f, 1e-5);
}

/* ---------------- padded planes ---------------- */
/* A buffer of c padded planes with the kernels' slack, every float set to `junk` (so a test sees
 * whether the borders get written), then the values of the compact planes src (if any). */
static float *padded_copy(const Planes *p, const float *src, size_t planes, float junk) {
    size_t n = planes_floats(p, planes) + CONV3X3_OVERREAD_FLOATS;
    float *b = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) b[i] = junk;
    if (src) planes_from_compact(b, p, src, (int)planes);
    return b;
}

/* Every non-value float of planes padded planes is zero, and the values equal the compact want
 * exactly. */
static void assert_padded_equals(const float *got, const Planes *p, const float *want, size_t planes) {
    for (size_t k = 0; k < planes; k++) {
        const float *pl = got + k * p->stride;
        for (size_t i = 0; i < p->stride; i++) {
            size_t r = i < (size_t)p->origin ? 0 : i - p->origin;
            int value = i >= (size_t)p->origin && r / p->row < (size_t)p->h && r % p->row < (size_t)p->w;
            if (value) assert_memory_equal(&pl[i], &want[k * p->h * p->w + (r / p->row) * p->w + r % p->row], 4);
            else assert_float_equal(pl[i], 0.0f, 0.0f);
        }
    }
}

/* Convs reading and writing padded planes give bit for bit what they give on compact planes, and
 * leave zero borders: forward at stride 1 and 2, both gradients at stride 1 (written and added). */
static void check_padded_conv(int n, int cin, int h, int w, int cout, int stride, int threads) {
    ConvShape s = {.n = n, .cin = cin, .h = h, .w = w, .cout = cout, .k = 3, .stride = stride, .pad = 1,
                   .w_row = cin * 9, .threads = threads};
    conv_shape_finish(&s);
    ConvShape sp = s;
    sp.in_padded = sp.out_padded = 1;
    const Planes ip = conv_in_planes(&sp), op = conv_out_planes(&sp);
    size_t in_n = (size_t)n * cin * h * w, out_n = (size_t)n * cout * s.ho * s.wo, w_n = (size_t)cout * cin * 9;
    float *in = malloc(in_n * 4), *wt = malloc(w_n * 4), *out = malloc(out_n * 4), *dy = malloc(out_n * 4);
    float *dx = malloc(in_n * 4), *dw = calloc(w_n, 4), *dwp = calloc(w_n, 4);
    float *ws = calloc(conv2d_workspace_floats(&s, threads), 4);
    gc_fill_normal(in, in_n, 11, 1.0f);
    gc_fill_normal(wt, w_n, 12, 0.5f);
    gc_fill_normal(dy, out_n, 13, 1.0f);
    float *inp = padded_copy(&ip, in, (size_t)n * cin, 0.0f), *outp = padded_copy(&op, NULL, (size_t)n * cout, 7.0f);
    conv2d_forward(out, in, wt, &s, ws);
    conv2d_forward(outp, inp, wt, &sp, ws);
    assert_padded_equals(outp, &op, out, (size_t)n * cout);
    if (stride == 1) {
        float *dyp = padded_copy(&op, dy, (size_t)n * cout, 0.0f), *dxp = padded_copy(&ip, NULL, (size_t)n * cin, 5.0f);
        for (int accumulate = 0; accumulate <= 1; accumulate++) {
            conv2d_backward(dx, dw, dy, in, wt, &s, ws, accumulate);
            conv2d_backward(dxp, dwp, dyp, inp, wt, &sp, ws, accumulate);
            assert_padded_equals(dxp, &ip, dx, (size_t)n * cin);
            assert_memory_equal(dw, dwp, w_n * 4);
        }
        free(dyp);
        free(dxp);
    }
    free(in); free(wt); free(out); free(dy); free(dx); free(dw); free(dwp); free(ws); free(inp); free(outp);
}

static void test_padded_conv_matches_compact(void **state) {
    (void)state;
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        check_padded_conv(3, 5, 7, 9, 6, 1, threads);  /* odd sizes, channel tails */
        check_padded_conv(2, 4, 14, 14, 8, 1, threads);
        check_padded_conv(3, 5, 9, 7, 6, 2, threads);  /* odd sizes at stride 2: rows past the bottom border */
        check_padded_conv(2, 4, 28, 28, 8, 2, threads);
        check_padded_conv(1, 3, 6, 5, 9, 1, threads); /* batch 1: parallel over channel blocks */
    }
    omp_set_num_threads(1);
}

/* BN over padded planes: the same statistics (to float rounding: the border zeros are taken out of
 * the centered sum of squares), outputs and gradients, with zero borders; GAP likewise. */
static void test_padded_bn_and_gap_match_compact(void **state) {
    (void)state;
    const int n = 3, c = 4, h = 5, w = 6;
    for (int relu = 0; relu <= 1; relu++) {
        BnShape s = {.n = n, .c = c, .hw = h * w, .eps = 1e-5f, .momentum = 0.1f, .relu = relu};
        BnShape sp = s;
        sp.planes = planes_padded(h, w);
        const Planes *pp = &sp.planes;
        size_t len = (size_t)n * c * h * w;
        float *x = malloc(len * 4), *y = malloc(len * 4), *dy = malloc(len * 4), *dx = malloc(len * 4);
        gc_fill_normal(x, len, 21, 2.0f);
        for (size_t i = 0; i < len; i++) x[i] += 3.0f; /* a mean well away from 0 */
        gc_fill_normal(dy, len, 22, 1.0f);
        float g[4] = {1.0f, 0.5f, -0.7f, 2.0f}, b[4] = {0.1f, -0.2f, 0.3f, 0.0f};
        float mean[4], inv[4], meanp[4], invp[4], dg[4] = {0}, db[4] = {0}, dgp[4] = {0}, dbp[4] = {0};
        float *xp = padded_copy(pp, x, (size_t)n * c, 0.0f), *yp = padded_copy(pp, NULL, (size_t)n * c, 9.0f);
        batchnorm_forward_train(y, mean, inv, x, g, b, NULL, NULL, &s);
        batchnorm_forward_train(yp, meanp, invp, xp, g, b, NULL, NULL, &sp);
        for (int k = 0; k < c; k++) {
            assert_float_equal(mean[k], meanp[k], 1e-6f * (1.0f + fabsf(mean[k])));
            assert_float_equal(inv[k], invp[k], 1e-5f * inv[k]);
        }
        float *yc = malloc(len * 4), *dxc = malloc(len * 4);
        planes_to_compact(yc, yp, pp, n * c);
        for (size_t i = 0; i < len; i++) assert_float_equal(yc[i], y[i], 1e-5f * (1.0f + fabsf(y[i])));
        float *dyp = padded_copy(pp, dy, (size_t)n * c, 0.0f), *dxp = padded_copy(pp, NULL, (size_t)n * c, 4.0f);
        assert_int_equal(batchnorm_backward(dx, dg, db, dy, y, x, mean, inv, g, &s, 0), 0);
        assert_int_equal(batchnorm_backward(dxp, dgp, dbp, dyp, yp, xp, meanp, invp, g, &sp, 0), 0);
        planes_to_compact(dxc, dxp, pp, n * c);
        for (size_t i = 0; i < len; i++) assert_float_equal(dxc[i], dx[i], 1e-4f * (1.0f + fabsf(dx[i])));
        for (int k = 0; k < c; k++) {
            assert_float_equal(dg[k], dgp[k], 1e-4f * (1.0f + fabsf(dg[k])));
            assert_float_equal(db[k], dbp[k], 1e-4f * (1.0f + fabsf(db[k])));
        }
        /* borders: the padded outputs against themselves made compact and padded again */
        float *check = padded_copy(pp, yc, (size_t)n * c, 0.0f);
        assert_padded_equals(yp, pp, yc, (size_t)n * c);
        assert_padded_equals(dxp, pp, dxc, (size_t)n * c);
        float avg[12], avgp[12];
        Planes cp = planes_compact(h, w);
        gap_forward(avg, x, n, c, &cp);
        gap_forward(avgp, xp, n, c, pp);
        for (int k = 0; k < n * c; k++) assert_float_equal(avg[k], avgp[k], 1e-6f * (1.0f + fabsf(avg[k])));
        gap_backward(dx, avg, n, c, &cp, 0);
        gap_backward(dxp, avg, n, c, pp, 0);
        assert_padded_equals(dxp, pp, dx, (size_t)n * c);
        free(x); free(y); free(dy); free(dx); free(xp); free(yp); free(yc); free(dxc); free(dyp); free(dxp);
        free(check);
    }
}

/* ---------------- relu, add, pools ---------------- */
typedef struct EwCtx {
    float *a, *b, *out, *G;
    size_t n;
    int kind; /* 0 relu, 1 add, 2 add+relu, 3 gap */
} EwCtx;

static double ew_loss(void *p) {
    EwCtx *c = p;
    if (c->kind == 0) relu_forward(c->out, c->a, c->n);
    else if (c->kind == 3) {
        Planes p = planes_compact(2, (int)(c->n / 12));
        gap_forward(c->out, c->a, 2, 3, &p);
    }
    else add_forward(c->out, c->a, c->b, c->n, c->kind == 2);
    return gc_dot(c->out, c->G, c->kind == 3 ? 6 : c->n);
}

static void test_elementwise_gradcheck(void **state) {
    (void)state;
    size_t n = 60;
    EwCtx c = {malloc(n * 4), malloc(n * 4), malloc(n * 4), malloc(n * 4), n, 0};
    float *da = malloc(n * 4), *db = malloc(n * 4);
    /* inputs kept away from 0 so the kink is never crossed by h */
    gc_fill_normal(c.a, n, 1, 1.0f);
    gc_fill_normal(c.b, n, 2, 1.0f);
    for (size_t i = 0; i < n; i++) {
        if (fabsf(c.a[i]) < 0.1f) c.a[i] += 0.3f;
        if (fabsf(c.a[i] + c.b[i]) < 0.1f) c.b[i] += 0.3f;
    }
    gc_fill_normal(c.G, n, 3, 1.0f);
    c.kind = 0;
    ew_loss(&c);
    relu_backward(da, c.G, c.out, n, 0);
    assert_true(gc_check("relu", c.a, da, n, n, H, TOL, ew_loss, &c, 1) < TOL);
    for (int kind = 1; kind <= 2; kind++) {
        c.kind = kind;
        ew_loss(&c);
        add_backward(da, db, c.G, c.out, n, kind == 2, 0, 0);
        assert_true(gc_check("add.a", c.a, da, n, n, H, TOL, ew_loss, &c, 2) < TOL);
        assert_true(gc_check("add.b", c.b, db, n, n, H, TOL, ew_loss, &c, 3) < TOL);
    }
    c.kind = 3; /* gap over [2][3][10] */
    ew_loss(&c);
    Planes gp = planes_compact(2, 5);
    gap_backward(da, c.G, 2, 3, &gp, 0);
    assert_true(gc_check("gap", c.a, da, n, n, H, TOL, ew_loss, &c, 4) < TOL);
    free(c.a); free(c.b); free(c.out); free(c.G); free(da); free(db);
}

typedef struct PoolCtx {
    PoolShape s;
    float *in, *out, *G;
    int *am;
    size_t in_n, out_n;
} PoolCtx;

static double pool_loss(void *p) {
    PoolCtx *c = p;
    maxpool_forward(c->out, c->am, c->in, &c->s);
    return gc_dot(c->out, c->G, c->out_n);
}

static void test_maxpool(void **state) {
    (void)state;
    /* hand case: 2x2 stride 2 on 1..16 */
    float in[16], out[4];
    int am[4];
    for (int i = 0; i < 16; i++) in[i] = (float)(i + 1);
    PoolShape s = {.n = 1, .c = 1, .h = 4, .w = 4, .k = 2, .stride = 2, .pad = 0};
    pool_shape_finish(&s);
    maxpool_forward(out, am, in, &s);
    assert_true(out[0] == 6 && out[1] == 8 && out[2] == 14 && out[3] == 16);
    /* 3x3 stride 2 pad 1 (AlexNet/ResNet-18 pool) gradient check */
    PoolCtx c;
    c.s = (PoolShape){.n = 2, .c = 3, .h = 7, .w = 7, .k = 3, .stride = 2, .pad = 1};
    pool_shape_finish(&c.s);
    assert_int_equal(c.s.ho, 4);
    c.in_n = 2 * 3 * 49;
    c.out_n = (size_t)2 * 3 * c.s.ho * c.s.wo;
    c.in = malloc(c.in_n * 4); c.out = malloc(c.out_n * 4); c.G = malloc(c.out_n * 4);
    c.am = malloc(c.out_n * sizeof(int));
    /* distinct values spaced more than 2h apart so no tie flips */
    for (size_t i = 0; i < c.in_n; i++) c.in[i] = (float)((i * 37) % c.in_n) * 0.05f;
    gc_fill_normal(c.G, c.out_n, 3, 1.0f);
    float *din = malloc(c.in_n * 4);
    pool_loss(&c);
    maxpool_backward(din, c.G, c.am, &c.s, 0);
    assert_true(gc_check("maxpool", c.in, din, c.in_n, c.in_n, 1e-2f, TOL, pool_loss, &c, 1) < TOL);
    free(c.in); free(c.out); free(c.G); free(c.am); free(din);
}

/* The definition: every window element in order, the first maximum wins. */
static void maxpool_naive(float *out, int *am, const float *in, const PoolShape *s) {
    for (int pl = 0; pl < s->n * s->c; pl++)
        for (int oy = 0; oy < s->ho; oy++)
            for (int ox = 0; ox < s->wo; ox++) {
                float best = 0.0f;
                int at = -1;
                for (int ky = 0; ky < s->k; ky++)
                    for (int kx = 0; kx < s->k; kx++) {
                        int iy = oy * s->stride - s->pad + ky, ix = ox * s->stride - s->pad + kx;
                        if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w) continue;
                        float v = in[(size_t)pl * s->h * s->w + iy * s->w + ix];
                        if (at < 0 || v > best) best = v, at = iy * s->w + ix;
                    }
                out[(size_t)pl * s->ho * s->wo + oy * s->wo + ox] = best;
                am[(size_t)pl * s->ho * s->wo + oy * s->wo + ox] = at;
            }
}

/* Outputs and argmax equal the definition's, ties (few distinct values) and all-negative planes
 * included, for the pools of the models and odd shapes. */
static void test_maxpool_matches_definition(void **state) {
    (void)state;
    static const int shapes[][5] = {{28, 28, 3, 2, 1}, {7, 7, 3, 2, 1}, {14, 14, 2, 2, 0}, {9, 6, 3, 1, 1},
                                    {5, 8, 3, 2, 0}, {1, 1, 3, 2, 1}, {6, 5, 2, 1, 1}};
    for (size_t t = 0; t < sizeof shapes / sizeof *shapes; t++) {
        PoolShape s = {.n = 2, .c = 3, .h = shapes[t][0], .w = shapes[t][1], .k = shapes[t][2], .stride = shapes[t][3],
                       .pad = shapes[t][4]};
        pool_shape_finish(&s);
        size_t in_n = (size_t)s.n * s.c * s.h * s.w, out_n = (size_t)s.n * s.c * s.ho * s.wo;
        float *in = malloc(in_n * 4), *out = malloc(out_n * 4), *ref = malloc(out_n * 4);
        int *am = malloc(out_n * sizeof(int)), *ref_am = malloc(out_n * sizeof(int));
        for (size_t i = 0; i < in_n; i++) in[i] = (float)((i * 7919) % 5) - (i < in_n / 2 ? 10.0f : 0.0f);
        maxpool_forward(out, am, in, &s);
        maxpool_naive(ref, ref_am, in, &s);
        assert_memory_equal(out, ref, out_n * 4);
        assert_memory_equal(am, ref_am, out_n * sizeof(int));
        maxpool_forward(out, NULL, in, &s); /* inference: no argmax */
        assert_memory_equal(out, ref, out_n * 4);
        free(in); free(out); free(ref); free(am); free(ref_am);
    }
}

/* ---------------- linear ---------------- */
typedef struct LinCtx {
    LinearShape s;
    float *in, *w, *b, *out, *G;
} LinCtx;

static double lin_loss(void *p) {
    LinCtx *c = p;
    linear_forward(c->out, c->in, c->w, c->b, &c->s);
    return gc_dot(c->out, c->G, (size_t)c->s.n * c->s.out);
}

static void test_linear(void **state) {
    (void)state;
    /* slimmed: 5 of 8 stored inputs, 3 of 4 stored outputs */
    LinCtx c = {.s = {.n = 4, .in = 5, .out = 3, .w_row = 8}};
    size_t wn = 4 * 8;
    c.in = malloc(4 * 5 * 4); c.w = malloc(wn * 4); c.b = malloc(16); c.out = malloc(4 * 3 * 4); c.G = malloc(4 * 3 * 4);
    float *din = malloc(4 * 5 * 4), *dw = calloc(wn, 4), db[4] = {0};
    gc_fill_normal(c.in, 20, 1, 1.0f);
    gc_fill_normal(c.w, wn, 2, 1.0f);
    gc_fill_normal(c.b, 4, 3, 1.0f);
    gc_fill_normal(c.G, 12, 4, 1.0f);
    lin_loss(&c);
    linear_backward(din, dw, db, c.G, c.in, c.w, &c.s, 0);
    assert_true(gc_check("linear.dinp", c.in, din, 20, 20, H, TOL, lin_loss, &c, 1) < TOL);
    assert_true(gc_check("linear.dw", c.w, dw, wn, wn, H, TOL, lin_loss, &c, 2) < TOL);
    assert_true(gc_check("linear.db", c.b, db, 4, 4, H, TOL, lin_loss, &c, 3) < TOL);
    /* hand case: out = x . w^T + b */
    float x[2] = {1, 2}, w[4] = {1, 0, -1, 3}, b[2] = {0.5f, -1}, o[2];
    LinearShape s = {.n = 1, .in = 2, .out = 2, .w_row = 2};
    linear_forward(o, x, w, b, &s);
    assert_float_equal(o[0], 1.5f, 1e-6);
    assert_float_equal(o[1], 4.0f, 1e-6);
    free(c.in); free(c.w); free(c.b); free(c.out); free(c.G); free(din); free(dw);
}

/* ---------------- losses ---------------- */
typedef struct LossCtx {
    float *z, *t;
    int *labels, n, k, soft;
} LossCtx;

static double loss_value(void *p) {
    LossCtx *c = p;
    if (c->soft == 2) { /* distillation at T = 3, a = 0.7: the loss its gradient is of */
        float soft, *dz = malloc(sizeof(float) * (size_t)c->n * c->k);
        float hard = distill_xent_forward_backward(dz, c->z, c->labels, c->t, c->n, c->k, 3.0f, 0.7f, &soft, NULL);
        free(dz);
        return 0.3 * hard + 0.7 * 9.0 * soft;
    }
    return c->soft ? soft_xent_forward_backward(NULL, c->z, c->t, c->n, c->k, 2.0f)
                   : softmax_xent_forward_backward(NULL, c->z, c->labels, c->n, c->k, NULL);
}

static void test_losses(void **state) {
    (void)state;
    /* hand case: logits (0,0), label 0 -> ln 2, gradient (-0.5, 0.5) */
    float z0[2] = {0, 0}, d0[2];
    int l0 = 0, correct;
    float loss = softmax_xent_forward_backward(d0, z0, &l0, 1, 2, &correct);
    assert_float_equal(loss, 0.6931472f, 1e-6);
    assert_float_equal(d0[0], -0.5f, 1e-6);
    assert_float_equal(d0[1], 0.5f, 1e-6);
    /* hand case: logits (1,2,3), label 2 -> -log(e^3/(e+e^2+e^3)) = 0.40760596 */
    float z1[3] = {1, 2, 3}, d1[3];
    int l1 = 2;
    assert_float_equal(softmax_xent_forward_backward(d1, z1, &l1, 1, 3, &correct), 0.40760596f, 1e-6);
    assert_int_equal(correct, 1);
    /* soft targets equal to the model's own softmax at T=1 give zero gradient */
    float p1[3], ds[3];
    softmax_rows(p1, z1, 1, 3, 1.0f);
    soft_xent_forward_backward(ds, z1, p1, 1, 3, 1.0f);
    for (int i = 0; i < 3; i++) assert_float_equal(ds[i], 0.0f, 1e-7);
    /* gradient checks for both */
    LossCtx c = {malloc(5 * 4 * 4), malloc(5 * 4 * 4), malloc(5 * sizeof(int)), 5, 4, 0};
    float *d = malloc(5 * 4 * 4);
    gc_fill_normal(c.z, 20, 1, 2.0f);
    for (int i = 0; i < 5; i++) c.labels[i] = i % 4;
    softmax_xent_forward_backward(d, c.z, c.labels, 5, 4, NULL);
    assert_true(gc_check("xent", c.z, d, 20, 20, 1e-2f, TOL, loss_value, &c, 1) < TOL);
    float *zt = malloc(20 * 4);
    gc_fill_normal(zt, 20, 7, 1.0f);
    softmax_rows(c.t, zt, 5, 4, 1.0f);
    c.soft = 1;
    soft_xent_forward_backward(d, c.z, c.t, 5, 4, 2.0f);
    assert_true(gc_check("soft_xent", c.z, d, 20, 20, 1e-2f, TOL, loss_value, &c, 2) < TOL);
    /* distillation: (1-a) x hard + a x T^2 x soft, checked numerically; the hard loss is returned */
    float soft, *dh = malloc(20 * 4);
    c.soft = 2;
    float hard = distill_xent_forward_backward(d, c.z, c.labels, c.t, 5, 4, 3.0f, 0.7f, &soft, &correct);
    assert_float_equal(hard, softmax_xent_forward_backward(dh, c.z, c.labels, 5, 4, NULL), 1e-6);
    assert_float_equal(soft, soft_xent_forward_backward(NULL, c.z, c.t, 5, 4, 3.0f), 1e-6);
    assert_true(gc_check("distill_xent", c.z, d, 20, 20, 1e-2f, TOL, loss_value, &c, 3) < TOL);
    /* hand cases: weight 0 is the hard loss's gradient; weight 1 at T = 1 the soft one's */
    distill_xent_forward_backward(d, c.z, c.labels, c.t, 5, 4, 3.0f, 0.0f, NULL, NULL);
    for (int i = 0; i < 20; i++) assert_float_equal(d[i], dh[i], 1e-7);
    distill_xent_forward_backward(d, c.z, c.labels, c.t, 5, 4, 1.0f, 1.0f, NULL, NULL);
    soft_xent_forward_backward(dh, c.z, c.t, 5, 4, 1.0f);
    for (int i = 0; i < 20; i++) assert_float_equal(d[i], dh[i], 1e-7);
    /* targets equal to the model's own softmax at T leave only the hard part, scaled by 1-a */
    softmax_rows(c.t, c.z, 5, 4, 3.0f);
    distill_xent_forward_backward(d, c.z, c.labels, c.t, 5, 4, 3.0f, 0.7f, NULL, NULL);
    softmax_xent_forward_backward(dh, c.z, c.labels, 5, 4, NULL);
    for (int i = 0; i < 20; i++) assert_float_equal(d[i], 0.3f * dh[i], 1e-6);
    free(c.z); free(c.t); free(c.labels); free(d); free(zt); free(dh);
}

/* Workspace sizes are computed in size_t with overflow checks: a shape whose plane size overflows
 * int (the old code multiplied ho * wo and the direct kernel's plane geometry in int, which wrapped
 * to a far smaller buffer) is sized at least as large as what the kernels would touch, or SIZE_MAX
 * (too large: refused by model_create). */
/* A workspace of n floats covers a need of `least` floats: at least that many, or SIZE_MAX (too large to
 * allocate) where the need does not fit in size_t (a 32-bit build). */
static int covers(size_t n, double least) { return least > (double)SIZE_MAX ? n == SIZE_MAX : (double)n >= least; }

static void test_conv_workspace_does_not_overflow(void **state) {
    (void)state;
    ConvShape s = {.n = 64, .cin = 16, .h = 100000, .w = 100000, .cout = 16, .k = 3, .stride = 1, .pad = 1,
                   .w_row = 16 * 9, .threads = 2};
    conv_shape_finish(&s);
    /* the direct kernel's weight gradient alone copies every image's input and output gradient
     * into padded planes of (h + 2) x (w + 1) floats */
    double least = (double)s.n * (s.cin + s.cout) * (s.h + 2.0) * (s.w + 1.0);
    size_t need = conv2d_workspace_floats(&s, 2);
    print_message("100000x100000, 64 images: workspace %zu floats, at least %.3g needed\n", need, least);
    assert_true(covers(need, least));
    /* 1x1 convolutions take the im2col path: the same holds for them */
    s.k = 1;
    s.pad = 0;
    conv_shape_finish(&s);
    need = conv2d_workspace_floats(&s, 2);
    assert_true(covers(need, (double)s.cin * s.ho * s.wo));
    /* a shape within CONV_MAX_SIDE keeps its exact size */
    ConvShape t = {.n = 8, .cin = 4, .h = 28, .w = 28, .cout = 8, .k = 3, .stride = 1, .pad = 1, .w_row = 36, .threads = 1};
    conv_shape_finish(&t);
    need = conv2d_workspace_floats(&t, 1);
    assert_true(need > 0 && need < ((size_t)1 << 24));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_hand_computed),
        cmocka_unit_test(test_conv_workspace_does_not_overflow),
        cmocka_unit_test(test_conv3x3_direct_matches_naive),
        cmocka_unit_test(test_conv3x3_same_for_any_thread_count),
        cmocka_unit_test(test_padded_conv_matches_compact),
        cmocka_unit_test(test_padded_bn_and_gap_match_compact),
        cmocka_unit_test(test_conv_gradcheck_serial_path),
        cmocka_unit_test(test_conv_gradcheck_parallel_path),
        cmocka_unit_test(test_bn_hand_computed),
        cmocka_unit_test(test_bn_gradcheck),
        cmocka_unit_test(test_elementwise_gradcheck),
        cmocka_unit_test(test_maxpool),
        cmocka_unit_test(test_maxpool_matches_definition),
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_losses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
