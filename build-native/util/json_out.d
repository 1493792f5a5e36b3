build-native/util/json_out.o: util/json_out.c util/json_out.h
util/json_out.h:
