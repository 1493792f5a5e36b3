build-native/nn/model.o: nn/model.c nn/model.h nn/arena.h util/err.h \
 nn/model_desc.h nn/conv3x3.h nn/layers.h
nn/model.h:
nn/arena.h:
util/err.h:
nn/model_desc.h:
nn/conv3x3.h:
nn/layers.h:
