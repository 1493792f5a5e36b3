build-native/nn/subnet.o: nn/subnet.c nn/subnet.h nn/data.h util/err.h \
 nn/model.h nn/arena.h nn/model_desc.h nn/rng.h
nn/subnet.h:
nn/data.h:
util/err.h:
nn/model.h:
nn/arena.h:
nn/model_desc.h:
nn/rng.h:
