/* fuzz/fuzz_desc.c — libFuzzer target: the model description parser (checkpoint_parse_desc in
 * nn/checkpoint.c, with model_desc_build behind it). The input is the description text; one that
 * parses is planned (model_memory_bytes) and, when it needs at most FUZZ_MODEL_BYTES, created for
 * batch 1 and freed, so the bounds between parsing and allocation are exercised too. */
#include <stdint.h>
#include <stdlib.h>

#include "nn/checkpoint.h"
#include "nn/model.h"

#define FUZZ_MODEL_BYTES ((size_t)64 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ModelDesc *d = calloc(1, sizeof *d);
    if (!d) abort();
    Err err;
    if (checkpoint_parse_desc("fuzz.dnn", (const char *)data, size, d, &err) == 0) {
        size_t bytes = model_memory_bytes(d, 1, 1);
        if (bytes > 0 && bytes <= FUZZ_MODEL_BYTES) {
            Model m;
            if (model_create(&m, d, 1, 1, &err) == 0) model_free(&m);
            return 0; /* model_create owns d, also when it fails */
        }
    }
    free(d);
    return 0;
}
