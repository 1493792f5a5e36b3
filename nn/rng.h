/* nn/rng.h — the seeded random generator used everywhere in dynn: xoshiro256** seeded by
 * splitmix64. Small, fast, and identical on every platform, so that the same seed gives the same
 * bytes. Streams for independent work (a sample's augmentation, a layer's init) are derived with
 * rng_derive(seed, a, b) so results do not depend on the order or thread that consumes them. */
#ifndef DYNN_NN_RNG_H
#define DYNN_NN_RNG_H

#include <stdint.h>

typedef struct Rng {
    uint64_t s[4];
} Rng;

void rng_seed(Rng *r, uint64_t seed);
/* A generator for sub-stream (a, b) of seed: deterministic, independent-looking streams. */
void rng_derive(Rng *r, uint64_t seed, uint64_t a, uint64_t b);
uint64_t rng_next(Rng *r);
/* Uniform float in [0, 1) with 24 random bits. */
float rng_uniform(Rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint32_t rng_below(Rng *r, uint32_t n);
/* Standard normal (Box-Muller; consumes two uniforms per call, no cached state). */
float rng_normal(Rng *r);
/* Fisher-Yates shuffle of idx[0..n). */
void rng_shuffle(Rng *r, int *idx, int n);

uint64_t splitmix64(uint64_t *state);

#endif
