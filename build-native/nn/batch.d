build-native/nn/batch.o: nn/batch.c nn/data.h util/err.h nn/rng.h
nn/data.h:
util/err.h:
nn/rng.h:
