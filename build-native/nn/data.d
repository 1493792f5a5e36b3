build-native/nn/data.o: nn/data.c nn/data.h util/err.h
nn/data.h:
util/err.h:
