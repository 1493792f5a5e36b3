build-native/platforms/profile_options.o: platforms/profile_options.c \
 platforms/profile_options.h util/cliopt.h util/err.h util/args.h
platforms/profile_options.h:
util/cliopt.h:
util/err.h:
util/args.h:
