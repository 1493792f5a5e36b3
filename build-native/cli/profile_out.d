build-native/cli/profile_out.o: cli/profile_out.c cli/profile_out.h \
 platforms/cpufreq.h util/err.h platforms/profile_json.h db/conditions.h \
 platforms/affinity.h util/table.h
cli/profile_out.h:
platforms/cpufreq.h:
util/err.h:
platforms/profile_json.h:
db/conditions.h:
platforms/affinity.h:
util/table.h:
