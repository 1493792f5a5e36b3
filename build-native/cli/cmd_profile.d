build-native/cli/cmd_profile.o: cli/cmd_profile.c cli/commands.h \
 cli/profile_out.h platforms/cpufreq.h util/err.h \
 platforms/profile_json.h db/conditions.h nn/backend.h nn/model_desc.h \
 nn/checkpoint.h nn/model.h nn/arena.h platforms/affinity.h \
 platforms/platform.h util/ynode.h util/strbuf.h platforms/counter.h \
 platforms/profile_sweep.h platforms/devfreq.h platforms/energy.h \
 platforms/nvml_clocks.h platforms/profile_options.h util/cliopt.h \
 util/args.h util/provenance.h nn/kernel_set.h nn/conv3x3.h nn/layers.h \
 util/version.h
cli/commands.h:
cli/profile_out.h:
platforms/cpufreq.h:
util/err.h:
platforms/profile_json.h:
db/conditions.h:
nn/backend.h:
nn/model_desc.h:
nn/checkpoint.h:
nn/model.h:
nn/arena.h:
platforms/affinity.h:
platforms/platform.h:
util/ynode.h:
util/strbuf.h:
platforms/counter.h:
platforms/profile_sweep.h:
platforms/devfreq.h:
platforms/energy.h:
platforms/nvml_clocks.h:
platforms/profile_options.h:
util/cliopt.h:
util/args.h:
util/provenance.h:
nn/kernel_set.h:
nn/conv3x3.h:
nn/layers.h:
util/version.h:
