/* nn/checkpoint.h — saving and loading a Model (description + every parameter tensor) through
 * the checkpoint container (ckpt_file.h), or reading a description and its weights alone (for an
 * inference backend). The description is text in the container's meta:
 *
 *   dynn-model 1
 *   arch resnet20
 *   input 1 28 28
 *   classes 10
 *   width 1
 *   bn_sets 1                   (BN sets: 1 shared, or one per subnet = switchable BN)
 *   weight_sets 1               (1 = nested subnets share weights; one per subnet = separate models)
 *   bn_eps 0.001                (BN epsilon; only written when not MODEL_BN_EPS, 1e-5)
 *   synthetic 1                 (random weights, never trained: nn/synthetic.h; only written when 1)
 *   norm 0.286 0.353            (mean std, per input channel)
 *   slots 12
 *   slot stage1 16              (name, full channels; one line per slot)
 *   subnet full 16 16 32 ...    (name, active channels per slot; one line per subnet)
 *   meta train.epochs 15        (free-form provenance; key, then the rest of the line)
 *
 * Loading rebuilds the architecture from (arch, input, classes, width), then checks that every
 * tensor of the file exists in the model with the same shape and vice versa, all before any model
 * buffer is allocated (model_create then checks the memory the batch needs). */
#ifndef DYNN_NN_CHECKPOINT_H
#define DYNN_NN_CHECKPOINT_H

#include "nn/model.h"

int checkpoint_save(const Model *m, const char *path, Err *err);
/* The same from a description and its weights alone (no Model): what a synthetic model is saved with. */
int checkpoint_save_weights(const ModelDesc *d, const ModelWeights *w, const char *path, Err *err);
/* Parses a description (meta_len bytes, no NUL inside) into d (caller-allocated), strictly: every
 * line a known key with exactly its fields, numbers written out in decimal, complete, finite and in
 * range, header keys, subnet names and meta keys each given once, slot lines matching the rebuilt
 * architecture. Errors name `path`, the line and the field. */
int checkpoint_parse_desc(const char *path, const char *meta, size_t meta_len, ModelDesc *d, Err *err);
/* Reads a checkpoint's description (no model buffers): for `dynn info`. d is caller-allocated.
 * The file's tensors are checked against the description (names, count, shapes) as by loading.
 * tensors_crc (may be NULL) gets a CRC-32 over every tensor's bytes in file order: equal for
 * bit-identical parameters, whatever the metadata (wall time) says. One read of the file. */
int checkpoint_read_desc(const char *path, ModelDesc *d, unsigned long *tensors_crc, Err *err);
/* Reads a checkpoint's description and parameter values without building a Model (no buffers to
 * run it, no gradients): what an inference backend (nn/backend.h) is opened with. d is
 * caller-allocated; w is allocated here (model_weights_free), left empty on failure. tensors_crc as
 * for checkpoint_read_desc. One read of the file. */
int checkpoint_read_weights(const char *path, ModelDesc *d, ModelWeights *w, unsigned long *tensors_crc, Err *err);
/* Loads description and parameters into a new training Model sized for max_batch / threads. */
int checkpoint_load(const char *path, Model *m, int max_batch, int threads, Err *err);
/* The same, and (width > 0) makes sure a uniform subnet at that width exists: an existing one is
 * reused, else one is added (with a BN set copied from the smallest subnet containing it, to be
 * re-calibrated with model_recalibrate_bn). *subnet gets its index (or the largest's). */
int checkpoint_load_width(const char *path, Model *m, int max_batch, int threads, float width, int *subnet,
                          Err *err);

#endif
