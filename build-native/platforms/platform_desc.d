build-native/platforms/platform_desc.o: platforms/platform_desc.c \
 platforms/platform.h util/ynode.h util/err.h util/strbuf.h \
 platforms/affinity.h platforms/devfreq.h platforms/energy.h \
 util/atomic_file.h util/fs.h util/sha256.h util/suggest.h
platforms/platform.h:
util/ynode.h:
util/err.h:
util/strbuf.h:
platforms/affinity.h:
platforms/devfreq.h:
platforms/energy.h:
util/atomic_file.h:
util/fs.h:
util/sha256.h:
util/suggest.h:
