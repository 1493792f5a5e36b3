build-native/reports/markdown.o: reports/markdown.c reports/report.h \
 reports/figures.h reports/aggregate.h reports/rundata.h db/rundata.h \
 db/conditions.h util/err.h reports/tables.h util/table.h \
 util/atomic_file.h util/strbuf.h
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
util/strbuf.h:
