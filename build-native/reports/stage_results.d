build-native/reports/stage_results.o: reports/stage_results.c \
 reports/stage_results.h db/rundata.h db/conditions.h util/err.h \
 pipeline/stage.h db/measurement.h util/ynode.h util/strbuf.h db/db.h \
 util/table.h
reports/stage_results.h:
db/rundata.h:
db/conditions.h:
util/err.h:
pipeline/stage.h:
db/measurement.h:
util/ynode.h:
util/strbuf.h:
db/db.h:
util/table.h:
