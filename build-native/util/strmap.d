build-native/util/strmap.o: util/strmap.c util/strmap.h
util/strmap.h:
