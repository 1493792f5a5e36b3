build-native/nn/pool.o: nn/pool.c nn/layers.h
nn/layers.h:
