build-native/reports/tables.o: reports/tables.c reports/tables.h \
 reports/aggregate.h reports/rundata.h db/rundata.h db/conditions.h \
 util/err.h util/table.h
reports/tables.h:
reports/aggregate.h:
reports/rundata.h:
db/rundata.h:
db/conditions.h:
util/err.h:
util/table.h:
