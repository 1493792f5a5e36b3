build-native/platforms/platform_local.o: platforms/platform_local.c \
 platforms/platform.h util/ynode.h util/err.h util/strbuf.h util/proc.h \
 platforms/profile_cmd.h
platforms/platform.h:
util/ynode.h:
util/err.h:
util/strbuf.h:
util/proc.h:
platforms/profile_cmd.h:
