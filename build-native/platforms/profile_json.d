build-native/platforms/profile_json.o: platforms/profile_json.c \
 platforms/profile_json.h db/conditions.h util/err.h util/ynode.h \
 util/strbuf.h util/json_out.h
platforms/profile_json.h:
db/conditions.h:
util/err.h:
util/ynode.h:
util/strbuf.h:
util/json_out.h:
