build-native/util/version.o: util/version.c util/version.h \
 build-native/buildinfo.h util/sha256.h
util/version.h:
build-native/buildinfo.h:
util/sha256.h:
