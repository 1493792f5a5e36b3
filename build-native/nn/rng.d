build-native/nn/rng.o: nn/rng.c nn/rng.h
nn/rng.h:
