/* bench/conv_vs_sgemm.c — GFLOP/s of dynn's convolutions (forward, input gradient, weight gradient)
 * on ResNet-20's 3x3 layer shapes at batch 128, against OpenBLAS sgemm on the GEMM of the same
 * FLOPs (M = Cout, N = batch*H*W, K = Cin*9: the best case an im2col convolution could reach, with
 * the im2col itself for free). Activations in padded planes, as a model stores them between 3x3
 * convs (layers.h). Benchmark, not a test: the fastest of 5 runs is reported.
 * Usage: conv_vs_sgemm [--threads T] [--hw 28] [--shape CxH[,CxH...]] [--json]
 *   --shape: these shapes (channels in = out, H x H planes) instead of ResNet-20's, e.g. 256x7 for the
 *            AlexNet-style network's conv4 at 28x28 input. */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/conv3x3.h"
#include "nn/layers.h"
#include "nn/parallel.h"
#include "nn/blas_core.h"

typedef struct Case {
    ConvShape s;
    float *in, *w, *out, *dout, *din, *dw, *ws, *a, *b, *c;
} Case;

static double fastest(void (*f)(Case *), Case *c) {
    double best = 1e30;
    f(c);
    for (int r = 0; r < 5; r++) {
        double t = omp_get_wtime();
        f(c);
        t = omp_get_wtime() - t;
        if (t < best) best = t;
    }
    return best;
}

static void run_fwd(Case *c) { conv2d_forward(c->out, c->in, c->w, &c->s, c->ws); }
static void run_bwd(Case *c) { conv2d_backward(c->din, c->dw, c->dout, c->in, c->w, &c->s, c->ws, 0); }
static void run_bwd_weight(Case *c) { conv2d_backward(NULL, c->dw, c->dout, c->in, c->w, &c->s, c->ws, 0); }
static void run_sgemm(Case *c) {
    int m = c->s.cout, n = c->s.n * c->s.ho * c->s.wo, k = c->s.cin * 9;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, c->a, k, c->b, n, 0.0f, c->c, n);
}

int main(int argc, char **argv) {
    blas_core_ensure(argv); /* OpenBLAS at the CPU's vector level, as in dynn (may re-execute) */
    int threads = 2, hw = 28, json = 0, n_shapes = 0;
    int shapes[8][2];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--hw") && i + 1 < argc) hw = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--shape") && i + 1 < argc) {
            n_shapes = 0;
            for (char *p = argv[++i]; n_shapes < 8 && *p;) {
                char *end;
                shapes[n_shapes][0] = (int)strtol(p, &end, 10);
                if (*end != 'x' || shapes[n_shapes][0] < 1) break;
                shapes[n_shapes][1] = (int)strtol(end + 1, &p, 10);
                if (shapes[n_shapes][1] < 1 || (*p && *p != ',')) break;
                n_shapes++;
                if (*p) p++;
            }
            if (!n_shapes) {
                fprintf(stderr, "conv_vs_sgemm: --shape wants CxH[,CxH...], e.g. 256x7\n");
                return 2;
            }
        } else {
            fprintf(stderr, "usage: conv_vs_sgemm [--threads T] [--hw N] [--shape CxH[,CxH...]] [--json]\n");
            return 2;
        }
    }
    nn_set_threads(threads);
    if (!n_shapes) { /* ResNet-20's three stages */
        const int resnet[3][2] = {{16, hw}, {32, (hw + 1) / 2}, {64, (hw + 3) / 4}};
        memcpy(shapes, resnet, sizeof resnet);
        n_shapes = 3;
    }
    if (json) printf("[");
    for (int k = 0; k < n_shapes; k++) {
        int ch = shapes[k][0], h = shapes[k][1];
        Case c;
        c.s = (ConvShape){.n = 128, .cin = ch, .h = h, .w = h, .cout = ch, .k = 3, .stride = 1, .pad = 1,
                          .w_row = ch * 9, .threads = threads, .in_padded = 1, .out_padded = 1};
        conv_shape_finish(&c.s);
        const Planes pl = conv_in_planes(&c.s);
        size_t an = (size_t)128 * ch * h * h, wn = (size_t)ch * ch * 9;
        size_t pn = planes_floats(&pl, (size_t)128 * ch) + CONV3X3_OVERREAD_FLOATS;
        c.in = calloc(pn, 4); c.out = calloc(pn, 4); c.dout = calloc(pn, 4); c.din = calloc(pn, 4);
        c.w = malloc(wn * 4); c.dw = calloc(wn, 4);
        c.ws = calloc(conv2d_workspace_floats(&c.s, threads), 4);
        c.a = malloc(wn * 4); c.b = malloc(an * 9 * 4); c.c = malloc(an * 4);
        for (size_t i = 0; i < an; i++) c.c[i] = (float)(i % 13) * 0.1f;
        planes_from_compact(c.in, &pl, c.c, 128 * ch);
        planes_from_compact(c.dout, &pl, c.c, 128 * ch);
        for (size_t i = 0; i < an * 9; i++) c.b[i] = (float)(i % 7) * 0.1f;
        for (size_t i = 0; i < wn; i++) c.w[i] = c.a[i] = 0.01f * (float)(i % 11);
        double gf = 2.0 * 128 * ch * ch * 9 * h * h / 1e9;
        double f = gf / fastest(run_fwd, &c), g = gf / fastest(run_sgemm, &c);
        double tb = fastest(run_bwd, &c), tw = fastest(run_bwd_weight, &c);
        double b = 2 * gf / tb, bw = gf / tw, bd = tb > tw ? gf / (tb - tw) : 0.0;
        if (json)
            printf("%s{\"channels\":%d,\"hw\":%d,\"conv_fwd_gflops\":%.1f,\"conv_bwd_gflops\":%.1f,"
                   "\"conv_bwd_data_gflops\":%.1f,\"conv_bwd_weight_gflops\":%.1f,\"sgemm_gflops\":%.1f}",
                   k ? "," : "", ch, h, f, b, bd, bw, g);
        else
            printf("3x3 conv %2dch %2dx%-2d batch 128, %d threads: forward %6.1f GFLOP/s, backward %6.1f (data %6.1f,"
                   " weight %6.1f) GFLOP/s; sgemm %dx%dx%d %6.1f GFLOP/s -> forward at %.0f%% of sgemm\n",
                   ch, h, h, threads, f, b, bd, bw, ch, 128 * h * h, ch * 9, g, 100.0 * f / g);
        free(c.in); free(c.out); free(c.dout); free(c.din); free(c.w); free(c.dw); free(c.ws);
        free(c.a); free(c.b); free(c.c);
    }
    if (json) printf("]\n");
    /* The machine's sgemm ceiling: a large square product. */
    int n = 2048;
    float *a = calloc((size_t)n * n, 4), *b = calloc((size_t)n * n, 4), *cc = calloc((size_t)n * n, 4);
    double best = 1e30;
    for (int r = 0; r < 4; r++) {
        double t = omp_get_wtime();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, cc, n);
        t = omp_get_wtime() - t;
        if (t < best) best = t;
    }
    if (!json) printf("sgemm 2048^3, %d threads: %.1f GFLOP/s (the machine's practical peak)\n", threads, 2.0 * n * n * n / best / 1e9);
    free(a); free(b); free(cc);
    return 0;
}
