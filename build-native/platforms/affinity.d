build-native/platforms/affinity.o: platforms/affinity.c \
 platforms/affinity.h util/err.h
platforms/affinity.h:
util/err.h:
