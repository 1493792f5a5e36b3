/* util/strmap.h — a string → index hash table (open addressing, linear probing).
 *
 * Keys are borrowed: the map stores the pointer, so keys must outlive the map. Used wherever the
 * pipeline looks names up (stages, instances, variables) so that nothing is quadratic in DAG size. */
#ifndef DYNN_UTIL_STRMAP_H
#define DYNN_UTIL_STRMAP_H

#include <stddef.h>

typedef struct StrMap {
    const char **keys;
    size_t *values;
    size_t cap; /* power of two, or 0 */
    size_t count;
} StrMap;

/* Inserts or replaces; returns -1 only when memory runs out. */
int strmap_put(StrMap *m, const char *key, size_t value);
/* Returns 1 and sets *value when found, 0 otherwise. */
int strmap_get(const StrMap *m, const char *key, size_t *value);
void strmap_free(StrMap *m);

/* FNV-1a, exposed for callers that hash composite keys. */
size_t strmap_hash(const char *s);

#endif
