build-native/util/grow.o: util/grow.c util/grow.h
util/grow.h:
