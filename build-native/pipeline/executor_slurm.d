build-native/pipeline/executor_slurm.o: pipeline/executor_slurm.c \
 pipeline/executor_slurm.h pipeline/executor.h pipeline/resources.h \
 util/err.h util/ynode.h util/strbuf.h pipeline/records.h \
 pipeline/stage.h db/measurement.h db/conditions.h pipeline/stage_desc.h \
 platforms/shell_quote.h util/fs.h util/sha256.h util/provenance.h
pipeline/executor_slurm.h:
pipeline/executor.h:
pipeline/resources.h:
util/err.h:
util/ynode.h:
util/strbuf.h:
pipeline/records.h:
pipeline/stage.h:
db/measurement.h:
db/conditions.h:
pipeline/stage_desc.h:
platforms/shell_quote.h:
util/fs.h:
util/sha256.h:
util/provenance.h:
