/* bench/train_step.c — time of one training step (forward + backward + SGD) and of inference for a
 * model at a batch size, with a per-op-kind breakdown, and the GFLOP/s the convolutions reach.
 * Usage: train_step [--model resnet20] [--hw 28] [--cin 1] [--batch 128] [--threads 2] [--steps 10]
 *                   [--width 1.0] [--json] [--ops (per-op times)]
 * Benchmark, not a test: prints medians over --steps repeats (as the PyTorch peer), asserts nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>

#include "nn/model.h"
#include "nn/optim.h"
#include "nn/parallel.h"
#include "nn/rng.h"
#include "nn/blas_core.h"

static const char *KIND[] = {"conv", "bn", "relu", "maxpool", "gap", "linear", "add"};

int main(int argc, char **argv) {
    blas_core_ensure(argv); /* OpenBLAS at the CPU's vector level, as in dynn (may re-execute) */
    const char *arch = "resnet20";
    int hw = 28, cin = 1, batch = 128, threads = 2, steps = 10, json = 0, per_op = 0;
    float width = 1.0f;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) arch = argv[++i];
        else if (!strcmp(argv[i], "--hw") && i + 1 < argc) hw = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cin") && i + 1 < argc) cin = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--width") && i + 1 < argc) width = strtof(argv[++i], NULL);
        else if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--ops")) per_op = 1;
        else {
            fprintf(stderr, "usage: train_step [--model M] [--hw N] [--cin C] [--batch N] [--threads T] [--steps N] [--width W] [--json]\n");
            return 2;
        }
    }
    nn_set_threads(threads);
    ModelDesc *d = calloc(1, sizeof *d);
    Err err;
    Model m;
    if (model_desc_build(d, arch, cin, hw, hw, 10, width, &err) || model_create(&m, d, batch, threads, &err)) {
        fprintf(stderr, "train_step: %s\n", err.msg);
        return 1;
    }
    model_init_params(&m, 1);
    Sgd opt;
    SgdConfig sc = {.momentum = 0.9f, .weight_decay = 5e-4f, .nesterov = 1, .decay_bn = 1};
    sgd_create(&opt, &m, &sc, &err);
    size_t in_n = (size_t)batch * cin * hw * hw;
    float *x = malloc(in_n * 4);
    int *labels = malloc(sizeof(int) * batch);
    Rng r;
    rng_seed(&r, 3);
    for (size_t i = 0; i < in_n; i++) x[i] = rng_normal(&r);
    for (int i = 0; i < batch; i++) labels[i] = i % 10;
    m.training = 1;
    for (int w = 0; w < 2; w++) { /* warm-up */
        model_zero_grad(&m);
        model_forward(&m, x, batch);
        model_loss(&m, labels, NULL);
        model_backward(&m);
        sgd_step(&opt, &m, 0.01f, NULL);
    }
    /* Throughput from the median step (as the PyTorch peer reports its median); the per-op
     * breakdown is that of the fastest step, the least disturbed by the noisy machine. */
    m.profile = 1;
    double step_s = 1e30, zero_s = 0, sgd_s = 0, kind_f[7] = {0}, kind_b[7] = {0};
    double *step_times = calloc((size_t)steps, sizeof(double));
    double best_f[MODEL_MAX_OPS] = {0}, best_b[MODEL_MAX_OPS] = {0};
    for (int s = 0; s < steps; s++) {
        memset(m.op_fwd_s, 0, sizeof m.op_fwd_s);
        memset(m.op_bwd_s, 0, sizeof m.op_bwd_s);
        double t0 = omp_get_wtime();
        model_zero_grad(&m);
        double a = omp_get_wtime();
        model_forward(&m, x, batch);
        model_loss(&m, labels, NULL);
        model_backward(&m);
        double b = omp_get_wtime();
        sgd_step(&opt, &m, 0.01f, NULL);
        double t1 = omp_get_wtime();
        step_times[s] = t1 - t0;
        if (t1 - t0 < step_s) {
            step_s = t1 - t0;
            zero_s = a - t0;
            sgd_s = t1 - b;
            memset(kind_f, 0, sizeof kind_f);
            memset(kind_b, 0, sizeof kind_b);
            for (int i = 0; i < d->n_ops; i++) {
                kind_f[d->ops[i].kind] += m.op_fwd_s[i];
                kind_b[d->ops[i].kind] += m.op_bwd_s[i];
                best_f[i] = m.op_fwd_s[i];
                best_b[i] = m.op_bwd_s[i];
            }
        }
    }
    for (int i = 1; i < steps; i++) /* insertion sort: a handful of values */
        for (int j = i; j > 0 && step_times[j - 1] > step_times[j]; j--) {
            double t = step_times[j];
            step_times[j] = step_times[j - 1];
            step_times[j - 1] = t;
        }
    double fastest_s = step_s;
    step_s = step_times[steps / 2];
    free(step_times);
    double macs = model_subnet_macs(d, m.active);
    double conv_s = kind_f[0] + kind_b[0];
    /* inference */
    m.training = 0;
    m.profile = 0;
    model_forward(&m, x, batch);
    int infer_reps = steps * 2;
    double *infer_times = calloc((size_t)infer_reps, sizeof(double));
    for (int s = 0; s < infer_reps; s++) {
        double ti = omp_get_wtime();
        model_forward(&m, x, batch);
        infer_times[s] = omp_get_wtime() - ti;
    }
    for (int i = 1; i < infer_reps; i++)
        for (int j = i; j > 0 && infer_times[j - 1] > infer_times[j]; j--) {
            double t = infer_times[j];
            infer_times[j] = infer_times[j - 1];
            infer_times[j - 1] = t;
        }
    double infer_s = infer_times[infer_reps / 2]; /* median, as the peer */
    free(infer_times);
    if (json) {
        printf("{\"model\":\"%s\",\"hw\":%d,\"batch\":%d,\"threads\":%d,\"step_ms\":%.3f,\"train_img_per_s\":%.1f,"
               "\"infer_ms\":%.3f,\"conv_gflops\":%.2f}\n",
               d->arch, hw, batch, threads, step_s * 1e3, batch / step_s, infer_s * 1e3, 3 * 2 * macs * batch / conv_s / 1e9);
    } else {
        printf("%s %dx%dx%d batch %d threads %d: train step %.1f ms median (%.1f fastest) = %.0f img/s; inference %.2f ms/batch median\n",
               d->arch, cin, hw, hw, batch, threads, step_s * 1e3, fastest_s * 1e3, batch / step_s, infer_s * 1e3);
        for (int k = 0; k < 7; k++)
            if (kind_f[k] + kind_b[k] > 0) printf("  %-8s fwd %7.2f ms  bwd %7.2f ms\n", KIND[k], kind_f[k] * 1e3, kind_b[k] * 1e3);
        printf("  zero_grad %.2f ms  sgd %.2f ms\n", zero_s * 1e3, sgd_s * 1e3);
        if (per_op)
            for (int i = 0; i < d->n_ops; i++)
                printf("    %-24s %-8s fwd %7.3f ms  bwd %7.3f ms\n", d->ops[i].name, KIND[d->ops[i].kind], best_f[i] * 1e3,
                       best_b[i] * 1e3);
        printf("  conv (fwd+bwd) %.1f GFLOP/s (train FLOPs = 3 x 2 x %.2f MMACs x batch)\n",
               3 * 2 * macs * batch / conv_s / 1e9, macs / 1e6);
    }
    sgd_free(&opt);
    model_free(&m);
    free(x);
    free(labels);
    return 0;
}
