build-native/cli/cmd_fsck.o: cli/cmd_fsck.c cli/commands.h cli/cli.h \
 db/db.h db/measurement.h db/conditions.h util/err.h db/rundata.h \
 util/table.h pipeline/dag.h pipeline/spec.h pipeline/resources.h \
 util/ynode.h util/strbuf.h util/sha256.h util/strmap.h util/cliopt.h \
 util/provenance.h pipeline/store.h util/fs.h util/grow.h util/json_out.h
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
util/provenance.h:
pipeline/store.h:
util/fs.h:
util/grow.h:
util/json_out.h:
