build-native/platforms/devfreq.o: platforms/devfreq.c platforms/devfreq.h \
 util/err.h platforms/sysfs_restore.h
platforms/devfreq.h:
util/err.h:
platforms/sysfs_restore.h:
