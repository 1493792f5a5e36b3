build-native/platforms/profiler.o: platforms/profiler.c \
 platforms/profiler.h util/err.h
platforms/profiler.h:
util/err.h:
