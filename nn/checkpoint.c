/* nn/checkpoint.c — Model <-> checkpoint file (see checkpoint.h). */
#include "nn/checkpoint.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/ckpt_file.h"
#include <zlib.h>

#define META_VERSION 1

/* A name the description can hold as one field: 1+ printable bytes, no space. */
static int is_field(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 127) return 0;
    return 1;
}

/* Appends printf output to a growing buffer. */
typedef struct Text {
    char *buf;
    size_t len, cap;
    int oom;
} Text;

static void text_add(Text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(Text *t, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        size_t room = t->cap - t->len;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->oom = 1;
            return;
        }
        if (t->buf && (size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap + (size_t)n + 1) * 2;
        char *nb = realloc(t->buf, cap);
        if (!nb) {
            t->oom = 1;
            return;
        }
        t->buf = nb;
        t->cap = cap;
    }
}

static char *describe(const ModelDesc *d) {
    Text t = {0};
    text_add(&t, "dynn-model %d\narch %s\ninput %d %d %d\nclasses %d\nwidth %.9g\nbn_sets %d\nweight_sets %d\n",
             META_VERSION, d->arch, d->in_c, d->in_h, d->in_w, d->classes, d->width, d->bn_sets, d->weight_sets);
    /* written only when it is not the default, so descriptions (and their bytes) stay as they were */
    if (d->bn_eps != MODEL_BN_EPS) text_add(&t, "bn_eps %.9g\n", d->bn_eps);
    if (d->synthetic) text_add(&t, "synthetic 1\n"); /* likewise only when set */
    text_add(&t, "norm");
    for (int c = 0; c < d->in_c; c++) text_add(&t, " %.9g %.9g", d->norm_mean[c], d->norm_std[c]);
    text_add(&t, "\nslots %d\n", d->n_slots);
    for (int s = 0; s < d->n_slots; s++) text_add(&t, "slot %s %d\n", d->slot_name[s], d->slot_max[s]);
    for (int i = 0; i < d->n_subnets; i++) {
        text_add(&t, "subnet %s", d->subnets[i].name);
        for (int s = 0; s < d->n_slots; s++) text_add(&t, " %d", d->subnets[i].count[s]);
        text_add(&t, "\n");
    }
    for (int i = 0; i < d->n_meta; i++) text_add(&t, "meta %s %s\n", d->meta_key[i], d->meta_val[i]);
    if (t.oom) {
        free(t.buf);
        return NULL;
    }
    return t.buf;
}

/* The shape a parameter is stored with: [sets, dims...] when it has several sets, else dims. */
static void stored_shape(const ParamDesc *p, int *ndim, int64_t *dims) {
    int k = 0;
    if (p->sets > 1) dims[k++] = p->sets;
    for (int i = 0; i < p->ndim; i++) dims[k++] = p->dims[i];
    *ndim = k;
}

/* "16x3x3x3" into buf. */
static void shape_text(char *buf, size_t size, const int64_t *dims, int ndim) {
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; i < ndim && k < size; i++)
        k += (size_t)snprintf(buf + k, size - k, i ? "x%lld" : "%lld", (long long)dims[i]);
}

/* What the strict parser would refuse is refused before writing, so that no unreadable file is made. */
static int check_describable(const ModelDesc *d, const char *path, Err *err) {
    for (int i = 0; i < d->n_subnets; i++)
        if (!is_field(d->subnets[i].name))
            return err_set(err, "%s: subnet name '%s' cannot be stored (it must be printable, without spaces)", path,
                           d->subnets[i].name);
    for (int i = 0; i < d->n_meta; i++)
        if (!is_field(d->meta_key[i]) || strchr(d->meta_val[i], '\n'))
            return err_set(err, "%s: metadata '%s' cannot be stored (a key without spaces, a value on one line)", path,
                           d->meta_key[i]);
    return 0;
}

/* The description and one array of floats per parameter (every set) into the container. */
static int save(const ModelDesc *d, float *const *param, const char *path, Err *err) {
    if (check_describable(d, path, err)) return -1;
    char *meta = describe(d);
    CkptTensor *ts = calloc((size_t)d->n_params, sizeof *ts);
    if (!meta || !ts) {
        free(meta);
        free(ts);
        return err_set(err, "%s: out of memory describing the model", path);
    }
    for (int i = 0; i < d->n_params; i++) {
        const ParamDesc *p = &d->params[i];
        snprintf(ts[i].name, sizeof ts[i].name, "%s", p->name);
        stored_shape(p, &ts[i].ndim, ts[i].dims);
        ts[i].data = param[i];
    }
    int rc = ckpt_write(path, meta, ts, d->n_params, err);
    free(meta);
    free(ts);
    return rc;
}

int checkpoint_save(const Model *m, const char *path, Err *err) { return save(m->d, m->param, path, err); }

int checkpoint_save_weights(const ModelDesc *d, const ModelWeights *w, const char *path, Err *err) {
    return save(d, w->param, path, err);
}

/* ---- the description parser: strict, every line and field checked ---- */

#define DESC_MAX_LINE 4096
#define DESC_MAX_TOKENS (MODEL_MAX_SLOTS + 2) /* "subnet NAME c0 .. cN-1" is the longest */

/* One line split in place into space-separated tokens. A meta line is split only into "meta",
 * its key and its value (`value`: the rest of the line, spaces and all, possibly empty). */
typedef struct DescLine {
    int no;
    char buf[DESC_MAX_LINE];
    char *tok[DESC_MAX_TOKENS];
    int n;
    const char *value;
} DescLine;

typedef struct DescParser {
    const char *path;
    const char *text, *end, *next;
    Err *err;
} DescParser;

static int desc_fail(const DescParser *p, int lineno, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int desc_fail(const DescParser *p, int lineno, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(p->err, "%s: model description line %d: %s", p->path, lineno, msg);
}

/* The next line into l (1 = got one, 0 = end of text, -1 = error). */
static int desc_next(DescParser *p, DescLine *l) {
    if (p->next >= p->end) return 0;
    const char *nl = memchr(p->next, '\n', (size_t)(p->end - p->next));
    size_t len = nl ? (size_t)(nl - p->next) : (size_t)(p->end - p->next);
    l->no++;
    if (len >= sizeof l->buf) return desc_fail(p, l->no, "longer than %d bytes", DESC_MAX_LINE - 1);
    memcpy(l->buf, p->next, len);
    l->buf[len] = '\0';
    p->next = nl ? nl + 1 : p->end;
    l->n = 0;
    l->value = "";
    if (!strncmp(l->buf, "meta ", 5)) { /* "meta KEY VALUE...": the value is free text */
        char *key = l->buf + 5, *sp = strchr(key, ' ');
        if (sp) {
            *sp = '\0';
            l->value = sp + 1;
        }
        l->buf[4] = '\0';
        l->tok[l->n++] = l->buf;
        if (!*key) return desc_fail(p, l->no, "'meta' needs a key");
        l->tok[l->n++] = key;
        return 1;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)l->buf[i] < 32 || l->buf[i] == 127)
            return desc_fail(p, l->no, "control character 0x%02x at column %zu", (unsigned char)l->buf[i], i + 1);
    for (char *q = l->buf; *q;) {
        if (*q == ' ')
            return desc_fail(p, l->no, "empty field at column %zu (fields are separated by one space)", (size_t)(q - l->buf) + 1);
        if (l->n == DESC_MAX_TOKENS) return desc_fail(p, l->no, "more than %d fields", DESC_MAX_TOKENS);
        l->tok[l->n++] = q;
        q = strchr(q, ' ');
        if (!q) break;
        *q++ = '\0';
        if (!*q) return desc_fail(p, l->no, "trailing space");
    }
    if (l->n == 0) return desc_fail(p, l->no, "empty line");
    return 1;
}

/* A whole token as a decimal integer in [min, max] (no sign but '-', no spaces, no hex). */
static int desc_int(const DescParser *p, const DescLine *l, int i, const char *field, long min, long max, int *out) {
    const char *t = l->tok[i], *q = t + (*t == '-');
    int ok = *q != '\0';
    for (; *q && ok; q++) ok = *q >= '0' && *q <= '9';
    if (!ok) return desc_fail(p, l->no, "%s: '%s' is not a decimal integer", field, t);
    errno = 0;
    long v = strtol(t, NULL, 10);
    if (errno == ERANGE || v < min || v > max)
        return desc_fail(p, l->no, "%s: %s is outside %ld..%ld", field, t, min, max);
    *out = (int)v;
    return 0;
}

/* A whole token as a finite decimal float (digits, sign, '.', exponent; no hex, inf or nan). */
static int desc_float(const DescParser *p, const DescLine *l, int i, const char *field, float *out) {
    const char *t = l->tok[i];
    char *end;
    int ok = strspn(t, "0123456789+-.eE") == strlen(t);
    errno = 0;
    float v = ok ? strtof(t, &end) : 0.0f;
    if (!ok || end == t || *end || errno == ERANGE || !isfinite(v))
        return desc_fail(p, l->no, "%s: '%s' is not a finite decimal number", field, t);
    *out = v;
    return 0;
}

static int desc_fields(const DescParser *p, const DescLine *l, int want) {
    if (l->n != want)
        return desc_fail(p, l->no, "'%s' takes %d value%s, got %d", l->tok[0], want - 1, want == 2 ? "" : "s", l->n - 1);
    return 0;
}

/* The header keys, each given at most once. */
enum { K_VERSION, K_ARCH, K_INPUT, K_CLASSES, K_WIDTH, K_BN_SETS, K_WEIGHT_SETS, K_BN_EPS, K_SYNTHETIC, K_SLOTS, K_NORM,
       N_KEYS };
static const char *const HEADER_KEYS[N_KEYS] = {"dynn-model", "arch", "input", "classes", "width", "bn_sets",
                                                "weight_sets", "bn_eps", "synthetic", "slots", "norm"};

typedef struct DescHeader {
    int line[N_KEYS]; /* where each key was given (0: not given) */
    char arch[32];
    int version, in_c, in_h, in_w, classes, bn_sets, weight_sets, synthetic, n_slots;
    float width, bn_eps;
} DescHeader;

