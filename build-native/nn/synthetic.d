build-native/nn/synthetic.o: nn/synthetic.c nn/synthetic.h \
 nn/model_desc.h util/err.h nn/checkpoint.h nn/model.h nn/arena.h \
 nn/subnet.h nn/data.h util/version.h
nn/synthetic.h:
nn/model_desc.h:
util/err.h:
nn/checkpoint.h:
nn/model.h:
nn/arena.h:
nn/subnet.h:
nn/data.h:
util/version.h:
