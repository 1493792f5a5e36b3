/* util/uuid.h — random (version 4) UUIDs for run identifiers. */
#ifndef DYNN_UTIL_UUID_H
#define DYNN_UTIL_UUID_H

#include "util/err.h"

#define UUID_STR_LEN 36

/* Writes "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" (lower-case) into out[UUID_STR_LEN + 1]. */
int uuid_v4(char out[UUID_STR_LEN + 1], Err *err);

#endif
