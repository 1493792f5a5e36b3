build-native/db/schema_sql.o: db/schema_sql.c db/db.h db/measurement.h \
 db/conditions.h util/err.h db/rundata.h util/table.h
db/db.h:
db/measurement.h:
db/conditions.h:
util/err.h:
db/rundata.h:
util/table.h:
