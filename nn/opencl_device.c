/* nn/opencl_device.c — OpenCL platforms and devices: listing, choosing by spec, error names (see
 * opencl_device.h). */
#ifdef DYNN_HAVE_OPENCL
#include "nn/opencl_device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OCL_MAX_PLATFORMS 16

const char *ocl_error_name(cl_int rc) {
    switch (rc) {
#define E(x) \
    case x: return #x;
        E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE) E(CL_COMPILER_NOT_AVAILABLE)
        E(CL_MEM_OBJECT_ALLOCATION_FAILURE) E(CL_OUT_OF_RESOURCES) E(CL_OUT_OF_HOST_MEMORY)
        E(CL_BUILD_PROGRAM_FAILURE) E(CL_INVALID_VALUE) E(CL_INVALID_PLATFORM) E(CL_INVALID_DEVICE)
        E(CL_INVALID_CONTEXT) E(CL_INVALID_COMMAND_QUEUE) E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_BUFFER_SIZE)
        E(CL_INVALID_PROGRAM) E(CL_INVALID_KERNEL_NAME) E(CL_INVALID_KERNEL) E(CL_INVALID_ARG_INDEX)
        E(CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE) E(CL_INVALID_KERNEL_ARGS) E(CL_INVALID_WORK_DIMENSION)
        E(CL_INVALID_WORK_GROUP_SIZE) E(CL_INVALID_GLOBAL_WORK_SIZE) E(CL_INVALID_EVENT)
        E(CL_INVALID_OPERATION) E(CL_MISALIGNED_SUB_BUFFER_OFFSET)
#undef E
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR (no OpenCL driver registered in /etc/OpenCL/vendors)";
    default: {
        static _Thread_local char buf[32];
        snprintf(buf, sizeof buf, "OpenCL error %d", (int)rc);
        return buf;
    }
    }
}

static void info_string(cl_device_id dev, cl_device_info what, char *out, size_t size) {
    out[0] = '\0';
    if (clGetDeviceInfo(dev, what, size - 1, out, NULL) != CL_SUCCESS) snprintf(out, size, "unknown");
    out[size - 1] = '\0';
    size_t len = strlen(out); /* some drivers pad names with spaces */
    while (len && out[len - 1] == ' ') out[--len] = '\0';
}

int ocl_devices_list(OclDevice *out, int max, int *n, Err *err) {
    *n = 0;
    cl_platform_id plats[OCL_MAX_PLATFORMS];
    cl_uint n_plats = 0;
    cl_int rc = clGetPlatformIDs(OCL_MAX_PLATFORMS, plats, &n_plats);
    if (rc != CL_SUCCESS || n_plats == 0)
        return err_set(err,
                       "no OpenCL platform on this machine (%s): install a driver — a GPU vendor's, or pocl-opencl-icd "
                       "for the CPU (clinfo lists what the loader finds)",
                       rc != CL_SUCCESS ? ocl_error_name(rc) : "the loader found none");
    if (n_plats > OCL_MAX_PLATFORMS) n_plats = OCL_MAX_PLATFORMS;
    for (cl_uint p = 0; p < n_plats && *n < max; p++) {
        char pname[128] = "";
        clGetPlatformInfo(plats[p], CL_PLATFORM_NAME, sizeof pname - 1, pname, NULL);
        cl_device_id devs[OCL_MAX_DEVICES];
        cl_uint n_devs = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, OCL_MAX_DEVICES, devs, &n_devs) != CL_SUCCESS) continue;
        if (n_devs > OCL_MAX_DEVICES) n_devs = OCL_MAX_DEVICES;
        for (cl_uint k = 0; k < n_devs && *n < max; k++) {
            OclDevice *o = &out[(*n)++];
            memset(o, 0, sizeof *o);
            o->platform = plats[p];
            o->id = devs[k];
            o->platform_index = (int)p;
            o->device_index = (int)k;
            snprintf(o->platform_name, sizeof o->platform_name, "%s", pname);
            info_string(devs[k], CL_DEVICE_NAME, o->name, sizeof o->name);
            info_string(devs[k], CL_DEVICE_VENDOR, o->vendor, sizeof o->vendor);
            info_string(devs[k], CL_DRIVER_VERSION, o->driver, sizeof o->driver);
            info_string(devs[k], CL_DEVICE_VERSION, o->version, sizeof o->version);
            cl_device_type type = 0;
            cl_uint cu = 0, mhz = 0;
            cl_ulong mem = 0;
            clGetDeviceInfo(devs[k], CL_DEVICE_TYPE, sizeof type, &type, NULL);
            clGetDeviceInfo(devs[k], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
            clGetDeviceInfo(devs[k], CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof mhz, &mhz, NULL);
            clGetDeviceInfo(devs[k], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
            o->is_gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
            o->is_cpu = (type & CL_DEVICE_TYPE_CPU) != 0;
            o->compute_units = cu;
            o->max_clock_mhz = mhz;
            o->global_mem_bytes = mem;
        }
    }
    if (*n == 0) return err_set(err, "OpenCL platforms were found but no device answers (clinfo lists them)");
    return 0;
}

/* Parses "P" or "P:D" (decimal indices); -1 when malformed. */
static int parse_spec(const char *spec, int *p, int *d) {
    char *end;
    long v = strtol(spec, &end, 10);
    if (end == spec || v < 0 || v > 1000) return -1;
    *p = (int)v;
    *d = -1;
    if (!*end) return 0;
    if (*end != ':') return -1;
    const char *s2 = end + 1;
    v = strtol(s2, &end, 10);
    if (end == s2 || *end || v < 0 || v > 1000) return -1;
    *d = (int)v;
    return 0;
}

int ocl_device_select(const char *spec, OclDevice *out, Err *err) {
    OclDevice *all = calloc(OCL_MAX_DEVICES, sizeof *all);
    if (!all) return err_set(err, "out of memory");
    int n = 0, pick = -1, p = -1, d = -1;
    int rc = ocl_devices_list(all, OCL_MAX_DEVICES, &n, err);
    if (!rc && spec && *spec && parse_spec(spec, &p, &d))
        rc = err_set(err, "opencl device '%s': expected PLATFORM or PLATFORM:DEVICE, indices as 'dynn devices' lists them",
                     spec);
    for (int i = 0; !rc && i < n && pick < 0; i++) {
        if (p < 0 ? all[i].is_gpu : all[i].platform_index == p && (d < 0 || all[i].device_index == d)) pick = i;
    }
    if (!rc && pick < 0 && p < 0) pick = 0; /* no GPU: the first device */
    if (!rc && pick < 0) {
        char have[512] = "";
        for (int i = 0; i < n; i++)
            snprintf(have + strlen(have), sizeof have - strlen(have), "%s%d:%d %s", i ? ", " : "", all[i].platform_index,
                     all[i].device_index, all[i].name);
        rc = err_set(err, "opencl device '%s': no such device (this machine has %s)", spec, have);
    }
    if (!rc) *out = all[pick];
    free(all);
    return rc;
}
#endif
