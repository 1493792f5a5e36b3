build-native/reports/plot.o: reports/plot.c reports/plot.h util/err.h \
 util/fs.h util/sha256.h util/strbuf.h
reports/plot.h:
util/err.h:
util/fs.h:
util/sha256.h:
util/strbuf.h:
