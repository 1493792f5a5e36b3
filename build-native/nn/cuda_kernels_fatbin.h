#define DYNN_CUDA_ARCHS "75 80 86 89 90"
#define DYNN_CUDA_FATBIN "build-native/nn/cuda_kernels.fatbin"
