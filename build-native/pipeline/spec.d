build-native/pipeline/spec.o: pipeline/spec.c pipeline/spec.h \
 pipeline/resources.h util/err.h util/ynode.h util/strbuf.h util/sha256.h \
 util/strmap.h pipeline/executor.h pipeline/subst.h pipeline/stage.h \
 db/measurement.h db/conditions.h platforms/platform.h util/fs.h \
 util/suggest.h
pipeline/spec.h:
pipeline/resources.h:
util/err.h:
util/ynode.h:
util/strbuf.h:
util/sha256.h:
util/strmap.h:
pipeline/executor.h:
pipeline/subst.h:
pipeline/stage.h:
db/measurement.h:
db/conditions.h:
platforms/platform.h:
util/fs.h:
util/suggest.h:
