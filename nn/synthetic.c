/* nn/synthetic.c — synthetic models: description, subnets from widths or channel lists, random
 * weights, the checkpoint (see synthetic.h). */
#include "nn/synthetic.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/checkpoint.h"
#include "nn/subnet.h"
#include "util/version.h"

/* A whole decimal integer (digits only) in [1, INT_MAX] from p up to the first ',' '/' or end. */
static int channel_count(const char *p, const char **end, long *v) {
    const char *q = p;
    while (*q >= '0' && *q <= '9') q++;
    *end = q;
    if (q == p || (*q && *q != ',' && *q != '/')) return -1;
    errno = 0;
    *v = strtol(p, NULL, 10);
    return errno == ERANGE ? -1 : 0;
}

/* Up to the next ',', '/' or end, for messages. */
static void token_text(const char *p, char *out, size_t size) {
    size_t n = strcspn(p, ",/");
    if (n >= size) n = size - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

int synthetic_channels(ModelDesc *d, const char *text, const char *what, Err *err) {
    if (!text || !*text) return err_set(err, "%s: empty (give one channel count per slot for each subnet, subnets separated by '/')", what);
    if (strlen(text) >= SYNTHETIC_MAX_CHANNELS_TEXT)
        return err_set(err, "%s: longer than %d characters", what, SYNTHETIC_MAX_CHANNELS_TEXT - 1);
    ModelDesc *work = malloc(sizeof *work);
    if (!work) return err_set(err, "out of memory");
    memcpy(work, d, sizeof *work);
    work->n_subnets = 0;
    int counts[MODEL_MAX_SUBNETS][MODEL_MAX_SLOTS];
    const char *p = text;
    int n_lists = 0, rc = 0;
    while (!rc) {
        int list = n_lists + 1, n = 0;
        if (n_lists == MODEL_MAX_SUBNETS) {
            rc = err_set(err, "%s: more than %d subnets", what, MODEL_MAX_SUBNETS);
            break;
        }
        for (;;) {
            const char *end;
            long v;
            if (channel_count(p, &end, &v)) {
                char tok[48];
                token_text(p, tok, sizeof tok);
                rc = tok[0] ? err_set(err, "%s: subnet %d: '%s' is not a channel count (a decimal integer)", what, list, tok)
                            : err_set(err, "%s: subnet %d: empty channel count (counts are separated by ',', subnets by '/')",
                                      what, list);
                break;
            }
            if (n < d->n_slots && (v < 1 || v > d->slot_max[n])) {
                rc = err_set(err, "%s: subnet %d, slot %d (%s): %ld channels, allowed 1..%d", what, list, n + 1,
                             d->slot_name[n], v, d->slot_max[n]);
                break;
            }
            if (n < d->n_slots) counts[n_lists][n] = (int)v;
            n++;
            p = end;
            if (*p != ',') break;
            p++;
        }
        if (rc) break;
        if (n != d->n_slots) {
            rc = err_set(err, "%s: subnet %d has %d channel count%s; %s has %d slots (%s ... %s): one count per slot", what,
                         list, n, n == 1 ? "" : "s", d->arch, d->n_slots, d->slot_name[0], d->slot_name[d->n_slots - 1]);
            break;
        }
        for (int k = 0; k < n_lists && !rc; k++)
            if (!memcmp(counts[k], counts[n_lists], sizeof(int) * (size_t)d->n_slots))
                rc = err_set(err, "%s: subnets %d and %d have the same channel counts", what, k + 1, list);
        if (rc) break;
        char name[32];
        snprintf(name, sizeof name, "c%d", list);
        Err why;
        if (subnet_add(work, name, counts[n_lists], &why)) {
            rc = err_set(err, "%s: %s", what, why.msg);
            break;
        }
        n_lists++;
        if (!*p) break;
        p++; /* the '/' */
        if (!*p) rc = err_set(err, "%s: ends with '/' (an empty subnet)", what);
    }
    if (!rc) memcpy(d, work, sizeof *d);
    free(work);
    return rc;
}

int synthetic_parse_input(const char *text, const char *what, int *c, int *h, int *w, Err *err) {
    long v[3];
    int n = 0;
    const char *p = text;
    while (n < 3) {
        const char *q = p;
        while (*q >= '0' && *q <= '9') q++;
        if (q == p || q - p > 9 || (*q && *q != 'x')) break;
        v[n++] = strtol(p, NULL, 10);
        p = q;
        if (!*p) break;
        p++;
    }
    if (!n || *p || (p > text && p[-1] == 'x'))
        return err_set(err, "%s: '%s' is not an input shape (SIDE, HxW or CxHxW, e.g. 224 or 3x224x224)", what, text);
    if (n == 1) *c = 3, *h = *w = (int)v[0];
    else if (n == 2) *c = 3, *h = (int)v[0], *w = (int)v[1];
    else *c = (int)v[0], *h = (int)v[1], *w = (int)v[2];
    if (*c < 1 || *c > MODEL_MAX_CHANNELS || *h < 1 || *h > MODEL_MAX_SIDE || *w < 1 || *w > MODEL_MAX_SIDE)
        return err_set(err, "%s: '%s': channels must be 1..%d, height and width 1..%d", what, text, MODEL_MAX_CHANNELS,
                       MODEL_MAX_SIDE);
    return 0;
}

int synthetic_desc(const SyntheticSpec *s, ModelDesc *d, Err *err) {
    const char *prefix = s->prefix ? s->prefix : "--";
    char what[32];
    if (model_desc_build(d, s->arch, s->in_c, s->in_h, s->in_w, s->classes, s->width, err)) return -1;
    if (s->channels) {
        snprintf(what, sizeof what, "%schannels", prefix);
        if (synthetic_channels(d, s->channels, what, err)) return -1;
    } else {
        if (s->n_widths < 1) return err_set(err, "%swidths: no widths given", prefix);
        Err why;
        if (subnets_uniform(d, s->widths, s->n_widths, &why)) return err_set(err, "%swidths: %s", prefix, why.msg);
    }
    model_desc_set_sets(d, d->n_subnets, 1);
    d->synthetic = 1;
    model_desc_set_meta(d, "train.method", "synthetic");
    model_desc_set_meta(d, "train.seed", "%llu", (unsigned long long)s->seed);
    model_desc_set_meta(d, "train.dynn", "%s", dynn_build_id());
    return 0;
}

int synthetic_build(const SyntheticSpec *s, ModelDesc *d, ModelWeights *w, Err *err) {
    memset(w, 0, sizeof *w);
    if (synthetic_desc(s, d, err) || model_weights_alloc(w, d, err)) return -1;
    model_weights_init(w, d, s->seed);
    return 0;
}

int synthetic_save(const SyntheticSpec *s, const char *path, ModelDesc *d, Err *err) {
    ModelWeights w;
    int rc = synthetic_build(s, d, &w, err) || checkpoint_save_weights(d, &w, path, err) ? -1 : 0;
    model_weights_free(&w);
    return rc;
}
