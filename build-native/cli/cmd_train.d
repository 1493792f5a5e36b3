build-native/cli/cmd_train.o: cli/cmd_train.c util/args.h util/err.h \
 cli/commands.h util/version.h nn/model.h nn/arena.h nn/model_desc.h \
 stages/train_job.h nn/methods.h nn/train.h nn/backend.h nn/data.h \
 nn/optim.h nn/synthetic.h util/cliopt.h util/json_out.h
util/args.h:
util/err.h:
cli/commands.h:
util/version.h:
nn/model.h:
nn/arena.h:
nn/model_desc.h:
stages/train_job.h:
nn/methods.h:
nn/train.h:
nn/backend.h:
nn/data.h:
nn/optim.h:
nn/synthetic.h:
util/cliopt.h:
util/json_out.h:
