/* nn/model_desc.c — what needs only a description (nn/model_desc.h): per-subnet accounting (MACs,
 * parameters, stored and activation floats), the largest subnet, and weight storage. No executor
 * buffers: `dynn info`, the train stage's records and every backend use these; and the initial values
 * of parameters (a new Model's, a synthetic model's). */
#include "nn/model_desc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/arena.h"
#include "nn/rng.h"

double model_subnet_macs(const ModelDesc *d, const int *active) {
    double macs = 0.0;
    for (int i = 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        const TensorDesc *in = &d->tensors[o->in0], *out = &d->tensors[o->out];
        int cin = tensor_active_c(d, o->in0, active), cout = tensor_active_c(d, o->out, active);
        if (o->kind == OP_CONV) macs += (double)cout * cin * o->k * o->k * out->h * out->w;
        else if (o->kind == OP_LINEAR) macs += (double)cout * cin * in->h * in->w;
    }
    return macs;
}

double model_subnet_params(const ModelDesc *d, const int *active) {
    double params = 0.0;
    for (int i = 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        const TensorDesc *in = &d->tensors[o->in0];
        int cin = tensor_active_c(d, o->in0, active), cout = tensor_active_c(d, o->out, active);
        if (o->kind == OP_CONV) params += (double)cout * cin * o->k * o->k;
        else if (o->kind == OP_LINEAR) params += (double)cout * cin * in->h * in->w + cout;
        else if (o->kind == OP_BN) params += 2.0 * cout;
    }
    return params;
}

double model_subnet_stored_floats(const ModelDesc *d, const int *active) {
    double n = model_subnet_params(d, active);
    for (int i = 0; i < d->n_ops; i++)
        if (d->ops[i].kind == OP_BN) n += 2.0 * tensor_active_c(d, d->ops[i].out, active);
    return n;
}

double model_subnet_activation_floats(const ModelDesc *d, const int *active) {
    double n = 0.0;
    for (int i = 0; i < d->n_ops; i++) {
        const TensorDesc *t = &d->tensors[d->ops[i].out];
        n += (double)tensor_active_c(d, d->ops[i].out, active) * t->h * t->w;
    }
    return n;
}

size_t model_desc_param_floats(const ModelDesc *d) {
    size_t n = 0;
    for (int i = 0; i < d->n_params; i++) n += d->params[i].numel;
    return n;
}

int model_largest_subnet(const ModelDesc *d) {
    int best = 0;
    for (int i = 1; i < d->n_subnets; i++)
        if (model_subnet_macs(d, d->subnets[i].count) > model_subnet_macs(d, d->subnets[best].count)) best = i;
    return best;
}

int model_weights_alloc(ModelWeights *w, const ModelDesc *d, Err *err) {
    memset(w, 0, sizeof *w);
    size_t n = model_desc_param_floats(d);
    if (!(w->data = aligned_calloc(size_mul_sat(n ? n : 1, sizeof(float)))))
        return err_set(err, "out of memory for the %zu parameters of model %s", n, d->arch);
    size_t at = 0;
    for (int i = 0; i < d->n_params; i++) {
        w->param[i] = w->data + at;
        at += d->params[i].numel;
    }
    return 0;
}

void model_weights_free(ModelWeights *w) {
    free(w->data);
    memset(w, 0, sizeof *w);
}

void model_param_init_set(const ParamDesc *p, float *w, uint64_t seed, int index, int set) {
    Rng r;
    rng_derive(&r, seed, (uint64_t)index, (uint64_t)set);
    switch (p->kind) {
    case PARAM_WEIGHT:
        if (p->ndim == 4) { /* conv: Kaiming normal, mode fan_out, ReLU gain */
            float std = sqrtf(2.0f / (float)p->fan_out);
            for (size_t j = 0; j < p->set_numel; j++) w[j] = std * rng_normal(&r);
        } else { /* linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as PyTorch */
            float bound = 1.0f / sqrtf((float)p->fan_in);
            for (size_t j = 0; j < p->set_numel; j++) w[j] = bound * (2.0f * rng_uniform(&r) - 1.0f);
        }
        break;
    case PARAM_BIAS: {
        float bound = 1.0f / sqrtf((float)p->fan_in);
        for (size_t j = 0; j < p->set_numel; j++) w[j] = bound * (2.0f * rng_uniform(&r) - 1.0f);
        break;
    }
    case PARAM_BN_GAMMA:
    case PARAM_BN_VAR:
        for (size_t j = 0; j < p->set_numel; j++) w[j] = 1.0f;
        break;
    case PARAM_BN_BETA:
    case PARAM_BN_MEAN:
        memset(w, 0, sizeof(float) * p->set_numel);
        break;
    }
}

void model_weights_init(ModelWeights *w, const ModelDesc *d, uint64_t seed) {
    for (int i = 0; i < d->n_params; i++) {
        const ParamDesc *p = &d->params[i];
        for (int set = 0; set < p->sets; set++) model_param_init_set(p, w->param[i] + (size_t)set * p->set_numel, seed, i, set);
    }
}
