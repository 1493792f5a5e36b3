build-native/nn/planes.o: nn/planes.c nn/layers.h nn/conv3x3.h
nn/layers.h:
nn/conv3x3.h:
