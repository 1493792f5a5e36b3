/* util/strmap.c — string → index hash table (see strmap.h). */
#include "util/strmap.h"

#include <stdlib.h>
#include <string.h>

size_t strmap_hash(const char *s) {
    size_t h = (size_t)1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) h = (h ^ *p) * (size_t)1099511628211ULL;
    return h;
}

static size_t find_slot(const char **keys, size_t cap, const char *key) {
    size_t i = strmap_hash(key) & (cap - 1);
    while (keys[i] && strcmp(keys[i], key)) i = (i + 1) & (cap - 1);
    return i;
}

static int grow(StrMap *m) {
    size_t cap = m->cap ? m->cap * 2 : 16;
    const char **keys = calloc(cap, sizeof *keys);
    size_t *values = calloc(cap, sizeof *values);
    if (!keys || !values) {
        free(keys);
        free(values);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = find_slot(keys, cap, m->keys[i]);
        keys[j] = m->keys[i];
        values[j] = m->values[i];
    }
    free(m->keys);
    free(m->values);
    m->keys = keys;
    m->values = values;
    m->cap = cap;
    return 0;
}

int strmap_put(StrMap *m, const char *key, size_t value) {
    if ((m->count + 1) * 4 > m->cap * 3 && grow(m)) return -1;
    size_t i = find_slot(m->keys, m->cap, key);
    if (!m->keys[i]) m->count++;
    m->keys[i] = key;
    m->values[i] = value;
    return 0;
}

int strmap_get(const StrMap *m, const char *key, size_t *value) {
    if (!m->cap) return 0;
    size_t i = find_slot(m->keys, m->cap, key);
    if (!m->keys[i]) return 0;
    if (value) *value = m->values[i];
    return 1;
}

void strmap_free(StrMap *m) {
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof *m);
}
