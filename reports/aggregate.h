/* reports/aggregate.h — what a run's results add up to, computed without a database: operating
 * points, Pareto fronts, dynamic ranges, and the comparison against individually trained models.
 *
 * A *group* is one model (method) on one platform at one batch size. Its *points* are the measured
 * operating points: one subnet under one core mapping (cpus + threads) at one CPU frequency, with
 * the median and p90/p99 of its latency samples and its energy per inference (the measurement's
 * energy divided by its number of samples). Fronts are accuracy against median latency and against
 * energy.
 *
 * Dynamic ranges (max / min of latency or energy over a set of points) follow Xun et al.:
 *   width     subnets only, at the reference mapping and the reference frequency
 *   mapping   subnets x mappings, at the reference frequency
 *   dvfs      subnets x frequencies, at the reference mapping
 *   combined  every point
 * The reference frequency is the highest measured (an unknown frequency counts as one value); the
 * reference mapping is the one where the largest subnet is fastest at that frequency. A range is
 * NaN when no point of its set has a value, 1 when one has. Measurements with the condition `counter`
 * (instructions counted under callgrind, platforms/counter.h) are not points: their times were taken
 * under valgrind; reports/baseline.c reads their instructions from the RunData. Measurements the
 * profiler flagged (interference_flagged: other work shared their CPUs on every attempt,
 * platforms/interference.h) are not points either: their samples are not the machine's latency; they
 * are listed in `flagged`, which the report shows as a table of its own, marked, with a note. */
#ifndef DYNN_REPORTS_AGGREGATE_H
#define DYNN_REPORTS_AGGREGATE_H

#include <stddef.h>

#include "reports/rundata.h"
#include "util/err.h"

typedef struct AggPoint {
    const RdMeasurement *m;   /* borrowed from the RunData */
    const RdSubnet *subnet;   /* NULL when the model did not record this subnet */
    int subnet_index;         /* -1 when unknown */
    double accuracy;          /* NaN when unknown, and always for a synthetic model */
    char mapping[96];         /* "cpus=0-1 threads=2" */
    long long frequency_khz;  /* 0 unknown */
    double p50_s, p90_s, p99_s;
    double energy_j;          /* per inference, NaN without a sensor */
} AggPoint;

typedef struct AggRanges {
    double width, mapping, dvfs, combined;
} AggRanges;

typedef struct AggGroup {
    long model;              /* index into RunData.models, -1 unknown */
    const char *method;      /* borrowed */
    const char *platform;    /* borrowed */
    const char *backend, *device; /* borrowed: the conditions backend and device ("" when not recorded) */
    int batch;
    char label[192];         /* "uniform/local/b1": the `subnet` of the aggregate stage's metrics; a
                                backend other than cpu is named: "uniform/local/opencl/b1" */
    AggPoint *points;
    size_t n_points;
    size_t *front_latency, n_front_latency; /* indices into points, by increasing latency */
    size_t *front_energy, n_front_energy;
    char ref_mapping[96];
    long long ref_frequency_khz;
    size_t n_mappings, n_frequencies;
    AggRanges latency, energy;
} AggGroup;

/* One subnet of a dynamic model against a reference of the same architecture (param `model`):
 *   deltas      the individually trained model of the same index (or, when the two have different
 *               subnet counts, of the nearest width within 0.05);
 *   vs_uniform  (non-uniform methods) the uniform model's accuracy at the same MACs, interpolated
 *               linearly in MACs between the two uniform subnets around it (or its smallest/largest
 *               subnet when within AGG_MACS_SLACK of it). */
#define AGG_MACS_SLACK 0.10
typedef struct AggDelta {
    const char *model, *subnet;   /* borrowed: agg_model_name of the dynamic model, its subnet */
    const char *reference;        /* borrowed: agg_model_name of the reference model */
    char reference_subnet[96];    /* "w0.5", or "w0.25..w0.5" when interpolated */
    int index;
    double width, macs;           /* of the dynamic subnet (NaN unknown) */
    double accuracy, baseline_accuracy, delta; /* fractions; delta = accuracy - baseline_accuracy */
} AggDelta;

/* One subnet at one batch size measured through another backend (a GPU) and through the cpu backend
 * on the same platform: each side's median latency at its reference frequency on its fastest core
 * mapping, and cpu_ms / device_ms (> 1: the device is faster). */
typedef struct AggDeviceCmp {
    const AggGroup *device, *cpu; /* borrowed: the two groups */
    const char *subnet;           /* borrowed */
    int index;
    double cpu_ms, device_ms, speedup;
} AggDeviceCmp;

typedef struct Aggregate {
    AggGroup *groups;
    size_t n_groups;
    AggDeviceCmp *devices;   /* every subnet a non-cpu group shares with its cpu group */
    size_t n_devices;
    size_t n_baselines;      /* models whose method is `individual` */
    AggDelta *deltas;        /* against the individual model of the same architecture */
    size_t n_deltas;
    AggDelta *vs_uniform;    /* non-uniform subnets against uniform at equal MACs */
    size_t n_vs_uniform;
    const RdMeasurement **flagged; /* borrowed: measurements flagged for interference, in recorded order */
    size_t n_flagged;
} Aggregate;

/* p-th percentile (0..100) by linear interpolation between order statistics; NaN for n = 0. */
double agg_percentile(const double *x, size_t n, double p);

/* Dynamic ranges of the points' latency (energy = 0) or energy (energy = 1) — see the file
 * comment; sets g->ref_mapping, ref_frequency_khz, n_mappings and n_frequencies. */
void agg_ranges(AggGroup *g);

/* Groups, points, fronts, ranges and baseline deltas of a run; the Aggregate borrows from d. */
int aggregate_run(const RunData *d, Aggregate *out, Err *err);
void aggregate_free(Aggregate *a);

/* What a model is called in labels and baselines: its method, or its instance name when two models
 * of the run share the method; "(unknown model)" for -1. */
const char *agg_model_name(const RunData *d, long model);

/* Whether two models have the same architecture (their train param `model`; both without one count
 * as the same). */
int agg_same_arch(const RdModel *x, const RdModel *y);
/* Whether a model's method is a non-uniform one (nonuniform-multi, nonuniform-single). */
int agg_nonuniform(const RdModel *m);

/* "cpus=0-1 threads=2" / "threads=2" / "default" into out. */
void agg_mapping_label(const RdMeasurement *m, char *out, size_t size);

#endif
