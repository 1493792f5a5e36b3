build-native/nn/optim.o: nn/optim.c nn/optim.h nn/model.h nn/arena.h \
 util/err.h nn/model_desc.h
nn/optim.h:
nn/model.h:
nn/arena.h:
util/err.h:
nn/model_desc.h:
