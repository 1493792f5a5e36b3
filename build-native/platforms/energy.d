build-native/platforms/energy.o: platforms/energy.c platforms/energy.h \
 util/err.h util/fs.h util/sha256.h
platforms/energy.h:
util/err.h:
util/fs.h:
util/sha256.h:
