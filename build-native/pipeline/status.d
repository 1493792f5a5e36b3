build-native/pipeline/status.o: pipeline/status.c pipeline/status.h \
 pipeline/runner.h pipeline/dag.h pipeline/spec.h pipeline/resources.h \
 util/err.h util/ynode.h util/strbuf.h util/sha256.h util/strmap.h \
 util/provenance.h util/json_out.h
pipeline/status.h:
pipeline/runner.h:
pipeline/dag.h:
pipeline/spec.h:
pipeline/resources.h:
util/err.h:
util/ynode.h:
util/strbuf.h:
util/sha256.h:
util/strmap.h:
util/provenance.h:
util/json_out.h:
