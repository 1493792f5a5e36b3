/* nn/snapshot.h — training snapshots: what lets an interrupted training job go on from the last
 * epoch it finished, bit-identical to a run that was never interrupted. Owns the snapshot file.
 *
 * A training job with a snapshot path writes, after every epoch (atomically: util/atomic_file.h),
 * every parameter (BN running statistics included), the SGD momentum of the current call, the step
 * function's own state (e.g. the sandwich rule's random stream), the FLOPs and wall time spent so far
 * and how many epochs are done, counted over every train_run call of the method. The next run of the
 * same job (the same fingerprint: build, kernels, threads, seed and every option) reads it at the
 * start, replays the method with the covered epochs skipped (every stream and the learning-rate
 * schedule are functions of the global epoch and iteration, so nothing else is needed) and, at the
 * last covered epoch, loads the snapshot into the model and the optimizer. This works for methods
 * whose state between train_run calls is derived from the parameters and the options alone: plain,
 * individual, uniform and incremental with its variants (method_resumable, nn/methods.h). Greedy
 * slimming (nonuniform-*) changes the subnets between phases, so those run from the start.
 *
 * File (host byte order; a snapshot is only ever read by the build that wrote it):
 *   "DYNNSNAP" u32 version=1, char fingerprint[64], i32 epochs_done, f32 final_loss,
 *   f64 train_flops, f64 wall_s, u32 n_params, per parameter: u64 numel, u8 has_velocity,
 *   f32 values[numel] (then f32 velocity[numel] when has_velocity), u64 step_state_bytes, the
 *   step state, u32 CRC-32 (zlib) of every byte before it. */
#ifndef DYNN_NN_SNAPSHOT_H
#define DYNN_NN_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "nn/model.h"
#include "nn/optim.h"
#include "util/err.h"

#define SNAPSHOT_FINGERPRINT_LEN 64

/* A parsed snapshot: views into the bytes it was parsed from. */
typedef struct SnapshotView {
    char fingerprint[SNAPSHOT_FINGERPRINT_LEN + 1];
    int epochs_done;
    float final_loss;
    double train_flops, wall_s;
    uint32_t n_params;
    const uint8_t *params;  /* the parameter records, as in the file */
    size_t params_len;
    const uint8_t *step_state;
    uint64_t step_state_bytes;
} SnapshotView;

/* Checks the whole layout, sizes and CRC of len bytes; messages start with `path`. No allocation. */
int snapshot_parse(const uint8_t *data, size_t len, const char *path, SnapshotView *v, Err *err);

typedef struct TrainResume {
    char path[4096];
    char fingerprint[SNAPSHOT_FINGERPRINT_LEN + 1];
    int skip;              /* epochs the snapshot read at open covers (0: none; training starts afresh) */
    int done;              /* epochs finished or skipped so far, over every train_run call */
    double wall_before;    /* training wall time of the covered epochs (earlier processes) */
    double t0;             /* CLOCK_MONOTONIC when this process opened it */
    uint8_t *file;         /* the snapshot read at open, kept until restored */
    size_t file_len;
    SnapshotView view;
} TrainResume;

/* Prepares snapshots at `path` for the job with `fingerprint` (64 hex digits) training m. An
 * existing snapshot is read and checked against the fingerprint and m's parameters: one of another
 * job, or a damaged one, is an error naming the file and saying to remove it. */
int train_resume_open(TrainResume *r, const char *path, const char *fingerprint, const Model *m, Err *err);
/* Loads the snapshot into m (parameters, train_flops) and opt (momentum), the step state into
 * step_state (its size must match) and its loss into *final_loss; frees the file's bytes. */
int train_resume_restore(TrainResume *r, Model *m, Sgd *opt, void *step_state, size_t step_state_bytes,
                         float *final_loss, Err *err);
/* Writes the snapshot of r->done epochs atomically. */
int train_resume_save(TrainResume *r, const Model *m, const Sgd *opt, const void *step_state, size_t step_state_bytes,
                      float final_loss, Err *err);
/* Training wall time so far, the covered epochs' included. */
double train_resume_wall(const TrainResume *r);
/* After the job's result is saved: the snapshot is removed. */
int train_resume_finish(TrainResume *r, Err *err);
void train_resume_close(TrainResume *r);

#endif
