build-native/nn/model_build.o: nn/model_build.c nn/model.h nn/arena.h \
 util/err.h nn/model_desc.h nn/conv3x3.h nn/layers.h
nn/model.h:
nn/arena.h:
util/err.h:
nn/model_desc.h:
nn/conv3x3.h:
nn/layers.h:
