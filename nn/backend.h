/* nn/backend.h — the inference-backend seam: what runs a trained model's forward pass where it is
 * deployed and measured (`dynn profile`, and so the profile stage), whatever the device.
 *
 * A backend opens a description plus its weights (nn/model_desc.h; checkpoint_read_weights reads
 * both from a file, without building a training model) for a maximum batch and a number of host
 * threads, switches subnet, runs a synchronous forward from a host input buffer into a host output
 * buffer, says what it is (name, device, threads), and closes. Everything it needs on its device
 * is allocated by open; switching subnet and running forward allocate nothing. Its state is opaque
 * to callers; errors are values (Err).
 *
 * Backends are the rows of one table (nn/backend.c). `cpu` (nn/backend_cpu.c) is the CPU engine:
 * an inference Model (nn/model.h, MODEL_INFERENCE), whose outputs equal the training Model's eval
 * forward bit for bit at the same thread count. Adding a backend (OpenCL, CUDA) is a BackendType
 * in its own file nn/backend_NAME.c and a row of the table; a name this build does not have is
 * refused in one line that lists the backends it has (docs/ARCHITECTURE.md, "Adding a backend"). */
#ifndef DYNN_NN_BACKEND_H
#define DYNN_NN_BACKEND_H

#include "nn/model_desc.h"
#include "util/err.h"

#define BACKEND_DEFAULT "cpu"

typedef struct BackendInfo {
    const char *name;  /* the type's name: "cpu" */
    char device[128];  /* what it computes on: "AMD EPYC (x86_64, AVX-512)" (CPU model, machine, kernel ISA), a GPU's name */
    int threads;       /* host threads it computes with (a device backend: those it was opened with) */
    long long allocations; /* device buffers allocated since open, and host-to-device copies: what */
    long long uploads;     /* a test counts to see that switching subnet costs neither (cpu: 0) */
} BackendInfo;

/* A device a backend can run on, as `dynn devices` lists it. */
typedef struct BackendDevice {
    char spec[48];       /* what --backend takes to run on it: "cpu", "opencl:0:1", "cuda:0" */
    char kind[16];       /* "cpu", "gpu", "accelerator" */
    char name[128], vendor[128], driver[64], platform[128];
    char capability[16]; /* a CUDA GPU's compute capability, "9.0"; "" elsewhere */
    char runtime[96];    /* the libraries a backend computes with and their versions (cuda: cuDNN, cuBLAS); "" if none */
    int compute_units;   /* CPU cores online / OpenCL compute units / CUDA multiprocessors (SMs) */
    int max_clock_mhz;   /* 0: unknown */
    unsigned long long memory_bytes; /* the device's (global) memory; 0: unknown */
} BackendDevice;

/* One kind of backend. A type's functions get the state its open returned; the generic functions
 * below check subnet indices and batch sizes before calling them. */
typedef struct BackendType {
    const char *name;    /* "cpu": what --backend and the profile stage's `backend` name */
    const char *summary; /* one line for help texts */
    /* Prepares to run d with weights w for batches of 1..max_batch images on `threads` host threads
     * (< 1: every CPU the process may use), on `device` (what followed "NAME:" in the backend's
     * name, e.g. "0:1" of "opencl:0:1"; "" for the default device). Copies what it keeps of d and w:
     * the caller may free them afterwards. The current subnet is the largest (model_largest_subnet). */
    int (*open)(const ModelDesc *d, const ModelWeights *w, int max_batch, int threads, const char *device, void **state,
                Err *err);
    /* O(1) on the CPU; the next forward runs subnet i. */
    int (*set_subnet)(void *state, int subnet, Err *err);
    /* input: n images [n][in_c][in_h][in_w] on the host; logits: [n][classes] on the host, written
     * before it returns. */
    int (*forward)(void *state, const float *input, int n, float *logits, Err *err);
    void (*info)(const void *state, BackendInfo *out);
    void (*close)(void *state);
    /* The devices it can run on here, up to max, into out[0..*n); -1 with a one-line error (what
     * was found, what to install) when it has none. */
    int (*devices)(BackendDevice *out, int max, int *n, Err *err);
    /* Optional (NULL: no device clock): the last forward's time on the device by the device's own
     * clock (OpenCL event profiling), in ms; and the same per op of the description, ms[i] for
     * d->ops[i], into ms[0..n), returning how many it wrote. */
    double (*device_ms)(const void *state);
    int (*op_times)(const void *state, double *ms, int n);
} BackendType;

/* The built-in types (rows of the table in nn/backend.c); opencl where the build has OpenCL, cuda
 * where it has the CUDA toolkit (nn/backend_cuda.c). */
extern const BackendType backend_type_cpu;
#ifdef DYNN_HAVE_OPENCL
extern const BackendType backend_type_opencl;
#endif
#ifdef DYNN_HAVE_CUDA
extern const BackendType backend_type_cuda;
#endif

/* An open backend (opaque). */
typedef struct Backend Backend;

/* The table: this build's backends, the default first. */
const BackendType *const *backend_types(size_t *n);
/* The type with this name (a device spec after ':' is ignored: "opencl:0:1" is opencl), or NULL
 * with "backend 'fpga' is not built into this dynn (built in: cpu)" (and the nearest name when it
 * looks misspelt). */
const BackendType *backend_find(const char *name, Err *err);

/* Opens backend `name` (NULL: BACKEND_DEFAULT), "NAME" or "NAME:DEVICE". *out is NULL on failure. */
int backend_open(const char *name, const ModelDesc *d, const ModelWeights *w, int max_batch, int threads, Backend **out,
                 Err *err);
/* Refuses an index outside the description's subnets. */
int backend_set_subnet(Backend *b, int subnet, Err *err);
/* Refuses n outside 1..max_batch. */
int backend_forward(Backend *b, const float *input, int n, float *logits, Err *err);
void backend_info(const Backend *b, BackendInfo *out);
int backend_max_batch(const Backend *b);
/* The last forward's device time (ms) and per op (see BackendType.device_ms, op_times); NaN and -1
 * when the backend has no device clock (cpu: the host's wall time is all there is). Cheap: what a
 * timing loop calls after each forward. */
double backend_device_ms(const Backend *b);
int backend_op_times(const Backend *b, double *ms, int n);
/* NULL is allowed. */
void backend_close(Backend *b);

#endif
