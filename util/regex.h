/* util/regex.h — PCRE2 (8-bit, UTF mode) behind a few calls: compile with a readable error, search,
 * free; and the UTF-8 validity of subjects.
 *
 * Used by `--only` / `--force` stage selection and by exec stages' `metrics:` patterns.
 *
 * Subjects must be valid UTF-8: matching skips PCRE2's own check (PCRE2_NO_UTF_CHECK), which would
 * otherwise re-check the rest of the subject on every call and make repeated searches through one
 * output quadratic. A subject of unknown origin (a command's output) goes through
 * regex_utf8_valid() once and, when invalid, regex_utf8_sanitize() on a copy. */
#ifndef DYNN_UTIL_REGEX_H
#define DYNN_UTIL_REGEX_H

#include <stddef.h>

#include "util/err.h"

typedef struct Regex Regex;

/* Compiles pattern (JIT-compiled when the library supports it); on error
 * err = "<what>: bad pattern '<pattern>' at offset N: <reason>". */
Regex *regex_compile(const char *pattern, const char *what, Err *err);
void regex_free(Regex *re);

/* Number of capture groups in the pattern. */
int regex_groups(const Regex *re);

/* Searches subject[start..len), which must be valid UTF-8 (see above). Returns 1 on a match
 * (setting the match end and, when the pattern has one, group 1 as [*g_start, *g_start + *g_len) —
 * *g_len is -1 when group 1 did not take part), 0 when nothing matches, -1 on a matching error
 * (err set). */
int regex_search(const Regex *re, const char *subject, size_t len, size_t start, size_t *match_end, size_t *g_start,
                 long *g_len, Err *err);

/* Convenience: whether the pattern matches anywhere in a NUL-terminated string (checked and, when
 * not valid UTF-8, matched as a sanitized copy). */
int regex_matches(const Regex *re, const char *subject);

/* Whether s[0..len) is valid UTF-8 (no overlong forms, surrogates or code points above U+10FFFF). */
int regex_utf8_valid(const char *s, size_t len);

/* Replaces every byte of s[0..len) that is not part of a valid UTF-8 sequence with '?', in place;
 * returns how many were replaced. Linear. */
size_t regex_utf8_sanitize(char *s, size_t len);

#endif
