build-native/nn/methods.o: nn/methods.c nn/methods.h nn/model.h \
 nn/arena.h util/err.h nn/model_desc.h nn/train.h nn/backend.h nn/data.h \
 nn/optim.h nn/layers.h nn/rng.h nn/subnet.h
nn/methods.h:
nn/model.h:
nn/arena.h:
util/err.h:
nn/model_desc.h:
nn/train.h:
nn/backend.h:
nn/data.h:
nn/optim.h:
nn/layers.h:
nn/rng.h:
nn/subnet.h:
