build-native/cli/cmd_stage_exec.o: cli/cmd_stage_exec.c cli/commands.h \
 cli/cli.h db/db.h db/measurement.h db/conditions.h util/err.h \
 db/rundata.h util/table.h pipeline/dag.h pipeline/spec.h \
 pipeline/resources.h util/ynode.h util/strbuf.h util/sha256.h \
 util/strmap.h util/cliopt.h pipeline/stage_exec.h
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
pipeline/stage_exec.h:
