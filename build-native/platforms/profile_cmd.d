build-native/platforms/profile_cmd.o: platforms/profile_cmd.c \
 platforms/profile_cmd.h platforms/platform.h util/ynode.h util/err.h \
 util/strbuf.h util/proc.h platforms/shell_quote.h
platforms/profile_cmd.h:
platforms/platform.h:
util/ynode.h:
util/err.h:
util/strbuf.h:
util/proc.h:
platforms/shell_quote.h:
