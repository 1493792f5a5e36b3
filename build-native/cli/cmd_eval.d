build-native/cli/cmd_eval.o: cli/cmd_eval.c cli/commands.h \
 nn/checkpoint.h nn/model.h nn/arena.h util/err.h nn/model_desc.h \
 nn/data.h nn/parallel.h nn/subnet.h nn/train.h nn/backend.h nn/optim.h \
 util/cliopt.h util/json_out.h
cli/commands.h:
nn/checkpoint.h:
nn/model.h:
nn/arena.h:
util/err.h:
nn/model_desc.h:
nn/data.h:
nn/parallel.h:
nn/subnet.h:
nn/train.h:
nn/backend.h:
nn/optim.h:
util/cliopt.h:
util/json_out.h:
