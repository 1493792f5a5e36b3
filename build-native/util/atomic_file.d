build-native/util/atomic_file.o: util/atomic_file.c util/atomic_file.h \
 util/err.h
util/atomic_file.h:
util/err.h:
