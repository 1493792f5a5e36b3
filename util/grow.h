/* util/grow.h — appending to a malloc'd array one item at a time (capacity doubling). */
#ifndef DYNN_UTIL_GROW_H
#define DYNN_UTIL_GROW_H

#include <stddef.h>

/* items_ptr is the address of the array pointer (T **), *n its length, *cap its capacity, size
 * sizeof(T). Makes room for one more item, counts it in *n and returns it zeroed; NULL (nothing
 * changed) when memory runs out. */
void *grow_one(void *items_ptr, size_t *n, size_t *cap, size_t size);

#endif
