build-native/nn/elementwise.o: nn/elementwise.c nn/layers.h
nn/layers.h:
