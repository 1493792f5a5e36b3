build-native/nn/kernel_set.o: nn/kernel_set.c nn/kernel_set.h \
 nn/conv3x3.h nn/layers.h util/err.h nn/blas_core.h util/version.h
nn/kernel_set.h:
nn/conv3x3.h:
nn/layers.h:
util/err.h:
nn/blas_core.h:
util/version.h:
