build-native/nn/loss.o: nn/loss.c nn/layers.h
nn/layers.h:
