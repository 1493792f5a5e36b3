build-native/util/ynode.o: util/ynode.c util/ynode.h util/err.h \
 util/strbuf.h util/fs.h util/sha256.h util/strmap.h util/suggest.h
util/ynode.h:
util/err.h:
util/strbuf.h:
util/fs.h:
util/sha256.h:
util/strmap.h:
util/suggest.h:
