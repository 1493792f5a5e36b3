build-native/nn/train.o: nn/train.c nn/train.h nn/backend.h \
 nn/model_desc.h util/err.h nn/data.h nn/model.h nn/arena.h nn/optim.h \
 nn/layers.h nn/rng.h
nn/train.h:
nn/backend.h:
nn/model_desc.h:
util/err.h:
nn/data.h:
nn/model.h:
nn/arena.h:
nn/optim.h:
nn/layers.h:
nn/rng.h:
