build-native/reports/report.o: reports/report.c reports/report.h \
 reports/figures.h reports/aggregate.h reports/rundata.h db/rundata.h \
 db/conditions.h util/err.h reports/tables.h util/table.h \
 util/atomic_file.h util/fs.h util/sha256.h
reports/report.h:
reports/figures.h:
reports/aggregate.h:
reports/rundata.h:
db/rundata.h:
db/conditions.h:
util/err.h:
reports/tables.h:
util/table.h:
util/atomic_file.h:
util/fs.h:
util/sha256.h:
