/* nn/data_idx.c — the IDX reader (MNIST, Fashion-MNIST): uint8 image files (magic 0x00000803,
 * dims n, h, w) and label files (magic 0x00000801, dim n), big-endian header, gzip or plain.
 *
 * Files are read through zlib's gzopen/gzread, which decompresses a gzip stream and passes any
 * other file through unchanged, so the format is detected by content, not by the ".gz" suffix.
 * Byte offsets in messages count in the decompressed stream ("offset 8+12" is byte 12 after the
 * 8-byte header). The payload buffer grows as data actually arrives, so a corrupt count in the
 * header cannot make us allocate more than about twice the real file content. */
#include "nn/data.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_MAGIC_LABELS 0x00000801u
#define IDX_MAGIC_IMAGES 0x00000803u
#define IDX_MAX_SIDE 65535u          /* an image side beyond this is a corrupt header */
#define IDX_FIRST_ALLOC (16u << 20)  /* payload buffer starts here and doubles */
#define IDX_READ_CHUNK (1u << 30)    /* gzread takes an unsigned int length */

typedef struct IdxFile {
    const char *path;
    gzFile gz;
    int cut_short; /* the gzip stream ended before its trailer */
} IdxFile;

static int idx_open(IdxFile *f, const char *path, Err *err) {
    f->path = path;
    f->cut_short = 0;
    errno = 0;
    f->gz = gzopen(path, "rb");
    if (!f->gz)
        return err_set(err, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
    gzbuffer(f->gz, 1u << 18);
    return 0;
}

static void idx_close(IdxFile *f) {
    if (f->gz) gzclose(f->gz);
    f->gz = NULL;
}

/* Reads up to len bytes at decompressed offset `at` (for messages). Returns how many were read
 * (fewer at the end of the data, including a gzip stream cut short, which zlib reports as
 * Z_BUF_ERROR) or -1 with err filled when the file cannot be read or the gzip data is corrupt. */
static int64_t idx_read(IdxFile *f, void *buf, size_t len, uint64_t at, Err *err) {
    size_t got = 0;
    while (got < len) {
        size_t want = len - got < IDX_READ_CHUNK ? len - got : IDX_READ_CHUNK;
        int r = gzread(f->gz, (char *)buf + got, (unsigned)want);
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        int code;
        const char *msg = gzerror(f->gz, &code);
        if (code == Z_OK || code == Z_BUF_ERROR) {
            f->cut_short = code == Z_BUF_ERROR;
            break;
        }
        if (code == Z_ERRNO)
            return err_set(err, "%s: offset %llu: cannot read: %s", f->path, (unsigned long long)(at + got),
                           strerror(errno));
        /* zlib prefixes its message with the path */
        size_t plen = strlen(f->path);
        if (strncmp(msg, f->path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0) msg += plen + 2;
        return err_set(err, "%s: offset %llu: cannot read: corrupt gzip data (%s) at or after this offset", f->path,
                       (unsigned long long)(at + got), msg);
    }
    return (int64_t)got;
}

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *idx_magic_name(uint32_t magic) {
    if (magic == IDX_MAGIC_IMAGES) return "an IDX image file";
    if (magic == IDX_MAGIC_LABELS) return "an IDX label file";
    if ((magic >> 16) == 0x1f8b) return "a corrupt gzip file";
    return "not an IDX file";
}

/* Reads the magic and ndim big-endian u32 dimensions that follow it. */
static int idx_read_header(IdxFile *f, uint32_t magic, int ndim, uint32_t *dims, Err *err) {
    unsigned char hdr[16];
    size_t len = 4 + 4 * (size_t)ndim;
    int64_t got = idx_read(f, hdr, len, 0, err);
    if (got < 0) return -1;
    if (got < 4)
        return err_set(err, "%s: offset %lld: truncated: the file ends inside the 4-byte magic",
                       f->path, (long long)got);
    uint32_t m = be32(hdr);
    if (m != magic)
        return err_set(err, "%s: offset 0: wrong magic 0x%08x (%s), expected 0x%08x (%s)", f->path, m,
                       idx_magic_name(m), magic, idx_magic_name(magic));
    if ((size_t)got < len)
        return err_set(err, "%s: offset %lld: truncated: the header needs %zu bytes", f->path,
                       (long long)got, len);
    for (int i = 0; i < ndim; i++) dims[i] = be32(hdr + 4 + 4 * i);
    return 0;
}

/* Reads exactly `total` payload bytes after a header of hdr_len bytes, then checks that nothing
 * follows. `what` describes the payload for messages ("60000 images of 28x28"). */
static int idx_read_payload(IdxFile *f, size_t hdr_len, size_t total, const char *what, uint8_t **out,
                            Err *err) {
    size_t cap = total < IDX_FIRST_ALLOC ? total : IDX_FIRST_ALLOC;
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf) return err_set(err, "%s: out of memory for %zu bytes", f->path, cap);
    size_t got = 0;
    while (got < total) {
        if (got == cap) {
            size_t ncap = cap > total / 2 ? total : cap * 2;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                return err_set(err, "%s: out of memory for %zu bytes", f->path, ncap);
            }
            buf = nb;
            cap = ncap;
        }
        int64_t r = idx_read(f, buf + got, cap - got, hdr_len + got, err);
        if (r < 0) {
            free(buf);
            return -1;
        }
        got += (size_t)r;
        if (got < cap) break; /* end of data */
    }
    if (got < total) {
        free(buf);
        return err_set(err,
                       "%s: offset %zu+%zu: truncated: %s need %zu bytes after the header, the data ends after %zu%s",
                       f->path, hdr_len, got, what, total, got,
                       f->cut_short ? " (the gzip stream is cut short)" : "");
    }
    unsigned char extra;
    int64_t r = idx_read(f, &extra, 1, hdr_len + total, err);
    if (r != 0) {
        free(buf);
        if (r < 0) return -1;
        return err_set(err, "%s: offset %zu+%zu: unexpected data after the %s the header announces",
                       f->path, hdr_len, total, what);
    }
    *out = buf;
    return 0;
}

int idx_read_images(const char *path, uint8_t **images, int *n, int *h, int *w, Err *err) {
    IdxFile f;
    if (idx_open(&f, path, err)) return -1;
    uint32_t d[3] = {0};
    if (idx_read_header(&f, IDX_MAGIC_IMAGES, 3, d, err)) goto fail;
    if (d[0] == 0 || d[0] > INT_MAX) {
        err_set(err, "%s: offset 4: image count %u out of range 1..%d", path, d[0], INT_MAX);
        goto fail;
    }
    for (int i = 1; i < 3; i++)
        if (d[i] == 0 || d[i] > IDX_MAX_SIDE) {
            err_set(err, "%s: offset %d: image %s %u out of range 1..%u", path, 4 + 4 * i,
                    i == 1 ? "height" : "width", d[i], IDX_MAX_SIDE);
            goto fail;
        }
    char what[96];
    snprintf(what, sizeof what, "%u images of %ux%u", d[0], d[1], d[2]);
    if (idx_read_payload(&f, 16, (size_t)d[0] * d[1] * d[2], what, images, err)) goto fail;
    idx_close(&f);
    *n = (int)d[0];
    *h = (int)d[1];
    *w = (int)d[2];
    return 0;
fail:
    idx_close(&f);
    return -1;
}

int idx_read_labels(const char *path, int num_classes, uint8_t **labels, int *n, Err *err) {
    IdxFile f;
    if (idx_open(&f, path, err)) return -1;
    uint32_t d[1] = {0};
    uint8_t *buf = NULL;
    if (idx_read_header(&f, IDX_MAGIC_LABELS, 1, d, err)) goto fail;
    if (d[0] == 0 || d[0] > INT_MAX) {
        err_set(err, "%s: offset 4: label count %u out of range 1..%d", path, d[0], INT_MAX);
        goto fail;
    }
    char what[64];
    snprintf(what, sizeof what, "%u labels", d[0]);
    if (idx_read_payload(&f, 8, d[0], what, &buf, err)) goto fail;
    for (uint32_t i = 0; i < d[0]; i++)
        if ((int)buf[i] >= num_classes) {
            err_set(err, "%s: offset 8+%u: label %u out of range 0..%d", path, i, buf[i], num_classes - 1);
            goto fail;
        }
    idx_close(&f);
    *labels = buf;
    *n = (int)d[0];
    return 0;
fail:
    free(buf);
    idx_close(&f);
    return -1;
}
