/* platforms/nvml_clocks.h — the clocks of an NVIDIA GPU through NVML: set as DVFS points where the
 * driver allows it, always put back, and read during a measurement wherever NVML runs.
 *
 * NVML is the driver's own library, libnvidia-ml.so.1, loaded at run time (dlopen, found through
 * LD_LIBRARY_PATH and the loader's cache): dynn has no link-time dependency on it and builds where no
 * driver is installed; the few types and functions used are declared in nvml_clocks.c.
 *
 * nvml_clocks_open() loads it, initializes NVML, takes the device of that index (the order of
 * nvidia-smi), its name, and the clocks it supports: its memory clocks and the graphics (SM) clocks
 * at the highest memory clock, in MHz. nvml_clocks_set() sets the SM clock to a supported value:
 *   locked       nvmlDeviceSetGpuLockedClocks(F, F) (Volta and later, root), and the memory clock
 *                locked to its highest (nvmlDeviceSetMemoryLockedClocks, Ampere and later; where that
 *                is refused the memory clock is left to the driver and `mem_locked` says so);
 *   application  where locked clocks are refused (NOT_SUPPORTED or NO_PERMISSION):
 *                nvmlDeviceSetApplicationsClocks(highest memory clock, F) (root, or anyone after
 *                `nvidia-smi -acp UNRESTRICTED`).
 * The method is chosen by the first set (NVML cannot tell permission otherwise). When both are
 * refused the clocks are recorded as not settable (`available` 0, `reason`): nothing fails, and the
 * caller measures at the clocks the driver chooses, reading them with nvml_clocks_read().
 *
 * Restoring resets what was set: nvmlDeviceResetGpuLockedClocks and ResetMemoryLockedClocks, or
 * nvmlDeviceResetApplicationsClocks, i.e. the driver's defaults (NVML cannot read locked clocks back;
 * application clocks an administrator set before the run are reset to the defaults too). The first
 * set registers with the process's one SIGINT/SIGTERM handler (platforms/sysfs_restore.h, shared with
 * cpufreq and devfreq), so a Ctrl-C puts the GPU back as well as the CPUs; nvml_clocks_restore() does
 * it on the normal and error paths and unregisters. NVML calls are not on POSIX's async-signal-safe
 * list: the main thread makes them with SIGINT/SIGTERM blocked and no other thread makes them, so the
 * handler never interrupts one of dynn's own NVML calls on the thread it runs on.
 *
 * Errors are one line naming the option (--gpu-nvml, --gpu-freq) and what to do. */
#ifndef DYNN_PLATFORMS_NVML_CLOCKS_H
#define DYNN_PLATFORMS_NVML_CLOCKS_H

#include "util/err.h"

#define NVML_LIBRARY "libnvidia-ml.so.1"
#define NVML_MAX_CLOCKS 512 /* supported clocks kept per list (an H100 reports about 110 SM clocks) */
#define NVML_MAX_DEVICE 63  /* largest --gpu-nvml index */

typedef enum { NVML_CLOCKS_NONE, NVML_CLOCKS_LOCKED, NVML_CLOCKS_APPLICATION } NvmlClocksMethod;

struct NvmlApi; /* the library's handle and functions (nvml_clocks.c) */

typedef struct NvmlClocks {
    struct NvmlApi *api;     /* NULL when closed */
    int index;               /* the NVML device index */
    char name[96];           /* "NVIDIA H100 80GB HBM3" */
    int n_mem;
    unsigned mem_mhz[NVML_MAX_CLOCKS]; /* supported memory clocks, ascending */
    int n_sm;
    unsigned sm_mhz[NVML_MAX_CLOCKS];  /* supported SM clocks at the highest memory clock, ascending */
    int available;           /* 1 until a set was refused, or when the device lists no clocks */
    char reason[600];        /* why clocks cannot be set ("" while available) */
    NvmlClocksMethod method; /* NONE until the first set chose one */
    int mem_locked;          /* locked method: the memory clock is locked too */
    unsigned set_mhz;        /* the SM clock set last (0: none) */
    int changed;             /* clocks set since open (a restore is needed) */
} NvmlClocks;

/* Loads `library` (NULL: NVML_LIBRARY), initializes NVML and opens device `index`. On failure nothing
 * stays loaded; errors: the library cannot be loaded (naming it and the driver), a function is
 * missing, NVML cannot start, no device of that index (naming how many there are). */
int nvml_clocks_open(NvmlClocks *nc, const char *library, int index, Err *err);

/* "locked", "application", "none". */
const char *nvml_clocks_method_name(NvmlClocksMethod m);

/* Resolves a --gpu-freq list ("all", "min", "max", Hz, comma-separated) against the supported SM
 * clocks: hz[] gets at most `max` values, in the order given, duplicates removed. A value that is not a
 * supported SM clock is refused in one line listing the supported ones (MHz). */
int nvml_clocks_resolve(const NvmlClocks *nc, const char *spec, long long *hz, int max, int *n, Err *err);

/* Sets the SM clock to mhz (a supported one; nothing is called when it is set already). Returns 0 when
 * set, 1 when the driver refuses both methods (available becomes 0 with the reason; nothing was
 * changed), -1 on any other failure. */
int nvml_clocks_set(NvmlClocks *nc, unsigned mhz, Err *err);

/* The SM and memory clocks now (MHz). -1 when NVML cannot read them. */
int nvml_clocks_read(NvmlClocks *nc, unsigned *sm_mhz, unsigned *mem_mhz, Err *err);

/* Resets what nvml_clocks_set changed and unregisters from the signal handler; -1 naming the reset that
 * failed. Nothing to do when nothing was set. */
int nvml_clocks_restore(NvmlClocks *nc, Err *err);

/* Shuts NVML down and unloads the library (after nvml_clocks_restore). Safe on a closed or zeroed nc. */
void nvml_clocks_close(NvmlClocks *nc);

#endif
