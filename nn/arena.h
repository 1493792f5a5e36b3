/* nn/arena.h — one contiguous, 64-byte aligned allocation carved into many float buffers.
 *
 * A model owns three arenas (parameters, gradients, activations) so that each is one malloc, one
 * free, and cheap to zero or copy. Planning is two-pass: arena_reserve() only counts while
 * `base == NULL`; arena_commit() allocates; then the same sequence of arena_take() calls hands out
 * pointers. Every buffer starts on a 64-byte boundary (a cache line, an AVX-512 vector).
 *
 * Sizes saturate: a count that would overflow size_t becomes SIZE_MAX (size_add_sat,
 * size_mul_sat), which no allocation can satisfy, so a request too large to represent is refused
 * as too large instead of wrapping around to a small buffer. */
#ifndef DYNN_NN_ARENA_H
#define DYNN_NN_ARENA_H

#include <stddef.h>
#include <stdint.h>
#include "util/err.h"

typedef struct Arena {
    float *base;     /* NULL while planning */
    size_t size;     /* floats reserved (planning) or allocated; SIZE_MAX: too large */
    size_t used;     /* floats handed out so far */
} Arena;

static inline size_t size_add_sat(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }
static inline size_t size_mul_sat(size_t a, size_t b) { return b && a > SIZE_MAX / b ? SIZE_MAX : a * b; }

/* Rounds a float count up so the next buffer stays 64-byte aligned (SIZE_MAX stays SIZE_MAX). */
size_t arena_round(size_t n_floats);

/* Planning pass: adds n floats (rounded) to the size, saturating at SIZE_MAX. */
void arena_reserve(Arena *a, size_t n_floats);
/* Bytes the planned size needs (SIZE_MAX when it does not fit in size_t). */
size_t arena_bytes(const Arena *a);
/* Allocates the planned size (zeroed). */
int arena_commit(Arena *a, const char *what, Err *err);
/* Hands out the next n floats (rounded); returns NULL if the arena would overflow. */
float *arena_take(Arena *a, size_t n_floats);
void arena_free(Arena *a);

/* Aligned allocation helpers used outside arenas (workspaces); NULL when bytes cannot be
 * allocated (or rounded up without overflow). */
void *aligned_calloc(size_t bytes);

#endif
