/* util/err.h — errors as values.
 *
 * Every fallible function returns int (0 = success, -1 = failure) and fills an Err with a one-line,
 * actionable message that names the file/field involved ("data/x.gz: offset 16: label 12 out of
 * range 0..9"). Only main() prints it and chooses the exit code. */
#ifndef DYNN_UTIL_ERR_H
#define DYNN_UTIL_ERR_H

#include <stddef.h>

typedef struct Err {
    char msg[1024];
} Err;

/* Fills err (may be NULL) with a printf-style message; always returns -1 so that callers can
 * write `return err_set(err, "...", ...);`. */
int err_set(Err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepends "prefix: " to an existing message (adds context while an error travels upward). */
int err_prefix(Err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
