build-native/util/suggest.o: util/suggest.c util/suggest.h
util/suggest.h:
