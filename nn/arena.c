/* nn/arena.c — aligned float arenas (see arena.h). */
#include "nn/arena.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN_FLOATS 16 /* 64 bytes */

size_t arena_round(size_t n) {
    if (n > SIZE_MAX - (ARENA_ALIGN_FLOATS - 1)) return SIZE_MAX;
    return (n + ARENA_ALIGN_FLOATS - 1) / ARENA_ALIGN_FLOATS * ARENA_ALIGN_FLOATS;
}

void arena_reserve(Arena *a, size_t n) { a->size = size_add_sat(a->size, arena_round(n)); }

size_t arena_bytes(const Arena *a) { return size_mul_sat(a->size, sizeof(float)); }

void *aligned_calloc(size_t bytes) {
    if (bytes > SIZE_MAX - 63) return NULL;
    size_t rounded = (bytes + 63) / 64 * 64;
    if (rounded == 0) rounded = 64;
    void *p = aligned_alloc(64, rounded);
    if (p) memset(p, 0, rounded);
    return p;
}

int arena_commit(Arena *a, const char *what, Err *err) {
    size_t bytes = arena_bytes(a);
    a->base = bytes == SIZE_MAX ? NULL : aligned_calloc(bytes);
    if (!a->base)
        return err_set(err, "out of memory allocating the %s arena (%.1f MiB)", what, (double)a->size * sizeof(float) / 1048576.0);
    a->used = 0;
    return 0;
}

float *arena_take(Arena *a, size_t n) {
    size_t r = arena_round(n);
    if (!a->base || r > a->size - a->used) return NULL;
    float *p = a->base + a->used;
    a->used += r;
    return p;
}

void arena_free(Arena *a) {
    free(a->base);
    memset(a, 0, sizeof *a);
}
