build-native/platforms/shell_quote.o: platforms/shell_quote.c \
 platforms/shell_quote.h util/strbuf.h
platforms/shell_quote.h:
util/strbuf.h:
