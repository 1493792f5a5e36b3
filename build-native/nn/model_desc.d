build-native/nn/model_desc.o: nn/model_desc.c nn/model_desc.h util/err.h \
 nn/arena.h nn/rng.h
nn/model_desc.h:
util/err.h:
nn/arena.h:
nn/rng.h:
