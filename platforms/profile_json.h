/* platforms/profile_json.h — reading what `dynn profile --json` prints (the contract in
 * docs/FORMATS.md, "Profile output"): one object with format "dynn-profile", version 1, and a
 * `results` list, one entry per (subnet, batch, cpus, threads, freq) point. A sweep that stopped
 * part-way says "complete": false and still lists the points it measured. */
#ifndef DYNN_PLATFORMS_PROFILE_JSON_H
#define DYNN_PLATFORMS_PROFILE_JSON_H

#include <stddef.h>

#include "util/err.h"

typedef struct ProfilePoint {
    int subnet;            /* index */
    char *subnet_name;     /* "w0.25" */
    long long macs, params;
    int batch, threads;
    char *cpus;            /* "0-3" */
    long long freq_khz;    /* 0 when null (DVFS unavailable or not asked) */
    double *samples_ms;    /* every timed sample, warm-up excluded */
    size_t n_samples;
    double median_ms;
    long long peak_rss_kib; /* -1 when absent */
    double energy_j;       /* per inference; NaN when null */
    double avg_power_w;    /* NaN when null */
} ProfilePoint;

typedef struct ProfileReport {
    int complete;          /* 0 when the output says "complete": false */
    char *model_crc32;
    char *host_arch;
    ProfilePoint *points;
    size_t n_points;
} ProfileReport;

/* Parses and checks the output. `what` names it in messages ("rpi4 profile output"). On error the
 * report is empty. */
int profile_json_parse(const char *text, size_t len, const char *what, ProfileReport *out, Err *err);
void profile_report_free(ProfileReport *r);

#endif
