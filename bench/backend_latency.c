/* bench/backend_latency.c — any inference backend (cpu, opencl, cuda) on a network with uniform
 * subnets (random weights: latency does not depend on them):
 *   1. per subnet, the median host wall time of a synchronized forward (input upload and logits
 *      download included) after warm-ups and, where the backend has a device clock, the median
 *      device time;
 *   2. the cost of a subnet switch: backend_set_subnet alone (ns), a forward right after switching
 *      against one staying on the subnet, and the device allocations and uploads the switches made
 *      (0 and one input per forward: the backend's counters);
 *   3. with a device clock (opencl, cuda): for every distinct convolution shape of the full network,
 *      its device time inside a real forward (the backend's per-op times) as GFLOP/s, next to the
 *      vendor's SGEMM of the same m x n x k and batch on the same device (CLBlast for opencl, cuBLAS
 *      for cuda: what the convolution reaches as one GEMM without im2col), and the device's SGEMM
 *      peak (2048^3).
 *
 * Usage: backend_latency [--device SPEC] [--model resnet20|resnet18|alexnet] [--hw N] [--batch N]
 *                        [--widths LIST] [--repeat R] [--warmup W] [--threads T] [--json]
 * Defaults: cpu, resnet20, 28 (resnet18: 224, alexnet: 32), batch 128, widths 0.25,0.5,0.75,1,
 * 5 repeats (medians), 2 warm-ups, 1 host thread (0: every CPU; the cpu backend computes with them). --json: one JSON object (parts 1 and 2) on stdout instead of
 * the tables (bench/cuda_check.sh reads it). Not a test: prints figures only. */
#ifdef DYNN_HAVE_OPENCL
#include "nn/opencl_device.h" /* first: it sets the OpenCL version the headers declare */

#include <clblast_c.h>
#endif
#ifdef DYNN_HAVE_CUDA
#include "nn/cuda_api.h"
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/backend.h"
#include "nn/model_desc.h"
#include "nn/rng.h"
#include "nn/blas_core.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* The vendor SGEMM of a device backend: median device time (ms) of `repeat` strided-batched SGEMMs
 * m x n x k (A shared, as the convolution's weights are); < 0 when unavailable. */
typedef struct Gemm {
    int kind; /* 0: none, 1: CLBlast, 2: cuBLAS */
#ifdef DYNN_HAVE_OPENCL
    cl_context ctx;
    cl_command_queue q;
#endif
#ifdef DYNN_HAVE_CUDA
    const CudaApi *api;
    CUdevice cu_dev;
    CUcontext cu_ctx;
    cublasHandle_t h;
#endif
} Gemm;

static int gemm_open(Gemm *g, const char *spec, Err *err) {
    memset(g, 0, sizeof *g);
    const char *colon = strchr(spec, ':');
    const char *dev = colon ? colon + 1 : "";
#ifdef DYNN_HAVE_OPENCL
    if (!strncmp(spec, "opencl", 6)) {
        OclDevice d;
        if (ocl_device_select(dev, &d, err)) return -1;
        cl_int rc;
        g->ctx = clCreateContext(NULL, 1, &d.id, NULL, NULL, &rc);
        if (rc == CL_SUCCESS) g->q = clCreateCommandQueue(g->ctx, d.id, CL_QUEUE_PROFILING_ENABLE, &rc);
        if (rc != CL_SUCCESS) return err_set(err, "opencl: %s", ocl_error_name(rc));
        g->kind = 1;
        return 0;
    }
#endif
#ifdef DYNN_HAVE_CUDA
    if (!strncmp(spec, "cuda", 4)) {
        int index;
        if (cuda_parse_device(dev, &index, err) || !(g->api = cuda_api(err))) return -1;
        if (g->api->cuDeviceGet(&g->cu_dev, index) != CUDA_SUCCESS ||
            g->api->cuDevicePrimaryCtxRetain(&g->cu_ctx, g->cu_dev) != CUDA_SUCCESS ||
            g->api->cuCtxSetCurrent(g->cu_ctx) != CUDA_SUCCESS || g->api->cublasCreate(&g->h) != CUBLAS_STATUS_SUCCESS)
            return err_set(err, "cuda: cannot set up cuBLAS on device %d", index);
        g->api->cublasSetMathMode(g->h, CUBLAS_DEFAULT_MATH);
        g->kind = 2;
        return 0;
    }
#endif
    (void)dev;
    return err_set(err, "no vendor SGEMM for backend '%s'", spec);
}

static void gemm_close(Gemm *g) {
#ifdef DYNN_HAVE_OPENCL
    if (g->kind == 1) {
        clReleaseCommandQueue(g->q);
        clReleaseContext(g->ctx);
    }
#endif
#ifdef DYNN_HAVE_CUDA
    if (g->kind == 2) {
        g->api->cublasDestroy(g->h);
        g->api->cuDevicePrimaryCtxRelease(g->cu_dev);
    }
#endif
    (void)g;
}

static const char *gemm_name(const Gemm *g) { return g->kind == 1 ? "CLBlast" : g->kind == 2 ? "cuBLAS" : "none"; }

#ifdef DYNN_HAVE_OPENCL
static double time_clblast(Gemm *g, size_t m, size_t n, size_t k, size_t batch, int repeat, double *t) {
    cl_int rc;
    size_t fa = m * k, fb = k * n * batch, fc = m * n * batch;
    cl_mem a = clCreateBuffer(g->ctx, CL_MEM_READ_WRITE, fa * sizeof(float), NULL, &rc);
    cl_mem b = clCreateBuffer(g->ctx, CL_MEM_READ_WRITE, fb * sizeof(float), NULL, &rc);
    cl_mem c = clCreateBuffer(g->ctx, CL_MEM_READ_WRITE, fc * sizeof(float), NULL, &rc);
    int ok = a && b && c;
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
    if (a) clReleaseMemObject(a);
    if (b) clReleaseMemObject(b);
    if (c) clReleaseMemObject(c);
    return ok ? median(t, repeat) : -1.0;
}
#endif

#ifdef DYNN_HAVE_CUDA
/* Row-major C[m][n] = A[m][k] B[k][n] per image is column-major C^T = B^T A^T. */
static double time_cublas(Gemm *g, size_t m, size_t n, size_t k, size_t batch, int repeat, double *t) {
    const CudaApi *a = g->api;
    CUdeviceptr A = 0, B = 0, C = 0;
    CUevent e0 = NULL, e1 = NULL;
    int ok = a->cuCtxSetCurrent(g->cu_ctx) == CUDA_SUCCESS && a->cuMemAlloc(&A, m * k * sizeof(float)) == CUDA_SUCCESS &&
             a->cuMemAlloc(&B, k * n * batch * sizeof(float)) == CUDA_SUCCESS &&
             a->cuMemAlloc(&C, m * n * batch * sizeof(float)) == CUDA_SUCCESS &&
             a->cuEventCreate(&e0, CU_EVENT_DEFAULT) == CUDA_SUCCESS && a->cuEventCreate(&e1, CU_EVENT_DEFAULT) == CUDA_SUCCESS;
    const float one = 1.0f, zero = 0.0f;
    for (int r = -1; ok && r < repeat; r++) {
        float ms = 0.0f;
        ok = a->cuEventRecord(e0, NULL) == CUDA_SUCCESS &&
             a->cublasSgemmStridedBatched(g->h, CUBLAS_OP_N, CUBLAS_OP_N, (int)n, (int)m, (int)k, &one,
                                          (const float *)(uintptr_t)B, (int)n, (long long)(k * n), (const float *)(uintptr_t)A,
                                          (int)k, 0, &zero, (float *)(uintptr_t)C, (int)n, (long long)(m * n),
                                          (int)batch) == CUBLAS_STATUS_SUCCESS &&
             a->cuEventRecord(e1, NULL) == CUDA_SUCCESS && a->cuEventSynchronize(e1) == CUDA_SUCCESS &&
             a->cuEventElapsedTime(&ms, e0, e1) == CUDA_SUCCESS;
        if (ok && r >= 0) t[r] = ms;
    }
    if (e0) a->cuEventDestroy(e0);
    if (e1) a->cuEventDestroy(e1);
    if (A) a->cuMemFree(A);
    if (B) a->cuMemFree(B);
    if (C) a->cuMemFree(C);
    return ok ? median(t, repeat) : -1.0;
}
#endif

static double time_sgemm(Gemm *g, size_t m, size_t n, size_t k, size_t batch, int repeat) {
    double *t = calloc((size_t)repeat, sizeof *t), r = -1.0;
    if (!t) return -1.0;
#ifdef DYNN_HAVE_OPENCL
    if (g->kind == 1) r = time_clblast(g, m, n, k, batch, repeat, t);
#endif
#ifdef DYNN_HAVE_CUDA
    if (g->kind == 2) r = time_cublas(g, m, n, k, batch, repeat, t);
#endif
    (void)m, (void)n, (void)k, (void)batch;
    free(t);
    return r;
}

static int die(const char *msg) {
    fprintf(stderr, "backend_latency: %s\n", msg);
    return 1;
}

int main(int argc, char **argv) {
    blas_core_ensure(argv); /* OpenBLAS at the CPU's vector level, as in dynn (may re-execute) */
    const char *spec = "cpu", *arch = "resnet20";
    const char *widths = "0.25,0.5,0.75,1";
    int hw = 0, batch = 128, repeat = 5, warmup = 2, json = 0, threads = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) {
            json = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "backend_latency: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--device") || !strcmp(a, "--backend")) spec = v;
        else if (!strcmp(a, "--model")) arch = v;
        else if (!strcmp(a, "--hw")) hw = atoi(v);
        else if (!strcmp(a, "--batch")) batch = atoi(v);
        else if (!strcmp(a, "--widths")) widths = v;
        else if (!strcmp(a, "--repeat")) repeat = atoi(v);
        else if (!strcmp(a, "--warmup")) warmup = atoi(v);
        else if (!strcmp(a, "--threads")) threads = atoi(v);
        else {
            fprintf(stderr, "backend_latency: unknown option '%s'\n", a);
            return 2;
        }
        i++;
    }
    if (!hw) hw = !strcmp(arch, "resnet18") ? 224 : !strcmp(arch, "alexnet") ? 32 : 28;
    if (batch < 1 || repeat < 1 || repeat > 1000 || warmup < 0 || hw < 8) {
        fprintf(stderr, "backend_latency: --batch >= 1, --repeat 1..1000, --warmup >= 0 and --hw >= 8\n");
        return 2;
    }
    static ModelDesc d;
    Err err;
    int in_c = !strcmp(arch, "resnet20") ? 1 : 3;
    if (model_desc_build(&d, arch, in_c, hw, hw, !strcmp(arch, "resnet18") ? 1000 : 10, 1.0f, &err)) return die(err.msg);
    float wl[MODEL_MAX_SUBNETS];
    int n_w = 0;
    for (const char *p = widths; *p && n_w < MODEL_MAX_SUBNETS;) {
        char *end;
        wl[n_w] = strtof(p, &end);
        if (end == p || !(wl[n_w] > 0.0f && wl[n_w] <= 1.0f)) {
            fprintf(stderr, "backend_latency: --widths: '%s' is not a list of widths in (0,1]\n", widths);
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
    if (model_weights_alloc(&w, &d, &err)) return die(err.msg);
    Rng rng;
    rng_seed(&rng, 1);
    for (int p = 0; p < d.n_params; p++)
        for (size_t k = 0; k < d.params[p].numel; k++)
            w.param[p][k] = d.params[p].kind == PARAM_BN_VAR ? 1.0f : 0.1f * (rng_uniform(&rng) - 0.5f);
    Backend *b;
    if (backend_open(spec, &d, &w, batch, threads, &b, &err)) return die(err.msg);
    BackendInfo info;
    backend_info(b, &info);
    size_t in = (size_t)d.in_c * d.in_h * d.in_w;
    float *x = calloc(in * (size_t)batch, sizeof *x), *logits = calloc((size_t)batch * (size_t)d.classes, sizeof *logits);
    double *per_op = calloc((size_t)d.n_ops * (size_t)repeat, sizeof *per_op), *host = calloc((size_t)repeat, sizeof *host),
           *dev = calloc((size_t)repeat, sizeof *dev), *total = calloc((size_t)repeat, sizeof *total);
    double *host_ms = calloc((size_t)n_w, sizeof *host_ms), *dev_ms = calloc((size_t)n_w, sizeof *dev_ms);
    if (!x || !logits || !per_op || !host || !dev || !total || !host_ms || !dev_ms) return die("out of memory");
    for (size_t i = 0; i < in * (size_t)batch; i++) x[i] = rng_uniform(&rng) - 0.5f;
    /* 1. latency per subnet */
    for (int s = 0; s < n_w; s++) {
        if (backend_set_subnet(b, s, &err)) return die(err.msg);
        for (int r = -warmup; r < repeat; r++) {
            double t0 = now_ms();
            if (backend_forward(b, x, batch, logits, &err)) return die(err.msg);
            double t1 = now_ms();
            if (r < 0) continue;
            host[r] = t1 - t0;
            dev[r] = backend_device_ms(b);
        }
        host_ms[s] = median(host, repeat);
        dev_ms[s] = median(dev, repeat);
    }
    /* 2. the switch: set_subnet alone, a forward right after a switch against one staying */
    BackendInfo before;
    backend_info(b, &before);
    int big = model_largest_subnet(&d), small = 0;
    for (int s = 0; s < n_w; s++)
        if (model_subnet_macs(&d, d.subnets[s].count) < model_subnet_macs(&d, d.subnets[small].count)) small = s;
    enum { SWITCHES = 10000 };
    double t0 = now_ms();
    for (int k = 0; k < SWITCHES; k++)
        if (backend_set_subnet(b, k % 2 ? big : small, &err)) return die(err.msg);
    double set_ns = (now_ms() - t0) * 1e6 / SWITCHES;
    double *after_switch = calloc((size_t)repeat, sizeof *after_switch), *staying = calloc((size_t)repeat, sizeof *staying);
    if (!after_switch || !staying) return die("out of memory");
    int forwards = 0;
    for (int r = 0; r < repeat; r++) {
        /* staying on the largest subnet: a forward, then the one measured */
        if (backend_set_subnet(b, big, &err) || backend_forward(b, x, batch, logits, &err)) return die(err.msg);
        double a0 = now_ms();
        if (backend_forward(b, x, batch, logits, &err)) return die(err.msg);
        staying[r] = now_ms() - a0;
        /* a forward of the smallest, then a switch to the largest and the one measured */
        if (backend_set_subnet(b, small, &err) || backend_forward(b, x, batch, logits, &err)) return die(err.msg);
        a0 = now_ms();
        if (backend_set_subnet(b, big, &err) || backend_forward(b, x, batch, logits, &err)) return die(err.msg);
        after_switch[r] = now_ms() - a0;
        forwards += 4;
    }
    BackendInfo after;
    backend_info(b, &after);
    double stay_ms = median(staying, repeat), switched_ms = median(after_switch, repeat);
    if (json) {
        printf("{\"backend\": \"%s\", \"device\": \"%s\", \"model\": \"%s\", \"hw\": %d, \"batch\": %d, \"repeat\": %d, "
               "\"warmup\": %d, \"subnets\": [",
               info.name, info.device, arch, hw, batch, repeat, warmup);
        for (int s = 0; s < n_w; s++) {
            printf("%s{\"name\": \"%s\", \"width\": %g, \"mmacs\": %.3f, \"host_ms\": %.6f, \"device_ms\": ", s ? ", " : "",
                   d.subnets[s].name, (double)wl[s], model_subnet_macs(&d, d.subnets[s].count) / 1e6, host_ms[s]);
            if (dev_ms[s] == dev_ms[s]) printf("%.6f}", dev_ms[s]);
            else printf("null}");
        }
        printf("], \"switch\": {\"set_subnet_ns\": %.2f, \"forward_after_switch_ms\": %.6f, \"forward_staying_ms\": %.6f, "
               "\"allocations\": %lld, \"uploads\": %lld, \"forwards\": %d}}\n",
               set_ns, switched_ms, stay_ms, after.allocations - before.allocations, after.uploads - before.uploads, forwards);
    } else {
        printf("%s %dx%d, batch %d, backend %s on %s; medians of %d forwards after %d warm-ups\n", arch, hw, hw, batch,
               info.name, info.device, repeat, warmup);
        printf("%-8s %9s %12s %12s %12s\n", "subnet", "MMACs", "host_ms", "device_ms", "ms/image");
        for (int s = 0; s < n_w; s++)
            printf("%-8s %9.2f %12.3f %12.3f %12.4f\n", d.subnets[s].name, model_subnet_macs(&d, d.subnets[s].count) / 1e6,
                   host_ms[s], dev_ms[s], host_ms[s] / batch);
        printf("subnet switch: set_subnet %.1f ns; a forward of %s right after switching from %s %.3f ms, staying on it "
               "%.3f ms (%+.3f ms); %lld device allocations and %lld uploads in %d forwards\n",
               set_ns, d.subnets[big].name, d.subnets[small].name, switched_ms, stay_ms, switched_ms - stay_ms,
               after.allocations - before.allocations, after.uploads - before.uploads, forwards);
    }
    free(after_switch);
    free(staying);
    /* 3. the convolutions against the vendor's SGEMM (a device clock only) */
    Gemm g;
    if (json || backend_op_times(b, per_op, 0) < 0 || gemm_open(&g, spec, &err)) {
        backend_close(b);
        model_weights_free(&w);
        free(x), free(logits), free(per_op), free(host), free(dev), free(total), free(host_ms), free(dev_ms);
        return 0;
    }
    if (backend_set_subnet(b, big, &err)) return die(err.msg);
    for (int r = -warmup; r < repeat; r++) {
        double ms[MODEL_MAX_OPS];
        if (backend_forward(b, x, batch, logits, &err)) return die(err.msg);
        if (r < 0) continue;
        total[r] = backend_device_ms(b);
        int n = backend_op_times(b, ms, d.n_ops);
        for (int i = 0; i < n; i++) per_op[(size_t)i * repeat + r] = ms[i];
    }
    printf("\nconvolutions of the full network (device clock) against %s SGEMM of the same shape:\n", gemm_name(&g));
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
    if (peak > 0)
        printf("device SGEMM peak (%s, 2048^3): %.1f GFLOP/s\n", gemm_name(&g), 2.0 * 2048.0 * 2048.0 * 2048.0 / peak * 1e-6);
    gemm_close(&g);
    backend_close(b);
    model_weights_free(&w);
    free(x), free(logits), free(per_op), free(host), free(dev), free(total), free(host_ms), free(dev_ms);
    return 0;
}
