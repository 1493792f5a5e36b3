/* util/regex.h — PCRE2 (8-bit) behind three calls: compile with a readable error, search, free.
 *
 * Used by `--only` / `--force` stage selection and by exec stages' `metrics:` patterns. */
#ifndef DYNN_UTIL_REGEX_H
#define DYNN_UTIL_REGEX_H

#include <stddef.h>

#include "util/err.h"

typedef struct Regex Regex;

/* Compiles pattern; on error err = "<what>: bad pattern '<pattern>' at offset N: <reason>". */
Regex *regex_compile(const char *pattern, const char *what, Err *err);
void regex_free(Regex *re);

/* Number of capture groups in the pattern. */
int regex_groups(const Regex *re);

/* Searches subject[start..len). Returns 1 on a match (setting the match end and, when the pattern
 * has one, group 1 as [*g_start, *g_start + *g_len) — *g_len is -1 when group 1 did not take part),
 * 0 when nothing matches, -1 on a matching error (err set). */
int regex_search(const Regex *re, const char *subject, size_t len, size_t start, size_t *match_end, size_t *g_start,
                 long *g_len, Err *err);

/* Convenience: whether the pattern matches anywhere in a NUL-terminated string. */
int regex_matches(const Regex *re, const char *subject);

#endif
