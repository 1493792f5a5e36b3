build-native/util/args.o: util/args.c util/args.h util/err.h
util/args.h:
util/err.h:
