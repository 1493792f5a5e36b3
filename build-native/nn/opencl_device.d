build-native/nn/opencl_device.o: nn/opencl_device.c nn/opencl_device.h \
 util/err.h
nn/opencl_device.h:
util/err.h:
