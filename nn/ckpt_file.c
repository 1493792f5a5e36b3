/* nn/ckpt_file.c — the checkpoint container (layout in ckpt_file.h and docs/FORMATS.md): writing
 * it atomically, reading it back with every field checked.
 *
 * The reader never trusts a size field: every length is checked against the bytes left in the file
 * (file size from fstat) before anything is allocated, so a corrupt header is refused with a message
 * instead of a huge allocation. All integers and floats are little-endian on disk; the CRC-32
 * (zlib) of a tensor covers its data bytes as stored. */
#include "nn/ckpt_file.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "util/atomic_file.h"

#define CKPT_MAGIC "DYNNCKPT"
#define CKPT_END "DYNNEND" /* with its NUL: 8 bytes */
#define CKPT_TAG_LEN 8
#define CKPT_HEADER_LEN 28  /* magic, version, n_tensors, meta_len, meta_crc32 */
#define CKPT_MIN_TENSOR 15  /* u16 name_len, 1-byte name, u32 ndim 0, u32 crc, one f32 */
#define CKPT_CHUNK 4096     /* floats converted per step */

int64_t ckpt_tensor_numel(const CkptTensor *t) {
    if (t->ndim < 0 || t->ndim > CKPT_MAX_DIMS) return -1;
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) {
        int64_t d = t->dims[i];
        if (d < 0) return -1;
        if (d > 0 && n > INT64_MAX / 4 / d) return -1; /* keep the byte count representable */
        n *= d;
    }
    return n;
}

/* CRC-32 of any length (zlib's crc32 takes an unsigned int length). */
static uint32_t crc_update(uint32_t crc, const void *data, size_t len) {
    const unsigned char *p = data;
    while (len > 0) {
        unsigned step = len > (1u << 30) ? 1u << 30 : (unsigned)len;
        crc = (uint32_t)crc32(crc, p, step);
        p += step;
        len -= step;
    }
    return crc;
}

/* ---- writing ---- */

typedef struct Writer {
    FILE *fp;
    int ok;
} Writer;

static void put(Writer *w, const void *p, size_t n) {
    if (w->ok && n && fwrite(p, 1, n, w->fp) != n) w->ok = 0;
}

static void put_le(Writer *w, uint64_t v, int bytes) {
    unsigned char b[8];
    for (int i = 0; i < bytes; i++) b[i] = (unsigned char)(v >> (8 * i));
    put(w, b, (size_t)bytes);
}

static void f32_to_le(unsigned char *dst, const float *src, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &src[i], 4);
        dst[4 * i] = (unsigned char)u;
        dst[4 * i + 1] = (unsigned char)(u >> 8);
        dst[4 * i + 2] = (unsigned char)(u >> 16);
        dst[4 * i + 3] = (unsigned char)(u >> 24);
    }
}

/* The CRC of n floats as they are stored (little-endian). */
static uint32_t f32_crc(const float *data, size_t n) {
    unsigned char buf[4 * CKPT_CHUNK];
    uint32_t crc = (uint32_t)crc32(0, Z_NULL, 0);
    for (size_t i = 0; i < n; i += CKPT_CHUNK) {
        size_t m = n - i < CKPT_CHUNK ? n - i : CKPT_CHUNK;
        f32_to_le(buf, data + i, m);
        crc = crc_update(crc, buf, 4 * m);
    }
    return crc;
}

static void put_f32(Writer *w, const float *data, size_t n) {
    unsigned char buf[4 * CKPT_CHUNK];
    for (size_t i = 0; i < n && w->ok; i += CKPT_CHUNK) {
        size_t m = n - i < CKPT_CHUNK ? n - i : CKPT_CHUNK;
        f32_to_le(buf, data + i, m);
        put(w, buf, 4 * m);
    }
}

