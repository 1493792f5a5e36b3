/* pipeline/store.h — content-addressed artifacts under <state dir>/store/.
 *
 * An artifact's bytes live at store/<first two hex digits of its SHA-256>/<the other 62>, read-only
 * (0444), written through a temp file, fsync and rename: a crash leaves either no object or a
 * complete one. Equal contents are stored once. Paths recorded in the database are relative to the
 * state directory ("store/ab/cdef…"), so the state directory can move. */
#ifndef DYNN_PIPELINE_STORE_H
#define DYNN_PIPELINE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/sha256.h"

#define STORE_REL_MAX 80

/* Copies src into the store; fills its hash, relative path and size. */
int store_put(const char *state_dir, const char *src, char hash[SHA256_HEX_LEN + 1], char rel[STORE_REL_MAX],
              uint64_t *size, Err *err);

/* Absolute path of a relative store path. */
int store_abs(const char *state_dir, const char *rel, char *out, size_t size);

/* Whether the object is present with the given size. */
int store_has(const char *state_dir, const char *rel, uint64_t size);

/* Copies an object to dest (temp + rename, mode 0644), creating dest's directory. */
int store_restore(const char *state_dir, const char *rel, const char *dest, Err *err);

#endif
