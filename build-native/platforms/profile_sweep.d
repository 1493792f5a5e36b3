build-native/platforms/profile_sweep.o: platforms/profile_sweep.c \
 platforms/profile_sweep.h nn/model_desc.h util/err.h platforms/cpufreq.h \
 platforms/devfreq.h platforms/energy.h platforms/nvml_clocks.h \
 platforms/profile_json.h db/conditions.h platforms/profile_options.h \
 util/cliopt.h nn/backend.h nn/rng.h platforms/affinity.h \
 platforms/counter.h platforms/profiler.h
platforms/profile_sweep.h:
nn/model_desc.h:
util/err.h:
platforms/cpufreq.h:
platforms/devfreq.h:
platforms/energy.h:
platforms/nvml_clocks.h:
platforms/profile_json.h:
db/conditions.h:
platforms/profile_options.h:
util/cliopt.h:
nn/backend.h:
nn/rng.h:
platforms/affinity.h:
platforms/counter.h:
platforms/profiler.h:
