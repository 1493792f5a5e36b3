/* db/measurement.h — one profiling result as the results database stores it (the measurements
 * table): the record type the profile stage hands to its record sink (pipeline/stage.h), the runner
 * writes with db_insert_measurement, and plugins fill through the same sink (part of the plugin ABI,
 * docs/PLUGINS.md: members are only ever appended). */
#ifndef DYNN_DB_MEASUREMENT_H
#define DYNN_DB_MEASUREMENT_H

#include <stddef.h>

/* NaN / NULL / 0 mean unknown for the first fields; the fields after n_latency were added later and
 * use -1 / NaN for unknown. RecordSink.measurement reads only the fields up to n_latency (plugins
 * built before the others existed pass a shorter struct); RecordSink.measurement_ex reads them all. */
typedef struct Measurement {
    const char *platform;   /* "local", "rpi4", … */
    const char *subnet;     /* subnet label, e.g. "0.50" */
    int batch;
    int threads;
    const char *cpus;       /* core mapping, e.g. "0-3" */
    long long frequency_khz;
    double energy_j;        /* energy of the whole measurement (all timed samples), joules */
    const double *latency_s; /* every timed sample, seconds (warm-up excluded) */
    size_t n_latency;
    /* read by measurement_ex only */
    int subnet_index;       /* position of the subnet in the model (-1 unknown) */
    long long macs;         /* multiply-accumulates of one image through the subnet (-1 unknown) */
    long long peak_rss_kib; /* peak resident memory of the profiler (-1 unknown) */
    double avg_power_w;     /* mean power while timing (NaN unknown) */
} Measurement;

#endif
