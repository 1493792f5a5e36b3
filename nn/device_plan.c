/* nn/device_plan.c — the activation-buffer plan and the folded BN shared by the device backends
 * (see device_plan.h). */
#include "nn/device_plan.h"

#include <math.h>
#include <stdlib.h>

size_t device_tensor_floats(const ModelDesc *d, int t) {
    return (size_t)d->tensors[t].c * (size_t)d->tensors[t].h * (size_t)d->tensors[t].w;
}

int device_plan_buffers(const ModelDesc *d, DeviceBufferPlan *p, Err *err) {
    int last_use[MODEL_MAX_TENSORS];
    for (int t = 0; t < MODEL_MAX_TENSORS; t++) last_use[t] = -1, p->tensor_buffer[t] = -1;
    for (int i = 0; i < d->n_ops; i++) {
        last_use[d->ops[i].in0] = i;
        if (d->ops[i].in1 >= 0) last_use[d->ops[i].in1] = i;
    }
    last_use[d->logits] = d->n_ops; /* read back after the last op */
    int busy[MODEL_MAX_TENSORS] = {0};
    size_t *sizes = p->buffer_floats;
    p->n_buffers = 0;
    for (int i = 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        size_t need = device_tensor_floats(d, o->out);
        int pick = -1;
        for (int b = 0; b < p->n_buffers; b++) /* the free buffer closest in size */
            if (!busy[b] && (pick < 0 || (sizes[b] >= need) > (sizes[pick] >= need) ||
                             ((sizes[b] >= need) == (sizes[pick] >= need) &&
                              (sizes[b] >= need ? sizes[b] < sizes[pick] : sizes[b] > sizes[pick]))))
                pick = b;
        if (pick < 0) {
            if (p->n_buffers == MODEL_MAX_TENSORS - 1) return err_set(err, "too many activation buffers");
            pick = p->n_buffers++;
            sizes[pick] = 0;
        }
        if (sizes[pick] < need) sizes[pick] = need;
        busy[pick] = 1;
        p->tensor_buffer[o->out] = pick;
        int ins[2] = {o->in0, o->in1};
        for (int k = 0; k < 2; k++)
            if (ins[k] >= 0 && ins[k] != d->input && last_use[ins[k]] == i && p->tensor_buffer[ins[k]] >= 0)
                busy[p->tensor_buffer[ins[k]]] = 0;
    }
    sizes[p->n_buffers] = device_tensor_floats(d, d->input);
    p->tensor_buffer[d->input] = p->n_buffers++;
    return 0;
}

float *device_fold_bn(const ModelDesc *d, const ModelWeights *w, size_t fold_off[MODEL_MAX_OPS], size_t *floats) {
    size_t total = 0;
    for (int i = 0; i < d->n_ops; i++)
        if (d->ops[i].kind == OP_BN) {
            fold_off[i] = total;
            total += 2 * (size_t)d->tensors[d->ops[i].out].c * (size_t)d->params[d->ops[i].gamma].sets;
        }
    float *f = malloc(sizeof(float) * (total ? total : 1));
    if (!f) return NULL;
    for (int i = 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        if (o->kind != OP_BN) continue;
        int c_max = d->tensors[o->out].c;
        for (int s = 0; s < d->params[o->gamma].sets; s++) {
            float *scale = f + fold_off[i] + (size_t)s * 2 * c_max, *shift = scale + c_max;
            const float *g = w->param[o->gamma] + (size_t)s * c_max, *b = w->param[o->beta] + (size_t)s * c_max;
            const float *rm = w->param[o->mean] + (size_t)s * c_max, *rv = w->param[o->var] + (size_t)s * c_max;
            for (int c = 0; c < c_max; c++) { /* as batchnorm_forward_eval computes them */
                float invstd = 1.0f / sqrtf(rv[c] + d->bn_eps);
                scale[c] = g[c] * invstd;
                shift[c] = b[c] - rm[c] * scale[c];
            }
        }
    }
    *floats = total;
    return f;
}
