build-native/cli/cmd_devices.o: cli/cmd_devices.c cli/commands.h \
 nn/backend.h nn/model_desc.h util/err.h platforms/platform.h \
 util/ynode.h util/strbuf.h util/cliopt.h util/json_out.h
cli/commands.h:
nn/backend.h:
nn/model_desc.h:
util/err.h:
platforms/platform.h:
util/ynode.h:
util/strbuf.h:
util/cliopt.h:
util/json_out.h:
