build-native/nn/checkpoint.o: nn/checkpoint.c nn/checkpoint.h nn/model.h \
 nn/arena.h util/err.h nn/model_desc.h nn/ckpt_file.h
nn/checkpoint.h:
nn/model.h:
nn/arena.h:
util/err.h:
nn/model_desc.h:
nn/ckpt_file.h:
