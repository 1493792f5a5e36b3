build-native/cli/cmd_info.o: cli/cmd_info.c cli/commands.h \
 nn/checkpoint.h nn/model.h nn/arena.h util/err.h nn/model_desc.h \
 util/cliopt.h util/json_out.h
cli/commands.h:
nn/checkpoint.h:
nn/model.h:
nn/arena.h:
util/err.h:
nn/model_desc.h:
util/cliopt.h:
util/json_out.h:
