build-native/pipeline/subst.o: pipeline/subst.c pipeline/subst.h \
 util/ynode.h util/err.h util/strbuf.h util/suggest.h
pipeline/subst.h:
util/ynode.h:
util/err.h:
util/strbuf.h:
util/suggest.h:
