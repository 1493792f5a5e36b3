build-native/db/db_fsck.o: db/db_fsck.c db/db_internal.h db/db.h \
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
