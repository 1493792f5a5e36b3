build-native/pipeline/stage_exec.o: pipeline/stage_exec.c \
 pipeline/stage_exec.h util/err.h pipeline/executor_common.h \
 pipeline/records.h pipeline/stage.h db/measurement.h db/conditions.h \
 util/ynode.h util/strbuf.h pipeline/stage_desc.h util/fs.h util/sha256.h \
 util/proctree.h
pipeline/stage_exec.h:
util/err.h:
pipeline/executor_common.h:
pipeline/records.h:
pipeline/stage.h:
db/measurement.h:
db/conditions.h:
util/ynode.h:
util/strbuf.h:
pipeline/stage_desc.h:
util/fs.h:
util/sha256.h:
util/proctree.h:
