build-native/reports/baseline.o: reports/baseline.c reports/baseline.h \
 reports/aggregate.h reports/rundata.h db/rundata.h db/conditions.h \
 util/err.h util/ynode.h util/strbuf.h util/atomic_file.h util/fs.h \
 util/sha256.h
reports/baseline.h:
reports/aggregate.h:
reports/rundata.h:
db/rundata.h:
db/conditions.h:
util/err.h:
util/ynode.h:
util/strbuf.h:
util/atomic_file.h:
util/fs.h:
util/sha256.h:
