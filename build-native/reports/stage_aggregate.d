build-native/reports/stage_aggregate.o: reports/stage_aggregate.c \
 reports/aggregate.h reports/rundata.h db/rundata.h db/conditions.h \
 util/err.h reports/stage_results.h pipeline/stage.h db/measurement.h \
 util/ynode.h util/strbuf.h reports/stage_types.h
reports/aggregate.h:
reports/rundata.h:
db/rundata.h:
db/conditions.h:
util/err.h:
reports/stage_results.h:
pipeline/stage.h:
db/measurement.h:
util/ynode.h:
util/strbuf.h:
reports/stage_types.h:
