build-native/pipeline/stage_registry.o: pipeline/stage_registry.c \
 pipeline/stage.h db/measurement.h db/conditions.h util/err.h \
 util/ynode.h util/strbuf.h pipeline/dynn_plugin.h platforms/platform.h
pipeline/stage.h:
db/measurement.h:
db/conditions.h:
util/err.h:
util/ynode.h:
util/strbuf.h:
pipeline/dynn_plugin.h:
platforms/platform.h:
