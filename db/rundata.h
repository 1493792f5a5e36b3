/* db/rundata.h — a run's results as plain data: the trained models with their per-subnet
 * metrics, the profiling measurements with every latency sample, and the run's provenance.
 *
 * The record types the results database reads back: filled by db_load_run_data (db/db_rundata.c),
 * freed by rundata_free, and read by the aggregate, report and check code (reports/), which never
 * see SQL; reports/rundata.h has the report-side helpers. A *model* is a stage instance that recorded per-subnet
 * `accuracy` metrics (the train stage, or any stage following its conventions), or the stage-level
 * metric `synthetic` = 1 (a synthetic model: random weights, per-subnet costs, no accuracy, which
 * the reports never show for it); a *measurement* is a
 * row of the measurements table, linked to the model it measured through the run's stage graph
 * (stage_needs). Unknown numbers are NaN, unknown integers 0, unknown links -1. */
#ifndef DYNN_DB_RUNDATA_H
#define DYNN_DB_RUNDATA_H

#include <stddef.h>
#include <stdint.h>

#include "db/conditions.h"

typedef struct RdSubnet {
    char *name;        /* "w0.25" */
    int index;         /* metric subnet_index (0 = smallest); the order of the list when not recorded */
    double accuracy;   /* fraction 0..1 */
    double loss, macs, params, bytes_touched, width;
} RdSubnet;

typedef struct RdModel {
    int64_t stage_row;  /* the instance's row in this run */
    char *stage;        /* instance name, "train@method=uniform" */
    char *method;       /* its param `method`, else the instance name; "synthetic" for a synthetic model */
    int synthetic;      /* 1: random weights, never trained (metric synthetic = 1): every accuracy and loss NaN */
    char *arch;         /* its param `model` ("resnet20"), NULL when not recorded */
    RdSubnet *subnets;  /* ordered by index, then MACs */
    size_t n_subnets;
    double train_seconds, train_flops, model_bytes, separate_models_bytes;
    double slim_seconds; /* nonuniform-*: greedy slimming's share of train_seconds (NaN: none recorded) */
    double epochs, train_images, test_images; /* the training budget (train stage metrics) */
} RdModel;

typedef struct RdMeasurement {
    long model;             /* index into RunData.models, -1 when the measured model is unknown */
    char *stage;            /* the profile instance */
    char *platform, *subnet;
    char *cpus;             /* core mapping, "" when not recorded */
    int batch, threads;
    long long frequency_khz;
    Conditions cond;        /* every condition recorded (platform … frequency_khz above are read from it) */
    double energy_j;        /* energy of the whole measurement (all samples), NaN without a sensor */
    double *latency_s;      /* every sample, in recorded order */
    size_t n_samples;
    int subnet_index;       /* the subnet's position as the profiler recorded it, -1 unknown (what
                               orders the points of a model no train stage of the run describes) */
    long long instructions; /* of one forward pass, counted (cond `counter` says by what); -1 when not counted */
    double cpu_share, wait_share, others_share; /* how much of its CPUs the timed loop had; NaN unknown */
    int interference_flagged; /* 1: the profiler found it disturbed on every attempt: not a latency */
    int attempts;             /* timed loops the profiler ran for it; -1 unknown */
} RdMeasurement;

typedef struct RunData {
    char *uuid, *experiment, *status, *spec_path, *spec_sha256, *git_commit, *build_id, *dynn_version;
    char *host, *cpu_model, *compiler, *cflags;
    int git_dirty;
    double started_at, ended_at; /* Unix seconds; NaN when not over */
    long long seed;
    RdModel *models;
    size_t n_models;
    RdMeasurement *meas;
    size_t n_meas;
} RunData;

/* Frees everything db_load_run_data allocated and zeroes *d (a zeroed RunData is fine too). */
void rundata_free(RunData *d);

/* The subnet of a model with this name, or NULL. */
const RdSubnet *rundata_subnet(const RdModel *m, const char *name);

#endif
