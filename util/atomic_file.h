/* util/atomic_file.h — write a file so that readers see either the old or the complete new version.
 *
 * atomic_open() creates "<path>.tmp.<pid>" beside the target; atomic_commit() flushes, fsyncs and
 * renames it over the target; atomic_abort() removes it. A crash leaves at most a stray temp file,
 * never a half-written target. */
#ifndef DYNN_UTIL_ATOMIC_FILE_H
#define DYNN_UTIL_ATOMIC_FILE_H

#include <stdio.h>
#include "util/err.h"

typedef struct AtomicFile {
    FILE *fp;
    char path[4096];
    char tmp_path[4096 + 32];
} AtomicFile;

int atomic_open(AtomicFile *af, const char *path, Err *err);
int atomic_commit(AtomicFile *af, Err *err);
void atomic_abort(AtomicFile *af);

/* Whole-buffer convenience: writes len bytes atomically to path. */
int atomic_write_file(const char *path, const void *data, size_t len, Err *err);

#endif
