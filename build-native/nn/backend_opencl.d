build-native/nn/backend_opencl.o: nn/backend_opencl.c nn/backend.h \
 nn/model_desc.h util/err.h nn/device_plan.h nn/opencl_device.h
nn/backend.h:
nn/model_desc.h:
util/err.h:
nn/device_plan.h:
nn/opencl_device.h:
