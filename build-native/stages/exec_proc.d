build-native/stages/exec_proc.o: stages/exec_proc.c stages/exec_proc.h \
 pipeline/executor_common.h util/err.h
stages/exec_proc.h:
pipeline/executor_common.h:
util/err.h:
