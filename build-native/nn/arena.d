build-native/nn/arena.o: nn/arena.c nn/arena.h util/err.h
nn/arena.h:
util/err.h:
