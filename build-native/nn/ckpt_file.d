build-native/nn/ckpt_file.o: nn/ckpt_file.c nn/ckpt_file.h util/err.h \
 util/atomic_file.h
nn/ckpt_file.h:
util/err.h:
util/atomic_file.h:
