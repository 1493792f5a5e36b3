build-native/platforms/nvml_clocks.o: platforms/nvml_clocks.c \
 platforms/nvml_clocks.h util/err.h platforms/sysfs_restore.h
platforms/nvml_clocks.h:
util/err.h:
platforms/sysfs_restore.h:
