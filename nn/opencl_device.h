/* nn/opencl_device.h — the OpenCL platforms and devices of this machine: listing them (`dynn
 * devices`), choosing one from a spec ("" or NULL: the first GPU, else the first device;
 * "P": platform P's first device; "P:D": device D of platform P — indices as `dynn devices` lists
 * them), and naming OpenCL error codes. Only built with OpenCL (DYNN_HAVE_OPENCL). */
#ifndef DYNN_NN_OPENCL_DEVICE_H
#define DYNN_NN_OPENCL_DEVICE_H

#ifdef DYNN_HAVE_OPENCL
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include "util/err.h"

#define OCL_MAX_DEVICES 64

typedef struct OclDevice {
    cl_platform_id platform;
    cl_device_id id;
    int platform_index, device_index;
    char platform_name[128], vendor[128], name[128], driver[64], version[64];
    int is_gpu, is_cpu;
    unsigned compute_units, max_clock_mhz;
    unsigned long long global_mem_bytes;
} OclDevice;

/* Every device of every platform, up to max; *n how many. Returns -1 with a one-line error
 * (naming what was found and what to install) when no platform answers. */
int ocl_devices_list(OclDevice *out, int max, int *n, Err *err);
/* The device a spec names (see above). */
int ocl_device_select(const char *spec, OclDevice *out, Err *err);
/* "CL_OUT_OF_RESOURCES" (or "OpenCL error -5" for a code it does not know). */
const char *ocl_error_name(cl_int rc);
#endif

#endif
