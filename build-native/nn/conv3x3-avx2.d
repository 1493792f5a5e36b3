build-native/nn/conv3x3-avx2.o: nn/conv3x3.c nn/conv3x3.h nn/layers.h \
 nn/arena.h util/err.h
nn/conv3x3.h:
nn/layers.h:
nn/arena.h:
util/err.h:
