/* util/suggest.h — "did you mean …?" for misspelt names (keys, stage names, types, variables).
 *
 * levenshtein() is the edit distance counting insertions, deletions, substitutions and swaps of two
 * neighbouring characters ("trian" → "train") as one edit each (optimal string alignment).
 * suggest_nearest() picks the closest candidate that is plausibly a typo of the word: at most
 * max(1, strlen(word)/3) edits away (2 for words of 6+ characters), and never the word itself. */
#ifndef DYNN_UTIL_SUGGEST_H
#define DYNN_UTIL_SUGGEST_H

#include <stddef.h>

size_t levenshtein(const char *a, const char *b);

/* Returns the nearest candidate or NULL. Candidates may contain NULLs (skipped). */
const char *suggest_nearest(const char *word, const char *const *candidates, size_t n);

/* Writes " (did you mean 'x'?)" or "" into buf (size >= 1) and returns buf, for appending to
 * error messages. */
const char *suggest_hint(char *buf, size_t size, const char *word, const char *const *candidates, size_t n);

#endif
