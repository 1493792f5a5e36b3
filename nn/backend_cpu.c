/* nn/backend_cpu.c — the `cpu` inference backend (see backend.h): the CPU engine of nn/model.c as an
 * inference Model (MODEL_INFERENCE: parameters, activations sharing buffers by lifetime, conv
 * scratch; no gradients, no training state). Its forward is model_forward in eval mode, so its
 * logits equal a training Model's bit for bit at the same thread count. It sets the process's one
 * thread pool (nn/parallel.h) to its thread count when opened, and again before a forward when
 * something changed it meanwhile. Its device is the CPU as the profile tables need it: model, machine
 * type and the vector ISA the kernels were compiled for ("AMD EPYC (x86_64, AVX-512)"). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "nn/backend.h"
#include "nn/model.h"
#include "nn/parallel.h"
#include "util/provenance.h"

typedef struct CpuBackend {
    Model m;
    int threads;
    char device[128];
} CpuBackend;

/* The vector instruction set the kernels of this build use (nn/conv3x3.c picks its blocking the same
 * way, at compile time). */
static const char *kernel_isa(void) {
#if defined(__AVX512F__)
    return "AVX-512";
#elif defined(__AVX2__)
    return "AVX2";
#elif defined(__AVX__)
    return "AVX";
#elif defined(__aarch64__)
    return "NEON";
#elif defined(__ARM_NEON)
    return "NEON (armv7)";
#else
    return "scalar";
#endif
}

/* "MODEL (MACHINE, ISA)" (the model cut at 60 characters), or "MACHINE, ISA" where /proc/cpuinfo names no model (many ARM kernels). */
static void cpu_device(char *out, size_t size) {
    char model[96];
    struct utsname u;
    const char *machine = uname(&u) == 0 ? u.machine : "unknown";
    provenance_cpu_model(model, sizeof model);
    if (strcmp(model, "unknown")) snprintf(out, size, "%.60s (%.30s, %s)", model, machine, kernel_isa());
    else snprintf(out, size, "%.30s, %s", machine, kernel_isa());
}

static int cpu_open(const ModelDesc *d, const ModelWeights *w, int max_batch, int threads, const char *device,
                    void **state, Err *err) {
    if (device[0]) return err_set(err, "backend cpu: no device '%s' (the cpu backend runs on this process's CPUs)", device);
    CpuBackend *cb = calloc(1, sizeof *cb);
    ModelDesc *copy = malloc(sizeof *copy);
    if (!cb || !copy) {
        free(cb);
        free(copy);
        return err_set(err, "out of memory");
    }
    memcpy(copy, d, sizeof *copy);
    cb->threads = nn_set_threads(threads);
    if (model_create_for(&cb->m, copy, MODEL_INFERENCE, max_batch, cb->threads, err)) { /* frees copy */
        free(cb);
        return -1;
    }
    for (int i = 0; i < d->n_params; i++) memcpy(cb->m.param[i], w->param[i], sizeof(float) * d->params[i].numel);
    cpu_device(cb->device, sizeof cb->device);
    *state = cb;
    return 0;
}

static int cpu_set_subnet(void *state, int subnet, Err *err) {
    (void)err;
    model_set_subnet(&((CpuBackend *)state)->m, subnet);
    return 0;
}

static int cpu_forward(void *state, const float *input, int n, float *logits, Err *err) {
    (void)err;
    CpuBackend *cb = state;
    if (omp_get_max_threads() != cb->threads) nn_set_threads(cb->threads);
    const float *out = model_forward(&cb->m, input, n);
    memcpy(logits, out, sizeof(float) * (size_t)n * (size_t)cb->m.d->classes);
    return 0;
}

static void cpu_info(const void *state, BackendInfo *out) {
    const CpuBackend *cb = state;
    snprintf(out->device, sizeof out->device, "%s", cb->device);
    out->threads = cb->threads;
}

static void cpu_close(void *state) {
    CpuBackend *cb = state;
    model_free(&cb->m);
    free(cb);
}

static int cpu_devices(BackendDevice *out, int max, int *n, Err *err) {
    (void)err;
    *n = 0;
    if (max < 1) return 0;
    BackendDevice *o = &out[(*n)++];
    memset(o, 0, sizeof *o);
    snprintf(o->spec, sizeof o->spec, "cpu");
    snprintf(o->kind, sizeof o->kind, "cpu");
    cpu_device(o->name, sizeof o->name);
    snprintf(o->platform, sizeof o->platform, "OpenMP + OpenBLAS");
    long cores = sysconf(_SC_NPROCESSORS_ONLN), pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    o->compute_units = cores > 0 ? (int)cores : 0;
    o->memory_bytes = pages > 0 && page > 0 ? (unsigned long long)pages * (unsigned long long)page : 0;
    return 0;
}

const BackendType backend_type_cpu = {
    .name = "cpu",
    .summary = "the CPU engine: OpenMP and OpenBLAS, one thread pool",
    .open = cpu_open,
    .set_subnet = cpu_set_subnet,
    .forward = cpu_forward,
    .info = cpu_info,
    .close = cpu_close,
    .devices = cpu_devices,
};
