build-native/platforms/platform_lock.o: platforms/platform_lock.c \
 platforms/platform_lock.h platforms/platform.h util/ynode.h util/err.h \
 util/strbuf.h util/duration.h util/fs.h util/sha256.h util/provenance.h
platforms/platform_lock.h:
platforms/platform.h:
util/ynode.h:
util/err.h:
util/strbuf.h:
util/duration.h:
util/fs.h:
util/sha256.h:
util/provenance.h:
