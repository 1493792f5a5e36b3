build-native/util/proc.o: util/proc.c util/proc.h util/err.h \
 util/strbuf.h
util/proc.h:
util/err.h:
util/strbuf.h:
