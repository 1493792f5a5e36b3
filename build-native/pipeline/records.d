build-native/pipeline/records.o: pipeline/records.c pipeline/records.h \
 pipeline/stage.h db/measurement.h db/conditions.h util/err.h \
 util/ynode.h util/strbuf.h pipeline/store.h util/sha256.h util/fs.h
pipeline/records.h:
pipeline/stage.h:
db/measurement.h:
db/conditions.h:
util/err.h:
util/ynode.h:
util/strbuf.h:
pipeline/store.h:
util/sha256.h:
util/fs.h:
