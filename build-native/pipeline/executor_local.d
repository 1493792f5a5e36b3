build-native/pipeline/executor_local.o: pipeline/executor_local.c \
 pipeline/executor.h pipeline/resources.h util/err.h util/ynode.h \
 util/strbuf.h pipeline/executor_common.h
pipeline/executor.h:
pipeline/resources.h:
util/err.h:
util/ynode.h:
util/strbuf.h:
pipeline/executor_common.h:
