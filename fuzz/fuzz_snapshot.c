/* fuzz/fuzz_snapshot.c — libFuzzer target: the training-snapshot reader (nn/snapshot.c) that a
 * training job runs on the snapshot file it finds at its start.
 *
 * Each input is parsed twice: as it is, then with its trailing CRC recomputed, so that mutations
 * reach the layout behind the checksum. What parses is then opened against a small model (resnet8
 * at width 0.25, built once): the per-parameter match, and for a match the restore into it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz/fuzz.h"
#include "nn/model.h"
#include "nn/optim.h"
#include "nn/snapshot.h"

static Model model;
static Sgd sgd;

static void build_model(void) {
    ModelDesc *d = calloc(1, sizeof *d);
    Err err;
    if (!d || model_desc_build(d, "resnet8", 1, 8, 8, 10, 0.25f, &err) || model_create(&model, d, 2, 1, &err)) abort();
    SgdConfig cfg = {0.9f, 5e-4f, 1, 1};
    if (sgd_create(&sgd, &model, &cfg, &err)) abort();
}

static void one(const uint8_t *data, size_t size) {
    SnapshotView v;
    Err err;
    if (snapshot_parse(data, size, "input", &v, &err)) return;
    TrainResume r;
    if (train_resume_open(&r, fuzz_memfile(data, size), v.fingerprint, &model, &err)) return;
    float loss;
    uint8_t state[64];
    if (v.step_state_bytes <= sizeof state) train_resume_restore(&r, &model, &sgd, state, v.step_state_bytes, &loss, &err);
    train_resume_close(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!model.d) build_model();
    one(data, size);
    if (size < 12) return 0;
    uint8_t *copy = malloc(size);
    if (!copy) abort();
    memcpy(copy, data, size);
    uint32_t crc = (uint32_t)crc32_z(crc32(0L, Z_NULL, 0), copy, size - 4);
    memcpy(copy + size - 4, &crc, 4);
    one(copy, size);
    free(copy);
    return 0;
}
