build-native/pipeline/executor_spawn.o: pipeline/executor_spawn.c \
 pipeline/executor.h pipeline/resources.h util/err.h util/ynode.h \
 util/strbuf.h pipeline/executor_common.h
pipeline/executor.h:
pipeline/resources.h:
util/err.h:
util/ynode.h:
util/strbuf.h:
pipeline/executor_common.h:
