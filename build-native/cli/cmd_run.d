build-native/cli/cmd_run.o: cli/cmd_run.c cli/commands.h cli/cli.h \
 db/db.h db/measurement.h db/conditions.h util/err.h db/rundata.h \
 util/table.h pipeline/dag.h pipeline/spec.h pipeline/resources.h \
 util/ynode.h util/strbuf.h util/sha256.h util/strmap.h util/cliopt.h \
 pipeline/executor_slurm.h pipeline/executor.h pipeline/runner.h \
 pipeline/status.h platforms/platform_lock.h platforms/platform.h \
 util/duration.h util/fs.h
cli/commands.h:
cli/cli.h:
db/db.h:
db/measurement.h:
db/conditions.h:
util/err.h:
db/rundata.h:
util/table.h:
pipeline/dag.h:
pipeline/spec.h:
pipeline/resources.h:
util/ynode.h:
util/strbuf.h:
util/sha256.h:
util/strmap.h:
util/cliopt.h:
pipeline/executor_slurm.h:
pipeline/executor.h:
pipeline/runner.h:
pipeline/status.h:
platforms/platform_lock.h:
platforms/platform.h:
util/duration.h:
util/fs.h:
