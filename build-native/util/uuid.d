build-native/util/uuid.o: util/uuid.c util/uuid.h util/err.h
util/uuid.h:
util/err.h:
