build-native/pipeline/cache.o: pipeline/cache.c pipeline/cache.h \
 util/ynode.h util/err.h util/strbuf.h util/sha256.h
pipeline/cache.h:
util/ynode.h:
util/err.h:
util/strbuf.h:
util/sha256.h:
