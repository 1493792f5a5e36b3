build-native/nn/backend_cpu.o: nn/backend_cpu.c nn/backend.h \
 nn/model_desc.h util/err.h nn/kernel_set.h nn/conv3x3.h nn/layers.h \
 nn/model.h nn/arena.h nn/parallel.h util/provenance.h
nn/backend.h:
nn/model_desc.h:
util/err.h:
nn/kernel_set.h:
nn/conv3x3.h:
nn/layers.h:
nn/model.h:
nn/arena.h:
nn/parallel.h:
util/provenance.h:
