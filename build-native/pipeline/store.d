build-native/pipeline/store.o: pipeline/store.c pipeline/store.h \
 util/err.h util/sha256.h util/provenance.h util/fs.h
pipeline/store.h:
util/err.h:
util/sha256.h:
util/provenance.h:
util/fs.h:
