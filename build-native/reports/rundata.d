build-native/reports/rundata.o: reports/rundata.c reports/rundata.h \
 db/rundata.h db/conditions.h util/err.h
reports/rundata.h:
db/rundata.h:
db/conditions.h:
util/err.h:
