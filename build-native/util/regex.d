build-native/util/regex.o: util/regex.c util/regex.h util/err.h
util/regex.h:
util/err.h:
