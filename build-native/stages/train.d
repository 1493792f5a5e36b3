build-native/stages/train.o: stages/train.c nn/data.h util/err.h \
 stages/stage_types.h pipeline/stage.h db/measurement.h db/conditions.h \
 util/ynode.h util/strbuf.h stages/train_job.h nn/methods.h nn/model.h \
 nn/arena.h nn/model_desc.h nn/train.h nn/backend.h nn/optim.h \
 nn/synthetic.h util/fs.h util/sha256.h util/suggest.h
nn/data.h:
util/err.h:
stages/stage_types.h:
pipeline/stage.h:
db/measurement.h:
db/conditions.h:
util/ynode.h:
util/strbuf.h:
stages/train_job.h:
nn/methods.h:
nn/model.h:
nn/arena.h:
nn/model_desc.h:
nn/train.h:
nn/backend.h:
nn/optim.h:
nn/synthetic.h:
util/fs.h:
util/sha256.h:
util/suggest.h:
