build-native/stages/profile.o: stages/profile.c platforms/platform.h \
 util/ynode.h util/err.h util/strbuf.h platforms/platform_lock.h \
 platforms/profile_json.h db/conditions.h platforms/profile_options.h \
 util/cliopt.h stages/stage_types.h pipeline/stage.h db/measurement.h \
 util/fs.h util/sha256.h util/provenance.h
platforms/platform.h:
util/ynode.h:
util/err.h:
util/strbuf.h:
platforms/platform_lock.h:
platforms/profile_json.h:
db/conditions.h:
platforms/profile_options.h:
util/cliopt.h:
stages/stage_types.h:
pipeline/stage.h:
db/measurement.h:
util/fs.h:
util/sha256.h:
util/provenance.h:
