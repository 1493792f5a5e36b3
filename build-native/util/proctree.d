build-native/util/proctree.o: util/proctree.c util/proctree.h
util/proctree.h:
