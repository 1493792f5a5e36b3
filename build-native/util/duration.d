build-native/util/duration.o: util/duration.c util/duration.h
util/duration.h:
