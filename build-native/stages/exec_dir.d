build-native/stages/exec_dir.o: stages/exec_dir.c stages/exec_dir.h \
 util/err.h util/fs.h util/sha256.h util/strmap.h
stages/exec_dir.h:
util/err.h:
util/fs.h:
util/sha256.h:
util/strmap.h:
