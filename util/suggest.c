/* util/suggest.c — edit distance and nearest-name suggestions (see suggest.h). */
#include "util/suggest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t levenshtein(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    /* three rows: two back (for transpositions), previous, current */
    size_t stack[3 * 64];
    size_t *mem = lb + 1 <= 64 ? stack : malloc(3 * (lb + 1) * sizeof *mem);
    if (!mem) return (size_t)-1;
    size_t *two_back = mem, *prev = mem + (lb + 1), *row = mem + 2 * (lb + 1);
    for (size_t j = 0; j <= lb; j++) prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t best = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < best) best = prev[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && two_back[j - 2] + 1 < best)
                best = two_back[j - 2] + 1;
            row[j] = best;
        }
        size_t *t = two_back;
        two_back = prev, prev = row, row = t;
    }
    size_t d = prev[lb];
    if (mem != stack) free(mem);
    return d;
}

const char *suggest_nearest(const char *word, const char *const *candidates, size_t n) {
    size_t len = strlen(word);
    size_t limit = len >= 6 ? 2 : 1;
    if (len / 3 > limit) limit = len / 3;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; i < n; i++) {
        if (!candidates[i] || !strcmp(candidates[i], word)) continue;
        size_t d = levenshtein(word, candidates[i]);
        if (d < best_d) best_d = d, best = candidates[i];
    }
    return best;
}

const char *suggest_hint(char *buf, size_t size, const char *word, const char *const *candidates, size_t n) {
    const char *near = suggest_nearest(word, candidates, n);
    if (near) snprintf(buf, size, " (did you mean '%s'?)", near);
    else buf[0] = '\0';
    return buf;
}
