/* nn/arena.h — one contiguous, 64-byte aligned allocation carved into many float buffers.
 *
 * A model owns three arenas (parameters, gradients, activations) so that each is one malloc, one
 * free, and cheap to zero or copy. Planning is two-pass: arena_reserve() only counts while
 * `base == NULL`; arena_commit() allocates; then the same sequence of arena_take() calls hands out
 * pointers. Every buffer starts on a 64-byte boundary (a cache line, an AVX-512 vector). */
#ifndef DYNN_NN_ARENA_H
#define DYNN_NN_ARENA_H

#include <stddef.h>
#include "util/err.h"

typedef struct Arena {
    float *base;     /* NULL while planning */
    size_t size;     /* floats reserved (planning) or allocated */
    size_t used;     /* floats handed out so far */
} Arena;

/* Rounds a float count up so the next buffer stays 64-byte aligned. */
size_t arena_round(size_t n_floats);

/* Planning pass: adds n floats (rounded) to the size. */
void arena_reserve(Arena *a, size_t n_floats);
/* Allocates the planned size (zeroed). */
int arena_commit(Arena *a, const char *what, Err *err);
/* Hands out the next n floats (rounded); returns NULL if the arena would overflow. */
float *arena_take(Arena *a, size_t n_floats);
void arena_free(Arena *a);

/* Aligned allocation helpers used outside arenas (workspaces). */
void *aligned_calloc(size_t bytes);

#endif
