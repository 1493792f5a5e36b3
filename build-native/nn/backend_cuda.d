build-native/nn/backend_cuda.o: nn/backend_cuda.c nn/backend.h \
 nn/model_desc.h util/err.h nn/cuda_api.h nn/device_plan.h \
 build-native/nn/cuda_kernels_fatbin.h
nn/backend.h:
nn/model_desc.h:
util/err.h:
nn/cuda_api.h:
nn/device_plan.h:
build-native/nn/cuda_kernels_fatbin.h:
