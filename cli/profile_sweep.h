/* cli/profile_sweep.h — what `dynn profile` measured, shared by the sweep (cli/cmd_profile.c) and
 * its printers (cli/profile_out.c: the JSON of docs/FORMATS.md "Profile output", or a table). */
#ifndef DYNN_CLI_PROFILE_SWEEP_H
#define DYNN_CLI_PROFILE_SWEEP_H

#include <sched.h>
#include <stdio.h>

#include "nn/model.h"
#include "platforms/cpufreq.h"
#include "platforms/energy.h"
#include "platforms/profiler.h"

typedef struct ProfileResult {
    int subnet, batch, threads;
    char cpus[256];      /* canonical CPU list of the mapping ("0-1") */
    char cpus_seen[256]; /* CPUs the process's threads were last seen on after the timed loop */
    long freq_khz;       /* 0: not set (DVFS unavailable or not asked for) */
    int warmup, repeat;
    double min_time_ms;
    ProfileSamples samples; /* seconds */
    ProfileStats st;        /* seconds */
    long peak_rss_kib;
    double energy_j, avg_power_w; /* per inference / mean; NAN when not measured */
} ProfileResult;

typedef struct ProfileReport {
    const char *model_path;
    unsigned long model_crc;
    const ModelDesc *d;
    const Cpufreq *cf;
    const char *sysfs_root;
    const EnergySensors *sensors;
    int energy_available;
    char energy_reason[600];
    int complete;
    int n_results, cap_results;
    ProfileResult *results;
} ProfileReport;

void profile_report_json(const ProfileReport *r, FILE *fp);
void profile_report_table(const ProfileReport *r, FILE *fp);

#endif
