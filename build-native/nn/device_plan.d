build-native/nn/device_plan.o: nn/device_plan.c nn/device_plan.h \
 nn/model_desc.h util/err.h
nn/device_plan.h:
nn/model_desc.h:
util/err.h:
