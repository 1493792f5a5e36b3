build-native/pipeline/executor.o: pipeline/executor.c pipeline/executor.h \
 pipeline/resources.h util/err.h util/ynode.h util/strbuf.h \
 pipeline/executor_common.h util/proctree.h util/suggest.h
pipeline/executor.h:
pipeline/resources.h:
util/err.h:
util/ynode.h:
util/strbuf.h:
pipeline/executor_common.h:
util/proctree.h:
util/suggest.h:
