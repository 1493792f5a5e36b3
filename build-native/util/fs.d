build-native/util/fs.o: util/fs.c util/fs.h util/err.h util/sha256.h
util/fs.h:
util/err.h:
util/sha256.h:
