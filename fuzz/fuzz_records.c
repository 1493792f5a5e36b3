/* fuzz/fuzz_records.c — libFuzzer target: the records-file reader (pipeline/records.c) that the
 * runner uses on what a stage process wrote. */
#include <stdint.h>

#include "fuzz/fuzz.h"
#include "pipeline/records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Records r;
    Err err;
    if (records_read(fuzz_memfile(data, size), &r, &err) == 0) records_free(&r);
    return 0;
}
