build-native/pipeline/stage_desc.o: pipeline/stage_desc.c \
 pipeline/stage_desc.h util/ynode.h util/err.h util/strbuf.h \
 pipeline/stage.h db/measurement.h db/conditions.h util/fs.h \
 util/sha256.h
pipeline/stage_desc.h:
util/ynode.h:
util/err.h:
util/strbuf.h:
pipeline/stage.h:
db/measurement.h:
db/conditions.h:
util/fs.h:
util/sha256.h:
