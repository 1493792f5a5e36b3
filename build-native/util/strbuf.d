build-native/util/strbuf.o: util/strbuf.c util/strbuf.h
util/strbuf.h:
