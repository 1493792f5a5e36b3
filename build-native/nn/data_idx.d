build-native/nn/data_idx.o: nn/data_idx.c nn/data.h util/err.h
nn/data.h:
util/err.h:
