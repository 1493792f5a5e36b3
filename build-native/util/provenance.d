build-native/util/provenance.o: util/provenance.c util/provenance.h
util/provenance.h:
