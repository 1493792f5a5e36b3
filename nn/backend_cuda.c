/* nn/backend_cuda.c — the `cuda` inference backend (see backend.h): a trained description run
 * forward on an NVIDIA GPU through the CUDA driver API, cuDNN and cuBLAS, all loaded at run time
 * (nn/cuda_api.h: dynn links none of them, and without a driver `--backend cuda` fails with one line).
 *
 * Open (everything that allocates or uploads happens here, once):
 *  - every parameter (all weight and BN sets) in one device buffer, the folded BN (per-channel scale
 *    and shift per BN set, nn/device_plan.h) in another;
 *  - the filters cuDNN reads, which must be dense [cout][cin][k][k]: for each (convolution, subnet) a
 *    subnet whose input channels are the full width reads the parameters in place (the leading cout
 *    rows of a dense matrix); otherwise the leading cin channels of the leading cout rows are packed
 *    on the host, once per distinct (convolution, weight set, cin, cout) — equal ones are shared
 *    between subnets —, all in one buffer uploaded once;
 *  - the cuDNN algorithm of each (convolution, subnet), for batch 1 and for max_batch
 *    (cudnnGetConvolutionForwardAlgorithm_v7, FMA math only: no TF32, so the logits stay within 1e-4
 *    of the CPU's), kept; one workspace for the largest choice, at most WORKSPACE_CAP;
 *  - the activations for max_batch at full width, tensors sharing buffers by lifetime (device_plan);
 *  - cuBLAS's workspace (so it allocates nothing later), one CUDA event per op boundary.
 * Switching subnet stores an index. A forward sets the cuDNN descriptors to the subnet's extents
 * (host-side fields), runs cuDNN convolutions, the classifier as one cuBLAS SGEMM reading the leading
 * k features of each weight row through its leading dimension, and the kernels of
 * nn/cuda_kernels.cu (folded BN + ReLU, ReLU, residual add, max-pool, global average pool, bias),
 * embedded as a fatbin and loaded with cuModuleLoadData. Device time: CUDA events around every op
 * (and the transfers), read after the forward synchronizes. Only built with the CUDA toolkit (the
 * Makefile defines DYNN_HAVE_CUDA). */
#ifdef DYNN_HAVE_CUDA
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/cuda_api.h"
#include "nn/device_plan.h"

/* The fatbin nvcc made of nn/cuda_kernels.cu, in the build folder: the assembler includes its bytes
 * (.incbin, path relative to the repository root where make runs; the Makefile makes this object
 * depend on it). The generated header names it and the architectures it holds (DYNN_CUDA_ARCHS). */
#include "nn/cuda_kernels_fatbin.h"

__asm__(".section .rodata\n"
        ".global dynn_cuda_fatbin\n"
        ".hidden dynn_cuda_fatbin\n"
        ".type dynn_cuda_fatbin, @object\n"
        ".balign 16\n"
        "dynn_cuda_fatbin:\n"
        ".incbin \"" DYNN_CUDA_FATBIN "\"\n"
        ".size dynn_cuda_fatbin, . - dynn_cuda_fatbin\n"
        ".previous\n");
extern const unsigned char dynn_cuda_fatbin[];

#define WORKSPACE_CAP ((size_t)512 << 20)     /* cuDNN workspace: algorithms needing more are not chosen */
#define CUBLAS_WORKSPACE ((size_t)32 << 20)   /* what NVIDIA advises for Hopper; enough for the others */
#define N_ALGOS 16
#define BLOCK 256

enum { K_AFFINE, K_RELU, K_ADD, K_MAXPOOL, K_GAP, K_BIAS, N_KERNELS };
static const char *const KERNEL_NAMES[N_KERNELS] = {"dynn_affine", "dynn_relu", "dynn_add",
                                                    "dynn_maxpool", "dynn_gap", "dynn_bias"};

typedef struct ConvChoice { /* one convolution under one subnet */
    CUdeviceptr filter;     /* dense [cout][cin][k][k] */
    cudnnConvolutionFwdAlgo_t algo_one, algo_max; /* for batch 1, for batches 2..max_batch */
} ConvChoice;

typedef struct CuBackend {
    ModelDesc d; /* a copy */
    int subnet, max_batch, threads, index;
    const CudaApi *api;
    CudaDeviceInfo dev;
    CUdevice device;
    CUcontext ctx; /* the device's primary context (the one cuDNN and cuBLAS use) */
    CUstream stream;
    CUmodule module;
    CUfunction fn[N_KERNELS];
    cudnnHandle_t cudnn;
    cublasHandle_t cublas;
    cudnnTensorDescriptor_t x_desc, y_desc;
    cudnnFilterDescriptor_t w_desc;
    cudnnConvolutionDescriptor_t c_desc;
    int have_descs;
    CUdeviceptr params, fold, filters, workspace, cublas_ws;
    size_t workspace_bytes;
    size_t param_off[MODEL_MAX_PARAMS], fold_off[MODEL_MAX_OPS];
    DeviceBufferPlan plan;
    CUdeviceptr buffers[MODEL_MAX_TENSORS];
    ConvChoice *conv; /* [op][subnet] of the conv ops */
    CUevent events[MODEL_MAX_OPS + 3]; /* before the upload, after it, after each op, after the download */
    int n_events;
    double op_ms[MODEL_MAX_OPS], last_device_ms;
    long long allocations, uploads; /* cuMemAlloc and host-to-device copies since open */
} CuBackend;

static int cu_fail(const CuBackend *cb, Err *err, const char *what, CUresult rc) {
    return err_set(err, "cuda: %s failed (%s)", what, cuda_error_name(cb->api, rc));
}

static int dnn_fail(const CuBackend *cb, Err *err, const char *what, cudnnStatus_t st) {
    return err_set(err, "cuda: cuDNN %s failed (%s)", what, cb->api->cudnnGetErrorString(st));
}

#define CU(call, what)                                                                                                 \
    do {                                                                                                               \
        CUresult rc_ = (call);                                                                                         \
        if (rc_ != CUDA_SUCCESS) return cu_fail(cb, err, what, rc_);                                                   \
    } while (0)
#define DNN(call, what)                                                                                                \
    do {                                                                                                               \
        cudnnStatus_t st_ = (call);                                                                                    \
        if (st_ != CUDNN_STATUS_SUCCESS) return dnn_fail(cb, err, what, st_);                                          \
    } while (0)

static void *dptr(CUdeviceptr p) { return (void *)(uintptr_t)p; }

/* A device buffer of `floats` floats (at least one), filled from `host` when given. */
static int alloc_buffer(CuBackend *cb, CUdeviceptr *out, size_t floats, const float *host, const char *what, Err *err) {
    size_t bytes = sizeof(float) * (floats ? floats : 1);
    CUresult rc = cb->api->cuMemAlloc(out, bytes);
    if (rc != CUDA_SUCCESS) {
        *out = 0;
        cu_fail(cb, err, "cuMemAlloc", rc);
        return err_prefix(err, "%s, %.1f MiB", what, (double)bytes / (1 << 20));
    }
    cb->allocations++;
    if (host) {
        cb->uploads++;
        CU(cb->api->cuMemcpyHtoD(*out, host, bytes), what);
    }
    return 0;
}

static void cuda_close(void *state);

/* Weight offset (floats into the parameters) of conv/linear op o's weights under subnet s. */
static size_t weight_off(const CuBackend *cb, int param, int s) {
    const ParamDesc *p = &cb->d.params[param];
    return cb->param_off[param] + (p->sets > 1 ? (size_t)s * p->set_numel : 0);
}

/* The filters: a dense view into the parameters where the subnet's input channels are the full
 * width, else packed (shared between subnets with the same weight set and channel counts). */
static int prepare_filters(CuBackend *cb, const ModelWeights *w, Err *err) {
    const ModelDesc *d = &cb->d;
    int S = d->n_subnets;
    size_t *packed_off = malloc(sizeof(size_t) * (size_t)d->n_ops * (size_t)S);
    if (!packed_off) return err_set(err, "out of memory");
    size_t total = 0;
    for (int i = 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        if (o->kind != OP_CONV) continue;
        for (int s = 0; s < S; s++) {
            const int *active = d->subnets[s].count;
            int cin = tensor_active_c(d, o->in0, active), cout = tensor_active_c(d, o->out, active);
            packed_off[(size_t)i * S + s] = SIZE_MAX; /* in place */
            if (cin == d->tensors[o->in0].c) continue;
            for (int t = 0; t < s; t++) { /* an equal one already packed */
                const int *a2 = d->subnets[t].count;
                if (tensor_active_c(d, o->in0, a2) == cin && tensor_active_c(d, o->out, a2) == cout &&
                    weight_off(cb, o->weight, t) == weight_off(cb, o->weight, s) &&
                    packed_off[(size_t)i * S + t] != SIZE_MAX) {
                    packed_off[(size_t)i * S + s] = packed_off[(size_t)i * S + t];
                    break;
                }
            }
            if (packed_off[(size_t)i * S + s] != SIZE_MAX) continue;
            packed_off[(size_t)i * S + s] = total;
            total += (size_t)cout * cin * o->k * o->k;
        }
    }
    float *host = total ? malloc(sizeof(float) * total) : NULL;
    if (total && !host) {
        free(packed_off);
        return err_set(err, "out of memory");
    }
    for (int i = 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        if (o->kind != OP_CONV) continue;
        size_t kk = (size_t)o->k * o->k, row = (size_t)d->tensors[o->in0].c * kk;
        for (int s = 0; s < S; s++) {
            size_t off = packed_off[(size_t)i * S + s];
            if (off == SIZE_MAX) continue;
            const int *active = d->subnets[s].count;
            int cin = tensor_active_c(d, o->in0, active), cout = tensor_active_c(d, o->out, active);
            const float *src = w->data + weight_off(cb, o->weight, s);
            for (int r = 0; r < cout; r++) memcpy(host + off + (size_t)r * cin * kk, src + (size_t)r * row, sizeof(float) * cin * kk);
        }
    }
    int rc = total ? alloc_buffer(cb, &cb->filters, total, host, "the packed filters", err) : 0;
    free(host);
    for (int i = 0; !rc && i < d->n_ops; i++)
        if (d->ops[i].kind == OP_CONV)
            for (int s = 0; s < S; s++) {
                size_t off = packed_off[(size_t)i * S + s];
                cb->conv[(size_t)i * S + s].filter =
                    off == SIZE_MAX ? cb->params + sizeof(float) * weight_off(cb, d->ops[i].weight, s)
                                    : cb->filters + sizeof(float) * off;
            }
    free(packed_off);
    return rc;
}

/* Sets the descriptors to convolution o under `active` channel counts at batch n. */
static int set_conv_descs(CuBackend *cb, const OpDesc *o, const int *active, int n, Err *err) {
    const ModelDesc *d = &cb->d;
    const TensorDesc *ti = &d->tensors[o->in0], *to = &d->tensors[o->out];
    int cin = tensor_active_c(d, o->in0, active), cout = tensor_active_c(d, o->out, active);
    DNN(cb->api->cudnnSetTensor4dDescriptor(cb->x_desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, cin, ti->h, ti->w),
        "cudnnSetTensor4dDescriptor");
    DNN(cb->api->cudnnSetTensor4dDescriptor(cb->y_desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, cout, to->h, to->w),
        "cudnnSetTensor4dDescriptor");
    DNN(cb->api->cudnnSetFilter4dDescriptor(cb->w_desc, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, cout, cin, o->k, o->k),
        "cudnnSetFilter4dDescriptor");
    DNN(cb->api->cudnnSetConvolution2dDescriptor(cb->c_desc, o->pad, o->pad, o->stride, o->stride, 1, 1,
                                                 CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
        "cudnnSetConvolution2dDescriptor");
    DNN(cb->api->cudnnSetConvolutionMathType(cb->c_desc, CUDNN_FMA_MATH), "cudnnSetConvolutionMathType");
    return 0;
}

/* The algorithm cuDNN's heuristics rank first among those that run in at most WORKSPACE_CAP bytes
 * and use no tensor-op math; *bytes its workspace. (Descriptors already set: the convolution's math
 * type is CUDNN_FMA_MATH, which is what restricts the kernels that run to FMA ones.) */
static int choose_algo(CuBackend *cb, cudnnConvolutionFwdAlgo_t *algo, size_t *bytes, Err *err) {
    cudnnConvolutionFwdAlgoPerf_t perf[N_ALGOS];
    int n = 0;
    DNN(cb->api->cudnnGetConvolutionForwardAlgorithm_v7(cb->cudnn, cb->x_desc, cb->w_desc, cb->c_desc, cb->y_desc, N_ALGOS,
                                                        &n, perf),
        "cudnnGetConvolutionForwardAlgorithm_v7");
    for (int i = 0; i < n; i++) {
        size_t need = 0;
        if (perf[i].status != CUDNN_STATUS_SUCCESS || (perf[i].mathType != CUDNN_FMA_MATH && perf[i].mathType != CUDNN_DEFAULT_MATH) || perf[i].memory > WORKSPACE_CAP)
            continue;
        if (cb->api->cudnnGetConvolutionForwardWorkspaceSize(cb->cudnn, cb->x_desc, cb->w_desc, cb->c_desc, cb->y_desc,
                                                             perf[i].algo, &need) != CUDNN_STATUS_SUCCESS ||
            need > WORKSPACE_CAP)
            continue;
        *algo = perf[i].algo;
        *bytes = need;
        return 0;
    }
    /* implicit GEMM runs every shape without a workspace */
    *algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
    *bytes = 0;
    return 0;
}

static int choose_algorithms(CuBackend *cb, Err *err) {
    const ModelDesc *d = &cb->d;
    int S = d->n_subnets;
    size_t most = 0;
    for (int i = 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        if (o->kind != OP_CONV) continue;
        for (int s = 0; s < S; s++) {
            ConvChoice *c = &cb->conv[(size_t)i * S + s];
            size_t bytes = 0;
            if (set_conv_descs(cb, o, d->subnets[s].count, 1, err) || choose_algo(cb, &c->algo_one, &bytes, err))
                return err_prefix(err, "%s", o->name);
            if (bytes > most) most = bytes;
            c->algo_max = c->algo_one;
            if (cb->max_batch > 1) {
                if (set_conv_descs(cb, o, d->subnets[s].count, cb->max_batch, err) ||
                    choose_algo(cb, &c->algo_max, &bytes, err))
                    return err_prefix(err, "%s", o->name);
                if (bytes > most) most = bytes;
            }
        }
    }
    cb->workspace_bytes = most;
    return most ? alloc_buffer(cb, &cb->workspace, (most + sizeof(float) - 1) / sizeof(float), NULL,
                               "the cuDNN workspace", err)
                : 0;
}

static int cuda_open(const ModelDesc *d, const ModelWeights *w, int max_batch, int threads, const char *device,
                     void **state, Err *err) {
    int index;
    if (cuda_parse_device(device, &index, err)) return -1; /* before loading anything */
    for (int i = 0; i < d->n_ops; i++)
        if (d->ops[i].kind == OP_CONV && d->ops[i].bias >= 0)
            return err_set(err, "cuda: %s: a convolution with a bias is not supported (dynn's models have none)",
                           d->ops[i].name);
    const CudaApi *api = cuda_api(err);
    if (!api) return -1;
    CudaDeviceInfo *all = calloc(64, sizeof *all);
    if (!all) return err_set(err, "out of memory");
    int n_dev = 0;
    if (cuda_devices_list(all, 64, &n_dev, err)) {
        free(all);
        return -1;
    }
    if (index >= n_dev) {
        char have[512] = "";
        for (int i = 0; i < n_dev; i++)
            snprintf(have + strlen(have), sizeof have - strlen(have), "%s%d %s", i ? ", " : "", all[i].index, all[i].name);
        free(all);
        return err_set(err, "cuda device '%s': no such device (this machine has %s)", device, have);
    }
    CuBackend *cb = calloc(1, sizeof *cb);
    if (!cb) {
        free(all);
        return err_set(err, "out of memory");
    }
    cb->dev = all[index];
    free(all);
    memcpy(&cb->d, d, sizeof *d);
    cb->api = api;
    cb->index = index;
    cb->max_batch = max_batch;
    cb->threads = threads < 1 ? 1 : threads; /* the host's: the device decides its own parallelism */
    cb->subnet = model_largest_subnet(d);
    if (!(cb->conv = calloc((size_t)d->n_ops * (size_t)d->n_subnets, sizeof *cb->conv))) {
        free(cb);
        return err_set(err, "out of memory");
    }
    int rc = 0;
#define TRY(call, what)                                                                                                \
    if (!rc) {                                                                                                         \
        CUresult r_ = (call);                                                                                          \
        if (r_ != CUDA_SUCCESS) rc = cu_fail(cb, err, what, r_);                                                       \
    }
#define TRY_DNN(call, what)                                                                                            \
    if (!rc) {                                                                                                         \
        cudnnStatus_t s_ = (call);                                                                                     \
        if (s_ != CUDNN_STATUS_SUCCESS) rc = dnn_fail(cb, err, what, s_);                                              \
    }
#define TRY_BLAS(call, what)                                                                                           \
    if (!rc) {                                                                                                         \
        cublasStatus_t s_ = (call);                                                                                    \
        if (s_ != CUBLAS_STATUS_SUCCESS) rc = err_set(err, "cuda: cuBLAS %s failed (status %d)", what, (int)s_);       \
    }
    TRY(api->cuDeviceGet(&cb->device, index), "cuDeviceGet");
    TRY(api->cuDevicePrimaryCtxRetain(&cb->ctx, cb->device), "cuDevicePrimaryCtxRetain");
    TRY(api->cuCtxSetCurrent(cb->ctx), "cuCtxSetCurrent");
    TRY(api->cuStreamCreate(&cb->stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
    if (!rc) {
        CUresult r = api->cuModuleLoadData(&cb->module, dynn_cuda_fatbin);
        if (r != CUDA_SUCCESS)
            rc = err_set(err, "cuda: loading the kernels on %s failed (%s): its compute capability is %d.%d, this dynn's "
                              "kernels are built for CUDA_ARCHS %s (make CUDA_ARCHS=...)",
                         cb->dev.name, cuda_error_name(api, r), cb->dev.cc_major, cb->dev.cc_minor, DYNN_CUDA_ARCHS);
    }
    for (int k = 0; k < N_KERNELS; k++) TRY(api->cuModuleGetFunction(&cb->fn[k], cb->module, KERNEL_NAMES[k]), KERNEL_NAMES[k]);
    TRY_DNN(api->cudnnCreate(&cb->cudnn), "cudnnCreate");
    TRY_DNN(api->cudnnSetStream(cb->cudnn, cb->stream), "cudnnSetStream");
    TRY_BLAS(api->cublasCreate(&cb->cublas), "cublasCreate");
    TRY_BLAS(api->cublasSetStream(cb->cublas, cb->stream), "cublasSetStream");
    TRY_BLAS(api->cublasSetMathMode(cb->cublas, CUBLAS_DEFAULT_MATH), "cublasSetMathMode"); /* FP32, no TF32 */
    TRY_DNN(api->cudnnCreateTensorDescriptor(&cb->x_desc), "cudnnCreateTensorDescriptor");
    TRY_DNN(api->cudnnCreateTensorDescriptor(&cb->y_desc), "cudnnCreateTensorDescriptor");
    TRY_DNN(api->cudnnCreateFilterDescriptor(&cb->w_desc), "cudnnCreateFilterDescriptor");
    TRY_DNN(api->cudnnCreateConvolutionDescriptor(&cb->c_desc), "cudnnCreateConvolutionDescriptor");
    if (!rc) cb->have_descs = 1;
    /* parameters, every set, once; the folded BN */
    for (int p = 0; p < d->n_params; p++) cb->param_off[p] = (size_t)(w->param[p] - w->data);
    size_t fold_floats = 0;
    float *fold = rc ? NULL : device_fold_bn(d, w, cb->fold_off, &fold_floats);
    if (!rc && !fold) rc = err_set(err, "out of memory");
    if (!rc) rc = alloc_buffer(cb, &cb->params, model_desc_param_floats(d), w->data, "the parameters", err);
    if (!rc) rc = alloc_buffer(cb, &cb->fold, fold_floats, fold, "the folded BN", err);
    free(fold);
    if (!rc) rc = prepare_filters(cb, w, err);
    if (!rc && device_plan_buffers(d, &cb->plan, err)) rc = err_prefix(err, "cuda");
    for (int b = 0; !rc && b < cb->plan.n_buffers; b++)
        rc = alloc_buffer(cb, &cb->buffers[b], cb->plan.buffer_floats[b] * (size_t)max_batch, NULL,
                          b == cb->plan.tensor_buffer[d->input] ? "the input" : "activations", err);
    if (!rc) rc = choose_algorithms(cb, err);
    if (!rc) rc = alloc_buffer(cb, &cb->cublas_ws, CUBLAS_WORKSPACE / sizeof(float), NULL, "cuBLAS's workspace", err);
    TRY_BLAS(api->cublasSetWorkspace(cb->cublas, dptr(cb->cublas_ws), CUBLAS_WORKSPACE), "cublasSetWorkspace");
    for (int e = 0; !rc && e < d->n_ops + 3; e++) {
        TRY(api->cuEventCreate(&cb->events[e], CU_EVENT_DEFAULT), "cuEventCreate");
        if (!rc) cb->n_events++;
    }
    TRY(api->cuStreamSynchronize(cb->stream), "cuStreamSynchronize");
#undef TRY
#undef TRY_DNN
#undef TRY_BLAS
    if (rc) {
        cuda_close(cb);
        return -1;
    }
    *state = cb;
    return 0;
}

static int cuda_set_subnet(void *state, int subnet, Err *err) {
    (void)err;
    ((CuBackend *)state)->subnet = subnet;
    return 0;
}

static CUdeviceptr tensor_mem(const CuBackend *cb, int t) { return cb->buffers[cb->plan.tensor_buffer[t]]; }

/* Runs kernel k over `total` outputs; args are pointers to its arguments, `total` last. */
static int launch(CuBackend *cb, int k, long long total, void **args, Err *err) {
    if (total <= 0) return 0;
    long long blocks = (total + BLOCK - 1) / BLOCK, most = (long long)(cb->dev.sms > 0 ? cb->dev.sms : 16) * 32;
    unsigned grid = (unsigned)(blocks < most ? blocks : most);
    CU(cb->api->cuLaunchKernel(cb->fn[k], grid, 1, 1, BLOCK, 1, 1, 0, cb->stream, args, NULL), KERNEL_NAMES[k]);
    return 0;
}

static int conv_forward(CuBackend *cb, int i, const int *active, int n, Err *err) {
    const OpDesc *o = &cb->d.ops[i];
    const ConvChoice *c = &cb->conv[(size_t)i * cb->d.n_subnets + cb->subnet];
    if (set_conv_descs(cb, o, active, n, err)) return -1;
    cudnnConvolutionFwdAlgo_t algo = n == 1 ? c->algo_one : c->algo_max;
    size_t need = 0;
    if (cb->api->cudnnGetConvolutionForwardWorkspaceSize(cb->cudnn, cb->x_desc, cb->w_desc, cb->c_desc, cb->y_desc, algo,
                                                         &need) != CUDNN_STATUS_SUCCESS ||
        need > cb->workspace_bytes) /* a batch between 1 and max_batch needing more: no workspace */
        algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, need = 0;
    const float one = 1.0f, zero = 0.0f;
    DNN(cb->api->cudnnConvolutionForward(cb->cudnn, &one, cb->x_desc, dptr(tensor_mem(cb, o->in0)), cb->w_desc,
                                         dptr(c->filter), cb->c_desc, algo, dptr(cb->workspace), need, &zero, cb->y_desc,
                                         dptr(tensor_mem(cb, o->out))),
        "cudnnConvolutionForward");
    return 0;
}

/* logits[n][OUT] = x[n][IN] W^T (+ bias): W row-major [OUT][w_row], of which the leading IN
 * features of each row are read. In cuBLAS's column-major terms C (OUT x n, ldc OUT) =
 * op(A) B with A the weights (w_row x OUT, lda w_row, transposed) and B the input (IN x n). */
static int linear_forward(CuBackend *cb, const OpDesc *o, const int *active, int n, Err *err) {
    const ModelDesc *d = &cb->d;
    const TensorDesc *ti = &d->tensors[o->in0];
    int IN = tensor_active_c(d, o->in0, active) * ti->h * ti->w, OUT = tensor_active_c(d, o->out, active);
    int w_row = (int)device_tensor_floats(d, o->in0);
    const float one = 1.0f, zero = 0.0f;
    CUdeviceptr W = cb->params + sizeof(float) * weight_off(cb, o->weight, cb->subnet);
    cublasStatus_t st = cb->api->cublasSgemm(cb->cublas, CUBLAS_OP_T, CUBLAS_OP_N, OUT, n, IN, &one, dptr(W), w_row,
                                             dptr(tensor_mem(cb, o->in0)), IN, &zero, dptr(tensor_mem(cb, o->out)), OUT);
    if (st != CUBLAS_STATUS_SUCCESS)
        return err_set(err, "cuda: cuBLAS SGEMM %dx%dx%d failed (status %d)", OUT, n, IN, (int)st);
    if (o->bias < 0) return 0;
    CUdeviceptr out = tensor_mem(cb, o->out), bias = cb->params + sizeof(float) * weight_off(cb, o->bias, cb->subnet);
    long long total = (long long)n * OUT;
    void *args[] = {&out, &bias, &OUT, &total};
    return launch(cb, K_BIAS, total, args, err);
}

static int run_op(CuBackend *cb, int i, const int *active, int n, Err *err) {
    const ModelDesc *d = &cb->d;
    const OpDesc *o = &d->ops[i];
    const TensorDesc *to = &d->tensors[o->out];
    CUdeviceptr in = tensor_mem(cb, o->in0), out = tensor_mem(cb, o->out);
    int c_out = tensor_active_c(d, o->out, active), hw = to->h * to->w, relu = o->relu;
    long long total = (long long)n * c_out * hw;
    switch (o->kind) {
    case OP_CONV: return conv_forward(cb, i, active, n, err);
    case OP_BN: {
        int c_max = to->c, set = d->params[o->gamma].sets > 1 ? cb->subnet : 0;
        CUdeviceptr fold = cb->fold + sizeof(float) * (cb->fold_off[i] + (size_t)set * 2 * (size_t)c_max);
        void *args[] = {&in, &out, &fold, &c_max, &c_out, &hw, &relu, &total};
        return launch(cb, K_AFFINE, total, args, err);
    }
    case OP_RELU: {
        void *args[] = {&in, &out, &total};
        return launch(cb, K_RELU, total, args, err);
    }
    case OP_ADD: {
        CUdeviceptr in1 = tensor_mem(cb, o->in1);
        void *args[] = {&in, &in1, &out, &relu, &total};
        return launch(cb, K_ADD, total, args, err);
    }
    case OP_MAXPOOL: {
        const TensorDesc *ti = &d->tensors[o->in0];
        int H = ti->h, W = ti->w, K = o->k, S = o->stride, P = o->pad, Ho = to->h, Wo = to->w;
        void *args[] = {&in, &out, &H, &W, &K, &S, &P, &Ho, &Wo, &total};
        return launch(cb, K_MAXPOOL, total, args, err);
    }
    case OP_GAP: {
        const TensorDesc *ti = &d->tensors[o->in0];
        int HW = ti->h * ti->w;
        long long planes = (long long)n * tensor_active_c(d, o->in0, active);
        void *args[] = {&in, &out, &HW, &planes};
        return launch(cb, K_GAP, planes, args, err);
    }
    case OP_LINEAR: return linear_forward(cb, o, active, n, err);
    }
    return err_set(err, "cuda: op kind %d is not supported", (int)o->kind);
}

static int cuda_forward(void *state, const float *input, int n, float *logits, Err *err) {
    CuBackend *cb = state;
    const ModelDesc *d = &cb->d;
    const CudaApi *api = cb->api;
    const int *active = d->subnets[cb->subnet].count;
    CU(api->cuCtxSetCurrent(cb->ctx), "cuCtxSetCurrent");
    CUevent *ev = cb->events;
    CU(api->cuEventRecord(ev[0], cb->stream), "cuEventRecord");
    cb->uploads++;
    CU(api->cuMemcpyHtoDAsync(tensor_mem(cb, d->input), input, sizeof(float) * (size_t)n * device_tensor_floats(d, d->input),
                              cb->stream),
       "uploading the input");
    CU(api->cuEventRecord(ev[1], cb->stream), "cuEventRecord");
    for (int i = 0; i < d->n_ops; i++) {
        if (run_op(cb, i, active, n, err)) return err_prefix(err, "%s", d->ops[i].name);
        CU(api->cuEventRecord(ev[2 + i], cb->stream), "cuEventRecord");
    }
    CU(api->cuMemcpyDtoHAsync(logits, tensor_mem(cb, d->logits), sizeof(float) * (size_t)n * (size_t)d->classes, cb->stream),
       "reading the logits back");
    CU(api->cuEventRecord(ev[d->n_ops + 2], cb->stream), "cuEventRecord");
    CU(api->cuStreamSynchronize(cb->stream), "the forward (cuStreamSynchronize)");
    float ms = 0.0f;
    cb->last_device_ms = api->cuEventElapsedTime(&ms, ev[0], ev[d->n_ops + 2]) == CUDA_SUCCESS ? ms : 0.0;
    for (int i = 0; i < d->n_ops; i++)
        cb->op_ms[i] = api->cuEventElapsedTime(&ms, ev[1 + i], ev[2 + i]) == CUDA_SUCCESS ? ms : 0.0;
    return 0;
}

static void cuda_info(const void *state, BackendInfo *out) {
    const CuBackend *cb = state;
    snprintf(out->device, sizeof out->device, "%.80s (cuda:%d, sm_%d%d, %d SMs)", cb->dev.name, cb->index, cb->dev.cc_major,
             cb->dev.cc_minor, cb->dev.sms);
    out->threads = cb->threads;
    out->allocations = cb->allocations;
    out->uploads = cb->uploads;
}

static double cuda_device_ms(const void *state) { return ((const CuBackend *)state)->last_device_ms; }

static int cuda_op_times(const void *state, double *ms, int n) {
    const CuBackend *cb = state;
    if (n > cb->d.n_ops) n = cb->d.n_ops;
    memcpy(ms, cb->op_ms, sizeof(double) * (size_t)n);
    return n;
}

static void cuda_close(void *state) {
    CuBackend *cb = state;
    if (!cb) return;
    const CudaApi *api = cb->api;
    if (cb->ctx) {
        api->cuCtxSetCurrent(cb->ctx);
        if (cb->stream) api->cuStreamSynchronize(cb->stream);
    }
    for (int e = 0; e < cb->n_events; e++) api->cuEventDestroy(cb->events[e]);
    if (cb->have_descs) {
        api->cudnnDestroyTensorDescriptor(cb->x_desc);
        api->cudnnDestroyTensorDescriptor(cb->y_desc);
        api->cudnnDestroyFilterDescriptor(cb->w_desc);
        api->cudnnDestroyConvolutionDescriptor(cb->c_desc);
    }
    if (cb->cublas) api->cublasDestroy(cb->cublas);
    if (cb->cudnn) api->cudnnDestroy(cb->cudnn);
    CUdeviceptr *bufs[] = {&cb->params, &cb->fold, &cb->filters, &cb->workspace, &cb->cublas_ws};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        if (*bufs[i]) api->cuMemFree(*bufs[i]);
    for (int b = 0; b < cb->plan.n_buffers; b++)
        if (cb->buffers[b]) api->cuMemFree(cb->buffers[b]);
    if (cb->module) api->cuModuleUnload(cb->module);
    if (cb->stream) api->cuStreamDestroy(cb->stream);
    if (cb->ctx) api->cuDevicePrimaryCtxRelease(cb->device);
    free(cb->conv);
    free(cb);
}

static int cuda_devices(BackendDevice *out, int max, int *n, Err *err) {
    CudaDeviceInfo *all = calloc(64, sizeof *all);
    if (!all) return err_set(err, "out of memory");
    int found = 0;
    *n = 0;
    int rc = cuda_devices_list(all, 64, &found, err);
    for (int i = 0; !rc && i < found && *n < max; i++) {
        const CudaDeviceInfo *g = &all[i];
        BackendDevice *o = &out[(*n)++];
        memset(o, 0, sizeof *o);
        snprintf(o->spec, sizeof o->spec, "cuda:%d", g->index);
        snprintf(o->kind, sizeof o->kind, "gpu");
        snprintf(o->name, sizeof o->name, "%s", g->name);
        snprintf(o->vendor, sizeof o->vendor, "NVIDIA");
        snprintf(o->platform, sizeof o->platform, "CUDA");
        snprintf(o->capability, sizeof o->capability, "%d.%d", g->cc_major, g->cc_minor);
        snprintf(o->driver, sizeof o->driver, "CUDA %d.%d", g->driver_version / 1000, g->driver_version % 1000 / 10);
        if (g->cudnn_version && g->cublas_version)
            snprintf(o->runtime, sizeof o->runtime, "cuDNN %d.%d.%d, cuBLAS %d.%d.%d (built with CUDA %d.%d)",
                     g->cudnn_version / 10000, g->cudnn_version / 100 % 100, g->cudnn_version % 100,
                     g->cublas_version / 10000, g->cublas_version / 100 % 100, g->cublas_version % 100,
                     CUDA_VERSION / 1000, CUDA_VERSION % 1000 / 10);
        else
            snprintf(o->runtime, sizeof o->runtime, "cuDNN or cuBLAS missing (built with CUDA %d.%d)", CUDA_VERSION / 1000,
                     CUDA_VERSION % 1000 / 10);
        o->compute_units = g->sms;
        o->max_clock_mhz = g->clock_mhz;
        o->memory_bytes = g->memory_bytes;
    }
    free(all);
    return rc;
}

const BackendType backend_type_cuda = {
    .name = "cuda",
    .summary = "an NVIDIA GPU through CUDA: cuDNN convolutions, cuBLAS classifier (driver loaded at run time)",
    .open = cuda_open,
    .set_subnet = cuda_set_subnet,
    .forward = cuda_forward,
    .info = cuda_info,
    .close = cuda_close,
    .devices = cuda_devices,
    .device_ms = cuda_device_ms,
    .op_times = cuda_op_times,
};
#endif