/* First pass: the header keys (every other line is only checked to be a known key). */
static int desc_header(DescParser *p, DescHeader *h) {
    DescLine *l = malloc(sizeof *l);
    if (!l) return err_set(p->err, "%s: out of memory", p->path);
    memset(h, 0, sizeof *h);
    h->width = 1.0f;
    h->bn_eps = MODEL_BN_EPS;
    h->bn_sets = h->weight_sets = 1;
    l->no = 0;
    p->next = p->text;
    int rc, r = 0;
    while (!r && (rc = desc_next(p, l)) > 0) {
        const char *key = l->tok[0];
        int k = 0;
        while (k < N_KEYS && strcmp(key, HEADER_KEYS[k])) k++;
        if (k == N_KEYS) {
            if (strcmp(key, "slot") && strcmp(key, "subnet") && strcmp(key, "meta"))
                r = desc_fail(p, l->no, "unknown key '%s' (known: dynn-model, arch, input, classes, width, bn_sets, "
                              "weight_sets, bn_eps, synthetic, norm, slots, slot, subnet, meta)", key);
            continue;
        }
        if (h->line[k]) {
            r = desc_fail(p, l->no, "'%s' given twice (first on line %d)", key, h->line[k]);
            continue;
        }
        h->line[k] = l->no;
        switch (k) {
        case K_VERSION: r = desc_fields(p, l, 2) || desc_int(p, l, 1, "dynn-model", 0, INT_MAX, &h->version); break;
        case K_ARCH:
            r = desc_fields(p, l, 2);
            if (!r && strlen(l->tok[1]) >= sizeof h->arch) r = desc_fail(p, l->no, "arch: name '%s' is too long", l->tok[1]);
            if (!r) snprintf(h->arch, sizeof h->arch, "%s", l->tok[1]);
            break;
        case K_INPUT:
            r = desc_fields(p, l, 4) || desc_int(p, l, 1, "input channels", 1, MODEL_MAX_CHANNELS, &h->in_c) ||
                desc_int(p, l, 2, "input height", 1, MODEL_MAX_SIDE, &h->in_h) ||
                desc_int(p, l, 3, "input width", 1, MODEL_MAX_SIDE, &h->in_w);
            break;
        case K_CLASSES: r = desc_fields(p, l, 2) || desc_int(p, l, 1, "classes", 2, MODEL_MAX_CLASSES, &h->classes); break;
        case K_WIDTH:
            r = desc_fields(p, l, 2) || desc_float(p, l, 1, "width", &h->width);
            if (!r && !(h->width > 0.0f && h->width <= 16.0f)) r = desc_fail(p, l->no, "width: %s is outside (0, 16]", l->tok[1]);
            break;
        case K_BN_SETS: r = desc_fields(p, l, 2) || desc_int(p, l, 1, "bn_sets", 1, MODEL_MAX_SUBNETS, &h->bn_sets); break;
        case K_WEIGHT_SETS:
            r = desc_fields(p, l, 2) || desc_int(p, l, 1, "weight_sets", 1, MODEL_MAX_SUBNETS, &h->weight_sets);
            break;
        case K_BN_EPS:
            r = desc_fields(p, l, 2) || desc_float(p, l, 1, "bn_eps", &h->bn_eps);
            if (!r && !(h->bn_eps > 0.0f && h->bn_eps <= 1.0f)) r = desc_fail(p, l->no, "bn_eps: %s is outside (0, 1]", l->tok[1]);
            break;
        case K_SYNTHETIC: r = desc_fields(p, l, 2) || desc_int(p, l, 1, "synthetic", 0, 1, &h->synthetic); break;
        case K_SLOTS: r = desc_fields(p, l, 2) || desc_int(p, l, 1, "slots", 1, MODEL_MAX_SLOTS, &h->n_slots); break;
        case K_NORM: break; /* needs the input channels: second pass */
        }
    }
    free(l);
    if (r || rc < 0) return -1;
    static const int required[] = {K_VERSION, K_ARCH, K_INPUT, K_CLASSES, K_SLOTS};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        if (!h->line[required[i]])
            return err_set(p->err, "%s: the model description has no '%s' line", p->path, HEADER_KEYS[required[i]]);
    if (h->version != META_VERSION)
        return err_set(p->err, "%s: model description version %d, this dynn reads version %d", p->path, h->version,
                       META_VERSION);
    return 0;
}

/* Second pass: norm, slot, subnet and meta lines, against the rebuilt architecture. */
static int desc_body(DescParser *p, ModelDesc *d) {
    DescLine *l = malloc(sizeof *l);
    if (!l) return err_set(p->err, "%s: out of memory", p->path);
    l->no = 0;
    p->next = p->text;
    int rc, r = 0, n_slot_lines = 0;
    while (!r && (rc = desc_next(p, l)) > 0) {
        const char *key = l->tok[0];
        if (!strcmp(key, "norm")) {
            r = desc_fields(p, l, 1 + 2 * d->in_c);
            for (int c = 0; !r && c < d->in_c; c++) {
                r = desc_float(p, l, 1 + 2 * c, "norm mean", &d->norm_mean[c]) ||
                    desc_float(p, l, 2 + 2 * c, "norm std", &d->norm_std[c]);
                if (!r && !(d->norm_std[c] > 0.0f))
                    r = desc_fail(p, l->no, "norm std: %s is not positive", l->tok[2 + 2 * c]);
            }
        } else if (!strcmp(key, "slot")) {
            int k = n_slot_lines++, channels = 0;
            r = desc_fields(p, l, 3) || desc_int(p, l, 2, "slot channels", 1, INT_MAX, &channels);
            if (!r && k >= d->n_slots) r = desc_fail(p, l->no, "slot line %d, but %s has %d slots", k + 1, d->arch, d->n_slots);
            else if (!r && (strcmp(l->tok[1], d->slot_name[k]) || channels != d->slot_max[k]))
                r = desc_fail(p, l->no, "slot %d is '%s' with %d channels, but %s has '%s' with %d", k, l->tok[1], channels,
                              d->arch, d->slot_name[k], d->slot_max[k]);
        } else if (!strcmp(key, "subnet")) {
            r = desc_fields(p, l, 2 + d->n_slots);
            if (r) continue;
            if (d->n_subnets >= MODEL_MAX_SUBNETS) {
                r = desc_fail(p, l->no, "more than %d subnets", MODEL_MAX_SUBNETS);
                continue;
            }
            Subnet *sn = &d->subnets[d->n_subnets];
            if (strlen(l->tok[1]) >= sizeof sn->name) {
                r = desc_fail(p, l->no, "subnet name '%s' is longer than %zu bytes", l->tok[1], sizeof sn->name - 1);
                continue;
            }
            for (int i = 0; !r && i < d->n_subnets; i++)
                if (!strcmp(d->subnets[i].name, l->tok[1])) r = desc_fail(p, l->no, "subnet name '%s' is used twice", l->tok[1]);
            memset(sn, 0, sizeof *sn);
            snprintf(sn->name, sizeof sn->name, "%s", l->tok[1]);
            for (int k = 0; !r && k < d->n_slots; k++) {
                char field[96];
                snprintf(field, sizeof field, "subnet '%s' slot %d (%s)", sn->name, k, d->slot_name[k]);
                r = desc_int(p, l, 2 + k, field, 1, d->slot_max[k], &sn->count[k]);
            }
            if (!r) d->n_subnets++;
        } else if (!strcmp(key, "meta")) {
            const char *mk = l->n == 2 ? l->tok[1] : "";
            if (!*mk) r = desc_fail(p, l->no, "'meta' needs a key");
            else if (!is_field(mk)) r = desc_fail(p, l->no, "meta key '%s' has a control character", mk);
            else if (strlen(mk) >= sizeof d->meta_key[0] || strlen(l->value) >= sizeof d->meta_val[0])
                r = desc_fail(p, l->no, "meta '%.60s': key over %zu or value over %zu bytes", mk, sizeof d->meta_key[0] - 1,
                              sizeof d->meta_val[0] - 1);
            else if (model_desc_get_meta(d, mk)) r = desc_fail(p, l->no, "meta '%s' given twice", mk);
            else if (d->n_meta >= MODEL_MAX_META) r = desc_fail(p, l->no, "more than %d meta lines", MODEL_MAX_META);
            else model_desc_set_meta(d, mk, "%s", l->value);
        }
    }
    free(l);
    if (r || rc < 0) return -1;
    if (n_slot_lines != d->n_slots)
        return err_set(p->err, "%s: the model description lists %d slot lines, %s has %d slots", p->path, n_slot_lines,
                       d->arch, d->n_slots);
    return 0;
}

int checkpoint_parse_desc(const char *path, const char *meta, size_t meta_len, ModelDesc *d, Err *err) {
    const char *nul = memchr(meta, '\0', meta_len);
    if (nul) return err_set(err, "%s: the model description has a NUL byte at offset %zu", path, (size_t)(nul - meta));
    DescParser p = {.path = path, .text = meta, .end = meta + meta_len, .err = err};
    DescHeader h;
    if (desc_header(&p, &h)) return -1;
    if (model_desc_build(d, h.arch, h.in_c, h.in_h, h.in_w, h.classes, h.width, err)) return err_prefix(err, "%s", path);
    if (h.n_slots != d->n_slots)
        return desc_fail(&p, h.line[K_SLOTS], "slots: %d recorded, but %s has %d", h.n_slots, d->arch, d->n_slots);
    model_desc_set_sets(d, h.bn_sets, h.weight_sets);
    d->bn_eps = h.bn_eps;
    d->synthetic = h.synthetic;
    d->n_subnets = 0;
    if (desc_body(&p, d)) return -1;
    if (d->n_subnets < 1) return err_set(err, "%s: the model description lists no subnet", path);
    if ((d->bn_sets != 1 && d->bn_sets != d->n_subnets) || (d->weight_sets != 1 && d->weight_sets != d->n_subnets))
        return err_set(err, "%s: %d BN sets and %d weight sets for %d subnets (each must be 1 or one per subnet)",
                       path, d->bn_sets, d->weight_sets, d->n_subnets);
    return 0;
}

/* Whether the file's tensors are exactly the described model's parameters, each with its stored
 * shape (checked before any model buffer is allocated). */
static int match_tensors(const char *path, const CkptFile *f, const ModelDesc *d, Err *err) {
    if (f->n_tensors != d->n_params)
        return err_set(err, "%s: %d tensors in the file but the described model has %d parameters", path, f->n_tensors,
                       d->n_params);
    for (int i = 0; i < d->n_params; i++) {
        const ParamDesc *p = &d->params[i];
        const CkptTensor *t = ckpt_find(f, p->name);
        int ndim;
        int64_t dims[CKPT_MAX_DIMS];
        stored_shape(p, &ndim, dims);
        /* a single set may also be stored with an explicit leading dimension of 1 (early files) */
        int lead = t && t->ndim == ndim + 1 && t->dims[0] == 1 ? 1 : 0;
        int same = t && t->ndim == ndim + lead;
        for (int k = 0; same && k < ndim; k++) same = t->dims[k + lead] == dims[k];
        if (!same) {
            char want[96], have[CKPT_MAX_DIMS * 21 + 2];
            shape_text(want, sizeof want, dims, ndim);
            if (t) shape_text(have, sizeof have, t->dims, t->ndim);
            return err_set(err, "%s: tensor '%s' is %s%s%s in the file; the model described (%s, input %dx%dx%d, %d "
                           "classes, width %g) needs [%s]", path, p->name, t ? "[" : "missing", t ? have : "", t ? "]" : "",
                           d->arch, d->in_c, d->in_h, d->in_w, d->classes, d->width, want);
        }
    }
    return 0;
}

/* Parses the description of a read container and checks its tensors against it. */
static int read_desc(const char *path, const CkptFile *f, ModelDesc *d, Err *err) {
    if (checkpoint_parse_desc(path, f->meta, f->meta_len, d, err)) return -1;
    return match_tensors(path, f, d, err);
}

/* Reads a checkpoint's description, the CRC of its tensors (tensors_crc may be NULL) and, when w
 * is not NULL, its parameter values (allocated here). */
static int read_checkpoint(const char *path, ModelDesc *d, ModelWeights *w, unsigned long *tensors_crc, Err *err) {
    CkptFile f;
    if (ckpt_read(path, &f, err)) return -1;
    int rc = read_desc(path, &f, d, err);
    if (rc == 0 && tensors_crc) {
        uLong c = crc32(0L, Z_NULL, 0);
        for (int i = 0; i < f.n_tensors; i++)
            c = crc32_z(c, (const Bytef *)f.tensors[i].data, (size_t)ckpt_tensor_numel(&f.tensors[i]) * sizeof(float));
        *tensors_crc = c;
    }
    if (rc == 0 && w) {
        rc = model_weights_alloc(w, d, err) ? err_prefix(err, "%s", path) : 0;
        for (int i = 0; rc == 0 && i < d->n_params; i++) { /* every shape was checked by read_desc */
            const CkptTensor *t = ckpt_find(&f, d->params[i].name);
            memcpy(w->param[i], t->data, sizeof(float) * (size_t)ckpt_tensor_numel(t));
        }
    }
    ckpt_free(&f);
    return rc;
}

int checkpoint_read_desc(const char *path, ModelDesc *d, unsigned long *tensors_crc, Err *err) {
    return read_checkpoint(path, d, NULL, tensors_crc, err);
}

int checkpoint_read_weights(const char *path, ModelDesc *d, ModelWeights *w, unsigned long *tensors_crc, Err *err) {
    return read_checkpoint(path, d, w, tensors_crc, err);
}

/* Adds a uniform subnet at `width` to d (with its own BN set when BN is per subnet). Returns the
 * index the subnet had before (>= 0) when it already exists, else -1 after adding; -2 on error. The
 * new BN set is stored last, so the file's sets keep their positions. */
static int add_width_subnet(const char *path, ModelDesc *d, float width, int *bn_source, Err *err) {
    if (!(width > 0.0f && width <= 1.0f)) {
        err_set(err, "--width %g is outside (0, 1]", width);
        return -2;
    }
    if (d->weight_sets > 1) {
        err_set(err, "%s: individually trained models share no weights, so they have no subnet at width %g", path, width);
        return -2;
    }
    int counts[MODEL_MAX_SLOTS];
    for (int s = 0; s < d->n_slots; s++) {
        int c = (int)lroundf(width * (float)d->slot_max[s]);
        counts[s] = c < 1 ? 1 : c;
    }
    for (int i = 0; i < d->n_subnets; i++)
        if (!memcmp(d->subnets[i].count, counts, sizeof(int) * (size_t)d->n_slots)) return i;
    if (d->n_subnets >= MODEL_MAX_SUBNETS) {
        err_set(err, "%s: no room for another subnet", path);
        return -2;
    }
    /* BN parameters start from the smallest subnet that contains the new one (then re-calibrated). */
    *bn_source = model_largest_subnet(d);
    for (int i = 0; i < d->n_subnets; i++) {
        int contains = 1;
        for (int s = 0; s < d->n_slots; s++) contains &= d->subnets[i].count[s] >= counts[s];
        if (contains && model_subnet_macs(d, d->subnets[i].count) < model_subnet_macs(d, d->subnets[*bn_source].count))
            *bn_source = i;
    }
    Subnet *sn = &d->subnets[d->n_subnets++];
    memset(sn, 0, sizeof *sn);
    snprintf(sn->name, sizeof sn->name, "w%.2f", width);
    memcpy(sn->count, counts, sizeof(int) * (size_t)d->n_slots);
    if (d->bn_sets > 1) model_desc_set_sets(d, d->bn_sets + 1, d->weight_sets);
    return -1;
}

int checkpoint_load(const char *path, Model *m, int max_batch, int threads, Err *err) {
    return checkpoint_load_width(path, m, max_batch, threads, 0.0f, NULL, err);
}

int checkpoint_load_width(const char *path, Model *m, int max_batch, int threads, float width, int *subnet,
                          Err *err) {
    CkptFile f;
    if (ckpt_read(path, &f, err)) return -1;
    ModelDesc *d = calloc(1, sizeof *d);
    if (!d) {
        ckpt_free(&f);
        return err_set(err, "out of memory");
    }
    if (read_desc(path, &f, d, err)) {
        free(d);
        ckpt_free(&f);
        return -1;
    }
    int file_bn_sets = d->bn_sets, bn_source = -1, found = -1;
    if (width > 0.0f) {
        found = add_width_subnet(path, d, width, &bn_source, err);
        if (found == -2) {
            free(d);
            ckpt_free(&f);
            return -1;
        }
    }
    if (subnet) *subnet = found >= 0 ? found : (width > 0.0f ? d->n_subnets - 1 : model_largest_subnet(d));
    if (model_create(m, d, max_batch, threads, err)) {
        ckpt_free(&f);
        return err_prefix(err, "%s", path);
    }
    for (int i = 0; i < d->n_params; i++) { /* every shape was checked by read_desc */
        const ParamDesc *p = &d->params[i];
        const CkptTensor *t = ckpt_find(&f, p->name);
        memcpy(m->param[i], t->data, sizeof(float) * (size_t)ckpt_tensor_numel(t));
        if (p->sets > 1 && p->sets != d->weight_sets && p->sets != file_bn_sets)
            /* the added subnet's BN set starts as a copy of its container's */
            memcpy(m->param[i] + (size_t)file_bn_sets * p->set_numel, m->param[i] + (size_t)bn_source * p->set_numel,
                   sizeof(float) * p->set_numel);
    }
    ckpt_free(&f);
    return 0;
}
