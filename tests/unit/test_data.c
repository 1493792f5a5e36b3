/* tests/unit/test_data.c — IDX and CIFAR-10 readers, --data specs, channel stats and batch
 * assembly (normalisation, crop, flip, determinism across seeds and thread counts). Every test
 * writes its own small files in a temp dir; one test reads the real Fashion-MNIST if installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "nn/data.h"
#include "nn/rng.h"
#include "tests/unit/testutil.h"

/* ---- file builders ---- */

static void write_maybe_gz(const char *path, int gz, const void *data, size_t len) {
    if (!gz) {
        tu_write_file(path, data, len);
        return;
    }
    gzFile f = gzopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(gzwrite(f, data, (unsigned)len), (int)len);
    assert_int_equal(gzclose(f), Z_OK);
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* An IDX image file with header (magic, n, h, w) followed by `len` pixel bytes. */
static void write_idx_images(const char *path, int gz, uint32_t magic, uint32_t n, uint32_t h, uint32_t w,
                             const uint8_t *pixels, size_t len) {
    unsigned char *buf = malloc(16 + len);
    assert_non_null(buf);
    put_be32(buf, magic);
    put_be32(buf + 4, n);
    put_be32(buf + 8, h);
    put_be32(buf + 12, w);
    if (len) memcpy(buf + 16, pixels, len);
    write_maybe_gz(path, gz, buf, 16 + len);
    free(buf);
}

static void write_idx_labels(const char *path, int gz, uint32_t n, const uint8_t *labels, size_t len) {
    unsigned char *buf = malloc(8 + len);
    assert_non_null(buf);
    put_be32(buf, 0x00000801);
    put_be32(buf + 4, n);
    if (len) memcpy(buf + 8, labels, len);
    write_maybe_gz(path, gz, buf, 8 + len);
    free(buf);
}

/* Pixel k of image i in the generated IDX sets. */
static uint8_t idx_pixel(int i, int k) { return (uint8_t)(i * 37 + k * 5 + 1); }

static uint8_t *make_pixels(int n, int per_image) {
    uint8_t *p = malloc((size_t)n * per_image);
    assert_non_null(p);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < per_image; k++) p[(size_t)i * per_image + k] = idx_pixel(i, k);
    return p;
}

/* A fake MNIST-style split: n images of h x w and labels i % 10. */
static void write_idx_split(const char *dir, const char *prefix, int gz, int n, int h, int w) {
    char path[4096], name[64];
    uint8_t *px = make_pixels(n, h * w);
    uint8_t labels[256];
    for (int i = 0; i < n; i++) labels[i] = (uint8_t)(i % 10);
    snprintf(name, sizeof name, "%s-images-idx3-ubyte%s", prefix, gz ? ".gz" : "");
    write_idx_images(tu_path(path, sizeof path, dir, name), gz, 0x803, (uint32_t)n, (uint32_t)h, (uint32_t)w, px,
                     (size_t)n * h * w);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte%s", prefix, gz ? ".gz" : "");
    write_idx_labels(tu_path(path, sizeof path, dir, name), gz, (uint32_t)n, labels, (size_t)n);
    free(px);
}

/* CIFAR-10 record r of a generated batch: label, then byte k of the pixels. */
static uint8_t cifar_label(int r) { return (uint8_t)((r * 3) % 10); }
static uint8_t cifar_pixel(int r, int k) { return (uint8_t)(r * 11 + k * 7 + (k >> 10)); }

/* A batch of `records` records numbered from r0. */
static void write_cifar_batch(const char *path, int r0, int records) {
    size_t len = (size_t)records * 3073;
    unsigned char *buf = malloc(len);
    assert_non_null(buf);
    for (int r = 0; r < records; r++) {
        buf[(size_t)r * 3073] = cifar_label(r0 + r);
        for (int k = 0; k < 3072; k++) buf[(size_t)r * 3073 + 1 + k] = cifar_pixel(r0 + r, k);
    }
    tu_write_file(path, buf, len);
    free(buf);
}

static void assert_contains(const char *msg, const char *part) {
    if (!strstr(msg, part)) fail_msg("message \"%s\" does not contain \"%s\"", msg, part);
}

/* Name, count, image shape and class count of a loaded split. */
static void assert_dataset(const Dataset *ds, const char *name, int n, int c, int h, int w) {
    assert_string_equal(ds->name, name);
    assert_int_equal(ds->n, n);
    assert_int_equal(ds->c, c);
    assert_int_equal(ds->h, h);
    assert_int_equal(ds->w, w);
    assert_int_equal(ds->num_classes, 10);
}

/* ---- IDX ---- */

static void test_idx_plain_and_gzip(void **state) {
    const char *dir = *state;
    char plain[4096], gz[4096], gz_noext[4096];
    const int n = 3, h = 2, w = 4;
    uint8_t *px = make_pixels(n, h * w);
    write_idx_images(tu_path(plain, sizeof plain, dir, "img"), 0, 0x803, n, h, w, px, (size_t)n * h * w);
    write_idx_images(tu_path(gz, sizeof gz, dir, "img.gz"), 1, 0x803, n, h, w, px, (size_t)n * h * w);
    /* gzip content under a name without .gz: detected by content */
    write_idx_images(tu_path(gz_noext, sizeof gz_noext, dir, "img-really-gz"), 1, 0x803, n, h, w, px,
                     (size_t)n * h * w);
    size_t len;
    unsigned char *raw = tu_read_file(gz_noext, &len);
    assert_non_null(raw);
    assert_true(len > 2 && raw[0] == 0x1f && raw[1] == 0x8b);
    free(raw);

    const char *paths[3] = {plain, gz, gz_noext};
    for (int p = 0; p < 3; p++) {
        uint8_t *img = NULL;
        int rn = 0, rh = 0, rw = 0;
        Err err = {{0}};
        assert_int_equal(idx_read_images(paths[p], &img, &rn, &rh, &rw, &err), 0);
        assert_int_equal(rn, n);
        assert_int_equal(rh, h);
        assert_int_equal(rw, w);
        assert_memory_equal(img, px, (size_t)n * h * w);
        free(img);
    }
    free(px);

    uint8_t labels[5] = {9, 0, 3, 3, 7}, *got = NULL;
    int gn = 0;
    Err err;
    for (int g = 0; g < 2; g++) {
        write_idx_labels(tu_path(plain, sizeof plain, dir, g ? "lbl.gz" : "lbl"), g, 5, labels, 5);
        assert_int_equal(idx_read_labels(plain, 10, &got, &gn, &err), 0);
        assert_int_equal(gn, 5);
        assert_memory_equal(got, labels, 5);
        free(got);
    }
}

static void test_idx_wrong_magic(void **state) {
    const char *dir = *state;
    char path[4096];
    uint8_t px[4] = {1, 2, 3, 4};
    Err err = {{0}};
    uint8_t *img = NULL;
    int n, h, w;
    /* a label file's magic where images are expected */
    write_idx_images(tu_path(path, sizeof path, dir, "images.gz"), 1, 0x801, 1, 2, 2, px, 4);
    assert_int_equal(idx_read_images(path, &img, &n, &h, &w, &err), -1);
    assert_null(img);
    assert_contains(err.msg, path);
    assert_contains(err.msg, "offset 0: wrong magic 0x00000801");
    /* arbitrary bytes */
    tu_write_file(path, "hello world, not idx", 20);
    assert_int_equal(idx_read_images(path, &img, &n, &h, &w, &err), -1);
    assert_contains(err.msg, "offset 0: wrong magic");
    uint8_t *lbl = NULL;
    assert_int_equal(idx_read_labels(path, 10, &lbl, &n, &err), -1);
    assert_null(lbl);
    assert_contains(err.msg, "wrong magic");
}

static void test_idx_truncated(void **state) {
    const char *dir = *state;
    char path[4096];
    uint8_t *px = make_pixels(3, 8);
    Err err = {{0}};
    uint8_t *img = NULL;
    int n, h, w;
    for (int gz = 0; gz < 2; gz++) {
        /* header says 3 images of 2x4, only 2 present */
        write_idx_images(tu_path(path, sizeof path, dir, gz ? "t.gz" : "t"), gz, 0x803, 3, 2, 4, px, 16);
        assert_int_equal(idx_read_images(path, &img, &n, &h, &w, &err), -1);
        assert_null(img);
        assert_contains(err.msg, path);
        assert_contains(err.msg, "offset 16+16: truncated");
        /* one byte too many */
        uint8_t more[25];
        memcpy(more, px, 24);
        more[24] = 0;
        write_idx_images(path, gz, 0x803, 3, 2, 4, more, 25);
        assert_int_equal(idx_read_images(path, &img, &n, &h, &w, &err), -1);
        assert_contains(err.msg, "offset 16+24: unexpected data");
    }
    /* header cut short */
    unsigned char hdr[10] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0};
    tu_write_file(path, hdr, sizeof hdr);
    assert_int_equal(idx_read_images(path, &img, &n, &h, &w, &err), -1);
    assert_contains(err.msg, "offset 10: truncated");
    /* a gzip stream cut in half, and one with a damaged byte */
    char full[4096];
    uint8_t noise[50 * 64];
    Rng rng;
    rng_seed(&rng, 1);
    for (size_t k = 0; k < sizeof noise; k++) noise[k] = (uint8_t)rng_next(&rng);
    write_idx_images(tu_path(full, sizeof full, dir, "full.gz"), 1, 0x803, 50, 8, 8, noise, sizeof noise);
    size_t len;
    unsigned char *raw = tu_read_file(full, &len);
    assert_non_null(raw);
    assert_true(len > 3000);
    tu_write_file(path, raw, len / 2);
    assert_int_equal(idx_read_images(path, &img, &n, &h, &w, &err), -1);
    assert_contains(err.msg, path);
    assert_contains(err.msg, "truncated");
    assert_contains(err.msg, "(the gzip stream is cut short)");
    assert_null(img);
    raw[len - 6] ^= 0xff; /* inside the CRC-32 trailer */
    tu_write_file(path, raw, len);
    free(raw);
    assert_int_equal(idx_read_images(path, &img, &n, &h, &w, &err), -1);
    assert_contains(err.msg, path);
    assert_contains(err.msg, "cannot read: corrupt gzip data (incorrect data check)");
    assert_null(img);
    free(px);
}

static void test_idx_label_out_of_range(void **state) {
    const char *dir = *state;
    char path[4096], want[4200];
    uint8_t labels[20] = {0};
    labels[12] = 12;
    uint8_t *got = NULL;
    int n;
    Err err = {{0}};
    for (int gz = 0; gz < 2; gz++) {
        write_idx_labels(tu_path(path, sizeof path, dir, gz ? "train-labels-idx1-ubyte.gz" : "lbl"), gz, 20, labels,
                         20);
        assert_int_equal(idx_read_labels(path, 10, &got, &n, &err), -1);
        assert_null(got);
        snprintf(want, sizeof want, "%s: offset 8+12: label 12 out of range 0..9", path);
        assert_string_equal(err.msg, want);
    }
    /* the boundary: label 10 of 10 classes is out, 9 is in */
    labels[12] = 10;
    write_idx_labels(path, 0, 20, labels, 20);
    assert_int_equal(idx_read_labels(path, 10, &got, &n, &err), -1);
    assert_contains(err.msg, "offset 8+12: label 10 out of range 0..9");
    labels[12] = 12;
    write_idx_labels(path, 0, 20, labels, 20);
    /* the same file is fine with 13 classes */
    assert_int_equal(idx_read_labels(path, 13, &got, &n, &err), 0);
    assert_int_equal(n, 20);
    assert_int_equal(got[12], 12);
    free(got);
    /* label count disagrees with the data */
    write_idx_labels(path, 0, 21, labels, 20);
    assert_int_equal(idx_read_labels(path, 13, &got, &n, &err), -1);
    assert_contains(err.msg, "offset 8+20: truncated");
}

static void test_idx_bad_dims(void **state) {
    const char *dir = *state;
    char path[4096];
    uint8_t px[4] = {0};
    uint8_t *img = NULL;
    int n, h, w;
    Err err = {{0}};
    tu_path(path, sizeof path, dir, "img");
    write_idx_images(path, 0, 0x803, 0, 2, 2, px, 0);
    assert_int_equal(idx_read_images(path, &img, &n, &h, &w, &err), -1);
    assert_contains(err.msg, "offset 4: image count 0");
    write_idx_images(path, 0, 0x803, 1, 0, 2, px, 0);
    assert_int_equal(idx_read_images(path, &img, &n, &h, &w, &err), -1);
    assert_contains(err.msg, "offset 8: image height 0");
    write_idx_images(path, 0, 0x803, 1, 2, 70000, px, 4);
    assert_int_equal(idx_read_images(path, &img, &n, &h, &w, &err), -1);
    assert_contains(err.msg, "offset 12: image width 70000");
    write_idx_images(path, 0, 0x803, 0x80000000u, 2, 2, px, 4);
    assert_int_equal(idx_read_images(path, &img, &n, &h, &w, &err), -1);
    assert_contains(err.msg, "offset 4: image count 2147483648");
    /* a huge but representable count over 4 bytes of data: refused as truncated */
    write_idx_images(path, 1, 0x803, 0x7fffffffu, 65535, 65535, px, 4);
    assert_int_equal(idx_read_images(path, &img, &n, &h, &w, &err), -1);
    assert_contains(err.msg, "offset 16+4: truncated");
    assert_null(img);
}

/* ---- CIFAR-10 ---- */

static void assert_cifar_record(const Dataset *ds, int i, int r) {
    assert_int_equal(ds->labels[i], cifar_label(r));
    for (int ch = 0; ch < 3; ch++)
        for (int y = 0; y < 32; y += 7)
            for (int x = 0; x < 32; x += 5)
                assert_int_equal(ds->images[((size_t)(i * 3 + ch) * 32 + y) * 32 + x],
                                 cifar_pixel(r, ch * 1024 + y * 32 + x));
}

static void test_cifar_two_batches(void **state) {
    const char *dir = *state;
    char a[4096], b[4096];
    write_cifar_batch(tu_path(a, sizeof a, dir, "data_batch_1.bin"), 0, 3);
    write_cifar_batch(tu_path(b, sizeof b, dir, "data_batch_2.bin"), 3, 2);
    Dataset ds;
    memset(&ds, 0, sizeof ds);
    Err err = {{0}};
    assert_int_equal(cifar10_read_batch(a, &ds, &err), 0);
    assert_int_equal(ds.n, 3);
    assert_int_equal(cifar10_read_batch(b, &ds, &err), 0);
    assert_int_equal(ds.n, 5);
    assert_int_equal(ds.c, 3);
    assert_int_equal(ds.h, 32);
    assert_int_equal(ds.w, 32);
    assert_int_equal(ds.num_classes, 10);
    for (int i = 0; i < 5; i++) assert_cifar_record(&ds, i, i);
    /* last byte of the last record: blue channel, pixel (31, 31) */
    assert_int_equal(ds.images[5 * 3072 - 1], cifar_pixel(4, 3071));
    dataset_free(&ds);
    assert_null(ds.images);
    assert_int_equal(ds.n, 0);
}

static void test_cifar_bad_size_and_label(void **state) {
    const char *dir = *state;
    char good[4096], path[4096];
    write_cifar_batch(tu_path(good, sizeof good, dir, "good.bin"), 0, 2);
    Dataset ds;
    memset(&ds, 0, sizeof ds);
    Err err = {{0}};
    assert_int_equal(cifar10_read_batch(good, &ds, &err), 0);

    size_t len;
    unsigned char *raw = tu_read_file(good, &len);
    assert_non_null(raw);
    /* 2 records and 100 stray bytes */
    unsigned char *longer = calloc(1, len + 100);
    assert_non_null(longer);
    memcpy(longer, raw, len);
    tu_write_file(tu_path(path, sizeof path, dir, "short.bin"), longer, len + 100);
    assert_int_equal(cifar10_read_batch(path, &ds, &err), -1);
    assert_contains(err.msg, path);
    assert_contains(err.msg, "offset 6146: size 6246 is not a positive multiple of 3073");
    free(longer);
    tu_write_file(path, raw, 0);
    assert_int_equal(cifar10_read_batch(path, &ds, &err), -1);
    assert_contains(err.msg, "size 0");

    /* label 10 in the second record */
    raw[3073] = 10;
    tu_write_file(tu_path(path, sizeof path, dir, "badlabel.bin"), raw, len);
    assert_int_equal(cifar10_read_batch(path, &ds, &err), -1);
    assert_contains(err.msg, path);
    assert_contains(err.msg, "offset 3073: label 10 out of range 0..9");
    free(raw);
    /* failed reads leave the dataset as it was */
    assert_int_equal(ds.n, 2);
    assert_cifar_record(&ds, 1, 1);

    assert_int_equal(cifar10_read_batch("/nonexistent/dynn/batch.bin", &ds, &err), -1);
    assert_contains(err.msg, "/nonexistent/dynn/batch.bin: cannot open");
    dataset_free(&ds);
}

/* ---- dataset_load ---- */

static void test_load_fake_mnist_dir(void **state) {
    const char *dir = *state;
    write_idx_split(dir, "train", 1, 12, 3, 5); /* gzip */
    write_idx_split(dir, "t10k", 0, 4, 3, 5);   /* plain */
    const char *names[2] = {"fashion-mnist", "mnist"};
    for (int s = 0; s < 2; s++) {
        char spec[4200];
        snprintf(spec, sizeof spec, "%s:%s", names[s], dir);
        Dataset train, test;
        Err err = {{0}};
        assert_int_equal(dataset_load(spec, &train, &test, &err), 0);
        assert_dataset(&train, names[s], 12, 1, 3, 5);
        assert_dataset(&test, names[s], 4, 1, 3, 5);
        assert_string_equal(train.source, dir);
        for (int i = 0; i < 12; i++) {
            assert_int_equal(train.labels[i], i % 10);
            assert_int_equal(train.images[i * 15 + 7], idx_pixel(i, 7));
        }
        dataset_limit(&train, 5);
        assert_int_equal(train.n, 5);
        assert_int_equal(train.images[4 * 15 + 14], idx_pixel(4, 14));
        dataset_limit(&train, 0);
        dataset_limit(&train, 99);
        assert_int_equal(train.n, 5);
        dataset_free(&train);
        dataset_free(&test);
    }
}

static void test_load_errors(void **state) {
    const char *dir = *state;
    char spec[4200], path[4096];
    Dataset train, test;
    Err err = {{0}};
    assert_int_equal(dataset_load("fashion:/x", &train, &test, &err), -1);
    assert_contains(err.msg, "unknown dataset 'fashion'");
    assert_int_equal(dataset_load("mnist", &train, &test, &err), -1);
    assert_contains(err.msg, "mnist needs a directory");
    assert_int_equal(dataset_load("cifar10", &train, &test, &err), -1);
    assert_contains(err.msg, "data_batch_1.bin");
    assert_int_equal(dataset_load("fashion-mnist:", &train, &test, &err), -1);
    assert_contains(err.msg, "empty directory");
    assert_int_equal(dataset_load("fashion-mnist:/nonexistent/dynn", &train, &test, &err), -1);
    assert_contains(err.msg, "/nonexistent/dynn: no such directory");
    assert_contains(err.msg, "train-images-idx3-ubyte.gz");

    /* train present, test labels missing */
    write_idx_split(dir, "train", 1, 4, 2, 2);
    write_idx_split(dir, "t10k", 1, 4, 2, 2);
    assert_int_equal(remove(tu_path(path, sizeof path, dir, "t10k-labels-idx1-ubyte.gz")), 0);
    snprintf(spec, sizeof spec, "mnist:%s", dir);
    assert_int_equal(dataset_load(spec, &train, &test, &err), -1);
    assert_contains(err.msg, dir);
    assert_contains(err.msg, "missing t10k-labels-idx1-ubyte.gz");
    assert_null(train.images); /* the loaded train split was released */

    /* 4 test images but 3 labels */
    uint8_t labels[3] = {1, 2, 3};
    write_idx_labels(path, 1, 3, labels, 3);
    assert_int_equal(dataset_load(spec, &train, &test, &err), -1);
    assert_contains(err.msg, "holds 4 images but");
    assert_contains(err.msg, "holds 3 labels");

    /* test images of another size */
    write_idx_split(dir, "t10k", 1, 4, 3, 2);
    assert_int_equal(dataset_load(spec, &train, &test, &err), -1);
    assert_contains(err.msg, "train images are 2x2 but test images are 3x2");
}

static void test_load_cifar10_dir(void **state) {
    const char *root = *state;
    char dir[4096], path[4096], spec[4200], name[32];
    /* inside cifar-10-batches-bin, as the archive extracts */
    assert_int_equal(mkdir(tu_path(dir, sizeof dir, root, "cifar-10-batches-bin"), 0700), 0);
    int r0 = 0;
    for (int b = 1; b <= 5; b++) {
        snprintf(name, sizeof name, "data_batch_%d.bin", b);
        write_cifar_batch(tu_path(path, sizeof path, dir, name), r0, b % 2 + 1);
        r0 += b % 2 + 1;
    }
    write_cifar_batch(tu_path(path, sizeof path, dir, "test_batch.bin"), 100, 2);
    for (int level = 0; level < 2; level++) {
        snprintf(spec, sizeof spec, "cifar10:%s", level ? root : dir);
        Dataset train, test;
        Err err = {{0}};
        assert_int_equal(dataset_load(spec, &train, &test, &err), 0);
        assert_dataset(&train, "cifar10", r0, 3, 32, 32);
        assert_dataset(&test, "cifar10", 2, 3, 32, 32);
        assert_string_equal(train.source, dir);
        for (int i = 0; i < r0; i++) assert_cifar_record(&train, i, i);
        assert_cifar_record(&test, 1, 101);
        dataset_free(&train);
        dataset_free(&test);
    }
    assert_int_equal(remove(path), 0); /* test_batch.bin */
    Dataset train, test;
    Err err = {{0}};
    assert_int_equal(dataset_load(spec, &train, &test, &err), -1);
    assert_contains(err.msg, "missing test_batch.bin");
    assert_null(train.images);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void test_load_real_fashion_mnist(void **state) {
    (void)state;
    if (!tu_file_exists("/usr/share/datasets/fashion-mnist")) {
        print_message("/usr/share/datasets/fashion-mnist missing (Debian package dataset-fashion-mnist)\n");
        skip();
    }
    Dataset train, test;
    Err err = {{0}};
    double t0 = now_s();
    int rc = dataset_load("fashion-mnist", &train, &test, &err);
    double t1 = now_s();
    if (rc) fail_msg("%s", err.msg);
    print_message("loaded Fashion-MNIST (60000 + 10000 images) in %.3f s\n", t1 - t0);
    assert_string_equal(train.source, "/usr/share/datasets/fashion-mnist");
    assert_dataset(&train, "fashion-mnist", 60000, 1, 28, 28);
    assert_dataset(&test, "fashion-mnist", 10000, 1, 28, 28);
    assert_int_equal(train.labels[0], 9);
    assert_int_equal(train.labels[3], 3);
    assert_int_equal(test.labels[0], 9);
    assert_int_equal(test.labels[2], 1);
    int count[10] = {0};
    for (int i = 0; i < train.n; i++) {
        assert_true(train.labels[i] < 10);
        count[train.labels[i]]++;
    }
    for (int k = 0; k < 10; k++) assert_int_equal(count[k], 6000);
    long sum = 0;
    for (int k = 0; k < 784; k++) sum += train.images[k];
    assert_int_equal(sum, 76247);
    float mean, std;
    dataset_channel_stats(&train, &mean, &std);
    assert_float_equal(mean, 0.28604f, 1e-4);
    assert_float_equal(std, 0.35302f, 1e-4);
    dataset_free(&train);
    dataset_free(&test);
}

/* ---- channel stats ---- */

static void test_channel_stats(void **state) {
    (void)state;
    /* 2 images, 2 channels of 2x1: channel 0 holds 0,255,0,255; channel 1 is constant 51 */
    uint8_t images[8] = {0, 255, 51, 51, 255, 0, 51, 51}, labels[2] = {0, 1};
    Dataset ds = {.n = 2, .c = 2, .h = 2, .w = 1, .num_classes = 2, .images = images, .labels = labels};
    float mean[2], std[2];
    dataset_channel_stats(&ds, mean, std);
    assert_float_equal(mean[0], 0.5f, 1e-7);
    assert_float_equal(std[0], 0.5f, 1e-7);
    assert_float_equal(mean[1], 0.2f, 1e-7);
    assert_true(std[1] == 1.0f); /* no variance: 1 keeps normalisation finite */
}

/* ---- batch assembly ---- */

static void test_batch_normalization_exact(void **state) {
    (void)state;
    /* 2 samples of 2 channels, 2x2 */
    uint8_t images[16] = {0, 255, 51, 128, /* sample 0 ch 0 */ 255, 0, 0, 255, /* ch 1 */
                          255, 255, 0, 0,  /* sample 1 ch 0 */ 0, 0, 255, 51};
    uint8_t labels[2] = {4, 7};
    Dataset ds = {.n = 2, .c = 2, .h = 2, .w = 2, .num_classes = 10, .images = images, .labels = labels};
    const float mean[2] = {0.5f, 0.25f}, std[2] = {0.25f, 0.5f};
    const int idx[3] = {1, 0, 1};
    float out[3 * 8];
    int lab[3];
    batch_assemble(out, lab, &ds, idx, 3, NULL, mean, std, 1, 0, 0);
    assert_int_equal(lab[0], 7);
    assert_int_equal(lab[1], 4);
    assert_int_equal(lab[2], 7);
    /* hand-computed: channel 0 (x - 0.5) / 0.25, channel 1 (x - 0.25) / 0.5 */
    const float want0[8] = {2, 2, -2, -2, -0.5f, -0.5f, 1.5f, 0};
    for (int k = 0; k < 7; k++) assert_true(out[k] == want0[k]);
    assert_true(out[16 + 3] == out[3]); /* the same sample twice */
    /* 51/255 = 0.2: (0.2 - 0.25) / 0.5 = -0.1, exact to float rounding of the documented formula */
    assert_float_equal(out[7], -0.1f, 1e-6);
    assert_true(out[7] == ((float)51 / 255.0f - 0.25f) / 0.5f);
    assert_true(out[8 + 2] == ((float)51 / 255.0f - 0.5f) / 0.25f);
    assert_true(out[8 + 3] == ((float)128 / 255.0f - 0.5f) / 0.25f);
    assert_true(out[8 + 0] == -2 && out[8 + 1] == 2 && out[8 + 4] == 1.5f && out[8 + 5] == -0.5f);
}

/* A 1-channel 5x6 image with distinct non-zero pixels 1 + y*6 + x. */
#define IH 5
#define IW 6
static uint8_t test_image[IH * IW];
static void init_test_image(void) {
    for (int k = 0; k < IH * IW; k++) test_image[k] = (uint8_t)(1 + k);
}

/* The documented mapping: out(y, x) = padded(y + dy - pad, xs + dx - pad), xs = flip ? w-1-x : x. */
static int matches(const float *out, int pad, int dy, int dx, int flip, float mean, float std) {
    for (int y = 0; y < IH; y++)
        for (int x = 0; x < IW; x++) {
            int sy = y + dy - pad, sx = (flip ? IW - 1 - x : x) + dx - pad;
            uint8_t v = sy >= 0 && sy < IH && sx >= 0 && sx < IW ? test_image[sy * IW + sx] : 0;
            if (out[y * IW + x] != ((float)v / 255.0f - mean) / std) return 0;
        }
    return 1;
}

static void test_batch_crop_and_flip_positions(void **state) {
    (void)state;
    init_test_image();
    uint8_t label = 3;
    Dataset ds = {.n = 1, .c = 1, .h = IH, .w = IW, .num_classes = 10, .images = test_image, .labels = &label};
    const float mean = 0.25f, std = 0.5f;
    enum { B = 400, PAD = 2 };
    static float out[B * IH * IW];
    static int idx[B], lab[B];
    for (int cfg = 0; cfg < 3; cfg++) {
        Augment aug = {.crop_pad = cfg == 1 ? 0 : PAD, .flip = cfg != 0};
        batch_assemble(out, lab, &ds, idx, B, &aug, &mean, &std, 42, 3, 1000);
        int seen[2 * PAD + 1][2 * PAD + 1][2] = {{{0}}};
        int flips = 0;
        for (int i = 0; i < B; i++) {
            const float *o = out + i * IH * IW;
            assert_int_equal(lab[i], 3);
            /* exactly the offsets and flip bit the documented draw order gives */
            Rng r;
            rng_derive(&r, 42, 3, 1000 + (uint64_t)i);
            int dy = aug.crop_pad, dx = aug.crop_pad, flip = 0;
            if (aug.crop_pad) {
                dy = (int)rng_below(&r, 2 * PAD + 1);
                dx = (int)rng_below(&r, 2 * PAD + 1);
            }
            if (aug.flip) flip = (int)(rng_next(&r) >> 63);
            assert_true(matches(o, aug.crop_pad, dy, dx, flip, mean, std));
            /* and no other placement gives this image (pixels are distinct) */
            int others = 0;
            for (int a = 0; a <= 2 * aug.crop_pad; a++)
                for (int b = 0; b <= 2 * aug.crop_pad; b++)
                    for (int f = 0; f <= aug.flip; f++)
                        if ((a != dy || b != dx || f != flip) && matches(o, aug.crop_pad, a, b, f, mean, std)) others++;
            assert_int_equal(others, 0);
            seen[dy][dx][flip]++;
            flips += flip;
        }
        if (aug.flip) assert_true(flips > B / 2 - 60 && flips < B / 2 + 60);
        else assert_int_equal(flips, 0);
        if (aug.crop_pad)
            for (int a = 0; a <= 2 * PAD; a++)
                for (int b = 0; b <= 2 * PAD; b++) assert_true(seen[a][b][0] + seen[a][b][1] > 0);
    }
    /* a hand check of one shifted and mirrored placement: dy=0, dx=4, pad 2, flipped */
    float one[IH * IW];
    const float zero = (0.0f - mean) / std;
    for (int y = 0; y < IH; y++)
        for (int x = 0; x < IW; x++) {
            /* shift down by 2 (rows 0,1 padded), mirrored then shifted left by 2 */
            int sy = y - 2, sx = (IW - 1 - x) + 2;
            one[y * IW + x] = sy >= 0 && sx < IW ? ((float)test_image[sy * IW + sx] / 255.0f - mean) / std : zero;
        }
    assert_true(matches(one, 2, 0, 4, 1, mean, std));
    assert_true(one[0] == zero && one[2 * IW + 0] == zero && one[2 * IW + 1] == zero);
    assert_true(one[2 * IW + 2] == ((float)test_image[0 * IW + 5] / 255.0f - mean) / std);
}

static uint8_t *random_images(int n, int per_image, uint64_t seed) {
    uint8_t *p = malloc((size_t)n * per_image);
    assert_non_null(p);
    Rng r;
    rng_seed(&r, seed);
    for (size_t k = 0; k < (size_t)n * per_image; k++) p[k] = (uint8_t)rng_next(&r);
    return p;
}

static void test_batch_deterministic(void **state) {
    (void)state;
    enum { N = 96, C = 3, H = 8, W = 8, BS = 64 };
    uint8_t *images = random_images(N, C * H * W, 7);
    uint8_t labels[N];
    for (int i = 0; i < N; i++) labels[i] = (uint8_t)(i % 10);
    Dataset ds = {.n = N, .c = C, .h = H, .w = W, .num_classes = 10, .images = images, .labels = labels};
    float mean[C], std[C];
    dataset_channel_stats(&ds, mean, std);
    int idx[BS];
    Rng r;
    rng_seed(&r, 5);
    for (int i = 0; i < BS; i++) idx[i] = (int)rng_below(&r, N);
    Augment aug = {.crop_pad = 2, .flip = 1};
    size_t len = (size_t)BS * C * H * W;
    float *a = malloc(len * sizeof(float)), *b = malloc(len * sizeof(float));
    int la[BS], lb[BS];
    assert_true(a && b);

    batch_assemble(a, la, &ds, idx, BS, &aug, mean, std, 11, 2, 128);
    batch_assemble(b, lb, &ds, idx, BS, &aug, mean, std, 11, 2, 128);
    assert_memory_equal(a, b, len * sizeof(float));
    assert_memory_equal(la, lb, sizeof la);
    for (int i = 0; i < BS; i++) assert_int_equal(la[i], labels[idx[i]]);

    /* another seed, epoch or position changes the augmentation */
    batch_assemble(b, lb, &ds, idx, BS, &aug, mean, std, 12, 2, 128);
    assert_true(memcmp(a, b, len * sizeof(float)) != 0);
    batch_assemble(b, lb, &ds, idx, BS, &aug, mean, std, 11, 3, 128);
    assert_true(memcmp(a, b, len * sizeof(float)) != 0);

    /* sample i of a batch starting at position p is sample 0 of a batch starting at p + i */
    for (int i = 0; i < BS; i += 9) {
        float one[C * H * W];
        int l;
        batch_assemble(one, &l, &ds, &idx[i], 1, &aug, mean, std, 11, 2, 128 + (uint64_t)i);
        assert_memory_equal(one, a + (size_t)i * C * H * W, sizeof one);
    }

    /* 1, 2 and 3 threads give the same bytes */
    int saved = omp_get_max_threads();
    for (int t = 1; t <= 3; t++) {
        omp_set_num_threads(t);
        memset(b, 0, len * sizeof(float));
        batch_assemble(b, lb, &ds, idx, BS, &aug, mean, std, 11, 2, 128);
        assert_memory_equal(a, b, len * sizeof(float));
        assert_memory_equal(la, lb, sizeof la);
    }
    omp_set_num_threads(saved);
    free(a);
    free(b);
    free(images);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_idx_plain_and_gzip, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_idx_wrong_magic, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_idx_truncated, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_idx_label_out_of_range, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_idx_bad_dims, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_cifar_two_batches, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_cifar_bad_size_and_label, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_load_fake_mnist_dir, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_load_errors, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_load_cifar10_dir, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test(test_load_real_fashion_mnist),
        cmocka_unit_test(test_channel_stats),
        cmocka_unit_test(test_batch_normalization_exact),
        cmocka_unit_test(test_batch_crop_and_flip_positions),
        cmocka_unit_test(test_batch_deterministic),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    /* Stop libgomp's pool threads, whose TLS valgrind would otherwise report as possibly lost. */
    omp_pause_resource_all(omp_pause_hard);
    return failed;
}
