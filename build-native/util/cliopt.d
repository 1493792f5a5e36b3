build-native/util/cliopt.o: util/cliopt.c util/cliopt.h util/err.h \
 util/args.h util/suggest.h
util/cliopt.h:
util/err.h:
util/args.h:
util/suggest.h:
