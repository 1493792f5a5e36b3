build-native/pipeline/board_claims.o: pipeline/board_claims.c \
 pipeline/board_claims.h pipeline/dag.h pipeline/spec.h \
 pipeline/resources.h util/err.h util/ynode.h util/strbuf.h util/sha256.h \
 util/strmap.h platforms/platform.h platforms/platform_lock.h
pipeline/board_claims.h:
pipeline/dag.h:
pipeline/spec.h:
pipeline/resources.h:
util/err.h:
util/ynode.h:
util/strbuf.h:
util/sha256.h:
util/strmap.h:
platforms/platform.h:
platforms/platform_lock.h:
