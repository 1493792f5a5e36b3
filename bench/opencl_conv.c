/* bench/opencl_conv.c — an inference backend on a network with uniform subnets (random weights:
 * latency does not depend on them):
 *   1. per subnet, the median host wall time of a forward (input upload and logits download
 *      included) and, where the backend has a device clock, the median device time;
 *   2. with a device clock (opencl): for every distinct convolution shape of the full network, its
 *      device time inside a real forward (the backend's per-op times: im2col and the CLBlast SGEMM)
 *      as GFLOP/s, next to a bare CLBlast SGEMM of the same m x n x k and batch on the same device
 *      (what the convolution's GEMM reaches without im2col), and the device's SGEMM peak (2048^3).
 *
 * Usage: opencl_conv [--device SPEC] [--model resnet20|resnet18|alexnet] [--hw N] [--batch N]
 *                    [--widths LIST] [--repeat R]
 * Defaults: opencl, resnet20, 28 (resnet18: 224, alexnet: 32), batch 128, widths 0.25,0.5,0.75,1,
 * 5 repeats (medians). `--device cpu` times the cpu backend the same way (part 1 only).
 * Not a test: prints figures only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef DYNN_HAVE_OPENCL
int main(void) {
    fprintf(stderr, "opencl_conv: this build has no OpenCL (pkg-config found no OpenCL + CLBlast: ci/deps.sh)\n");
    return 2;
}
#else
#include "nn/opencl_device.h" /* first: it sets the OpenCL version the headers declare */

#include <clblast_c.h>

#include "nn/backend.h"
#include "nn/model_desc.h"
#include "nn/rng.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}


typedef struct Gemm {
    cl_context ctx;
    cl_command_queue q;
} Gemm;

/* Median device time of `repeat` CLBlast strided-batched SGEMMs m x n x k (A shared, as the
 * convolution's weights are), in ms; < 0 on failure. */
static double time_sgemm(Gemm *g, size_t m, size_t n, size_t k, size_t batch, int repeat) {
    cl_int rc;
    size_t fa = m * k, fb = k * n * batch, fc = m * n * batch;
    cl_mem a = clCreateBuffer(g->ctx, CL_MEM_READ_WRITE, fa * sizeof(float), NULL, &rc);
    cl_mem b = clCreateBuffer(g->ctx, CL_MEM_READ_WRITE, fb * sizeof(float), NULL, &rc);
    cl_mem c = clCreateBuffer(g->ctx, CL_MEM_READ_WRITE, fc * sizeof(float), NULL, &rc);
    double *t = calloc((size_t)repeat, sizeof *t), result = -1.0;
    int ok = a && b && c && t;
    float zero = 0.0f;
    if (ok) {
        clEnqueueFillBuffer(g->q, a, &zero, sizeof zero, 0, fa * sizeof(float), 0, NULL, NULL);
        clEnqueueFillBuffer(g->q, b, &zero, sizeof zero, 0, fb * sizeof(float), 0, NULL, NULL);
    }
    for (int r = -1; ok && r < repeat; r++) { /* r = -1: warm-up (CLBlast compiles its kernel) */
        cl_event before = NULL, after = NULL; /* CLBlast's own event is its last kernel's only */
        ok = clEnqueueMarkerWithWaitList(g->q, 0, NULL, &before) == CL_SUCCESS &&
             CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, m, n, k, 1.0f, a, 0,
                                        k, 0, b, 0, n, k * n, 0.0f, c, 0, n, m * n, batch, &g->q, NULL) == CLBlastSuccess &&
             clEnqueueMarkerWithWaitList(g->q, 0, NULL, &after) == CL_SUCCESS && clWaitForEvents(1, &after) == CL_SUCCESS;
        if (ok && r >= 0) {
            cl_ulong t0 = 0, t1 = 0;
            clGetEventProfilingInfo(before, CL_PROFILING_COMMAND_END, sizeof t0, &t0, NULL);
            clGetEventProfilingInfo(after, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL);
            t[r] = t1 > t0 ? (double)(t1 - t0) * 1e-6 : 0.0;
        }
        if (before) clReleaseEvent(before);
        if (after) clReleaseEvent(after);
    }
    if (ok) result = median(t, repeat);
    free(t);
    if (a) clReleaseMemObject(a);
    if (b) clReleaseMemObject(b);
    if (c) clReleaseMemObject(c);
    return result;
}

