/* nn/cuda_api.c — loading the CUDA driver, cuDNN and cuBLAS at run time, the GPUs the driver sees,
 * device specs and error names (see cuda_api.h). */
#ifdef DYNN_HAVE_CUDA
#include "nn/cuda_api.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CUDA_STR(x) #x
#define CUDA_XSTR(x) CUDA_STR(x)

static CudaApi api;
static pthread_mutex_t api_lock = PTHREAD_MUTEX_INITIALIZER;
static int driver_state; /* 0: not tried, 1: ready, -1: failed (driver_error says why) */
static int libs_state;
static char driver_error[sizeof(((Err *)0)->msg)], libs_error[sizeof(((Err *)0)->msg)];

/* dlsym of the header's name for the function (`versioned`), else, where `bare` is given, of the
 * bare one (an older driver without the _v2 of a function with the same signature). */
static int load_sym(void *lib, void **slot, const char *versioned, const char *bare, const char *libname, char *why,
                    size_t why_size) {
    *slot = dlsym(lib, versioned);
    if (!*slot && bare && strcmp(bare, versioned)) *slot = dlsym(lib, bare);
    if (!*slot) snprintf(why, why_size, "%s has no %s: it is older than the CUDA %d.%d headers dynn was built with", libname,
                         versioned, CUDA_VERSION / 1000, CUDA_VERSION % 1000 / 10);
    return *slot ? 0 : -1;
}

static void load_driver(void) {
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        if (!e || strstr(e, "cannot open shared object file")) e = "not found by the dynamic loader";
        snprintf(driver_error, sizeof driver_error, "no CUDA driver on this machine (libcuda.so.1 %.150s): install the NVIDIA driver",
                 e);
        driver_state = -1;
        return;
    }
    api.libcuda = lib;
#define LOAD_DRIVER(f)                                                                                                \
    if (load_sym(lib, (void **)&api.f, CUDA_XSTR(f), #f, "libcuda.so.1", driver_error, sizeof driver_error)) {        \
        driver_state = -1;                                                                                            \
        return;                                                                                                       \
    }
    /* cuInit first: the stub has every symbol but says what it is only there */
    LOAD_DRIVER(cuInit)
    LOAD_DRIVER(cuGetErrorName)
    CUresult rc = api.cuInit(0);
    if (rc == CUDA_ERROR_STUB_LIBRARY) {
        char where[256] = "libcuda.so.1";
        Dl_info info;
        char *real = NULL;
        if (dladdr((void *)api.cuInit, &info) && info.dli_fname) {
            real = realpath(info.dli_fname, NULL); /* the stub's own path, not a link to it */
            snprintf(where, sizeof where, "%s", real ? real : info.dli_fname);
        }
        free(real);
        snprintf(driver_error, sizeof driver_error,
                 "no CUDA driver on this machine: the libcuda.so.1 that loads (%.150s) is the toolkit's stub, not a "
                 "driver: install the NVIDIA driver",
                 where);
        driver_state = -1;
        return;
    }
    if (rc == CUDA_ERROR_NO_DEVICE) {
        snprintf(driver_error, sizeof driver_error,
                 "no CUDA GPU on this machine (the NVIDIA driver is installed, cuInit found no device: "
                 "CUDA_VISIBLE_DEVICES, nvidia-smi)");
        driver_state = -1;
        return;
    }
    if (rc != CUDA_SUCCESS) {
        snprintf(driver_error, sizeof driver_error, "the CUDA driver does not start (cuInit: %s): nvidia-smi says why",
                 cuda_error_name(&api, rc));
        driver_state = -1;
        return;
    }
    CUDA_DRIVER_FUNCS(LOAD_DRIVER)
#undef LOAD_DRIVER
    driver_state = 1;
}

/* dlopen of the first soname that loads; why says what was tried. */
static void *open_first(const char *const *names, int n, char *loaded, size_t loaded_size, char *why, size_t why_size) {
    for (int i = 0; i < n; i++) {
        void *lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (lib) {
            snprintf(loaded, loaded_size, "%s", names[i]);
            return lib;
        }
    }
    const char *e = dlerror();
    snprintf(why, why_size, "%s not found (%.120s)", names[0], e ? e : "dlopen failed");
    return NULL;
}

static void load_libs(void) {
    static const char *const cudnn[] = {"libcudnn.so.9"}, *const cublas[] = {"libcublas.so.13", "libcublas.so.12"};
    char loaded[32], why[200];
    if (!(api.libcudnn = open_first(cudnn, 1, loaded, sizeof loaded, why, sizeof why))) {
        snprintf(libs_error, sizeof libs_error, "cuda: %s: install cuDNN 9 (libcudnn9-cuda-13 or -12) for the driver's CUDA",
                 why);
        libs_state = -1;
        return;
    }
    if (!(api.libcublas = open_first(cublas, 2, api.cublas_lib, sizeof api.cublas_lib, why, sizeof why))) {
        snprintf(libs_error, sizeof libs_error, "cuda: %s: install cuBLAS (libcublas-13-0 or 12) for the driver's CUDA",
                 why);
        libs_state = -1;
        return;
    }
    void *lib = api.libcudnn;
#define LOAD_LIB(f)                                                                                                   \
    if (load_sym(lib, (void **)&api.f, CUDA_XSTR(f), NULL, libname, why, sizeof why)) {                              \
        snprintf(libs_error, sizeof libs_error, "cuda: %s", why);                                                     \
        libs_state = -1;                                                                                              \
        return;                                                                                                       \
    }
    const char *libname = "libcudnn.so.9";
    CUDNN_FUNCS(LOAD_LIB)
    lib = api.libcublas;
    libname = api.cublas_lib;
    CUBLAS_FUNCS(LOAD_LIB)
#undef LOAD_LIB
    libs_state = 1;
}

const CudaApi *cuda_driver(Err *err) {
    pthread_mutex_lock(&api_lock);
    if (!driver_state) load_driver();
    int ok = driver_state > 0;
    pthread_mutex_unlock(&api_lock);
    if (!ok) {
        err_set(err, "%s", driver_error);
        return NULL;
    }
    return &api;
}

const CudaApi *cuda_api(Err *err) {
    if (!cuda_driver(err)) return NULL;
    pthread_mutex_lock(&api_lock);
    if (!libs_state) load_libs();
    int ok = libs_state > 0;
    pthread_mutex_unlock(&api_lock);
    if (!ok) {
        err_set(err, "%s", libs_error);
        return NULL;
    }
    return &api;
}

const char *cuda_error_name(const CudaApi *a, CUresult rc) {
    const char *name = NULL;
    if (a && a->cuGetErrorName && a->cuGetErrorName(rc, &name) == CUDA_SUCCESS && name) return name;
    static _Thread_local char buf[32];
    snprintf(buf, sizeof buf, "CUDA error %d", (int)rc);
    return buf;
}

int cuda_parse_device(const char *spec, int *index, Err *err) {
    *index = 0;
    if (!spec || !*spec) return 0;
    int v = 0;
    for (const char *p = spec; *p; p++) {
        if (*p < '0' || *p > '9' || v > 102) {
            v = -1;
            break;
        }
        v = v * 10 + (*p - '0');
    }
    if (v < 0 || v > 1023)
        return err_set(err, "cuda device '%s': expected a device index (cuda:N), as 'dynn devices' lists them", spec);
    *index = v;
    return 0;
}

int cuda_devices_list(CudaDeviceInfo *out, int max, int *n, Err *err) {
    *n = 0;
    const CudaApi *a = cuda_driver(err);
    if (!a) return -1;
    int count = 0, driver = 0;
    CUresult rc = a->cuDeviceGetCount(&count);
    if (rc != CUDA_SUCCESS) return err_set(err, "cuda: cuDeviceGetCount failed (%s)", cuda_error_name(a, rc));
    if (count == 0) return err_set(err, "no CUDA GPU on this machine (the NVIDIA driver sees none: nvidia-smi)");
    a->cuDriverGetVersion(&driver);
    Err ignored;
    const CudaApi *libs = cuda_api(&ignored); /* versions of cuDNN and cuBLAS where they load */
    int cudnn = libs ? (int)libs->cudnnGetVersion() : 0, cublas = 0;
    if (libs) { /* 13.1.0 as 130100, the form of CUBLAS_VERSION */
        int major = 0, minor = 0, patch = 0;
        if (libs->cublasGetProperty(MAJOR_VERSION, &major) == CUBLAS_STATUS_SUCCESS &&
            libs->cublasGetProperty(MINOR_VERSION, &minor) == CUBLAS_STATUS_SUCCESS &&
            libs->cublasGetProperty(PATCH_LEVEL, &patch) == CUBLAS_STATUS_SUCCESS)
            cublas = major * 10000 + minor * 100 + patch;
    }
    for (int i = 0; i < count && *n < max; i++) {
        CUdevice dev;
        if (a->cuDeviceGet(&dev, i) != CUDA_SUCCESS) continue;
        CudaDeviceInfo *o = &out[(*n)++];
        memset(o, 0, sizeof *o);
        o->index = i;
        if (a->cuDeviceGetName(o->name, (int)sizeof o->name - 1, dev) != CUDA_SUCCESS) snprintf(o->name, sizeof o->name, "unknown");
        a->cuDeviceGetAttribute(&o->cc_major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
        a->cuDeviceGetAttribute(&o->cc_minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
        a->cuDeviceGetAttribute(&o->sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev);
        int khz = 0;
        if (a->cuDeviceGetAttribute(&khz, CU_DEVICE_ATTRIBUTE_CLOCK_RATE, dev) == CUDA_SUCCESS) o->clock_mhz = khz / 1000;
        size_t mem = 0;
        if (a->cuDeviceTotalMem(&mem, dev) == CUDA_SUCCESS) o->memory_bytes = mem;
        o->driver_version = driver;
        o->cudnn_version = cudnn;
        o->cublas_version = cublas;
    }
    return 0;
}
#endif
