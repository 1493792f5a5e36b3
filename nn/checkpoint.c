/* nn/checkpoint.c — Model <-> checkpoint file (see checkpoint.h). */
#include "nn/checkpoint.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/ckpt_file.h"
#include <zlib.h>

#define META_VERSION 1

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
    text_add(&t, "dynn-model %d\narch %s\ninput %d %d %d\nclasses %d\nwidth %.9g\nbn_sets %d\nweight_sets %d\nnorm",
             META_VERSION, d->arch, d->in_c, d->in_h, d->in_w, d->classes, d->width, d->bn_sets, d->weight_sets);
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

int checkpoint_save(const Model *m, const char *path, Err *err) {
    const ModelDesc *d = m->d;
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
        ts[i].data = m->param[i];
    }
    int rc = ckpt_write(path, meta, ts, d->n_params, err);
    free(meta);
    free(ts);
    return rc;
}

/* Parses the description text; errors name the file and the line. */
static int parse_desc(const char *path, const char *meta, ModelDesc *d, Err *err) {
    char arch[64] = "";
    int version = 0, in_c = 0, in_h = 0, in_w = 0, classes = 0, bn_sets = 1, weight_sets = 1, n_slots = -1;
    float width = 1.0f;
    /* First pass: the architecture header. */
    const char *line = meta;
    int lineno = 0;
    while (line && *line) {
        lineno++;
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char buf[4096];
        if (len >= sizeof buf) return err_set(err, "%s: model description line %d is too long", path, lineno);
        memcpy(buf, line, len);
        buf[len] = 0;
        if (!strncmp(buf, "dynn-model ", 11)) version = atoi(buf + 11);
        else if (!strncmp(buf, "arch ", 5)) {
            if (strlen(buf + 5) >= sizeof arch) return err_set(err, "%s: model description line %d: arch name too long", path, lineno);
            memcpy(arch, buf + 5, strlen(buf + 5) + 1);
        }
        else if (!strncmp(buf, "input ", 6)) sscanf(buf + 6, "%d %d %d", &in_c, &in_h, &in_w);
        else if (!strncmp(buf, "classes ", 8)) classes = atoi(buf + 8);
        else if (!strncmp(buf, "width ", 6)) width = strtof(buf + 6, NULL);
        else if (!strncmp(buf, "bn_sets ", 8)) bn_sets = atoi(buf + 8);
        else if (!strncmp(buf, "weight_sets ", 12)) weight_sets = atoi(buf + 12);
        else if (!strncmp(buf, "slots ", 6)) n_slots = atoi(buf + 6);
        line = nl ? nl + 1 : NULL;
    }
    if (version != META_VERSION)
        return err_set(err, "%s: model description version %d, this dynn reads version %d", path, version, META_VERSION);
    if (model_desc_build(d, arch, in_c, in_h, in_w, classes, width, err)) return err_prefix(err, "%s", path);
    if (n_slots != d->n_slots)
        return err_set(err, "%s: %d channel slots recorded but %s has %d", path, n_slots, d->arch, d->n_slots);
    if (bn_sets < 1 || bn_sets > MODEL_MAX_SUBNETS) return err_set(err, "%s: bn_sets %d out of range", path, bn_sets);
    if (weight_sets < 1 || weight_sets > MODEL_MAX_SUBNETS)
        return err_set(err, "%s: weight_sets %d out of range", path, weight_sets);
    model_desc_set_sets(d, bn_sets, weight_sets);
    d->n_subnets = 0;
    /* Second pass: normalization, subnets, metadata. */
    line = meta;
    lineno = 0;
    while (line && *line) {
        lineno++;
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char buf[4096];
        memcpy(buf, line, len);
        buf[len] = 0;
        line = nl ? nl + 1 : NULL;
        char *p = buf;
        if (!strncmp(buf, "norm", 4) && (buf[4] == ' ' || !buf[4])) {
            p = buf + 4;
            for (int c = 0; c < d->in_c; c++) {
                char *end;
                d->norm_mean[c] = strtof(p, &end);
                p = end;
                d->norm_std[c] = strtof(p, &end);
                if (end == p || !(d->norm_std[c] > 0.0f))
                    return err_set(err, "%s: description line %d: bad normalization", path, lineno);
                p = end;
            }
        } else if (!strncmp(buf, "subnet ", 7)) {
            if (d->n_subnets >= MODEL_MAX_SUBNETS) return err_set(err, "%s: too many subnets", path);
            Subnet *s = &d->subnets[d->n_subnets];
            p = buf + 7;
            char *sp = strchr(p, ' ');
            if (!sp || (size_t)(sp - p) >= sizeof s->name)
                return err_set(err, "%s: description line %d: bad subnet line", path, lineno);
            memcpy(s->name, p, (size_t)(sp - p));
            s->name[sp - p] = 0;
            p = sp;
            for (int k = 0; k < d->n_slots; k++) {
                char *end;
                long v = strtol(p, &end, 10);
                if (end == p || v < 1 || v > d->slot_max[k])
                    return err_set(err, "%s: description line %d: subnet '%s' slot %d: bad channel count", path,
                                   lineno, s->name, k);
                s->count[k] = (int)v;
                p = end;
            }
            d->n_subnets++;
        } else if (!strncmp(buf, "meta ", 5)) {
            p = buf + 5;
            char *sp = strchr(p, ' ');
            if (sp) *sp = 0;
            model_desc_set_meta(d, p, "%s", sp ? sp + 1 : "");
        }
    }
    if (d->n_subnets < 1) return err_set(err, "%s: the model description lists no subnet", path);
    if ((d->bn_sets != 1 && d->bn_sets != d->n_subnets) || (d->weight_sets != 1 && d->weight_sets != d->n_subnets))
        return err_set(err, "%s: %d BN sets and %d weight sets for %d subnets (each must be 1 or one per subnet)",
                       path, d->bn_sets, d->weight_sets, d->n_subnets);
    return 0;
}

int checkpoint_read_desc(const char *path, ModelDesc *d, unsigned long *tensors_crc, Err *err) {
    CkptFile f;
    if (ckpt_read(path, &f, err)) return -1;
    int rc = parse_desc(path, f.meta, d, err);
    if (rc == 0 && tensors_crc) {
        uLong c = crc32(0L, Z_NULL, 0);
        for (int i = 0; i < f.n_tensors; i++)
            c = crc32_z(c, (const Bytef *)f.tensors[i].data, (size_t)ckpt_tensor_numel(&f.tensors[i]) * sizeof(float));
        *tensors_crc = c;
    }
    ckpt_free(&f);
    return rc;
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
    if (parse_desc(path, f.meta, d, err)) {
        free(d);
        ckpt_free(&f);
        return -1;
    }
    if (f.n_tensors != d->n_params) {
        int have = f.n_tensors, want = d->n_params;
        free(d);
        ckpt_free(&f);
        return err_set(err, "%s: %d tensors in the file but the described model has %d parameters", path, have, want);
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
        return -1;
    }
    for (int i = 0; i < d->n_params; i++) {
        const ParamDesc *p = &d->params[i];
        const CkptTensor *t = ckpt_find(&f, p->name);
        int ndim;
        int64_t dims[CKPT_MAX_DIMS];
        ParamDesc as_stored = *p; /* the file has the BN sets from before an added subnet */
        if (p->sets > 1 && p->sets != d->weight_sets) as_stored.sets = file_bn_sets;
        stored_shape(&as_stored, &ndim, dims);
        /* a single set may also be stored with an explicit leading dimension of 1 (early files) */
        int lead = t && t->ndim == ndim + 1 && t->dims[0] == 1 ? 1 : 0;
        int same = t && t->ndim == ndim + lead;
        for (int k = 0; same && k < ndim; k++) same = t->dims[k + lead] == dims[k];
        if (!same) {
            char want[96] = "", *w = want;
            for (int k = 0; k < ndim; k++) w += snprintf(w, sizeof want - (size_t)(w - want), k ? "x%lld" : "%lld", (long long)dims[k]);
            err_set(err, "%s: tensor '%s' is %s in the file; the model needs shape [%s]", path, p->name,
                    t ? "shaped differently" : "missing", want);
            model_free(m);
            ckpt_free(&f);
            return -1;
        }
        memcpy(m->param[i], t->data, sizeof(float) * (size_t)ckpt_tensor_numel(t));
        if (as_stored.sets != p->sets) /* the added subnet's BN set starts as a copy of its container's */
            memcpy(m->param[i] + (size_t)file_bn_sets * p->set_numel, m->param[i] + (size_t)bn_source * p->set_numel,
                   sizeof(float) * p->set_numel);
    }
    ckpt_free(&f);
    return 0;
}