int main(int argc, char **argv) {
    const char *spec = "opencl", *arch = "resnet20";
    const char *widths = "0.25,0.5,0.75,1";
    int hw = 0, batch = 128, repeat = 5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "opencl_conv: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--device")) spec = v;
        else if (!strcmp(a, "--model")) arch = v;
        else if (!strcmp(a, "--hw")) hw = atoi(v);
        else if (!strcmp(a, "--batch")) batch = atoi(v);
        else if (!strcmp(a, "--widths")) widths = v;
        else if (!strcmp(a, "--repeat")) repeat = atoi(v);
        else {
            fprintf(stderr, "opencl_conv: unknown option '%s'\n", a);
            return 2;
        }
        i++;
    }
    if (!hw) hw = !strcmp(arch, "resnet18") ? 224 : !strcmp(arch, "alexnet") ? 32 : 28;
    if (batch < 1 || repeat < 1 || hw < 8) {
        fprintf(stderr, "opencl_conv: --batch, --repeat must be >= 1 and --hw >= 8\n");
        return 2;
    }
    static ModelDesc d;
    Err err;
    int in_c = !strcmp(arch, "resnet20") ? 1 : 3;
    if (model_desc_build(&d, arch, in_c, hw, hw, 10, 1.0f, &err)) {
        fprintf(stderr, "opencl_conv: %s\n", err.msg);
        return 2;
    }
    float wl[MODEL_MAX_SUBNETS];
    int n_w = 0;
    for (const char *p = widths; *p && n_w < MODEL_MAX_SUBNETS;) {
        char *end;
        wl[n_w] = strtof(p, &end);
        if (end == p || !(wl[n_w] > 0.0f && wl[n_w] <= 1.0f)) {
            fprintf(stderr, "opencl_conv: --widths: '%s' is not a list of widths in (0,1]\n", widths);
            return 2;
        }
        n_w++;
        p = *end == ',' ? end + 1 : end;
        if (*p && end == p) break;
    }
    d.n_subnets = n_w;
    for (int i = 0; i < n_w; i++) {
        snprintf(d.subnets[i].name, sizeof d.subnets[i].name, "w%.2f", (double)wl[i]);
        for (int s = 0; s < d.n_slots; s++) {
            int c = (int)(wl[i] * (float)d.slot_max[s] + 0.5f);
            d.subnets[i].count[s] = c < 1 ? 1 : c;
        }
    }
    ModelWeights w;
    if (model_weights_alloc(&w, &d, &err)) {
        fprintf(stderr, "opencl_conv: %s\n", err.msg);
        return 1;
    }
    Rng rng;
    rng_seed(&rng, 1);
    for (int p = 0; p < d.n_params; p++)
        for (size_t k = 0; k < d.params[p].numel; k++)
            w.param[p][k] = d.params[p].kind == PARAM_BN_VAR ? 1.0f : 0.1f * (rng_uniform(&rng) - 0.5f);
    Backend *b;
    if (backend_open(spec, &d, &w, batch, 1, &b, &err)) {
        fprintf(stderr, "opencl_conv: %s\n", err.msg);
        return 1;
    }
    BackendInfo info;
    backend_info(b, &info);
    size_t in = (size_t)d.in_c * d.in_h * d.in_w;
    float *x = calloc(in * (size_t)batch, sizeof *x), *logits = calloc((size_t)batch * (size_t)d.classes, sizeof *logits);
    double *per_op = calloc((size_t)d.n_ops * (size_t)repeat, sizeof *per_op), *total = calloc((size_t)repeat, sizeof *total);
    if (!x || !logits || !per_op || !total) {
        fprintf(stderr, "opencl_conv: out of memory\n");
        return 1;
    }
    printf("%s %dx%d, batch %d, backend %s on %s; medians of %d forwards\n", arch, hw, hw, batch, info.name, info.device,
           repeat);
    printf("%-8s %9s %12s %12s %12s\n", "subnet", "MMACs", "host_ms", "device_ms", "ms/image");
    for (int s = 0; s < d.n_subnets; s++) {
        double host[64], dev[64];
        int reps = repeat < 64 ? repeat : 64;
        if (backend_set_subnet(b, s, &err)) {
            fprintf(stderr, "opencl_conv: %s\n", err.msg);
            return 1;
        }
        for (int r = -2; r < reps; r++) {
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            if (backend_forward(b, x, batch, logits, &err)) {
                fprintf(stderr, "opencl_conv: %s\n", err.msg);
                return 1;
            }
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if (r < 0) continue;
            host[r] = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-6;
            dev[r] = backend_device_ms(b);
        }
        double hm = median(host, reps), dm = median(dev, reps);
        printf("%-8s %9.2f %12.3f %12.3f %12.4f\n", d.subnets[s].name, model_subnet_macs(&d, d.subnets[s].count) / 1e6, hm,
               dm, hm / batch);
    }
    if (backend_op_times(b, per_op, 0) < 0) { /* no device clock: nothing more to show */
        backend_close(b);
        return 0;
    }
    if (backend_set_subnet(b, model_largest_subnet(&d), &err)) return 1;
    for (int r = -2; r < repeat; r++) { /* two warm-ups */
        double ms[MODEL_MAX_OPS];
        if (backend_forward(b, x, batch, logits, &err)) {
            fprintf(stderr, "opencl_conv: %s\n", err.msg);
            return 1;
        }
        if (r < 0) continue;
        total[r] = backend_device_ms(b);
        int n = backend_op_times(b, ms, d.n_ops);
        for (int i = 0; i < n; i++) per_op[(size_t)i * repeat + r] = ms[i];
    }
    OclDevice dev;
    const char *colon = strchr(spec, ':');
    if (ocl_device_select(colon ? colon + 1 : "", &dev, &err)) {
        fprintf(stderr, "opencl_conv: %s\n", err.msg);
        return 1;
    }
    cl_int rc;
    Gemm g;
    g.ctx = clCreateContext(NULL, 1, &dev.id, NULL, NULL, &rc);
    g.q = clCreateCommandQueue(g.ctx, dev.id, CL_QUEUE_PROFILING_ENABLE, &rc);
    printf("\nconvolutions of the full network (device clock):\n");
    printf("%-22s %5s %8s %7s %6s %10s %12s %14s %7s\n", "first layer", "convs", "m(cout)", "n(pix)", "k", "conv_ms",
           "conv_GFLOP/s", "sgemm_GFLOP/s", "ratio");
    double conv_ms_sum = 0.0, conv_flops = 0.0;
    int done[MODEL_MAX_OPS] = {0};
    for (int i = 0; i < d.n_ops; i++) {
        const OpDesc *o = &d.ops[i];
        if (o->kind != OP_CONV || done[i]) continue;
        const TensorDesc *ti = &d.tensors[o->in0], *to = &d.tensors[o->out];
        size_t m = (size_t)to->c, n = (size_t)to->h * to->w, k = (size_t)ti->c * o->k * o->k;
        double t = 0.0;
        int count = 0;
        for (int j = i; j < d.n_ops; j++) { /* every conv of this shape */
            const OpDesc *q = &d.ops[j];
            if (q->kind != OP_CONV || done[j]) continue;
            const TensorDesc *qi = &d.tensors[q->in0], *qo = &d.tensors[q->out];
            if ((size_t)qo->c != m || (size_t)qo->h * qo->w != n || (size_t)qi->c * q->k * q->k != k || q->stride != o->stride)
                continue;
            done[j] = 1;
            count++;
            t += median(per_op + (size_t)j * repeat, repeat);
        }
        double flops = 2.0 * (double)m * (double)n * (double)k * batch * count;
        double sg = time_sgemm(&g, m, n, k, (size_t)batch, repeat);
        conv_ms_sum += t;
        conv_flops += flops;
        printf("%-22s %5d %8zu %7zu %6zu %10.3f %12.1f %14.1f %6.0f%%\n", o->name, count, m, n, k, t, flops / t * 1e-6,
               sg > 0 ? 2.0 * m * n * k * batch / sg * 1e-6 : 0.0, sg > 0 ? 100.0 * (sg * count) / t : 0.0);
    }
    double whole = median(total, repeat);
    printf("convolutions: %.3f ms of %.3f ms device time per forward (%.0f%%), %.1f GFLOP/s\n", conv_ms_sum, whole,
           100.0 * conv_ms_sum / whole, conv_flops / conv_ms_sum * 1e-6);
    double peak = time_sgemm(&g, 2048, 2048, 2048, 1, repeat);
    if (peak > 0) printf("device SGEMM peak (CLBlast, 2048^3): %.1f GFLOP/s\n", 2.0 * 2048.0 * 2048.0 * 2048.0 / peak * 1e-6);
    clReleaseCommandQueue(g.q);
    clReleaseContext(g.ctx);
    backend_close(b);
    model_weights_free(&w);
    free(x);
    free(logits);
    free(per_op);
    free(total);
    return 0;
}
#endif
