/* nn/synthetic.h — synthetic models: an architecture's description with its subnets and random
 * weights (seeded, deterministic), made without a data set and without training, to measure latency
 * at a scale whose data set is not at hand (ResNet-18 at 224x224 with ImageNet's 1000 classes).
 *
 * The subnets come from uniform widths (every slot at the same ratio, named w0.25 ... as the uniform
 * method names them) or from explicit channel counts: one list per subnet, one count per channel
 * slot of the architecture (`dynn info` lists the slots), lists separated by '/', counts by ',':
 *
 *   16,16,16,32,32,32,64,64,64,128,128,128/32,32,...     subnets c1, c2, ... in the order given
 *
 * The weights are the initial values a new Model would get from the same seed
 * (model_param_init_set: stream (seed, parameter, set)), so the same spec and seed always give the
 * same bytes; BN has one set per subnet (switchable BN, as the uniform method's checkpoints). The
 * description is marked `synthetic` (checkpoint line `synthetic 1`), which `dynn info`, `dynn
 * profile` and the reports show, and on which `dynn eval` refuses: random weights have no accuracy.
 * The normalization is the identity (mean 0, std 1): no data set was seen. */
#ifndef DYNN_NN_SYNTHETIC_H
#define DYNN_NN_SYNTHETIC_H

#include <stdint.h>

#include "nn/model_desc.h"
#include "util/err.h"

/* Channel lists longer than this (as text) are refused. */
#define SYNTHETIC_MAX_CHANNELS_TEXT 8192

typedef struct SyntheticSpec {
    const char *arch;          /* "resnet18" (model_desc_build's names) */
    int in_c, in_h, in_w;      /* input shape per image */
    int classes;
    float width;               /* width multiplier of the architecture (1: the paper's widths) */
    float widths[MODEL_MAX_SUBNETS]; /* uniform subnets: ratios in (0, 1] ... */
    int n_widths;
    const char *channels;      /* ... or explicit channel counts (NULL: widths) */
    uint64_t seed;
    const char *prefix;        /* how messages name the options: "--" (NULL: the same) or "" (stage params) */
} SyntheticSpec;

/* "S" (3 x S x S), "HxW" (3 channels) or "CxHxW" into *c, *h, *w; `what` names it in messages
 * ("--input"). Bounds are model_desc_build's (channels 1..4, sides 1..16384). */
int synthetic_parse_input(const char *text, const char *what, int *c, int *h, int *w, Err *err);

/* Replaces d's subnets by the explicit channel lists of `text` (see above), named c1, c2, ... in the
 * order given and kept ordered by MACs. One-line errors name `what`, the subnet (1-based, as given)
 * and the slot: a list with another number of counts than d has slots, a count outside 1..the
 * slot's channels, something that is not a decimal integer, an empty list, two equal lists, more
 * than MODEL_MAX_SUBNETS lists. d is unchanged on error. */
int synthetic_channels(ModelDesc *d, const char *text, const char *what, Err *err);

/* The description of the spec: the architecture, its subnets, BN sets, the `synthetic` mark and the
 * metadata (train.method synthetic, train.seed, train.dynn). Messages name the options with
 * s->prefix (--widths, --channels). */
int synthetic_desc(const SyntheticSpec *s, ModelDesc *d, Err *err);

/* The description and its weights (w allocated here: model_weights_free; empty on failure). */
int synthetic_build(const SyntheticSpec *s, ModelDesc *d, ModelWeights *w, Err *err);

/* Builds and writes the checkpoint `path` (atomically: ckpt_write's temp file + rename); nothing is
 * written on error. d (caller-allocated) gets the description. */
int synthetic_save(const SyntheticSpec *s, const char *path, ModelDesc *d, Err *err);

#endif
