/* fuzz/fuzz_cifar.c — libFuzzer target: the CIFAR-10 binary batch reader (nn/data_cifar.c); each
 * input is read twice into one dataset, so the second read appends. */
#include <stdint.h>

#include "fuzz/fuzz.h"
#include "nn/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_memfile(data, size);
    Dataset ds = {0};
    Err err;
    if (cifar10_read_batch(path, &ds, &err) == 0) cifar10_read_batch(path, &ds, &err);
    dataset_free(&ds);
    return 0;
}
