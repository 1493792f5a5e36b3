build-native/cli/cmd_version.o: cli/cmd_version.c cli/commands.h \
 nn/blas_core.h nn/kernel_set.h nn/conv3x3.h nn/layers.h util/err.h \
 util/cliopt.h util/json_out.h util/version.h
cli/commands.h:
nn/blas_core.h:
nn/kernel_set.h:
nn/conv3x3.h:
nn/layers.h:
util/err.h:
util/cliopt.h:
util/json_out.h:
util/version.h:
