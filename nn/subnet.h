/* nn/subnet.h — making and managing the subnets of a dynamic model.
 *
 * A subnet is data: one active-channel count per channel slot (model.h). This module
 *   - builds subnet lists: uniform width ratios, or G equal channel groups (incremental),
 *   - orders them by MACs (smallest first) and checks them (nested, within bounds),
 *   - reorders channels by importance (so that "the leading k channels" are the best k),
 *   - chooses non-uniform per-slot counts for a MACs budget by greedy slimming,
 *   - re-calibrates a subnet's BN statistics from training batches. */
#ifndef DYNN_NN_SUBNET_H
#define DYNN_NN_SUBNET_H

#include "nn/data.h"
#include "nn/model.h"

/* Parses "0.25,0.5,0.75,1" into ratios; each must be in (0, 1], at least one, at most
 * MODEL_MAX_SUBNETS, no duplicates. `what` names the option in errors. */
int parse_ratio_list(const char *text, const char *what, float *ratios, int *n, Err *err);

/* Replaces d's subnets with uniform widths: count = max(1, round(ratio * slot_max)) in every slot.
 * Named "w0.25" etc., ordered by MACs. */
int subnets_uniform(ModelDesc *d, const float *ratios, int n, Err *err);
/* Replaces d's subnets with g = 1..groups equal channel groups per slot ("g1".."gG"); every slot's
 * channel count must be divisible by `groups`. */
int subnets_groups(ModelDesc *d, int groups, Err *err);
/* Appends a subnet (name, counts) keeping the list ordered by MACs; counts must be within
 * 1..slot_max. */
int subnet_add(ModelDesc *d, const char *name, const int *counts, Err *err);

/* Importance of each channel of a slot: the L1 norm of the weights that produce it (every conv or
 * linear layer writing into the slot), summed. score[slot_max]. */
void slot_channel_importance(const Model *m, int slot, float *score);
/* Physically reorders the channels of a slot: new channel i = old channel perm[i], in every
 * producer (output rows, BN entries of every set) and consumer (input columns). The network
 * computes the same function afterwards (a test checks it). */
void slot_permute(Model *m, int slot, const int *perm);
/* The same reordering applied to any per-parameter buffers laid out like the parameters (e.g. SGD
 * momentum). */
void slot_permute_buffers(const ModelDesc *d, float *const *bufs, int slot, const int *perm);
/* Sorts every slot's channels by decreasing importance; `also` (may be NULL) is permuted alike. */
void model_sort_channels_by_importance(Model *m, float *const *also);

/* Fails, naming the floor, if no subnet slimmed from `from` with that floor reaches target_macs. */
int subnet_check_macs_target(const ModelDesc *d, const int *from, double target_macs, float min_frac, Err *err);

/* Greedy slimming's step sizes: a fine step is 1/SLIM_FINE_DIV of a slot's full width (at least one
 * channel); a coarse one 1/coarse_div (coarse_div between 2 and SLIM_FINE_DIV - 1; 0: fine steps
 * throughout, the search of dynn before 2026-12-08). */
#define SLIM_FINE_DIV 16
#define SLIM_COARSE_DIV_DEFAULT 8

/* What one slimming search cost: steps taken (coarse among them), trial forwards of the held-out
 * batch (each step's base forward and one per slot tried), and wall time. Callers add them up. */
typedef struct SlimStats {
    int steps, coarse_steps, trials;
    double seconds;
} SlimStats;

/* Greedy slimming: starting from `from` (counts per slot), repeatedly removes a step of channels
 * from the slot whose removal raises the loss on the held-out batch (x, labels, n images; BN in
 * batch-statistics mode) least per MAC saved, until the subnet's MACs are at most target_macs.
 * Steps are coarse (1/coarse_div of a slot) while no slot's coarse step would reach the target, then
 * fine (1/SLIM_FINE_DIV), so the result lands within one fine step of the target, as a search of
 * fine steps alone does, at about half its cost (docs/PERFORMANCE.md). No slot goes below
 * ceil(min_frac x its full width) channels, at least 1 (min_frac 0: one channel), nor is raised
 * above `from` to reach that floor. Writes the result to `out` and adds its cost to `stats` (may be
 * NULL). Fails if the target is below the smallest reachable subnet (every slot at its floor). The
 * model's current subnet is restored afterwards. */
int subnet_greedy_slim(Model *m, const int *from, double target_macs, float min_frac, int coarse_div, const float *x,
                       const int *labels, int n, int *out, SlimStats *stats, Err *err);

/* Re-estimates the running BN statistics of the current subnet's BN set from `batches` training
 * batches (exact average of batch statistics; no augmentation; parameters unchanged). */
int model_recalibrate_bn(Model *m, const Dataset *train, int batches, uint64_t seed, Err *err);

#endif
