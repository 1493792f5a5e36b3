/* pipeline/cache.h — stage cache keys.
 *
 * key = SHA-256 of the canonical JSON
 *   {"build":<dynn build id>,"inputs":[[name,hash],…],"params":<canonical params>,"seed":"…",
 *    "threads":"…","type":"…"}
 * where inputs are the artifacts of the instances a stage needs, sorted by (name, hash); an
 * upstream instance without artifacts contributes ["", <its key>] instead, so a stage still re-runs
 * when something it merely waits for changed. Params are canonical (keys sorted, scalars as
 * strings), so reordering a mapping in the YAML file does not change the key. */
#ifndef DYNN_PIPELINE_CACHE_H
#define DYNN_PIPELINE_CACHE_H

#include <stddef.h>

#include "util/ynode.h"
#include "util/err.h"
#include "util/sha256.h"

typedef struct CacheInput {
    const char *name; /* artifact name, or "" for an upstream key */
    const char *hash; /* artifact content hash, or the upstream stage's key */
} CacheInput;

typedef struct CacheKeyParts {
    const char *type;
    const YNode *params;
    CacheInput *inputs; /* sorted in place */
    size_t n_inputs;
    const char *build_id;
    long long seed;
    int threads;
} CacheKeyParts;

int cache_key(CacheKeyParts *parts, char key[SHA256_HEX_LEN + 1], Err *err);

#endif
