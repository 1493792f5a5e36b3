build-native/pipeline/runner.o: pipeline/runner.c \
 pipeline/executor_common.h util/err.h util/provenance.h \
 pipeline/records.h pipeline/stage.h db/measurement.h db/conditions.h \
 util/ynode.h util/strbuf.h pipeline/run_note.h db/db.h db/rundata.h \
 util/table.h pipeline/runner_internal.h pipeline/board_claims.h \
 pipeline/dag.h pipeline/spec.h pipeline/resources.h util/sha256.h \
 util/strmap.h pipeline/executor.h pipeline/runner.h util/regex.h \
 util/fs.h util/uuid.h
pipeline/executor_common.h:
util/err.h:
util/provenance.h:
pipeline/records.h:
pipeline/stage.h:
db/measurement.h:
db/conditions.h:
util/ynode.h:
util/strbuf.h:
pipeline/run_note.h:
db/db.h:
db/rundata.h:
util/table.h:
pipeline/runner_internal.h:
pipeline/board_claims.h:
pipeline/dag.h:
pipeline/spec.h:
pipeline/resources.h:
util/sha256.h:
util/strmap.h:
pipeline/executor.h:
pipeline/runner.h:
util/regex.h:
util/fs.h:
util/uuid.h:
