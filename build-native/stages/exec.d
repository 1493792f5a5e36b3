build-native/stages/exec.o: stages/exec.c stages/exec.h pipeline/stage.h \
 db/measurement.h db/conditions.h util/err.h util/ynode.h util/strbuf.h \
 pipeline/store.h util/sha256.h stages/exec_dir.h stages/exec_proc.h \
 pipeline/executor_common.h util/duration.h stages/stage_types.h \
 util/fs.h util/regex.h util/strmap.h
stages/exec.h:
pipeline/stage.h:
db/measurement.h:
db/conditions.h:
util/err.h:
util/ynode.h:
util/strbuf.h:
pipeline/store.h:
util/sha256.h:
stages/exec_dir.h:
stages/exec_proc.h:
pipeline/executor_common.h:
util/duration.h:
stages/stage_types.h:
util/fs.h:
util/regex.h:
util/strmap.h:
