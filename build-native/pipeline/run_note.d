build-native/pipeline/run_note.o: pipeline/run_note.c pipeline/run_note.h \
 db/db.h db/measurement.h db/conditions.h util/err.h db/rundata.h \
 util/table.h util/provenance.h
pipeline/run_note.h:
db/db.h:
db/measurement.h:
db/conditions.h:
util/err.h:
db/rundata.h:
util/table.h:
util/provenance.h:
