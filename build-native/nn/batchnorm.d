build-native/nn/batchnorm.o: nn/batchnorm.c nn/layers.h nn/kernel_set.h \
 nn/conv3x3.h util/err.h nn/vec.h
nn/layers.h:
nn/kernel_set.h:
nn/conv3x3.h:
util/err.h:
nn/vec.h:
