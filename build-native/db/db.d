build-native/db/db.o: db/db.c db/db_internal.h db/db.h db/measurement.h \
 db/conditions.h util/err.h db/rundata.h util/table.h
db/db_internal.h:
db/db.h:
db/measurement.h:
db/conditions.h:
util/err.h:
db/rundata.h:
util/table.h:
