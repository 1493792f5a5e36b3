build-native/reports/figures.o: reports/figures.c reports/figures.h \
 reports/aggregate.h reports/rundata.h db/rundata.h db/conditions.h \
 util/err.h reports/plot.h util/strbuf.h
reports/figures.h:
reports/aggregate.h:
reports/rundata.h:
db/rundata.h:
db/conditions.h:
util/err.h:
reports/plot.h:
util/strbuf.h:
