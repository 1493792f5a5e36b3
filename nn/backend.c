/* nn/backend.c — the table of inference backends and the calls every caller goes through (see
 * backend.h): finding a type by name, and the checks (subnet index, batch size) no backend has to
 * repeat. */
#include "nn/backend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/suggest.h"

/* This build's backends, the default first. A new one is a row here (and its file). */
static const BackendType *const TYPES[] = {
    &backend_type_cpu,
#ifdef DYNN_HAVE_OPENCL
    &backend_type_opencl,
#endif
#ifdef DYNN_HAVE_CUDA
    &backend_type_cuda,
#endif
};
#define N_TYPES (sizeof TYPES / sizeof *TYPES)

struct Backend {
    const BackendType *type;
    void *state;
    int max_batch, n_subnets;
};

const BackendType *const *backend_types(size_t *n) {
    *n = N_TYPES;
    return TYPES;
}

const BackendType *backend_find(const char *name, Err *err) {
    const char *names[N_TYPES];
    char list[256] = "", hint[96], bare[64];
    snprintf(bare, sizeof bare, "%.*s", (int)strcspn(name, ":"), name);
    for (size_t i = 0; i < N_TYPES; i++) {
        if (!strcmp(TYPES[i]->name, bare)) return TYPES[i];
        names[i] = TYPES[i]->name;
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", names[i]);
    }
    err_set(err, "backend '%s' is not built into this dynn%s (built in: %s)", bare,
            suggest_hint(hint, sizeof hint, bare, names, N_TYPES), list);
    return NULL;
}

int backend_open(const char *name, const ModelDesc *d, const ModelWeights *w, int max_batch, int threads, Backend **out,
                 Err *err) {
    *out = NULL;
    if (!name) name = BACKEND_DEFAULT;
    const BackendType *type = backend_find(name, err);
    if (!type) return -1;
    const char *device = strchr(name, ':') ? strchr(name, ':') + 1 : "";
    if (max_batch < 1) return err_set(err, "backend %s: batch %d is not positive", type->name, max_batch);
    Backend *b = calloc(1, sizeof *b);
    if (!b) return err_set(err, "out of memory");
    b->type = type;
    b->max_batch = max_batch;
    b->n_subnets = d->n_subnets;
    if (type->open(d, w, max_batch, threads, device, &b->state, err)) {
        free(b);
        return -1;
    }
    *out = b;
    return 0;
}

int backend_set_subnet(Backend *b, int subnet, Err *err) {
    if (subnet < 0 || subnet >= b->n_subnets)
        return err_set(err, "backend %s: no subnet %d (the model has %d)", b->type->name, subnet, b->n_subnets);
    return b->type->set_subnet(b->state, subnet, err);
}

int backend_forward(Backend *b, const float *input, int n, float *logits, Err *err) {
    if (n < 1 || n > b->max_batch)
        return err_set(err, "backend %s: batch %d is outside 1..%d (the batch it was opened for)", b->type->name, n,
                       b->max_batch);
    return b->type->forward(b->state, input, n, logits, err);
}

void backend_info(const Backend *b, BackendInfo *out) {
    memset(out, 0, sizeof *out);
    out->name = b->type->name;
    b->type->info(b->state, out);
}

int backend_max_batch(const Backend *b) { return b->max_batch; }

double backend_device_ms(const Backend *b) { return b->type->device_ms ? b->type->device_ms(b->state) : NAN; }

int backend_op_times(const Backend *b, double *ms, int n) {
    return b->type->op_times ? b->type->op_times(b->state, ms, n) : -1;
}

void backend_close(Backend *b) {
    if (!b) return;
    b->type->close(b->state);
    free(b);
}
