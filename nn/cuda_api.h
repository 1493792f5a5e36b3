/* nn/cuda_api.h — the CUDA driver, cuDNN and cuBLAS entry points the `cuda` backend uses, loaded at
 * run time with dlopen (libcuda.so.1; libcudnn.so.9; libcublas.so.13, else .12), so that dynn links
 * none of them and runs on a machine without them. Each pointer's type is `__typeof__` the header's
 * own declaration, so calls are type-checked against the toolkit the build found; the symbol looked
 * up is the name the header's macros give it (cuMemAlloc is cuMemAlloc_v2), with the bare name as a
 * fallback for older drivers. Also: naming the GPUs (`dynn devices`) and parsing a device spec.
 * Only built with the CUDA toolkit (DYNN_HAVE_CUDA). */
#ifndef DYNN_NN_CUDA_API_H
#define DYNN_NN_CUDA_API_H

#ifdef DYNN_HAVE_CUDA
#include <cublas_v2.h>
#include <cuda.h>
#include <cudnn.h>

#include "util/err.h"

/* X(symbol): every driver function used. */
#define CUDA_DRIVER_FUNCS(X)                                                                                         \
    X(cuInit) X(cuDriverGetVersion) X(cuGetErrorName) X(cuDeviceGetCount) X(cuDeviceGet) X(cuDeviceGetName)         \
    X(cuDeviceGetAttribute) X(cuDeviceTotalMem) X(cuDevicePrimaryCtxRetain) X(cuDevicePrimaryCtxRelease)           \
    X(cuCtxSetCurrent) X(cuCtxSynchronize) X(cuStreamCreate) X(cuStreamDestroy) X(cuStreamSynchronize)             \
    X(cuMemAlloc) X(cuMemFree) X(cuMemcpyHtoD) X(cuMemcpyHtoDAsync) X(cuMemcpyDtoHAsync) X(cuModuleLoadData)       \
    X(cuModuleUnload) X(cuModuleGetFunction) X(cuLaunchKernel) X(cuEventCreate) X(cuEventRecord)                   \
    X(cuEventSynchronize) X(cuEventElapsedTime) X(cuEventDestroy)
#define CUDNN_FUNCS(X)                                                                                               \
    X(cudnnGetVersion) X(cudnnGetErrorString) X(cudnnCreate) X(cudnnDestroy) X(cudnnSetStream)                      \
    X(cudnnCreateTensorDescriptor) X(cudnnSetTensor4dDescriptor) X(cudnnDestroyTensorDescriptor)                    \
    X(cudnnCreateFilterDescriptor) X(cudnnSetFilter4dDescriptor) X(cudnnDestroyFilterDescriptor)                    \
    X(cudnnCreateConvolutionDescriptor) X(cudnnSetConvolution2dDescriptor) X(cudnnSetConvolutionMathType)           \
    X(cudnnDestroyConvolutionDescriptor) X(cudnnGetConvolutionForwardAlgorithm_v7)                                  \
    X(cudnnGetConvolutionForwardWorkspaceSize) X(cudnnConvolutionForward)
#define CUBLAS_FUNCS(X)                                                                                              \
    X(cublasCreate) X(cublasDestroy) X(cublasSetStream) X(cublasSetWorkspace) X(cublasSetMathMode) X(cublasGetProperty)  \
    X(cublasSgemm) X(cublasSgemmStridedBatched)

#define CUDA_API_FIELD(f) __typeof__(f) *f;
typedef struct CudaApi {
    void *libcuda, *libcudnn, *libcublas;
    char cublas_lib[32]; /* the soname that loaded */
    CUDA_DRIVER_FUNCS(CUDA_API_FIELD)
    CUDNN_FUNCS(CUDA_API_FIELD)
    CUBLAS_FUNCS(CUDA_API_FIELD)
} CudaApi;
#undef CUDA_API_FIELD

/* The driver (libcuda.so.1, cuInit done): the process's one copy, loaded on first use and kept. -1
 * with one line when there is none ("no CUDA driver on this machine (libcuda.so.1 not found …):
 * install the NVIDIA driver"), when what loads is the toolkit's stub, or when cuInit finds no GPU. */
const CudaApi *cuda_driver(Err *err);
/* The driver and cuDNN and cuBLAS: what running a model needs. */
const CudaApi *cuda_api(Err *err);
/* "CUDA_ERROR_OUT_OF_MEMORY" (or "CUDA error 2" without the driver's name for it). */
const char *cuda_error_name(const CudaApi *api, CUresult rc);

/* Parses a device spec: "" → 0, "N" → N (decimal, 0..1023). -1 with "cuda device 'x': expected a
 * device index, as 'dynn devices' lists them" otherwise. Loads nothing. */
int cuda_parse_device(const char *spec, int *index, Err *err);

typedef struct CudaDeviceInfo {
    int index;
    char name[128];
    int cc_major, cc_minor, sms, clock_mhz;
    unsigned long long memory_bytes;
    int driver_version;  /* cuDriverGetVersion: 13000 is CUDA 13.0 */
    int cudnn_version;   /* 0 where cuDNN did not load */
    int cublas_version;  /* 0 where cuBLAS did not load */
} CudaDeviceInfo;

/* Every GPU the driver sees, up to max; *n how many. -1 with one line when the driver is missing or
 * sees none. */
int cuda_devices_list(CudaDeviceInfo *out, int max, int *n, Err *err);
#endif

#endif
