build-native/util/table.o: util/table.c util/table.h util/json_out.h
util/table.h:
util/json_out.h:
