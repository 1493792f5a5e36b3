/* bench/latency_reference.c — the second candidate measure of the CI latency gate (docs/PERFORMANCE.md,
 * "The CI latency gate"): a forward pass's wall time divided by a reference measured in the same
 * process just before and just after it (an OpenBLAS sgemm of about a forward's work plus a
 * memory-bound copy), so that the machine's speed cancels. Prints the median raw forward time and the
 * median normalized time over REPEAT forwards; bench/ci_gate_spread.sh runs it repeatedly, idle and
 * beside a competing load, to compare the spread with that of instruction counts.
 * Usage: latency_reference CKPT [SUBNET [BATCH [REPEAT]]]   (one thread) */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/backend.h"
#include "nn/checkpoint.h"
#include "nn/parallel.h"
#include "nn/rng.h"
#include "nn/blas_core.h"

#define REF_N 128                   /* sgemm 128x128x128: 2.1 M multiply-adds, a ResNet-8 forward's order */
#define REF_COPY (4u << 20)         /* bytes copied: beyond L2, memory-bound */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static float ra[REF_N * REF_N], rb[REF_N * REF_N], rc[REF_N * REF_N];
static char *copy_src, *copy_dst;

static double reference_s(void) {
    double t0 = now_s();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, REF_N, REF_N, REF_N, 1.0f, ra, REF_N, rb, REF_N, 0.0f, rc, REF_N);
    memcpy(copy_dst, copy_src, REF_COPY);
    return now_s() - t0;
}

int main(int argc, char **argv) {
    blas_core_ensure(argv); /* OpenBLAS at the CPU's vector level, as in dynn (may re-execute) */
    if (argc < 2) {
        fprintf(stderr, "usage: latency_reference CKPT [SUBNET [BATCH [REPEAT]]]\n");
        return 2;
    }
    int subnet = argc > 2 ? atoi(argv[2]) : 0, batch = argc > 3 ? atoi(argv[3]) : 1, repeat = argc > 4 ? atoi(argv[4]) : 30;
    if (batch < 1 || repeat < 1 || repeat > 100000) {
        fprintf(stderr, "latency_reference: BATCH and REPEAT must be positive\n");
        return 2;
    }
    nn_set_threads(1);
    ModelDesc *d = calloc(1, sizeof *d);
    ModelWeights w = {0};
    unsigned long crc;
    Err err;
    Backend *b = NULL;
    if (!d || checkpoint_read_weights(argv[1], d, &w, &crc, &err) || backend_open("cpu", d, &w, batch, 1, &b, &err) ||
        backend_set_subnet(b, subnet, &err)) {
        fprintf(stderr, "latency_reference: %s\n", d ? err.msg : "out of memory");
        return 1;
    }
    size_t n_in = (size_t)batch * (size_t)(d->in_c * d->in_h * d->in_w);
    float *in = malloc(n_in * sizeof *in), *logits = malloc(sizeof(float) * (size_t)batch * (size_t)d->classes);
    double *raw = malloc(sizeof(double) * (size_t)repeat), *norm = malloc(sizeof(double) * (size_t)repeat);
    copy_src = malloc(REF_COPY), copy_dst = malloc(REF_COPY);
    if (!in || !logits || !raw || !norm || !copy_src || !copy_dst) return 1;
    Rng rng;
    rng_seed(&rng, 1);
    for (size_t i = 0; i < n_in; i++) in[i] = rng_normal(&rng);
    for (int i = 0; i < REF_N * REF_N; i++) ra[i] = rng_normal(&rng), rb[i] = rng_normal(&rng);
    memset(copy_src, 1, REF_COPY);
    for (int i = 0; i < 5; i++) /* warm-up */
        if (backend_forward(b, in, batch, logits, &err) || reference_s() < 0) return 1;
    for (int r = 0; r < repeat; r++) {
        double before = reference_s(), t0 = now_s();
        if (backend_forward(b, in, batch, logits, &err)) {
            fprintf(stderr, "latency_reference: %s\n", err.msg);
            return 1;
        }
        double t = now_s() - t0, after = reference_s();
        raw[r] = t;
        norm[r] = t / (0.5 * (before + after));
    }
    printf("raw_ms %.4f normalized %.5f\n", 1e3 * median(raw, repeat), median(norm, repeat));
    backend_close(b);
    model_weights_free(&w);
    free(d), free(in), free(logits), free(raw), free(norm), free(copy_src), free(copy_dst);
    return 0;
}
