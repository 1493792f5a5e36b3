build-native/platforms/cpufreq.o: platforms/cpufreq.c platforms/cpufreq.h \
 util/err.h platforms/sysfs_restore.h
platforms/cpufreq.h:
util/err.h:
platforms/sysfs_restore.h:
