build-native/stages/train_job.o: stages/train_job.c stages/train_job.h \
 nn/methods.h nn/model.h nn/arena.h util/err.h nn/model_desc.h nn/train.h \
 nn/backend.h nn/data.h nn/optim.h nn/synthetic.h util/args.h \
 nn/kernel_set.h nn/conv3x3.h nn/layers.h util/version.h nn/checkpoint.h \
 nn/parallel.h nn/subnet.h
stages/train_job.h:
nn/methods.h:
nn/model.h:
nn/arena.h:
util/err.h:
nn/model_desc.h:
nn/train.h:
nn/backend.h:
nn/data.h:
nn/optim.h:
nn/synthetic.h:
util/args.h:
nn/kernel_set.h:
nn/conv3x3.h:
nn/layers.h:
util/version.h:
nn/checkpoint.h:
nn/parallel.h:
nn/subnet.h:
