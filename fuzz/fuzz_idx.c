/* fuzz/fuzz_idx.c — libFuzzer target: the IDX reader (nn/data_idx.c), gzip or plain; each input
 * is read as an image file and as a label file (10 classes). */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz/fuzz.h"
#include "nn/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_memfile(data, size);
    Err err;
    uint8_t *images = NULL, *labels = NULL;
    int n, h, w;
    if (idx_read_images(path, &images, &n, &h, &w, &err) == 0) free(images);
    if (idx_read_labels(path, 10, &labels, &n, &err) == 0) free(labels);
    return 0;
}
