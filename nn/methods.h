/* nn/methods.h — the five ways of producing a dynamic model (all yield the same checkpoint kind):
 *
 *   uniform            slimmable recipe: every width ratio in every layer; each iteration runs every
 *                      width (or the sandwich rule), sums the gradients, one step; switchable BN;
 *                      optional in-place distillation from the largest width.
 *   nonuniform-multi   background model (full width, optional group-lasso) -> channels sorted by
 *                      L1 importance -> per-slot counts for each MACs target by greedy slimming on a
 *                      held-out batch (each new subnet's BN statistics re-calibrated on a few
 *                      training batches) -> multi-path retraining: every iteration runs one
 *                      forward/backward path per subnet (each subnet is retrained over the whole
 *                      epoch budget), gradients summed, switchable BN.
 *   nonuniform-single  one training round in S phases: phase 1 trains the full width; at the end
 *                      of each phase the next smaller subnet is chosen by greedy slimming from the
 *                      current weights and joins; all chosen subnets keep training jointly.
 *   incremental        G channel groups per slot. Stage g trains only group g's weights (group-
 *                      convolution pruning: output group j reads input groups <= j), earlier groups
 *                      frozen, their BN in inference mode, so subnets <= g stay bit-identical.
 *                      Options: distillation of each new group from a teacher network or (self) from
 *                      the frozen subnet's logits; `joint`, the ablation that trains every group
 *                      jointly on the same connectivity (nothing frozen).
 *   individual         each width trained alone from scratch with the same recipe, stored as
 *                      separate weight sets in one checkpoint (the baseline).
 *
 * Connectivity of `incremental` (what reads what): for a conv or linear layer whose input and
 * output are both grouped, output channel c of group j = c / (C_out/G) reads input channels of
 * groups 0..j only (block lower-triangular weights; the upper blocks are zero and never trained).
 * The first conv reads the image (all groups read all image channels); the classifier reads every
 * group (logits = sum over groups, group g's columns trained at stage g, the bias at stage 1).
 * Residual adds and BN are per channel, so they stay within a group. */
#ifndef DYNN_NN_METHODS_H
#define DYNN_NN_METHODS_H

#include "nn/model.h"
#include "nn/subnet.h"
#include "nn/train.h"

typedef enum TrainMethod {
    METHOD_PLAIN,             /* one network, no subnets (plain training) */
    METHOD_UNIFORM,
    METHOD_NONUNIFORM_MULTI,
    METHOD_NONUNIFORM_SINGLE,
    METHOD_INCREMENTAL,
    METHOD_INDIVIDUAL,
} TrainMethod;

typedef struct DynamicConfig {
    TrainMethod method;
    float ratios[MODEL_MAX_SUBNETS]; /* widths (uniform, individual) or MACs fractions (non-uniform) */
    int n_ratios;
    int groups;          /* incremental: channel groups per slot (4) */
    int sandwich;        /* uniform/multi: 0 = every subnet each iteration; k >= 2: largest, smallest and
                            k-2 random others */
    int distill;         /* smaller subnets learn from the largest's detached soft predictions */
    int bg_epochs;       /* nonuniform-multi: epochs of the full-width background model */
    int phase_epochs[MODEL_MAX_SUBNETS]; /* nonuniform-single: epochs of phases 1..S-1 (the last gets the
                                            rest of the budget); n_phase_epochs = 0: 1 epoch each */
    int n_phase_epochs;
    float group_lasso;   /* nonuniform-multi: group-lasso strength on conv filters while training the
                            background model (0: off) */
    int slim_images;     /* non-uniform: training images held out for greedy slimming (256) */
    float min_channels;  /* non-uniform: greedy slimming keeps at least this fraction of every slot's
                            channels (0.125; 0: down to 1 channel) */
    int slim_coarse;     /* non-uniform: greedy slimming's coarse steps are 1/slim_coarse of a slot while
                            far from the target (SLIM_COARSE_DIV_DEFAULT; 0: fine steps throughout) */
    /* incremental only: */
    int joint;           /* ablation: the same block lower-triangular network, every group-subnet trained
                            in every iteration from the start (uniform's recipe, E/G epochs), nothing
                            frozen; subnets nest by construction but no group can be added later */
    int self_distill;    /* group g (>= 2) also learns the frozen subnet g-1's soft predictions (its
                            logits come from the same forward: no extra pass) */
    Model *teacher;      /* groups >= 2 also learn this model's soft predictions (its current subnet,
                            eval mode, the same augmented batch); borrowed, NULL: none */
    float distill_temp;  /* temperature T of the soft predictions (teacher or self) */
    float distill_weight;/* weight a of the soft loss: (1-a) CE(labels) + a T^2 CE(soft) */
    /* Optional observer called after each stage/phase (incremental: after group g is trained);
     * tests use it to check that earlier subnets did not change. */
    void (*after_stage)(Model *m, int stage, void *ctx);
    void *after_stage_ctx;
} DynamicConfig;

void dynamic_config_defaults(DynamicConfig *dc);
/* Epochs of each of nonuniform-single's S phases within the budget (dc->phase_epochs, else equal
 * shares) into out[S]; an error naming `what` when the list does not fit. */
int single_path_phases(const DynamicConfig *dc, int S, int epochs, const char *what, int *out, Err *err);
/* incremental's variant as reports name it: "incremental", "incremental+joint",
 * "incremental+teacher", "incremental+self-distill" (other methods: their name). `teacher`: whether
 * a teacher is given (dc->teacher may not be loaded yet). db/db_rundata.c names stages the same way
 * from their params. */
const char *method_variant_name(const DynamicConfig *dc, int teacher);
/* "uniform", "nonuniform-multi", "nonuniform-single", "incremental", "individual", "plain". */
int method_parse(const char *name, TrainMethod *method, Err *err);
const char *method_name(TrainMethod method);

/* Prepares a model description for a method before the model is created: the subnet list
 * (uniform widths, G groups, or S placeholders for non-uniform subnets chosen during training)
 * and the BN/weight sets. */
int method_prepare_desc(ModelDesc *d, const DynamicConfig *dc, Err *err);

/* incremental: zeroes every weight through which a channel of group j would read a channel of a
 * later group (the upper blocks of the block lower-triangular weights), for G groups. */
void incremental_zero_upper_blocks(Model *m, int G);

typedef struct MethodReport {
    double wall_s;
    double train_flops;  /* every training-mode pass, including slimming probes */
    double epochs;       /* passes over the training set, summed over phases */
    float final_loss;
    SlimStats slim;      /* nonuniform-*: every greedy slimming search of the run, added up */
} MethodReport;

/* Whether a job of this method can go on from a training snapshot (nn/snapshot.h): its state
 * between train_run calls follows from the parameters and options alone. Not nonuniform-*: greedy
 * slimming chooses the subnets between phases. */
int method_resumable(TrainMethod method);

/* Trains m (created from a prepared description, parameters initialized) with the method.
 * base->epochs is the method's epoch budget (see docs: per method). With base->resume, epochs an
 * earlier process finished are skipped (the method must be resumable) and rep->wall_s includes
 * theirs. */
int method_train(Model *m, const Dataset *train, const Dataset *test, const TrainConfig *base,
                 const DynamicConfig *dc, MethodReport *rep, Err *err);

#endif
