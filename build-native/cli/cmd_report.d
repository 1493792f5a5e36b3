build-native/cli/cmd_report.o: cli/cmd_report.c cli/commands.h cli/cli.h \
 db/db.h db/measurement.h db/conditions.h util/err.h db/rundata.h \
 util/table.h pipeline/dag.h pipeline/spec.h pipeline/resources.h \
 util/ynode.h util/strbuf.h util/sha256.h util/strmap.h util/cliopt.h \
 reports/report.h reports/figures.h reports/aggregate.h reports/rundata.h \
 reports/tables.h util/json_out.h
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
reports/report.h:
reports/figures.h:
reports/aggregate.h:
reports/rundata.h:
reports/tables.h:
util/json_out.h:
