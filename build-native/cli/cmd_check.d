build-native/cli/cmd_check.o: cli/cmd_check.c cli/commands.h cli/cli.h \
 db/db.h db/measurement.h db/conditions.h util/err.h db/rundata.h \
 util/table.h pipeline/dag.h pipeline/spec.h pipeline/resources.h \
 util/ynode.h util/strbuf.h util/sha256.h util/strmap.h util/cliopt.h \
 reports/baseline.h reports/aggregate.h reports/rundata.h util/fs.h \
 util/json_out.h
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
reports/baseline.h:
reports/aggregate.h:
reports/rundata.h:
util/fs.h:
util/json_out.h:
