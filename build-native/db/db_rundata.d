build-native/db/db_rundata.o: db/db_rundata.c db/db_internal.h db/db.h \
 db/measurement.h db/conditions.h util/err.h db/rundata.h util/table.h \
 util/grow.h
db/db_internal.h:
db/db.h:
db/measurement.h:
db/conditions.h:
util/err.h:
db/rundata.h:
util/table.h:
util/grow.h:
