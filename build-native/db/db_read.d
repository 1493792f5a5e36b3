build-native/db/db_read.o: db/db_read.c db/db_internal.h db/db.h \
 db/measurement.h db/conditions.h util/err.h db/rundata.h util/table.h
db/db_internal.h:
db/db.h:
db/measurement.h:
db/conditions.h:
util/err.h:
db/rundata.h:
util/table.h:
