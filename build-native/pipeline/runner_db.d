build-native/pipeline/runner_db.o: pipeline/runner_db.c nn/kernel_set.h \
 nn/conv3x3.h nn/layers.h util/err.h util/version.h util/provenance.h \
 pipeline/records.h pipeline/stage.h db/measurement.h db/conditions.h \
 util/ynode.h util/strbuf.h pipeline/runner_internal.h db/db.h \
 db/rundata.h util/table.h pipeline/board_claims.h pipeline/dag.h \
 pipeline/spec.h pipeline/resources.h util/sha256.h util/strmap.h \
 pipeline/executor.h pipeline/run_note.h pipeline/runner.h util/regex.h
nn/kernel_set.h:
nn/conv3x3.h:
nn/layers.h:
util/err.h:
util/version.h:
util/provenance.h:
pipeline/records.h:
pipeline/stage.h:
db/measurement.h:
db/conditions.h:
util/ynode.h:
util/strbuf.h:
pipeline/runner_internal.h:
db/db.h:
db/rundata.h:
util/table.h:
pipeline/board_claims.h:
pipeline/dag.h:
pipeline/spec.h:
pipeline/resources.h:
util/sha256.h:
util/strmap.h:
pipeline/executor.h:
pipeline/run_note.h:
pipeline/runner.h:
util/regex.h:
