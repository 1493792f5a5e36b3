/* nn/data.h — datasets in memory and batch assembly.
 *
 * Owns: the IDX reader (MNIST / Fashion-MNIST, plain or gzip via zlib), the CIFAR-10 binary batch
 * reader, the "--data" spec parser, per-channel statistics, and batch assembly with per-sample
 * augmentation (random crop with zero padding, horizontal flip) and per-channel normalization.
 *
 * Images are stored as uint8 NCHW: images[((i*c + ch)*h + y)*w + x]. */
#ifndef DYNN_NN_DATA_H
#define DYNN_NN_DATA_H

#include <stdint.h>
#include "util/err.h"

#define DATA_MAX_CHANNELS 4

typedef struct Dataset {
    char name[64];      /* "fashion-mnist", "mnist", "cifar10" */
    char source[4096];  /* directory or file it was read from */
    int n, c, h, w;     /* count and image shape */
    int num_classes;
    uint8_t *images;    /* [n][c][h][w] */
    uint8_t *labels;    /* [n], each < num_classes */
} Dataset;

/* Reads an IDX image file (magic 0x00000803, uint8, 3 dims) — gzip or plain, detected by content.
 * Errors name the file and byte offset: wrong magic, truncated data, absurd dimensions, bytes after
 * the announced data, corrupt gzip data. *images is malloc'd (the caller frees it). */
int idx_read_images(const char *path, uint8_t **images, int *n, int *h, int *w, Err *err);
/* Reads an IDX label file (magic 0x00000801); every label must be < num_classes. */
int idx_read_labels(const char *path, int num_classes, uint8_t **labels, int *n, Err *err);

/* Reads CIFAR-10 binary batches (records of 1 label byte + 3072 pixel bytes, RRR..GGG..BBB..,
 * 32x32). A file whose size is not a multiple of 3073, or a label > 9, is an error naming the file
 * and offset. Appends to ds (which must be zero-initialised or previously filled by this function). */
int cifar10_read_batch(const char *path, Dataset *ds, Err *err);

/* Parses a --data spec and loads the train and test splits:
 *   fashion-mnist[:DIR]   default DIR /usr/share/datasets/fashion-mnist (train-images-idx3-ubyte.gz, ...)
 *   mnist:DIR             same IDX file names as Fashion-MNIST (.gz or not)
 *   cifar10:DIR           data_batch_1..5.bin for train, test_batch.bin for test
 * A missing directory/file gives an error saying what to install or where to put the files. */
int dataset_load(const char *spec, Dataset *train, Dataset *test, Err *err);
/* Checks a --data spec without reading it: a known dataset and an existing directory (into dir_out);
 * the message says what to install or provide. */
int dataset_locate(const char *spec, char *dir_out, size_t dir_size, int *is_cifar, Err *err);

/* Keeps the first n samples (n <= 0 or n >= ds->n: no change). */
void dataset_limit(Dataset *ds, int n);
void dataset_free(Dataset *ds);

/* Per-channel mean and (population) standard deviation of the pixel values scaled to [0,1]; a
 * channel without variance gets std 1 so that normalising by it stays finite. */
void dataset_channel_stats(const Dataset *ds, float *mean, float *std);

typedef struct Augment {
    int crop_pad; /* random crop after zero padding by this many pixels (0 = none) */
    int flip;     /* random horizontal flip with probability 1/2 */
} Augment;

/* Assembles a batch of bs samples ds[indices[0..bs)] into out (float NCHW, [bs][c][h][w]),
 * normalised as ((float)pixel / 255.0f - mean[c]) / std[c], and labels (int). When aug is non-NULL
 * sample i is augmented with its own generator rng_derive(seed, epoch, first_position + i) so that
 * the result does not depend on the number of threads (OpenMP over samples). It draws, in this
 * order, crop offsets dy then dx uniform in [0, 2*crop_pad] (when crop_pad > 0), then the flip bit
 * (when flip); output pixel (y, x) is input pixel (y + dy - crop_pad, xs + dx - crop_pad), with
 * xs = w-1-x when flipped, else x, and a 0 pixel (normalised like any 0) outside the image — the
 * same as torchvision's RandomCrop(padding) + RandomHorizontalFlip + Normalize. */
void batch_assemble(float *out, int *labels, const Dataset *ds, const int *indices, int bs,
                    const Augment *aug, const float *mean, const float *std,
                    uint64_t seed, uint64_t epoch, uint64_t first_position);

#endif
