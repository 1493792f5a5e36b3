build-native/reports/pareto.o: reports/pareto.c reports/pareto.h
reports/pareto.h:
