/* nn/data.c — the "--data" spec (fashion-mnist[:DIR], mnist:DIR, cifar10:DIR), loading a dataset's
 * train and test splits from a directory, and whole-dataset helpers (limit, free, channel stats).
 * The file formats themselves live in data_idx.c and data_cifar.c; batches in batch.c. */
#include "nn/data.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"
#define IDX_FILES "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and " \
                  "t10k-labels-idx1-ubyte.gz (gzip or not)"
#define CIFAR_FILES "data_batch_1.bin .. data_batch_5.bin and test_batch.bin (the binary version, " \
                    "cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html)"
#define DATASET_CLASSES 10

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int join(char *buf, size_t size, const char *dir, const char *name, Err *err) {
    if ((size_t)snprintf(buf, size, "%s/%s", dir, name) >= size)
        return err_set(err, "%s/%s: path too long", dir, name);
    return 0;
}

/* DIR/base.gz if it exists, else DIR/base; an error naming both when neither does. */
static int find_idx_file(char *buf, size_t size, const char *dir, const char *base, Err *err) {
    char name[64];
    snprintf(name, sizeof name, "%s.gz", base);
    if (join(buf, size, dir, name, err)) return -1;
    if (is_file(buf)) return 0;
    if (join(buf, size, dir, base, err)) return -1;
    if (is_file(buf)) return 0;
    return err_set(err, "%s: missing %s.gz (or %s); the directory must hold " IDX_FILES, dir, base, base);
}

/* One IDX split ("train" or "t10k"): images and labels, which must agree in count. */
static int load_idx_split(const char *dir, const char *prefix, Dataset *ds, Err *err) {
    char img_path[4200], lbl_path[4200], base[64];
    snprintf(base, sizeof base, "%s-images-idx3-ubyte", prefix);
    if (find_idx_file(img_path, sizeof img_path, dir, base, err)) return -1;
    snprintf(base, sizeof base, "%s-labels-idx1-ubyte", prefix);
    if (find_idx_file(lbl_path, sizeof lbl_path, dir, base, err)) return -1;
    int n_img, n_lbl;
    if (idx_read_images(img_path, &ds->images, &n_img, &ds->h, &ds->w, err)) return -1;
    if (idx_read_labels(lbl_path, DATASET_CLASSES, &ds->labels, &n_lbl, err)) return -1;
    if (n_img != n_lbl)
        return err_set(err, "%s holds %d images but %s holds %d labels", img_path, n_img, lbl_path, n_lbl);
    ds->n = n_img;
    ds->c = 1;
    ds->num_classes = DATASET_CLASSES;
    return 0;
}

static int load_cifar10(const char *dir, Dataset *train, Dataset *test, Err *err) {
    char path[4200];
    /* Accept the folder the archive extracts to, one level down (probes need no message). */
    char sub[sizeof train->source];
    if (join(path, sizeof path, dir, "data_batch_1.bin", err)) return -1;
    if (!is_file(path) && join(sub, sizeof sub, dir, "cifar-10-batches-bin", NULL) == 0 && is_dir(sub) &&
        join(path, sizeof path, sub, "data_batch_1.bin", NULL) == 0 && is_file(path))
        dir = sub;
    for (int b = 1; b <= 6; b++) {
        char name[32];
        if (b <= 5)
            snprintf(name, sizeof name, "data_batch_%d.bin", b);
        else
            snprintf(name, sizeof name, "test_batch.bin");
        if (join(path, sizeof path, dir, name, err)) return -1;
        if (!is_file(path)) return err_set(err, "%s: missing %s; --data cifar10:DIR needs " CIFAR_FILES, dir, name);
        if (cifar10_read_batch(path, b <= 5 ? train : test, err)) return -1;
    }
    snprintf(train->source, sizeof train->source, "%s", dir);
    snprintf(test->source, sizeof test->source, "%s", dir);
    return 0;
}

int dataset_locate(const char *spec, char *dir_out, size_t dir_size, int *is_cifar, Err *err) {
    const char *colon = strchr(spec, ':');
    size_t name_len = colon ? (size_t)(colon - spec) : strlen(spec);
    const char *dir = colon ? colon + 1 : NULL;
    char name[64];
    if (name_len >= sizeof name) name_len = sizeof name - 1;
    memcpy(name, spec, name_len);
    name[name_len] = '\0';

    int fashion = strcmp(name, "fashion-mnist") == 0;
    int cifar = strcmp(name, "cifar10") == 0;
    if (!fashion && !cifar && strcmp(name, "mnist") != 0)
        return err_set(err, "--data '%s': unknown dataset '%s' (known: fashion-mnist[:DIR], mnist:DIR, cifar10:DIR)",
                       spec, name);
    if (dir && !*dir) return err_set(err, "--data '%s': empty directory after ':'", spec);
    if (!dir && !fashion)
        return err_set(err, "--data '%s': %s needs a directory, as in --data %s:DIR where DIR holds %s", spec, name,
                       name, cifar ? CIFAR_FILES : IDX_FILES);
    if (!dir) dir = FASHION_MNIST_DIR;
    if (strlen(dir) >= dir_size) return err_set(err, "--data '%s': directory path too long", spec);
    struct stat st;
    int exists = stat(dir, &st) == 0;
    if (!exists || !S_ISDIR(st.st_mode)) {
        if (fashion && !colon)
            return err_set(err,
                           "%s: no such directory: install the Debian package dataset-fashion-mnist "
                           "(apt-get install dataset-fashion-mnist, or run ci/deps.sh), or pass --data "
                           "fashion-mnist:DIR with DIR holding " IDX_FILES,
                           dir);
        return err_set(err, "%s: %s (--data %s:DIR needs a directory holding %s)", dir,
                       exists ? "not a directory" : "no such directory", name,
                       cifar ? CIFAR_FILES : IDX_FILES);
    }
    snprintf(dir_out, dir_size, "%s", dir);
    *is_cifar = cifar;
    return 0;
}

int dataset_load(const char *spec, Dataset *train, Dataset *test, Err *err) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    char dir[sizeof train->source];
    int cifar;
    if (dataset_locate(spec, dir, sizeof dir, &cifar, err)) return -1;

    int rc = cifar ? load_cifar10(dir, train, test, err)
                   : (load_idx_split(dir, "train", train, err) || load_idx_split(dir, "t10k", test, err));
    if (rc == 0 && (train->h != test->h || train->w != test->w)) {
        rc = err_set(err, "%s: train images are %dx%d but test images are %dx%d", dir, train->h, train->w, test->h,
                     test->w);
    }
    if (rc) {
        dataset_free(train);
        dataset_free(test);
        return -1;
    }
    Dataset *splits[2] = {train, test};
    for (int i = 0; i < 2; i++) {
        snprintf(splits[i]->name, sizeof splits[i]->name, "%.*s", (int)strcspn(spec, ":"), spec);
        if (!cifar) snprintf(splits[i]->source, sizeof splits[i]->source, "%s", dir);
    }
    return 0;
}

void dataset_limit(Dataset *ds, int n) {
    if (n <= 0 || n >= ds->n) return;
    size_t sample = (size_t)ds->c * ds->h * ds->w;
    ds->n = n;
    /* Give the memory back; a failed shrink keeps the larger, still valid buffers. */
    uint8_t *images = realloc(ds->images, (size_t)n * sample);
    if (images) ds->images = images;
    uint8_t *labels = realloc(ds->labels, (size_t)n);
    if (labels) ds->labels = labels;
}

void dataset_free(Dataset *ds) {
    free(ds->images);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}

void dataset_channel_stats(const Dataset *ds, float *mean, float *std) {
    const int c = ds->c;
    assert(c <= DATA_MAX_CHANNELS);
    size_t plane = (size_t)ds->h * ds->w;
    /* A histogram per channel: integer counts, so the sums are exact and thread-independent. */
    uint64_t hist[DATA_MAX_CHANNELS * 256];
    memset(hist, 0, sizeof hist);
    if (ds->n > 0 && c > 0) {
#pragma omp parallel for reduction(+ : hist[:DATA_MAX_CHANNELS * 256])
        for (long long i = 0; i < (long long)ds->n * c; i++) {
            const uint8_t *p = ds->images + (size_t)i * plane;
            uint64_t *h = hist + (i % c) * 256;
            for (size_t k = 0; k < plane; k++) h[p[k]]++;
        }
    }
    for (int ch = 0; ch < c; ch++) {
        /* Integer sums, then the variance around the mean (exactly 0 for a constant channel). */
        const uint64_t *h = hist + ch * 256;
        uint64_t count = 0, sum = 0;
        for (int v = 0; v < 256; v++) {
            count += h[v];
            sum += h[v] * (uint64_t)v;
        }
        double mu = count ? (double)sum / (double)count : 0.0, var = 0.0;
        for (int v = 0; v < 256; v++) var += (double)h[v] * (v - mu) * (v - mu);
        var = count ? var / (double)count : 0.0;
        mean[ch] = (float)(mu / 255.0);
        std[ch] = var > 0 ? (float)(sqrt(var) / 255.0) : 1.0f;
    }
}
