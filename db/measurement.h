/* db/measurement.h — one profiling result as the results database stores it (the measurement_results
 * and conditions tables): the record type the profile stage hands to its record sink
 * (pipeline/stage.h), the runner writes with db_insert_measurement, and plugins fill through the
 * same sink (part of the plugin ABI, docs/PLUGINS.md: members are only ever appended). */
#ifndef DYNN_DB_MEASUREMENT_H
#define DYNN_DB_MEASUREMENT_H

#include <stddef.h>

#include "db/conditions.h"

/* NaN / NULL / 0 mean unknown for the first fields; the fields after n_latency were added later and
 * use -1 / NaN for unknown. RecordSink.measurement reads only the fields up to n_latency (plugins
 * built before the others existed pass a shorter struct); RecordSink.measurement_ex reads them up to
 * avg_power_w, RecordSink.measurement_conditions up to n_conditions, RecordSink.measurement_counted
 * up to instructions, RecordSink.measurement_shared all of them.
 *
 * The conditions (db/conditions.h) are one key/value set: platform, batch, threads, cpus and
 * frequency_khz are the plugin API 1 way of giving five of them and are folded into the set;
 * `conditions` gives any key of the registry by name (and wins over the five fields). */
typedef struct Measurement {
    const char *platform;   /* "local", "rpi4", … (condition platform) */
    const char *subnet;     /* subnet label, e.g. "0.50" */
    int batch;              /* condition batch */
    int threads;            /* condition threads */
    const char *cpus;       /* core mapping, e.g. "0-3" (condition cpus) */
    long long frequency_khz; /* condition cpu_freq */
    double energy_j;        /* energy of the whole measurement (all timed samples), joules */
    const double *latency_s; /* every timed sample, seconds (warm-up excluded) */
    size_t n_latency;
    /* read by measurement_ex and measurement_conditions only */
    int subnet_index;       /* position of the subnet in the model (-1 unknown) */
    long long macs;         /* multiply-accumulates of one image through the subnet (-1 unknown) */
    long long peak_rss_kib; /* peak resident memory of the profiler (-1 unknown) */
    double avg_power_w;     /* mean power while timing (NaN unknown) */
    /* read by measurement_conditions only */
    const MeasCondition *conditions; /* key/value pairs, keys from the registry */
    size_t n_conditions;
    /* read by measurement_counted only */
    long long instructions; /* of one forward pass of `batch` images, counted (the condition `counter`
                             * says by what, e.g. "callgrind x86-64-v3"); 0 or -1 unknown
                             * (a forward pass executes some) */
    /* read by measurement_shared only: how much of its CPUs the timed loop had (platforms/interference.h) */
    double cpu_share;     /* process CPU time / (wall x threads); NaN unknown */
    double wait_share;    /* its threads' run delay / (wall x threads); NaN unknown */
    double others_share;  /* other work on the mapping's CPUs / (wall x CPUs); NaN unknown */
    int attempts;         /* timed loops run (a disturbed point is measured again); -1 unknown */
    int interference_flagged; /* 1: every attempt was disturbed beyond the profiler's threshold: the
                               * samples are not the machine's latency */
} Measurement;

/* The measurement's conditions as one set: the five plugin API 1 fields, then (with_pairs) the
 * pairs of `conditions`. An unknown key or a bad value is refused. On error *out is empty. */
int measurement_conditions(const Measurement *m, int with_pairs, Conditions *out, Err *err);
/* The five plugin API 1 fields from c (strings point into c; unset: NULL / 0). The only other place
 * that names them is measurement_conditions. */
void measurement_fill_api1(Measurement *m, const Conditions *c);

#endif
