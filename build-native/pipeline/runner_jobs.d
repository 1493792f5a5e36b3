build-native/pipeline/runner_jobs.o: pipeline/runner_jobs.c \
 nn/kernel_set.h nn/conv3x3.h nn/layers.h util/err.h util/version.h \
 pipeline/cache.h util/ynode.h util/strbuf.h util/sha256.h \
 util/provenance.h pipeline/records.h pipeline/stage.h db/measurement.h \
 db/conditions.h pipeline/runner_internal.h db/db.h db/rundata.h \
 util/table.h pipeline/board_claims.h pipeline/dag.h pipeline/spec.h \
 pipeline/resources.h util/strmap.h pipeline/executor.h \
 pipeline/run_note.h pipeline/runner.h util/regex.h pipeline/stage_desc.h \
 pipeline/store.h util/fs.h
nn/kernel_set.h:
nn/conv3x3.h:
nn/layers.h:
util/err.h:
util/version.h:
pipeline/cache.h:
util/ynode.h:
util/strbuf.h:
util/sha256.h:
util/provenance.h:
pipeline/records.h:
pipeline/stage.h:
db/measurement.h:
db/conditions.h:
pipeline/runner_internal.h:
db/db.h:
db/rundata.h:
util/table.h:
pipeline/board_claims.h:
pipeline/dag.h:
pipeline/spec.h:
pipeline/resources.h:
util/strmap.h:
pipeline/executor.h:
pipeline/run_note.h:
pipeline/runner.h:
util/regex.h:
pipeline/stage_desc.h:
pipeline/store.h:
util/fs.h:
