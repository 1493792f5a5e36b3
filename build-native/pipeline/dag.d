build-native/pipeline/dag.o: pipeline/dag.c pipeline/dag.h \
 pipeline/spec.h pipeline/resources.h util/err.h util/ynode.h \
 util/strbuf.h util/sha256.h util/strmap.h pipeline/subst.h \
 pipeline/stage.h db/measurement.h db/conditions.h util/regex.h \
 util/suggest.h
pipeline/dag.h:
pipeline/spec.h:
pipeline/resources.h:
util/err.h:
util/ynode.h:
util/strbuf.h:
util/sha256.h:
util/strmap.h:
pipeline/subst.h:
pipeline/stage.h:
db/measurement.h:
db/conditions.h:
util/regex.h:
util/suggest.h:
