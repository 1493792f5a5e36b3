build-native/nn/backend.o: nn/backend.c nn/backend.h nn/model_desc.h \
 util/err.h util/suggest.h
nn/backend.h:
nn/model_desc.h:
util/err.h:
util/suggest.h:
