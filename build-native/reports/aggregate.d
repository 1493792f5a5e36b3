build-native/reports/aggregate.o: reports/aggregate.c reports/aggregate.h \
 reports/rundata.h db/rundata.h db/conditions.h util/err.h \
 reports/pareto.h
reports/aggregate.h:
reports/rundata.h:
db/rundata.h:
db/conditions.h:
util/err.h:
reports/pareto.h:
