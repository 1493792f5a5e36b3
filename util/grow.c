/* util/grow.c — appending to a malloc'd array (see grow.h). */
#include "util/grow.h"

#include <stdlib.h>
#include <string.h>

void *grow_one(void *items_ptr, size_t *n, size_t *cap, size_t size) {
    void **items = items_ptr;
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        void *p = realloc(*items, c * size);
        if (!p) return NULL;
        *items = p;
        *cap = c;
    }
    char *slot = (char *)*items + (*n)++ * size;
    memset(slot, 0, size);
    return slot;
}
