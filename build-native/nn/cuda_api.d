build-native/nn/cuda_api.o: nn/cuda_api.c nn/cuda_api.h util/err.h
nn/cuda_api.h:
util/err.h:
