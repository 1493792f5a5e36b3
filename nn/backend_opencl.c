/* nn/backend_opencl.c — the `opencl` inference backend (see backend.h): a trained description run
 * forward on an OpenCL device (a GPU, or pocl's CPU device in the tests).
 *
 * Open uploads every parameter once (all weight and BN sets) and the inference BN folded into a
 * per-channel scale and shift (one pair per BN set, computed as batchnorm_forward_eval does), and
 * allocates the activations for the largest batch once: tensors share device buffers by lifetime
 * (a buffer is reused once the last op reading its tensor has run). Switching subnet is one integer:
 * every op reads the leading active channels of its full-width weights through a leading dimension,
 * as on the CPU, so nothing is uploaded or allocated.
 *
 * Tensors on the device are dense [n][active c][h][w]. A convolution is im2col (own kernel; skipped
 * for 1x1 stride-1 convolutions, whose input already is the column matrix) and one CLBlast strided-
 * batched SGEMM, out[img] = W[cout x cin*k*k, leading dimension Cin_max*k*k] x cols[img]; batches
 * whose column matrix would exceed COLS_MAX_FLOATS are split. BN (folded), ReLU, the residual add,
 * max-pool, global average pool and the classifier are small kernels of this file.
 *
 * Every command of a forward is enqueued with an event (the queue profiles): the forward's device
 * time is the sum of its commands' execution times (a CLBlast call, which may run several kernels,
 * counts from a marker before it to one after it), host wall time is measured by the caller.
 * Only built where pkg-config finds OpenCL and CLBlast (the Makefile defines DYNN_HAVE_OPENCL). */
#ifdef DYNN_HAVE_OPENCL
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <clblast_c.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/device_plan.h"
#include "nn/opencl_device.h"

#define COLS_MAX_FLOATS ((size_t)64 << 20) /* 256 MiB of im2col columns at the most */
#define MAX_EVENTS (4 * MODEL_MAX_OPS + 4)

static const char KERNELS[] =
    "__kernel void im2col(__global const float *in, ulong in_off, __global float *cols, int C, int H, int W, int K,\n"
    "                     int S, int P, int Ho, int Wo) {\n"
    "    size_t i = get_global_id(0); /* [img][c][ky][kx][oy][ox] */\n"
    "    in += in_off;\n"
    "    int ox = i % Wo; size_t r = i / Wo; int oy = r % Ho; r /= Ho; int kx = r % K; r /= K; int ky = r % K; r /= K;\n"
    "    int c = r % C; size_t img = r / C;\n"
    "    int iy = oy * S - P + ky, ix = ox * S - P + kx;\n"
    "    cols[i] = (iy >= 0 && iy < H && ix >= 0 && ix < W) ? in[((img * C + c) * H + iy) * W + ix] : 0.0f;\n"
    "}\n"
    "__kernel void affine(__global const float *in, __global float *out, __global const float *fold, ulong off,\n"
    "                     int C_max, int C, int HW, int relu) {\n"
    "    size_t i = get_global_id(0); int c = (i / HW) % C;\n"
    "    __global const float *scale = fold + off, *shift = scale + C_max;\n"
    "    float v = in[i] * scale[c] + shift[c];\n"
    "    out[i] = relu && v < 0.0f ? 0.0f : v;\n"
    "}\n"
    "__kernel void relu_k(__global const float *in, __global float *out) {\n"
    "    size_t i = get_global_id(0); float v = in[i]; out[i] = v < 0.0f ? 0.0f : v;\n"
    "}\n"
    "__kernel void add_k(__global const float *a, __global const float *b, __global float *out, int relu) {\n"
    "    size_t i = get_global_id(0); float v = a[i] + b[i]; out[i] = relu && v < 0.0f ? 0.0f : v;\n"
    "}\n"
    "__kernel void maxpool(__global const float *in, __global float *out, int H, int W, int K, int S, int P,\n"
    "                      int Ho, int Wo) {\n"
    "    size_t i = get_global_id(0); int ox = i % Wo; int oy = (i / Wo) % Ho; size_t plane = i / ((size_t)Wo * Ho);\n"
    "    __global const float *x = in + plane * H * W;\n"
    "    float best = 0.0f; int any = 0;\n"
    "    for (int ky = 0; ky < K; ky++) {\n"
    "        int iy = oy * S - P + ky; if (iy < 0 || iy >= H) continue;\n"
    "        for (int kx = 0; kx < K; kx++) {\n"
    "            int ix = ox * S - P + kx; if (ix < 0 || ix >= W) continue;\n"
    "            float v = x[iy * W + ix]; if (!any || v > best) { best = v; any = 1; }\n"
    "        }\n"
    "    }\n"
    "    out[i] = best;\n"
    "}\n"
    "__kernel void gap(__global const float *in, __global float *out, int HW) {\n"
    "    size_t i = get_global_id(0); __global const float *x = in + i * HW; float s = 0.0f;\n"
    "    for (int k = 0; k < HW; k++) s += x[k];\n"
    "    out[i] = s * (1.0f / (float)HW);\n"
    "}\n"
    "__kernel void linear_k(__global const float *in, __global const float *params, int w_off, int w_row,\n"
    "                       int b_off, __global float *out, int IN, int OUT) {\n"
    "    size_t i = get_global_id(0); int o = i % OUT; size_t img = i / OUT;\n"
    "    __global const float *x = in + img * IN; __global const float *wr = params + w_off + (size_t)o * w_row;\n"
    "    float s = 0.0f;\n"
    "    for (int k = 0; k < IN; k++) s += x[k] * wr[k];\n"
    "    out[i] = b_off >= 0 ? s + params[b_off + o] : s;\n"
    "}\n";

enum { K_IM2COL, K_AFFINE, K_RELU, K_ADD, K_MAXPOOL, K_GAP, K_LINEAR, N_KERNELS };
static const char *const KERNEL_NAMES[N_KERNELS] = {"im2col", "affine", "relu_k", "add_k", "maxpool", "gap", "linear_k"};

typedef struct ClBackend {
    ModelDesc d; /* a copy */
    int subnet, max_batch, threads;
    OclDevice dev;
    cl_context ctx;
    cl_command_queue queue;
    cl_program program;
    cl_kernel kernels[N_KERNELS];
    cl_mem params;   /* every parameter float, as in ModelWeights.data */
    size_t param_off[MODEL_MAX_PARAMS];
    cl_mem bn_fold;  /* per BN op and set: scale[c_max] then shift[c_max] */
    size_t fold_off[MODEL_MAX_OPS];
    DeviceBufferPlan plan; /* activation buffers shared by lifetime (nn/device_plan.h) */
    cl_mem *buffers;
    cl_mem cols;
    size_t cols_floats;
    cl_event events[MAX_EVENTS];
    int event_op[MAX_EVENTS]; /* the op each event belongs to; -1: a transfer */
    unsigned char event_span[MAX_EVENTS]; /* 1: a marker closing a span opened by the event before it */
    int n_events, current_op;
    double op_ms[MODEL_MAX_OPS]; /* device time per op of the last forward */
    double last_device_ms;
    long long allocations, uploads; /* clCreateBuffer and clEnqueueWriteBuffer calls since open */
} ClBackend;

static int cl_fail(Err *err, const char *what, cl_int rc) {
    return err_set(err, "opencl: %s failed (%s)", what, ocl_error_name(rc));
}

static cl_event *next_event(ClBackend *cb) {
    if (cb->n_events == MAX_EVENTS) return NULL;
    cb->event_op[cb->n_events] = cb->current_op;
    cb->event_span[cb->n_events] = 0;
    return &cb->events[cb->n_events++];
}

/* A marker event; closing = 1 makes the time from the marker before it to this one the device time
 * of what was enqueued between them (CLBlast returns the event of its last kernel only, and a large
 * product is several kernels). */
static int enqueue_marker(ClBackend *cb, int closing, Err *err) {
    cl_event *e = next_event(cb);
    if (!e) return 0;
    cl_int rc = clEnqueueMarkerWithWaitList(cb->queue, 0, NULL, e);
    if (rc != CL_SUCCESS) {
        cb->n_events--;
        return cl_fail(err, "clEnqueueMarkerWithWaitList", rc);
    }
    cb->event_span[cb->n_events - 1] = (unsigned char)closing;
    return 0;
}

static void release_events(ClBackend *cb) {
    for (int i = 0; i < cb->n_events; i++) clReleaseEvent(cb->events[i]);
    cb->n_events = 0;
}

/* Runs kernel k over `global` work items with the arguments set by the caller. */
static int run_kernel(ClBackend *cb, int k, size_t global, Err *err) {
    if (!global) return 0;
    cl_int rc = clEnqueueNDRangeKernel(cb->queue, cb->kernels[k], 1, NULL, &global, NULL, 0, NULL, next_event(cb));
    return rc == CL_SUCCESS ? 0 : cl_fail(err, KERNEL_NAMES[k], rc);
}

#define ARG(k, i, v) clSetKernelArg(cb->kernels[k], (i), sizeof(v), &(v))

static cl_mem alloc_buffer(ClBackend *cb, size_t floats, const float *host, const char *what, Err *err) {
    cl_int rc;
    cb->allocations++;
    cb->uploads += host != NULL;
    cl_mem m = clCreateBuffer(cb->ctx, CL_MEM_READ_WRITE | (host ? CL_MEM_COPY_HOST_PTR : 0),
                              sizeof(float) * (floats ? floats : 1), (void *)host, &rc);
    if (rc != CL_SUCCESS) {
        cl_fail(err, "clCreateBuffer", rc);
        err_prefix(err, "%s, %.1f MiB", what, (double)floats * sizeof(float) / (1 << 20));
        return NULL;
    }
    return m;
}

static void cl_close(void *state);

static int cl_open(const ModelDesc *d, const ModelWeights *w, int max_batch, int threads, const char *device,
                   void **state, Err *err) {
    ClBackend *cb = calloc(1, sizeof *cb);
    if (!cb) return err_set(err, "out of memory");
    memcpy(&cb->d, d, sizeof *d);
    cb->max_batch = max_batch;
    cb->threads = threads < 1 ? 1 : threads; /* the host's: the device decides its own parallelism */
    cb->subnet = model_largest_subnet(d);
    if (ocl_device_select(device, &cb->dev, err)) {
        free(cb);
        return -1;
    }
    cl_int rc;
    cb->ctx = clCreateContext(NULL, 1, &cb->dev.id, NULL, NULL, &rc);
    if (rc != CL_SUCCESS) {
        free(cb);
        return cl_fail(err, "clCreateContext", rc);
    }
    cb->queue = clCreateCommandQueue(cb->ctx, cb->dev.id, CL_QUEUE_PROFILING_ENABLE, &rc);
    if (rc != CL_SUCCESS) {
        cl_close(cb);
        return cl_fail(err, "clCreateCommandQueue", rc);
    }
    const char *src = KERNELS;
    cb->program = clCreateProgramWithSource(cb->ctx, 1, &src, NULL, &rc);
    if (rc == CL_SUCCESS) rc = clBuildProgram(cb->program, 1, &cb->dev.id, "-cl-std=CL1.2", NULL, NULL);
    if (rc != CL_SUCCESS) {
        char log[400] = "";
        if (cb->program)
            clGetProgramBuildInfo(cb->program, cb->dev.id, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, NULL);
        log[strcspn(log, "\n")] = '\0';
        cl_close(cb);
        return err_set(err, "opencl: building the kernels on %s failed (%s)%s%s", cb->dev.name, ocl_error_name(rc),
                       log[0] ? ": " : "", log);
    }
    for (int k = 0; k < N_KERNELS; k++) {
        cb->kernels[k] = clCreateKernel(cb->program, KERNEL_NAMES[k], &rc);
        if (rc != CL_SUCCESS) {
            cl_close(cb);
            return cl_fail(err, "clCreateKernel", rc);
        }
    }
    /* parameters: every set, once */
    size_t n_floats = model_desc_param_floats(d);
    for (int p = 0; p < d->n_params; p++) cb->param_off[p] = (size_t)(w->param[p] - w->data);
    size_t fold_floats = 0;
    float *fold = device_fold_bn(d, w, cb->fold_off, &fold_floats);
    size_t cols = 0;
    for (int i = 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        if (o->kind != OP_CONV) continue;
        size_t k = (size_t)d->tensors[o->in0].c * o->k * o->k, p = (size_t)d->tensors[o->out].h * d->tensors[o->out].w;
        if (k * p > cols) cols = k * p;
    }
    size_t images = cols ? COLS_MAX_FLOATS / cols : 0;
    images = images < 1 ? 1 : images > (size_t)max_batch ? (size_t)max_batch : images;
    cb->cols_floats = cols * images;
    if (!fold || !(cb->params = alloc_buffer(cb, n_floats, w->data, "the parameters", err)) ||
        !(cb->bn_fold = alloc_buffer(cb, fold_floats, fold, "the folded BN", err)) ||
        (device_plan_buffers(d, &cb->plan, err) && err_prefix(err, "opencl")) ||
        !(cb->cols = alloc_buffer(cb, cb->cols_floats, NULL, "the im2col columns", err)) ||
        !(cb->buffers = calloc((size_t)cb->plan.n_buffers, sizeof *cb->buffers))) {
        if (!fold || (!cb->buffers && cb->cols)) err_set(err, "out of memory");
        free(fold);
        cl_close(cb);
        return -1;
    }
    free(fold);
    for (int b = 0; b < cb->plan.n_buffers; b++)
        if (!(cb->buffers[b] = alloc_buffer(cb, cb->plan.buffer_floats[b] * (size_t)max_batch, NULL,
                                            b == cb->plan.tensor_buffer[d->input] ? "the input" : "activations", err))) {
            cl_close(cb);
            return -1;
        }
    *state = cb;
    return 0;
}

static int cl_set_subnet(void *state, int subnet, Err *err) {
    (void)err;
    ((ClBackend *)state)->subnet = subnet;
    return 0;
}

static cl_mem tensor_mem(const ClBackend *cb, int t) { return cb->buffers[cb->plan.tensor_buffer[t]]; }

static int conv_forward(ClBackend *cb, const OpDesc *o, const int *active, int n, Err *err) {
    const ModelDesc *d = &cb->d;
    const TensorDesc *ti = &d->tensors[o->in0], *to = &d->tensors[o->out];
    int cin = tensor_active_c(d, o->in0, active), cout = tensor_active_c(d, o->out, active);
    int K = o->k, S = o->stride, P = o->pad, H = ti->h, W = ti->w, Ho = to->h, Wo = to->w;
    size_t kk = (size_t)cin * K * K, pix = (size_t)Ho * Wo, in_img = (size_t)cin * H * W;
    size_t w_off = cb->param_off[o->weight] + (d->params[o->weight].sets > 1 ? (size_t)cb->subnet * d->params[o->weight].set_numel : 0);
    size_t lda = (size_t)ti->c * K * K;
    cl_mem in = tensor_mem(cb, o->in0), out = tensor_mem(cb, o->out);
    int direct = K == 1 && S == 1 && P == 0; /* the input is the column matrix */
    size_t chunk = direct ? (size_t)n : cb->cols_floats / (kk * pix);
    if (chunk < 1) chunk = 1;
    for (size_t img0 = 0; img0 < (size_t)n; img0 += chunk) {
        size_t imgs = (size_t)n - img0 < chunk ? (size_t)n - img0 : chunk;
        cl_mem b = in;
        size_t b_off = img0 * in_img;
        if (!direct) {
            cl_int C = cin, Hh = H, Ww = W, Kk = K, Ss = S, Pp = P, Hoo = Ho, Woo = Wo;
            cl_ulong in_off = img0 * in_img;
            ARG(K_IM2COL, 0, in), ARG(K_IM2COL, 1, in_off), ARG(K_IM2COL, 2, cb->cols), ARG(K_IM2COL, 3, C);
            ARG(K_IM2COL, 4, Hh), ARG(K_IM2COL, 5, Ww), ARG(K_IM2COL, 6, Kk), ARG(K_IM2COL, 7, Ss);
            ARG(K_IM2COL, 8, Pp), ARG(K_IM2COL, 9, Hoo), ARG(K_IM2COL, 10, Woo);
            if (run_kernel(cb, K_IM2COL, imgs * kk * pix, err)) return -1;
            b = cb->cols;
            b_off = 0;
        }
        if (enqueue_marker(cb, 0, err)) return -1;
        CLBlastStatusCode st = CLBlastSgemmStridedBatched(
            CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, (size_t)cout, pix, kk, 1.0f, cb->params, w_off,
            lda, 0, b, b_off, pix, direct ? in_img : kk * pix, 0.0f, out, img0 * cout * pix, pix, (size_t)cout * pix, imgs,
            &cb->queue, NULL);
        if (st == CLBlastSuccess && enqueue_marker(cb, 1, err)) return -1;
        if (st != CLBlastSuccess)
            return err_set(err, "opencl: CLBlast SGEMM %dx%zux%zu (batch %zu) of %s failed (CLBlast status %d)", cout, pix, kk,
                           imgs, o->name, (int)st);
    }
    return 0;
}

static int cl_forward(void *state, const float *input, int n, float *logits, Err *err) {
    ClBackend *cb = state;
    const ModelDesc *d = &cb->d;
    const int *active = d->subnets[cb->subnet].count;
    release_events(cb);
    cb->uploads++;
    cb->current_op = -1;
    cl_int rc = clEnqueueWriteBuffer(cb->queue, tensor_mem(cb, d->input), CL_FALSE, 0,
                                     sizeof(float) * (size_t)n * device_tensor_floats(d, d->input), input, 0, NULL,
                                     next_event(cb));
    if (rc != CL_SUCCESS) return cl_fail(err, "uploading the input", rc);
    for (int i = 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        const TensorDesc *to = &d->tensors[o->out];
        cl_mem in = tensor_mem(cb, o->in0), out = tensor_mem(cb, o->out);
        cb->current_op = i;
        cl_int c_out = tensor_active_c(d, o->out, active), hw = to->h * to->w;
        size_t total = (size_t)n * (size_t)c_out * (size_t)hw;
        int r = 0;
        switch (o->kind) {
        case OP_CONV:
            r = conv_forward(cb, o, active, n, err);
            break;
        case OP_BN: {
            cl_int c_max = to->c, relu = o->relu;
            int set = d->params[o->gamma].sets > 1 ? cb->subnet : 0;
            cl_ulong off = cb->fold_off[i] + (size_t)set * 2 * (size_t)c_max;
            ARG(K_AFFINE, 0, in), ARG(K_AFFINE, 1, out), ARG(K_AFFINE, 2, cb->bn_fold), ARG(K_AFFINE, 3, off);
            ARG(K_AFFINE, 4, c_max), ARG(K_AFFINE, 5, c_out), ARG(K_AFFINE, 6, hw), ARG(K_AFFINE, 7, relu);
            r = run_kernel(cb, K_AFFINE, total, err);
            break;
        }
        case OP_RELU:
            ARG(K_RELU, 0, in), ARG(K_RELU, 1, out);
            r = run_kernel(cb, K_RELU, total, err);
            break;
        case OP_ADD: {
            cl_mem in1 = tensor_mem(cb, o->in1);
            cl_int relu = o->relu;
            ARG(K_ADD, 0, in), ARG(K_ADD, 1, in1), ARG(K_ADD, 2, out), ARG(K_ADD, 3, relu);
            r = run_kernel(cb, K_ADD, total, err);
            break;
        }
        case OP_MAXPOOL: {
            const TensorDesc *ti = &d->tensors[o->in0];
            cl_int H = ti->h, W = ti->w, K = o->k, S = o->stride, P = o->pad, Ho = to->h, Wo = to->w;
            ARG(K_MAXPOOL, 0, in), ARG(K_MAXPOOL, 1, out), ARG(K_MAXPOOL, 2, H), ARG(K_MAXPOOL, 3, W);
            ARG(K_MAXPOOL, 4, K), ARG(K_MAXPOOL, 5, S), ARG(K_MAXPOOL, 6, P), ARG(K_MAXPOOL, 7, Ho), ARG(K_MAXPOOL, 8, Wo);
            r = run_kernel(cb, K_MAXPOOL, total, err);
            break;
        }
        case OP_GAP: {
            const TensorDesc *ti = &d->tensors[o->in0];
            cl_int HW = ti->h * ti->w;
            ARG(K_GAP, 0, in), ARG(K_GAP, 1, out), ARG(K_GAP, 2, HW);
            r = run_kernel(cb, K_GAP, (size_t)n * tensor_active_c(d, o->in0, active), err);
            break;
        }
        case OP_LINEAR: {
            const TensorDesc *ti = &d->tensors[o->in0];
            int sets = d->params[o->weight].sets > 1;
            cl_int IN = tensor_active_c(d, o->in0, active) * ti->h * ti->w, OUT = c_out;
            cl_int w_row = (cl_int)device_tensor_floats(d, o->in0);
            cl_int w_off = (cl_int)(cb->param_off[o->weight] + (sets ? (size_t)cb->subnet * d->params[o->weight].set_numel : 0));
            cl_int b_off = o->bias < 0 ? -1
                                       : (cl_int)(cb->param_off[o->bias] +
                                                  (d->params[o->bias].sets > 1 ? (size_t)cb->subnet * d->params[o->bias].set_numel : 0));
            ARG(K_LINEAR, 0, in), ARG(K_LINEAR, 1, cb->params), ARG(K_LINEAR, 2, w_off), ARG(K_LINEAR, 3, w_row);
            ARG(K_LINEAR, 4, b_off), ARG(K_LINEAR, 5, out), ARG(K_LINEAR, 6, IN), ARG(K_LINEAR, 7, OUT);
            r = run_kernel(cb, K_LINEAR, (size_t)n * OUT, err);
            break;
        }
        }
        if (r) return err_prefix(err, "%s", o->name);
    }
    cb->current_op = -1;
    rc = clEnqueueReadBuffer(cb->queue, tensor_mem(cb, d->logits), CL_TRUE, 0,
                             sizeof(float) * (size_t)n * (size_t)d->classes, logits, 0, NULL, next_event(cb));
    if (rc != CL_SUCCESS) return cl_fail(err, "reading the logits back", rc);
    double ns = 0.0;
    memset(cb->op_ms, 0, sizeof cb->op_ms);
    for (int i = 0; i < cb->n_events; i++) {
        cl_ulong t0 = 0, t1 = 0;
        if (i + 1 < cb->n_events && cb->event_span[i + 1]) continue; /* a span's opening marker */
        cl_event first = cb->event_span[i] ? cb->events[i - 1] : cb->events[i];
        /* a span: from the end of its opening marker (what came before had finished) to its closing one's */
        if (clGetEventProfilingInfo(first, cb->event_span[i] ? CL_PROFILING_COMMAND_END : CL_PROFILING_COMMAND_START,
                                    sizeof t0, &t0, NULL) == CL_SUCCESS &&
            clGetEventProfilingInfo(cb->events[i], CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL) == CL_SUCCESS &&
            t1 > t0) {
            ns += (double)(t1 - t0);
            if (cb->event_op[i] >= 0) cb->op_ms[cb->event_op[i]] += (double)(t1 - t0) * 1e-6;
        }
    }
    cb->last_device_ms = ns * 1e-6;
    release_events(cb);
    return 0;
}

static void cl_info(const void *state, BackendInfo *out) {
    const ClBackend *cb = state;
    snprintf(out->device, sizeof out->device, "%.80s (%.40s)", cb->dev.name, cb->dev.platform_name);
    out->threads = cb->threads;
    out->allocations = cb->allocations;
    out->uploads = cb->uploads;
}

static double cl_device_ms(const void *state) { return ((const ClBackend *)state)->last_device_ms; }

static int cl_op_times(const void *state, double *ms, int n) {
    const ClBackend *cb = state;
    if (n > cb->d.n_ops) n = cb->d.n_ops;
    memcpy(ms, cb->op_ms, sizeof(double) * (size_t)n);
    return n;
}

static void cl_close(void *state) {
    ClBackend *cb = state;
    if (!cb) return;
    release_events(cb);
    if (cb->queue) clFinish(cb->queue);
    for (int b = 0; cb->buffers && b < cb->plan.n_buffers; b++)
        if (cb->buffers[b]) clReleaseMemObject(cb->buffers[b]);
    free(cb->buffers);
    if (cb->cols) clReleaseMemObject(cb->cols);
    if (cb->bn_fold) clReleaseMemObject(cb->bn_fold);
    if (cb->params) clReleaseMemObject(cb->params);
    for (int k = 0; k < N_KERNELS; k++)
        if (cb->kernels[k]) clReleaseKernel(cb->kernels[k]);
    if (cb->program) clReleaseProgram(cb->program);
    if (cb->queue) clReleaseCommandQueue(cb->queue);
    if (cb->ctx) clReleaseContext(cb->ctx);
    free(cb);
}

static int cl_devices(BackendDevice *out, int max, int *n, Err *err) {
    OclDevice *all = calloc(OCL_MAX_DEVICES, sizeof *all);
    if (!all) return err_set(err, "out of memory");
    int found = 0;
    *n = 0;
    int rc = ocl_devices_list(all, OCL_MAX_DEVICES, &found, err);
    for (int i = 0; !rc && i < found && *n < max; i++) {
        const OclDevice *d = &all[i];
        BackendDevice *o = &out[(*n)++];
        memset(o, 0, sizeof *o);
        snprintf(o->spec, sizeof o->spec, "opencl:%d:%d", d->platform_index, d->device_index);
        snprintf(o->kind, sizeof o->kind, "%s", d->is_gpu ? "gpu" : d->is_cpu ? "cpu" : "accelerator");
        snprintf(o->name, sizeof o->name, "%s", d->name);
        snprintf(o->vendor, sizeof o->vendor, "%s", d->vendor);
        snprintf(o->driver, sizeof o->driver, "%s", d->driver);
        snprintf(o->platform, sizeof o->platform, "%s", d->platform_name);
        o->compute_units = (int)d->compute_units;
        o->max_clock_mhz = (int)d->max_clock_mhz;
        o->memory_bytes = d->global_mem_bytes;
    }
    free(all);
    return rc;
}

const BackendType backend_type_opencl = {
    .name = "opencl",
    .summary = "an OpenCL device (GPU, or pocl on the CPU): CLBlast SGEMM convolutions",
    .open = cl_open,
    .set_subnet = cl_set_subnet,
    .forward = cl_forward,
    .info = cl_info,
    .close = cl_close,
    .devices = cl_devices,
    .device_ms = cl_device_ms,
    .op_times = cl_op_times,
};
#endif
