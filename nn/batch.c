/* nn/batch.c — batch assembly: gathers samples by index, augments each one (random crop with zero
 * padding, random horizontal flip) with its own generator, and normalises per channel.
 *
 * Augmentation follows torchvision's RandomCrop(size, padding=pad) then RandomHorizontalFlip():
 * the image is padded with zero pixels, a window at offset (dy, dx) in [0, 2*pad]^2 is cut out and
 * then mirrored with probability 1/2. A padded (zero) pixel is normalised like any 0 pixel, to
 * (0 - mean) / std, as Normalize after RandomCrop gives. Output pixel (y, x) reads input pixel
 * (y + dy - pad, xs + dx - pad) with xs = w-1-x when flipped, else x. */
#include "nn/data.h"

#include <assert.h>

#include "nn/rng.h"

void batch_assemble(float *out, int *labels, const Dataset *ds, const int *indices, int bs,
                    const Augment *aug, const float *mean, const float *std,
                    uint64_t seed, uint64_t epoch, uint64_t first_position) {
    const int c = ds->c, h = ds->h, w = ds->w;
    const size_t plane = (size_t)h * w, sample = (size_t)c * plane;
    /* Every output value is one of 256 per channel: a table makes normalization a lookup. */
    assert(c <= DATA_MAX_CHANNELS);
    float lut[DATA_MAX_CHANNELS][256];
    for (int ch = 0; ch < c; ch++)
        for (int v = 0; v < 256; v++) lut[ch][v] = ((float)v / 255.0f - mean[ch]) / std[ch];
    const int pad = aug && aug->crop_pad > 0 ? aug->crop_pad : 0;
    const int flip_on = aug && aug->flip;

#pragma omp parallel for schedule(static)
    for (int i = 0; i < bs; i++) {
        const uint8_t *src = ds->images + (size_t)indices[i] * sample;
        float *dst = out + (size_t)i * sample;
        labels[i] = ds->labels[indices[i]];
        int dy = pad, dx = pad, flip = 0;
        if (aug) {
            Rng r;
            rng_derive(&r, seed, epoch, first_position + (uint64_t)i);
            if (pad) {
                dy = (int)rng_below(&r, (uint32_t)(2 * pad + 1));
                dx = (int)rng_below(&r, (uint32_t)(2 * pad + 1));
            }
            if (flip_on) flip = (int)(rng_next(&r) >> 63);
        }
        if (dy == pad && dx == pad && !flip) {
            for (int ch = 0; ch < c; ch++)
                for (size_t k = 0; k < plane; k++) dst[ch * plane + k] = lut[ch][src[ch * plane + k]];
            continue;
        }
        for (int ch = 0; ch < c; ch++) {
            const uint8_t *sp = src + ch * plane;
            float *dp = dst + ch * plane;
            const float zero = lut[ch][0];
            for (int y = 0; y < h; y++) {
                int sy = y + dy - pad;
                for (int x = 0; x < w; x++) {
                    int sx = (flip ? w - 1 - x : x) + dx - pad;
                    dp[y * w + x] = sy >= 0 && sy < h && sx >= 0 && sx < w ? lut[ch][sp[sy * w + sx]] : zero;
                }
            }
        }
    }
}