static int check_tensors(const char *path, const CkptTensor *tensors, int n_tensors, Err *err) {
    if (n_tensors < 0 || (n_tensors > 0 && !tensors))
        return err_set(err, "%s: cannot write %d tensors", path, n_tensors);
    for (int i = 0; i < n_tensors; i++) {
        const CkptTensor *t = &tensors[i];
        size_t len = strnlen(t->name, sizeof t->name);
        if (len == 0 || len > CKPT_MAX_NAME)
            return err_set(err, "%s: tensor #%d: name must be 1..%d bytes", path, i, CKPT_MAX_NAME);
        if (t->ndim < 0 || t->ndim > CKPT_MAX_DIMS)
            return err_set(err, "%s: tensor '%s': ndim %d out of range 0..%d", path, t->name, t->ndim, CKPT_MAX_DIMS);
        int64_t numel = ckpt_tensor_numel(t);
        if (numel < 0) return err_set(err, "%s: tensor '%s': negative or too large dimensions", path, t->name);
        if (numel > 0 && !t->data) return err_set(err, "%s: tensor '%s': no data", path, t->name);
        for (int j = 0; j < i; j++)
            if (strcmp(tensors[j].name, t->name) == 0)
                return err_set(err, "%s: tensor '%s' appears twice (#%d and #%d)", path, t->name, j, i);
    }
    return 0;
}

int ckpt_write(const char *path, const char *meta, const CkptTensor *tensors, int n_tensors, Err *err) {
    if (check_tensors(path, tensors, n_tensors, err)) return -1;
    size_t meta_len = meta ? strlen(meta) : 0;
    AtomicFile af;
    if (atomic_open(&af, path, err)) return -1;
    Writer w = {af.fp, 1};
    put(&w, CKPT_MAGIC, CKPT_TAG_LEN);
    put_le(&w, CKPT_VERSION, 4);
    put_le(&w, (uint64_t)n_tensors, 4);
    put_le(&w, meta_len, 8);
    put_le(&w, crc_update((uint32_t)crc32(0, Z_NULL, 0), meta, meta_len), 4);
    put(&w, meta, meta_len);
    for (int i = 0; i < n_tensors && w.ok; i++) {
        const CkptTensor *t = &tensors[i];
        size_t name_len = strlen(t->name), numel = (size_t)ckpt_tensor_numel(t);
        put_le(&w, name_len, 2);
        put(&w, t->name, name_len);
        put_le(&w, (uint64_t)t->ndim, 4);
        for (int d = 0; d < t->ndim; d++) put_le(&w, (uint64_t)t->dims[d], 8);
        put_le(&w, f32_crc(t->data, numel), 4);
        put_f32(&w, t->data, numel);
    }
    put(&w, CKPT_END, CKPT_TAG_LEN);
    if (!w.ok) {
        int saved = errno;
        atomic_abort(&af);
        return err_set(err, "%s: write failed: %s", path, saved ? strerror(saved) : "I/O error");
    }
    return atomic_commit(&af, err);
}

/* ---- reading ---- */

typedef struct Reader {
    const char *path;
    FILE *fp;
    uint64_t off, size;
    char where[CKPT_MAX_NAME + 32]; /* "tensor 'name'" or "" while outside a tensor */
    Err *err;
} Reader;

static uint64_t left(const Reader *r) { return r->size - r->off; }

/* "path: tensor 'x': offset N: " followed by the message. */
static int fail(Reader *r, uint64_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(Reader *r, uint64_t at, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(r->err, "%s: %s%soffset %llu: %s", r->path, r->where, r->where[0] ? ": " : "",
                   (unsigned long long)at, msg);
}

static int get(Reader *r, void *buf, size_t n, const char *what) {
    if (n > left(r))
        return fail(r, r->off, "truncated: %s needs %zu bytes, the file ends after %llu", what, n,
                    (unsigned long long)left(r));
    if (n && fread(buf, 1, n, r->fp) != n)
        return fail(r, r->off, "cannot read %s: %s", what, ferror(r->fp) ? strerror(errno) : "unexpected end of file");
    r->off += n;
    return 0;
}

static int get_le(Reader *r, uint64_t *v, int bytes, const char *what) {
    unsigned char b[8];
    if (get(r, b, (size_t)bytes, what)) return -1;
    *v = 0;
    for (int i = 0; i < bytes; i++) *v |= (uint64_t)b[i] << (8 * i);
    return 0;
}

/* Bytes as printable text for messages ("DYNNCKPT", "\x00..."). */
static void printable(char *out, size_t size, const unsigned char *b, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n && k + 5 < size; i++)
        k += (size_t)snprintf(out + k, size - k, b[i] >= 32 && b[i] < 127 && b[i] != '"' ? "%c" : "\\x%02x", b[i]);
    out[k] = '\0';
}

static int read_header(Reader *r, CkptFile *f, uint32_t *n_tensors) {
    unsigned char magic[CKPT_TAG_LEN];
    uint64_t version, n, meta_len, meta_crc;
    if (get(r, magic, sizeof magic, "the magic")) return -1;
    if (memcmp(magic, CKPT_MAGIC, CKPT_TAG_LEN) != 0) {
        char shown[64];
        printable(shown, sizeof shown, magic, sizeof magic);
        return fail(r, 0, "not a dynn checkpoint: magic \"%s\", expected \"%s\"", shown, CKPT_MAGIC);
    }
    if (get_le(r, &version, 4, "the version")) return -1;
    if (version != CKPT_VERSION)
        return fail(r, 8, "unsupported version %llu (this build reads version %d)", (unsigned long long)version,
                    CKPT_VERSION);
    if (get_le(r, &n, 4, "the tensor count") || get_le(r, &meta_len, 8, "the meta length") ||
        get_le(r, &meta_crc, 4, "the meta CRC"))
        return -1;
    uint64_t room = left(r) >= CKPT_TAG_LEN ? left(r) - CKPT_TAG_LEN : 0; /* before the end marker */
    if (meta_len > room)
        return fail(r, 16, "meta length %llu exceeds the %llu bytes left in the file", (unsigned long long)meta_len,
                    (unsigned long long)room);
    if (meta_len >= SIZE_MAX) /* a 32-bit build: the file may hold more than memory can */
        return fail(r, 16, "meta length %llu is more than this %u-bit build can address", (unsigned long long)meta_len,
                    (unsigned)(sizeof(size_t) * CHAR_BIT));
    room -= meta_len;
    if (n > INT_MAX || n * CKPT_MIN_TENSOR > room)
        return fail(r, 12, "%llu tensors cannot fit in the %llu bytes left after the meta text",
                    (unsigned long long)n, (unsigned long long)room);
    f->meta = malloc(meta_len + 1);
    if (!f->meta) return fail(r, r->off, "out of memory for %llu bytes of meta", (unsigned long long)meta_len);
    uint64_t at = r->off;
    if (get(r, f->meta, meta_len, "the meta text")) return -1;
    f->meta[meta_len] = '\0';
    f->meta_len = meta_len;
    uint32_t crc = crc_update((uint32_t)crc32(0, Z_NULL, 0), f->meta, meta_len);
    if (crc != meta_crc)
        return fail(r, at, "meta CRC mismatch (stored 0x%08llx, computed 0x%08x)", (unsigned long long)meta_crc, crc);
    *n_tensors = (uint32_t)n;
    return 0;
}

static int read_tensor(Reader *r, CkptFile *f, int index) {
    CkptTensor *t = &f->tensors[index];
    uint64_t start = r->off, name_len, ndim, stored_crc;
    snprintf(r->where, sizeof r->where, "tensor #%d", index);
    if (get_le(r, &name_len, 2, "the name length")) return -1;
    if (name_len == 0 || name_len > CKPT_MAX_NAME)
        return fail(r, start, "name length %llu out of range 1..%d", (unsigned long long)name_len, CKPT_MAX_NAME);
    if (get(r, t->name, name_len, "the name")) return -1;
    t->name[name_len] = '\0';
    if (strlen(t->name) != name_len) return fail(r, start + 2, "the name contains a NUL byte");
    snprintf(r->where, sizeof r->where, "tensor '%s'", t->name);
    for (int j = 0; j < index; j++)
        if (strcmp(f->tensors[j].name, t->name) == 0) return fail(r, start, "name already used by tensor #%d", j);
    uint64_t at = r->off;
    if (get_le(r, &ndim, 4, "ndim")) return -1;
    if (ndim > CKPT_MAX_DIMS)
        return fail(r, at, "ndim %llu out of range 0..%d", (unsigned long long)ndim, CKPT_MAX_DIMS);
    t->ndim = (int)ndim;
    for (int d = 0; d < t->ndim; d++) {
        uint64_t v;
        at = r->off;
        if (get_le(r, &v, 8, "a dimension")) return -1;
        if (v > (uint64_t)INT64_MAX) return fail(r, at, "dimension %d is %llu", d, (unsigned long long)v);
        t->dims[d] = (int64_t)v;
    }
    int64_t numel = ckpt_tensor_numel(t);
    uint64_t room = left(r) >= 4 + CKPT_TAG_LEN ? left(r) - 4 - CKPT_TAG_LEN : 0; /* CRC and end marker */
    if (numel < 0 || (uint64_t)numel * 4 > room || (uint64_t)numel > SIZE_MAX / 4) {
        char shape[CKPT_MAX_DIMS * 21 + 2] = "";
        for (int d = 0; d < t->ndim; d++)
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%lld", d ? "x" : "",
                     (long long)t->dims[d]);
        if (numel >= 0 && (uint64_t)numel * 4 <= room) /* a 32-bit build: more than memory can hold */
            return fail(r, start, "shape [%s] is %llu bytes, more than this %u-bit build can address", shape,
                        (unsigned long long)numel * 4, (unsigned)(sizeof(size_t) * CHAR_BIT));
        return fail(r, start, "shape [%s] needs more data than the %llu bytes left in the file", shape,
                    (unsigned long long)room);
    }
    if (get_le(r, &stored_crc, 4, "the data CRC")) return -1;
    size_t bytes = (size_t)numel * 4;
    t->data = malloc(bytes ? bytes : 4);
    if (!t->data) return fail(r, r->off, "out of memory for %zu bytes", bytes);
    at = r->off;
    if (get(r, t->data, bytes, "the data")) return -1;
    uint32_t crc = crc_update((uint32_t)crc32(0, Z_NULL, 0), t->data, bytes);
    if (crc != stored_crc)
        return fail(r, at, "data CRC mismatch (stored 0x%08llx, computed 0x%08x)", (unsigned long long)stored_crc, crc);
    /* Little-endian bytes to host floats (the identity on little-endian hosts). */
    unsigned char *b = (unsigned char *)t->data;
    for (size_t i = 0; i < (size_t)numel; i++) {
        uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 | (uint32_t)b[4 * i + 2] << 16 |
                     (uint32_t)b[4 * i + 3] << 24;
        memcpy(&t->data[i], &u, 4);
    }
    r->where[0] = '\0';
    return 0;
}

static int read_end(Reader *r) {
    unsigned char end[CKPT_TAG_LEN];
    uint64_t at = r->off;
    if (get(r, end, sizeof end, "the end marker")) return -1;
    if (memcmp(end, CKPT_END, CKPT_TAG_LEN) != 0) {
        char shown[64];
        printable(shown, sizeof shown, end, sizeof end);
        return fail(r, at, "end marker \"%s\" is not \"DYNNEND\\x00\"", shown);
    }
    if (left(r) > 0)
        return fail(r, r->off, "%llu trailing bytes after the end marker", (unsigned long long)left(r));
    return 0;
}

int ckpt_read(const char *path, CkptFile *out, Err *err) {
    memset(out, 0, sizeof *out);
    Reader r = {.path = path, .err = err};
    r.fp = fopen(path, "rb");
    if (!r.fp) return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(r.fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(r.fp);
        return err_set(err, "%s: not a regular file", path);
    }
    r.size = (uint64_t)st.st_size;
    uint32_t n = 0;
    int rc = read_header(&r, out, &n);
    if (rc == 0 && n > 0) {
        out->tensors = calloc(n, sizeof *out->tensors);
        if (!out->tensors) rc = fail(&r, r.off, "out of memory for %u tensors", n);
    }
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        rc = read_tensor(&r, out, (int)i);
        out->n_tensors = (int)i + 1; /* so that ckpt_free releases what was read */
    }
    if (rc == 0) rc = read_end(&r);
    fclose(r.fp);
    if (rc) ckpt_free(out);
    return rc;
}

const CkptTensor *ckpt_find(const CkptFile *f, const char *name) {
    for (int i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

void ckpt_free(CkptFile *f) {
    for (int i = 0; i < f->n_tensors; i++) free(f->tensors[i].data);
    free(f->tensors);
    free(f->meta);
    memset(f, 0, sizeof *f);
}
