/* nn/device_plan.h — what every device backend (opencl, cuda) prepares the same way when it opens a
 * model: the activation buffers, tensors sharing them by lifetime, and the inference BN folded into
 * a per-channel scale and shift. Host-side plain data; a backend allocates and uploads from it. */
#ifndef DYNN_NN_DEVICE_PLAN_H
#define DYNN_NN_DEVICE_PLAN_H

#include <stddef.h>

#include "nn/model_desc.h"
#include "util/err.h"

typedef struct DeviceBufferPlan {
    int n_buffers;                           /* the input's is the last one */
    int tensor_buffer[MODEL_MAX_TENSORS];    /* the buffer of each tensor; -1: none (unused tensor) */
    size_t buffer_floats[MODEL_MAX_TENSORS]; /* floats of ONE image in each buffer (at full width) */
} DeviceBufferPlan;

/* Floats of one image of tensor t at full width. */
size_t device_tensor_floats(const ModelDesc *d, int t);

/* Gives every tensor a buffer: an op's output takes a free buffer (the one closest in size), and a
 * buffer is free again after the last op that reads its tensor (the logits are read after the last
 * op). The input gets a buffer of its own, the last. */
int device_plan_buffers(const ModelDesc *d, DeviceBufferPlan *p, Err *err);

/* The folded inference BN of every BN op and every BN set, as batchnorm_forward_eval computes it:
 * for op i and set s, scale[c_max] then shift[c_max] at offset fold_off[i] + s * 2 * c_max, c_max
 * the op's full channel count; *floats the array's length. NULL when out of memory. free() it. */
float *device_fold_bn(const ModelDesc *d, const ModelWeights *w, size_t fold_off[MODEL_MAX_OPS], size_t *floats);

#endif
