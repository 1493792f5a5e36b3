/* nn/data_cifar.c — the CIFAR-10 binary batch reader ("CIFAR-10 binary version", the
 * data_batch_N.bin / test_batch.bin files): fixed 3073-byte records of 1 label byte followed by
 * 32x32 red, then green, then blue pixels, which is already the NCHW layout of a Dataset. */
#include "nn/data.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CIFAR_C 3
#define CIFAR_SIDE 32
#define CIFAR_PIXELS (CIFAR_C * CIFAR_SIDE * CIFAR_SIDE)
#define CIFAR_RECORD (1 + CIFAR_PIXELS)
#define CIFAR_CLASSES 10
#define CIFAR_CHUNK 256 /* records per fread */

/* Reads `records` records from f into ds after its current ds->n samples (arrays already sized);
 * does not change ds->n. */
static int cifar_read_records(FILE *f, const char *path, Dataset *ds, long long records, Err *err) {
    unsigned char *buf = malloc((size_t)CIFAR_CHUNK * CIFAR_RECORD);
    if (!buf) return err_set(err, "%s: out of memory", path);
    for (long long r0 = 0; r0 < records; r0 += CIFAR_CHUNK) {
        size_t m = (size_t)(records - r0 < CIFAR_CHUNK ? records - r0 : CIFAR_CHUNK);
        size_t got = fread(buf, CIFAR_RECORD, m, f);
        if (got != m) {
            free(buf);
            return err_set(err, "%s: offset %lld: cannot read: %s", path, (r0 + (long long)got) * CIFAR_RECORD,
                           ferror(f) ? strerror(errno) : "the file became shorter while reading");
        }
        for (size_t k = 0; k < m; k++) {
            const unsigned char *rec = buf + k * CIFAR_RECORD;
            long long r = r0 + (long long)k;
            if (rec[0] >= CIFAR_CLASSES) {
                unsigned label = rec[0];
                free(buf);
                return err_set(err, "%s: offset %lld: label %u out of range 0..%d (record %lld)", path,
                               r * CIFAR_RECORD, label, CIFAR_CLASSES - 1, r);
            }
            size_t i = (size_t)ds->n + (size_t)r;
            ds->labels[i] = rec[0];
            memcpy(ds->images + i * CIFAR_PIXELS, rec + 1, CIFAR_PIXELS);
        }
    }
    free(buf);
    return 0;
}

int cifar10_read_batch(const char *path, Dataset *ds, Err *err) {
    if (ds->n > 0 && (ds->c != CIFAR_C || ds->h != CIFAR_SIDE || ds->w != CIFAR_SIDE))
        return err_set(err, "%s: cannot append 3x32x32 CIFAR-10 images to a dataset of %dx%dx%d images",
                       path, ds->c, ds->h, ds->w);
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return err_set(err, "%s: not a regular file", path);
    }
    long long size = (long long)st.st_size;
    long long records = size / CIFAR_RECORD;
    if (size == 0 || size % CIFAR_RECORD != 0) {
        fclose(f);
        return err_set(err,
                       "%s: offset %lld: size %lld is not a positive multiple of %d (1 label byte + %d pixel "
                       "bytes per record): truncated, or not a CIFAR-10 binary batch",
                       path, records * CIFAR_RECORD, size, CIFAR_RECORD, CIFAR_PIXELS);
    }
    if (records > INT_MAX - ds->n) {
        fclose(f);
        return err_set(err, "%s: %lld records would make the dataset larger than %d samples", path, records,
                       INT_MAX);
    }
    size_t total = (size_t)ds->n + (size_t)records;
    uint8_t *images = realloc(ds->images, total * CIFAR_PIXELS);
    if (images) ds->images = images;
    uint8_t *labels = images ? realloc(ds->labels, total) : NULL;
    if (labels) ds->labels = labels;
    if (!images || !labels) {
        fclose(f);
        return err_set(err, "%s: out of memory for %zu images", path, total);
    }
    int rc = cifar_read_records(f, path, ds, records, err);
    fclose(f);
    if (rc) return -1;
    ds->n = (int)total;
    ds->c = CIFAR_C;
    ds->h = ds->w = CIFAR_SIDE;
    ds->num_classes = CIFAR_CLASSES;
    if (!ds->name[0]) snprintf(ds->name, sizeof ds->name, "cifar10");
    if (!ds->source[0]) snprintf(ds->source, sizeof ds->source, "%s", path);
    return 0;
}
