build-native/pipeline/resources.o: pipeline/resources.c \
 pipeline/resources.h util/err.h util/ynode.h util/strbuf.h \
 util/duration.h
pipeline/resources.h:
util/err.h:
util/ynode.h:
util/strbuf.h:
util/duration.h:
