build-native/platforms/platform_registry.o: platforms/platform_registry.c \
 platforms/platform.h util/ynode.h util/err.h util/strbuf.h
platforms/platform.h:
util/ynode.h:
util/err.h:
util/strbuf.h:
