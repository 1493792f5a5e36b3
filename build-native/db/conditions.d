build-native/db/conditions.o: db/conditions.c db/conditions.h util/err.h \
 db/measurement.h
db/conditions.h:
util/err.h:
db/measurement.h:
