/* bench/switch_cost.c — the cost of switching subnets at run time: model_set_subnet() alone
 * (nanoseconds), and batch-1 inference latency right after a switch against staying on the same
 * subnet (does a switch cost anything beyond the smaller/larger compute?). Benchmark, not a test.
 * Usage: switch_cost [--model resnet20] [--hw 28] [--threads 1] */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/methods.h"
#include "nn/model.h"
#include "nn/parallel.h"
#include "nn/rng.h"
#include "nn/blas_core.h"

int main(int argc, char **argv) {
    blas_core_ensure(argv); /* OpenBLAS at the CPU's vector level, as in dynn (may re-execute) */
    const char *arch = "resnet20";
    int hw = 28, threads = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) arch = argv[++i];
        else if (!strcmp(argv[i], "--hw") && i + 1 < argc) hw = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: switch_cost [--model M] [--hw N] [--threads T]\n");
            return 2;
        }
    }
    nn_set_threads(threads);
    ModelDesc *d = calloc(1, sizeof *d);
    Err err;
    DynamicConfig dc;
    dynamic_config_defaults(&dc);
    dc.method = METHOD_UNIFORM;
    Model m;
    if (model_desc_build(d, arch, 1, hw, hw, 10, 1.0f, &err) || method_prepare_desc(d, &dc, &err) ||
        model_create(&m, d, 1, threads, &err)) {
        fprintf(stderr, "switch_cost: %s\n", err.msg);
        return 1;
    }
    model_init_params(&m, 1);
    float *x = malloc(sizeof(float) * hw * hw);
    Rng r;
    rng_seed(&r, 1);
    for (int i = 0; i < hw * hw; i++) x[i] = rng_normal(&r);
    const int S = d->n_subnets, reps = 2000000;
    double t = omp_get_wtime();
    for (int k = 0; k < reps; k++) model_set_subnet(&m, k % S);
    double switch_ns = (omp_get_wtime() - t) / reps * 1e9;
    printf("%s: model_set_subnet %.2f ns per switch (%d subnets)\n", d->arch, switch_ns, S);
    for (int i = 0; i < S; i++) {
        double same = 1e30, switched = 1e30;
        for (int k = 0; k < 200; k++) {
            model_set_subnet(&m, i);
            double a = omp_get_wtime();
            model_forward(&m, x, 1);
            double dt = omp_get_wtime() - a;
            if (dt < same) same = dt;
            model_set_subnet(&m, (i + 1) % S);
            model_forward(&m, x, 1); /* run another subnet in between */
            model_set_subnet(&m, i);
            a = omp_get_wtime();
            model_forward(&m, x, 1);
            dt = omp_get_wtime() - a;
            if (dt < switched) switched = dt;
        }
        printf("  %-6s batch-1 latency %.3f ms staying, %.3f ms right after a switch\n", d->subnets[i].name, same * 1e3,
               switched * 1e3);
    }
    model_free(&m);
    free(x);
    return 0;
}
