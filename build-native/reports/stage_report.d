build-native/reports/stage_report.o: reports/stage_report.c db/db.h \
 db/measurement.h db/conditions.h util/err.h db/rundata.h util/table.h \
 reports/report.h reports/figures.h reports/aggregate.h reports/rundata.h \
 reports/tables.h reports/stage_results.h pipeline/stage.h util/ynode.h \
 util/strbuf.h reports/stage_types.h stages/exec.h util/fs.h \
 util/sha256.h
db/db.h:
db/measurement.h:
db/conditions.h:
util/err.h:
db/rundata.h:
util/table.h:
reports/report.h:
reports/figures.h:
reports/aggregate.h:
reports/rundata.h:
reports/tables.h:
reports/stage_results.h:
pipeline/stage.h:
util/ynode.h:
util/strbuf.h:
reports/stage_types.h:
stages/exec.h:
util/fs.h:
util/sha256.h:
