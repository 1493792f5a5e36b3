/* tests/unit/blob_dataset.h — a small learnable data set for training tests (header-only): n
 * one-channel hw x hw images of 10 classes, class c a bright vertical band at columns c*hw/10 over
 * noise, labels and noise from `seed`. Free with dataset_free. */
#ifndef DYNN_TESTS_UNIT_BLOB_DATASET_H
#define DYNN_TESTS_UNIT_BLOB_DATASET_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/data.h"
#include "nn/rng.h"

static inline void blob_dataset(Dataset *ds, int n, int hw, uint64_t seed) {
    memset(ds, 0, sizeof *ds);
    snprintf(ds->name, sizeof ds->name, "synthetic");
    ds->n = n;
    ds->c = 1;
    ds->h = ds->w = hw;
    ds->num_classes = 10;
    ds->images = malloc((size_t)n * hw * hw);
    ds->labels = malloc((size_t)n);
    Rng r;
    rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        int label = (int)rng_below(&r, 10);
        ds->labels[i] = (uint8_t)label;
        for (int p = 0; p < hw * hw; p++) /* class-dependent blobs so there is something to learn */
            ds->images[(size_t)i * hw * hw + p] = (uint8_t)(((p % hw) * 10 / hw == label ? 200 : 30) + rng_below(&r, 40));
    }
}

#endif
