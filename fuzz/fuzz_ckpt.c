/* fuzz/fuzz_ckpt.c — libFuzzer target: the checkpoint reader (nn/ckpt_file.c) and, on what it
 * accepts, the model loader (nn/checkpoint.c: description, tensor shapes, model_create).
 *
 * Each input is read twice: as it is (CRC mismatches and all), then with every CRC it holds
 * recomputed, so that mutations reach the fields behind the checksums. A description that parses
 * and matches its tensors is loaded for batch 1 when the model needs at most FUZZ_MODEL_BYTES (a
 * bigger one is refused the same way by a run that lacks the memory: model_memory_bytes is what
 * model_create checks first), and read by the inference path (checkpoint_read_weights, the cpu
 * backend opened for batch 1, one forward). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz/fuzz.h"
#include "nn/backend.h"
#include "nn/checkpoint.h"
#include "nn/ckpt_file.h"
#include "nn/model.h"

#define FUZZ_MODEL_BYTES ((size_t)64 << 20)

static uint64_t le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_crc(uint8_t *at, const uint8_t *data, uint64_t len) {
    uint32_t crc = (uint32_t)crc32(0, data, (uInt)len);
    for (int i = 0; i < 4; i++) at[i] = (uint8_t)(crc >> (8 * i));
}

/* Recomputes the meta CRC and each tensor's data CRC, walking the layout as far as it holds. */
static void fix_crcs(uint8_t *b, size_t size) {
    if (size < 28) return;
    uint64_t n = le(b + 12, 4), meta_len = le(b + 16, 8);
    if (meta_len > size - 28) return;
    put_crc(b + 24, b + 28, meta_len);
    size_t off = 28 + (size_t)meta_len;
    for (uint64_t t = 0; t < n; t++) {
        if (size - off < 2) return;
        size_t name_len = (size_t)le(b + off, 2);
        off += 2;
        if (size - off < name_len + 4) return;
        off += name_len;
        uint64_t ndim = le(b + off, 4);
        off += 4;
        if (ndim > CKPT_MAX_DIMS || size - off < 8 * ndim + 4) return;
        uint64_t numel = 1;
        for (uint64_t d = 0; d < ndim; d++) {
            uint64_t dim = le(b + off + 8 * d, 8);
            if (dim && numel > (uint64_t)(size / 4) / dim) return;
            numel *= dim;
        }
        off += 8 * (size_t)ndim;
        if (size - off - 4 < 4 * numel) return;
        put_crc(b + off, b + off + 4, 4 * numel);
        off += 4 + 4 * (size_t)numel;
    }
}

static void read_and_load(const char *path) {
    CkptFile f;
    Err err;
    if (ckpt_read(path, &f, &err) == 0) ckpt_free(&f);
    ModelDesc *d = calloc(1, sizeof *d);
    if (!d) abort();
    if (checkpoint_read_desc(path, d, NULL, &err) == 0) {
        size_t bytes = model_memory_bytes(d, 1, 1);
        if (bytes > 0 && bytes <= FUZZ_MODEL_BYTES) {
            Model m;
            if (checkpoint_load(path, &m, 1, 1, &err) == 0) model_free(&m);
        }
        /* the inference path: weights without a Model, the cpu backend, one forward */
        ModelWeights w;
        bytes = model_memory_bytes_for(d, MODEL_INFERENCE, 1, 1);
        if (bytes > 0 && bytes <= FUZZ_MODEL_BYTES && checkpoint_read_weights(path, d, &w, NULL, &err) == 0) {
            Backend *b;
            float *x = calloc((size_t)d->in_c * d->in_h * d->in_w, sizeof *x), *y = malloc(sizeof(float) * d->classes);
            if (!x || !y) abort();
            if (backend_open(NULL, d, &w, 1, 1, &b, &err) == 0) {
                backend_forward(b, x, 1, y, &err);
                backend_close(b);
            }
            free(x);
            free(y);
            model_weights_free(&w);
        }
    }
    free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    read_and_load(fuzz_memfile(data, size));
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) abort();
    memcpy(copy, data, size);
    fix_crcs(copy, size);
    if (size && memcmp(copy, data, size)) read_and_load(fuzz_memfile(copy, size));
    free(copy);
    return 0;
}
