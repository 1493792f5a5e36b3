build-native/nn/data_cifar.o: nn/data_cifar.c nn/data.h util/err.h
nn/data.h:
util/err.h:
