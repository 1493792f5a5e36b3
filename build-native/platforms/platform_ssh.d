build-native/platforms/platform_ssh.o: platforms/platform_ssh.c \
 platforms/platform.h util/ynode.h util/err.h util/strbuf.h util/proc.h \
 platforms/profile_cmd.h platforms/shell_quote.h
platforms/platform.h:
util/ynode.h:
util/err.h:
util/strbuf.h:
util/proc.h:
platforms/profile_cmd.h:
platforms/shell_quote.h:
