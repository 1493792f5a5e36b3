build-native/platforms/counter.o: platforms/counter.c platforms/counter.h \
 util/err.h util/fs.h util/sha256.h util/version.h
platforms/counter.h:
util/err.h:
util/fs.h:
util/sha256.h:
util/version.h:
