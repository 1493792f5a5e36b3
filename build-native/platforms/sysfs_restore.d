build-native/platforms/sysfs_restore.o: platforms/sysfs_restore.c \
 platforms/sysfs_restore.h
platforms/sysfs_restore.h:
