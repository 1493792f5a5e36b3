build-native/util/sha256.o: util/sha256.c util/sha256.h
util/sha256.h:
