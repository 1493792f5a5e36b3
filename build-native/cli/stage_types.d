build-native/cli/stage_types.o: cli/stage_types.c reports/stage_types.h \
 pipeline/stage.h db/measurement.h db/conditions.h util/err.h \
 util/ynode.h util/strbuf.h stages/stage_types.h
reports/stage_types.h:
pipeline/stage.h:
db/measurement.h:
db/conditions.h:
util/err.h:
util/ynode.h:
util/strbuf.h:
stages/stage_types.h:
