/* platforms/nvml_clocks.c — NVML loaded at run time, the GPU clocks set, read and reset, and the part of
 * the Ctrl-C handler that resets them (see nvml_clocks.h). The NVML declarations below are the few
 * this file uses, as the driver's nvml.h defines them (the header is not needed to build). */
#include "platforms/nvml_clocks.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platforms/sysfs_restore.h"

/* ---- NVML, as nvml.h declares it ---- */

typedef int nvmlReturn_t;
enum {
    NVML_SUCCESS = 0,
    NVML_ERROR_NOT_SUPPORTED = 3,
    NVML_ERROR_NO_PERMISSION = 4,
};
typedef struct nvmlDevice_st *nvmlDevice_t;
typedef enum { NVML_CLOCK_GRAPHICS = 0, NVML_CLOCK_SM = 1, NVML_CLOCK_MEM = 2 } nvmlClockType_t;

struct NvmlApi {
    void *lib;
    nvmlDevice_t dev;
    nvmlReturn_t (*init)(void);
    nvmlReturn_t (*shutdown)(void);
    const char *(*error_string)(nvmlReturn_t);
    nvmlReturn_t (*count)(unsigned *);
    nvmlReturn_t (*by_index)(unsigned, nvmlDevice_t *);
    nvmlReturn_t (*name)(nvmlDevice_t, char *, unsigned);
    nvmlReturn_t (*mem_clocks)(nvmlDevice_t, unsigned *, unsigned *);
    nvmlReturn_t (*sm_clocks)(nvmlDevice_t, unsigned, unsigned *, unsigned *);
    nvmlReturn_t (*lock)(nvmlDevice_t, unsigned, unsigned);
    nvmlReturn_t (*unlock)(nvmlDevice_t);
    nvmlReturn_t (*lock_mem)(nvmlDevice_t, unsigned, unsigned);
    nvmlReturn_t (*unlock_mem)(nvmlDevice_t);
    nvmlReturn_t (*set_app)(nvmlDevice_t, unsigned, unsigned);
    nvmlReturn_t (*reset_app)(nvmlDevice_t);
    nvmlReturn_t (*clock)(nvmlDevice_t, nvmlClockType_t, unsigned *);
};

/* Every function from the library; the name of the first one missing in *missing. */
static int load_symbols(struct NvmlApi *a, const char **missing) {
#define NVML_SYM(field, symbol)                                                                                         \
    do {                                                                                                                \
        void *p = dlsym(a->lib, symbol);                                                                                \
        if (!p) return *missing = symbol, -1;                                                                           \
        memcpy(&a->field, &p, sizeof p); /* a function pointer from dlsym, as POSIX allows */                          \
    } while (0)
    NVML_SYM(init, "nvmlInit_v2");
    NVML_SYM(shutdown, "nvmlShutdown");
    NVML_SYM(error_string, "nvmlErrorString");
    NVML_SYM(count, "nvmlDeviceGetCount_v2");
    NVML_SYM(by_index, "nvmlDeviceGetHandleByIndex_v2");
    NVML_SYM(name, "nvmlDeviceGetName");
    NVML_SYM(mem_clocks, "nvmlDeviceGetSupportedMemoryClocks");
    NVML_SYM(sm_clocks, "nvmlDeviceGetSupportedGraphicsClocks");
    NVML_SYM(lock, "nvmlDeviceSetGpuLockedClocks");
    NVML_SYM(unlock, "nvmlDeviceResetGpuLockedClocks");
    NVML_SYM(lock_mem, "nvmlDeviceSetMemoryLockedClocks");
    NVML_SYM(unlock_mem, "nvmlDeviceResetMemoryLockedClocks");
    NVML_SYM(set_app, "nvmlDeviceSetApplicationsClocks");
    NVML_SYM(reset_app, "nvmlDeviceResetApplicationsClocks");
    NVML_SYM(clock, "nvmlDeviceGetClockInfo");
#undef NVML_SYM
    return 0;
}

static const char *nvml_error(const struct NvmlApi *a, nvmlReturn_t rc) {
    const char *s = a->error_string ? a->error_string(rc) : NULL;
    return s ? s : "unknown NVML error";
}

/* The main thread's NVML calls run with SIGINT/SIGTERM blocked (see nvml_clocks.h). */
static void block_signals(sigset_t *old) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, old);
}
static void unblock_signals(const sigset_t *old) { pthread_sigmask(SIG_SETMASK, old, NULL); }

static int cmp_unsigned(const void *a, const void *b) {
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

/* Ascending, no repeats, no zeros. */
static int sort_clocks(unsigned *c, int n) {
    qsort(c, (size_t)n, sizeof *c, cmp_unsigned);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (c[i] && (!m || c[m - 1] != c[i])) c[m++] = c[i];
    return m;
}

static void unload(NvmlClocks *nc, int initialized) {
    if (!nc->api) return;
    if (initialized) nc->api->shutdown();
    dlclose(nc->api->lib);
    free(nc->api);
    nc->api = NULL;
}

/* The supported clocks (memory, then SM at the highest memory clock); a device that lists none cannot
 * have its clocks set (available 0), which is no failure. */
static int read_supported(NvmlClocks *nc, Err *err) {
    struct NvmlApi *a = nc->api;
    unsigned n = NVML_MAX_CLOCKS;
    nvmlReturn_t rc = a->mem_clocks(a->dev, &n, nc->mem_mhz);
    if (rc == NVML_SUCCESS) nc->n_mem = sort_clocks(nc->mem_mhz, n < NVML_MAX_CLOCKS ? (int)n : NVML_MAX_CLOCKS);
    else if (rc != NVML_ERROR_NOT_SUPPORTED)
        return err_set(err, "--gpu-nvml: GPU %d (%s): cannot list its memory clocks: %s", nc->index, nc->name,
                       nvml_error(a, rc));
    if (nc->n_mem) {
        n = NVML_MAX_CLOCKS;
        rc = a->sm_clocks(a->dev, nc->mem_mhz[nc->n_mem - 1], &n, nc->sm_mhz);
        if (rc == NVML_SUCCESS) nc->n_sm = sort_clocks(nc->sm_mhz, n < NVML_MAX_CLOCKS ? (int)n : NVML_MAX_CLOCKS);
        else if (rc != NVML_ERROR_NOT_SUPPORTED)
            return err_set(err, "--gpu-nvml: GPU %d (%s): cannot list its SM clocks: %s", nc->index, nc->name,
                           nvml_error(a, rc));
    }
    nc->available = nc->n_sm > 0;
    if (!nc->available)
        snprintf(nc->reason, sizeof nc->reason, "GPU %d (%s) lists no supported clocks through NVML", nc->index, nc->name);
    return 0;
}

int nvml_clocks_open(NvmlClocks *nc, const char *library, int index, Err *err) {
    memset(nc, 0, sizeof *nc);
    nc->index = index;
    if (index < 0 || index > NVML_MAX_DEVICE)
        return err_set(err, "--gpu-nvml: %d is not a device index 0..%d", index, NVML_MAX_DEVICE);
    const char *lib = library ? library : NVML_LIBRARY;
    if (!(nc->api = calloc(1, sizeof *nc->api))) return err_set(err, "out of memory");
    struct NvmlApi *a = nc->api;
    dlerror();
    if (!(a->lib = dlopen(lib, RTLD_NOW | RTLD_LOCAL))) {
        const char *why = dlerror();
        free(nc->api);
        nc->api = NULL;
        return err_set(err, "--gpu-nvml: cannot load %s, the NVIDIA driver's NVML library (%s): install the NVIDIA "
                            "driver, or put the directory holding %s on LD_LIBRARY_PATH", lib, why ? why : "not found",
                       NVML_LIBRARY);
    }
    const char *missing = NULL;
    if (load_symbols(a, &missing)) {
        unload(nc, 0);
        return err_set(err, "--gpu-nvml: %s has no %s: the NVIDIA driver is too old for dynn (R470 or later is needed)", lib,
                       missing);
    }
    sigset_t old;
    block_signals(&old);
    nvmlReturn_t rc = a->init();
    int failed = 0;
    if (rc != NVML_SUCCESS) {
        failed = err_set(err, "--gpu-nvml: NVML cannot start (%s): is the NVIDIA driver loaded (nvidia-smi)?", nvml_error(a, rc));
        unload(nc, 0);
        unblock_signals(&old);
        return failed;
    }
    unsigned count = 0;
    if ((rc = a->count(&count)) != NVML_SUCCESS)
        failed = err_set(err, "--gpu-nvml: NVML cannot count the GPUs: %s", nvml_error(a, rc));
    else if ((unsigned)index >= count)
        failed = err_set(err, "--gpu-nvml: no NVIDIA GPU %d: NVML sees %u (indices 0..%d, as nvidia-smi lists them)", index,
                         count, (int)count - 1);
    else if ((rc = a->by_index((unsigned)index, &a->dev)) != NVML_SUCCESS)
        failed = err_set(err, "--gpu-nvml: cannot open GPU %d: %s", index, nvml_error(a, rc));
    else {
        if (a->name(a->dev, nc->name, sizeof nc->name) != NVML_SUCCESS) snprintf(nc->name, sizeof nc->name, "unnamed GPU");
        nc->name[sizeof nc->name - 1] = '\0';
        failed = read_supported(nc, err);
    }
    if (failed) unload(nc, 1);
    unblock_signals(&old);
    return failed;
}

const char *nvml_clocks_method_name(NvmlClocksMethod m) {
    return m == NVML_CLOCKS_LOCKED ? "locked" : m == NVML_CLOCKS_APPLICATION ? "application" : "none";
}

static void clock_list_text(const NvmlClocks *nc, char *out, size_t size) {
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < nc->n_sm && len + 1 < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%u", i ? " " : "", nc->sm_mhz[i]);
}

int nvml_clocks_resolve(const NvmlClocks *nc, const char *spec, long long *hz, int max, int *n, Err *err) {
    *n = 0;
    if (!nc->n_sm) return err_set(err, "--gpu-freq: %s", nc->reason);
    char copy[1024];
    if (strlen(spec) >= sizeof copy) return err_set(err, "--gpu-freq: list too long");
    snprintf(copy, sizeof copy, "%s", spec);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long long list[NVML_MAX_CLOCKS];
        int m = 0;
        if (!strcmp(tok, "all")) {
            for (int i = 0; i < nc->n_sm; i++) list[m++] = 1000000LL * nc->sm_mhz[i];
        } else if (!strcmp(tok, "min")) {
            list[m++] = 1000000LL * nc->sm_mhz[0];
        } else if (!strcmp(tok, "max")) {
            list[m++] = 1000000LL * nc->sm_mhz[nc->n_sm - 1];
        } else {
            int ok;
            long long v = sysfs_parse_ll(tok, &ok);
            if (!ok || v <= 0) return err_set(err, "--gpu-freq: '%s' is not a frequency in Hz, all, min or max", tok);
            int found = 0;
            for (int i = 0; i < nc->n_sm; i++) found |= 1000000LL * nc->sm_mhz[i] == v;
            if (!found) {
                char avail[4096];
                clock_list_text(nc, avail, sizeof avail);
                return err_set(err, "--gpu-freq: %lld Hz is not a supported SM clock of GPU %d (%s) at memory clock %u MHz "
                                    "(supported, MHz: %s)", v, nc->index, nc->name, nc->mem_mhz[nc->n_mem - 1], avail);
            }
            list[m++] = v;
        }
        for (int i = 0; i < m; i++) {
            int dup = 0;
            for (int k = 0; k < *n; k++) dup |= hz[k] == list[i];
            if (dup) continue;
            if (*n == max) return err_set(err, "--gpu-freq: more than %d clocks", max);
            hz[(*n)++] = list[i];
        }
    }
    if (*n == 0) return err_set(err, "--gpu-freq: empty list");
    return 0;
}

/* Resets what was set; the first failing reset's NVML code (NVML_SUCCESS when all went through) and
 * its name in *failed. Makes only NVML calls and plain stores, so the signal handler shares it. */
static nvmlReturn_t restore_raw(NvmlClocks *nc, const char **failed) {
    struct NvmlApi *a = nc->api;
    nvmlReturn_t first = NVML_SUCCESS, rc;
    if (!nc->changed || !a) return NVML_SUCCESS;
    if (nc->method == NVML_CLOCKS_NONE) { /* a signal while the first set was choosing: reset whatever it tried */
        a->unlock(a->dev);
        a->unlock_mem(a->dev);
        a->reset_app(a->dev);
    }
    if (nc->method == NVML_CLOCKS_LOCKED && (rc = a->unlock(a->dev)) != NVML_SUCCESS)
        first = rc, *failed = "nvmlDeviceResetGpuLockedClocks";
    if (nc->method == NVML_CLOCKS_LOCKED && nc->mem_locked && (rc = a->unlock_mem(a->dev)) != NVML_SUCCESS &&
        first == NVML_SUCCESS)
        first = rc, *failed = "nvmlDeviceResetMemoryLockedClocks";
    if (nc->method == NVML_CLOCKS_APPLICATION && (rc = a->reset_app(a->dev)) != NVML_SUCCESS)
        first = rc, *failed = "nvmlDeviceResetApplicationsClocks";
    if (first == NVML_SUCCESS) nc->changed = 0, nc->mem_locked = 0, nc->set_mhz = 0;
    return first;
}

static void restore_on_signal(void *owner) {
    const char *failed = NULL;
    restore_raw(owner, &failed);
}

static int refused(nvmlReturn_t rc) { return rc == NVML_ERROR_NOT_SUPPORTED || rc == NVML_ERROR_NO_PERMISSION; }

/* The first set: locked clocks, else application clocks; 1 when both are refused. */
static int choose_and_set(NvmlClocks *nc, unsigned mhz, unsigned mem, Err *err) {
    struct NvmlApi *a = nc->api;
    nvmlReturn_t rc = a->lock(a->dev, mhz, mhz);
    if (rc == NVML_SUCCESS) {
        nc->method = NVML_CLOCKS_LOCKED;
        nvmlReturn_t mrc = a->lock_mem(a->dev, mem, mem);
        if (mrc == NVML_SUCCESS) nc->mem_locked = 1;
        else if (!refused(mrc))
            return err_set(err, "GPU %d (%s): cannot lock the memory clock at %u MHz: %s", nc->index, nc->name, mem,
                           nvml_error(a, mrc));
        return 0;
    }
    if (!refused(rc))
        return err_set(err, "GPU %d (%s): cannot lock the SM clock at %u MHz: %s", nc->index, nc->name, mhz, nvml_error(a, rc));
    nvmlReturn_t arc = a->set_app(a->dev, mem, mhz);
    if (arc == NVML_SUCCESS) {
        nc->method = NVML_CLOCKS_APPLICATION;
        return 0;
    }
    if (!refused(arc))
        return err_set(err, "GPU %d (%s): cannot set the application clocks to %u MHz (memory %u MHz): %s", nc->index,
                       nc->name, mhz, mem, nvml_error(a, arc));
    nc->available = 0;
    snprintf(nc->reason, sizeof nc->reason,
             "the driver refuses setting the clocks of GPU %d (%s): locked clocks: %s; application clocks: %s (setting "
             "clocks needs root, or `nvidia-smi -acp UNRESTRICTED` for application clocks)",
             nc->index, nc->name, nvml_error(a, rc), nvml_error(a, arc));
    return 1;
}

int nvml_clocks_set(NvmlClocks *nc, unsigned mhz, Err *err) {
    if (!nc->api) return err_set(err, "GPU clocks: NVML is not open");
    if (!nc->available) return err_set(err, "GPU clocks cannot be set: %s", nc->reason);
    if (nc->changed && nc->set_mhz == mhz) return 0; /* set already (the first point after the probing set) */
    if (sysfs_restore_register(restore_on_signal, nc))
        return err_set(err, "cannot set the GPU clocks: %d other settings await restoring already", SYSFS_RESTORE_MAX);
    struct NvmlApi *a = nc->api;
    unsigned mem = nc->mem_mhz[nc->n_mem - 1];
    sigset_t old;
    block_signals(&old);
    int first = !nc->changed, rc = 0;
    nc->changed = 1; /* from here on a restore resets (a signal during the set included) */
    if (first) rc = choose_and_set(nc, mhz, mem, err);
    else {
        nvmlReturn_t nrc = nc->method == NVML_CLOCKS_LOCKED ? a->lock(a->dev, mhz, mhz) : a->set_app(a->dev, mem, mhz);
        if (nrc != NVML_SUCCESS)
            rc = err_set(err, "GPU %d (%s): cannot set the SM clock to %u MHz (%s clocks): %s", nc->index, nc->name, mhz,
                         nvml_clocks_method_name(nc->method), nvml_error(a, nrc));
    }
    if (rc && nc->method == NVML_CLOCKS_NONE) nc->changed = 0; /* the first set failed: nothing was set */
    if (rc == 0) nc->set_mhz = mhz;
    unblock_signals(&old);
    if (!nc->changed) sysfs_restore_unregister(nc);
    return rc;
}

int nvml_clocks_read(NvmlClocks *nc, unsigned *sm_mhz, unsigned *mem_mhz, Err *err) {
    if (!nc->api) return err_set(err, "GPU clocks: NVML is not open");
    struct NvmlApi *a = nc->api;
    sigset_t old;
    block_signals(&old);
    nvmlReturn_t rc = a->clock(a->dev, NVML_CLOCK_SM, sm_mhz);
    nvmlReturn_t mrc = rc == NVML_SUCCESS ? a->clock(a->dev, NVML_CLOCK_MEM, mem_mhz) : rc;
    unblock_signals(&old);
    if (mrc != NVML_SUCCESS)
        return err_set(err, "GPU %d (%s): cannot read its %s clock: %s", nc->index, nc->name,
                       rc != NVML_SUCCESS ? "SM" : "memory", nvml_error(a, mrc));
    return 0;
}

int nvml_clocks_restore(NvmlClocks *nc, Err *err) {
    const char *failed = NULL;
    nvmlReturn_t rc = NVML_SUCCESS;
    if (nc->api) {
        sigset_t old;
        block_signals(&old);
        rc = restore_raw(nc, &failed);
        unblock_signals(&old);
    }
    sysfs_restore_unregister(nc);
    if (rc != NVML_SUCCESS)
        return err_set(err, "GPU %d (%s): %s failed: %s; reset the clocks by hand (nvidia-smi -rgc -rmc -rac)", nc->index,
                       nc->name, failed, nvml_error(nc->api, rc));
    return 0;
}

void nvml_clocks_close(NvmlClocks *nc) {
    if (!nc->api) return;
    sigset_t old;
    block_signals(&old);
    unload(nc, 1);
    unblock_signals(&old);
}
