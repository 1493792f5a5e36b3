/* platforms/profile_json.h — the profile output (docs/FORMATS.md, "Profile output") as one struct,
 * written by `dynn profile --json` and read back by the profile stage from a target's profiler: one
 * object with format "dynn-profile", version 1, the model, host, build, DVFS and energy facts, and a
 * `results` list, one entry per (subnet, batch, cpus, threads, freq) point. A sweep that stopped
 * part-way says "complete": false and still lists the points it measured.
 *
 * The writer prints every field of the contract; the reader requires the fields the stage records
 * (subnet, subnet_name, macs, params, median_ms, samples_ms, energy_j, avg_power_w, the conditions
 * the registry marks required, and format/version/results) and takes the others when present
 * (absent: NULL strings, -1 counts, NaN numbers, unset conditions). A result's conditions are the
 * keys of db/conditions.h, each under its `json` name, written and read by iterating the registry.
 * Strings are owned by the report (profile_report_free). */
#ifndef DYNN_PLATFORMS_PROFILE_JSON_H
#define DYNN_PLATFORMS_PROFILE_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "db/conditions.h"
#include "util/err.h"

typedef struct ProfilePoint {
    int subnet;            /* index */
    char *subnet_name;     /* "w0.25" */
    long long macs, params;
    Conditions cond;       /* what it was measured under (db/conditions.h): batch, cpus (the mapping as a
                            * canonical CPU list), threads, cpu_freq (unset when DVFS is unavailable or
                            * not asked), backend and device (nn/backend.h's info), ... */
    char *cpus_seen;       /* CPUs its threads were last seen on after the timed loop */
    int warmup, repeat;
    double min_time_ms;
    double *samples_ms;    /* every timed sample, warm-up excluded */
    size_t n_samples;
    double median_ms, p90_ms, p99_ms, mean_ms, stddev_ms, min_ms, max_ms; /* of samples_ms */
    /* samples_ms are host wall time of one synchronous forward (input upload and output download
     * included). A backend with a device clock (opencl: event profiling) also gives the device's
     * time of the same forwards, its commands' execution times summed; NULL/0/NaN without one. */
    double *device_samples_ms;
    size_t n_device_samples;
    double device_median_ms;
    long long peak_rss_kib; /* -1 when absent */
    long long instructions; /* of one forward pass of `batch` images, counted (--count instructions; the
                             * condition `counter` says by what); -1 when absent */
    double cpu_share;      /* the timed loop's process CPU time / (wall x threads); NaN when null */
    double wait_share;     /* its threads' run delay (runnable, waiting for a CPU) / (wall x threads); NaN when null */
    double others_share;   /* other work on the mapping's CPUs / (wall x CPUs); NaN when null */
    int attempts;          /* timed loops run for the point (re-measured when disturbed); -1 when absent */
    int interference_flagged; /* 1: every attempt had too little of its CPUs (platforms/interference.h); the
                               * figures are the least disturbed attempt's and not the machine's latency */
    double energy_j;       /* per pass of `batch` images; NaN when null */
    double avg_power_w;    /* NaN when null */
} ProfilePoint;

typedef struct ProfilePolicy {
    int cpu;               /* its lowest CPU */
    long long *khz;        /* frequencies it offers */
    size_t n_khz;
} ProfilePolicy;

typedef struct ProfileSensor {
    char *name, *kind, *path;
} ProfileSensor;

typedef struct ProfileReport {
    int complete;          /* 0 when the output says "complete": false */
    char *model;           /* the checkpoint's path */
    char *model_crc32;     /* CRC-32 of its tensors, 8 hex digits (dynn info) */
    int synthetic;         /* 1: the model's weights are synthetic (random, never trained: nn/synthetic.h);
                            * "synthetic" in the JSON, false when absent */
    char *host_name, *host_arch, *host_cpu_model;
    int host_ncpus;
    char *build;           /* dynn_build_id() of the profiler */
    int dvfs_available;
    char *dvfs_reason, *dvfs_sysfs_root, *dvfs_method; /* method: userspace | minmax | none */
    ProfilePolicy *policies;
    size_t n_policies;
    /* GPU DVFS (devfreq), present only when the sweep was asked for GPU frequencies (--gpu-freq) */
    int gpu_dvfs;          /* 1: the fields below were written / read */
    int gpu_dvfs_available;
    char *gpu_dvfs_reason, *gpu_dvfs_node, *gpu_dvfs_method; /* method: userspace | minmax | none */
    long long *gpu_hz;     /* frequencies the node offers (Hz) */
    size_t n_gpu_hz;
    /* an NVIDIA GPU's clocks through NVML (platforms/nvml_clocks.h), present only with --gpu-nvml */
    int gpu_clocks;        /* 1: the fields below were written / read */
    int gpu_clocks_index;  /* the NVML device index */
    char *gpu_clocks_name;
    char *gpu_clocks_method; /* how the SM clocks were set: locked | application | none */
    char *gpu_clocks_reason; /* why they were not set ("" when they were) */
    int gpu_clocks_mem_locked;     /* locked: the memory clock was locked too */
    long long gpu_clocks_mem_mhz;  /* the memory clock set with the SM clocks (the highest); 0 when none */
    long long *gpu_sm_mhz; /* the SM clocks it supports (MHz, ascending) */
    size_t n_gpu_sm_mhz;
    int energy_available;
    char *energy_reason;   /* "" when available */
    ProfileSensor *sensors;
    size_t n_sensors;
    ProfilePoint *points;
    size_t n_points, cap_points;
} ProfileReport;

/* Parses and checks the output. `what` names it in messages ("rpi4 profile output"). On error the
 * report is empty. */
int profile_json_parse(const char *text, size_t len, const char *what, ProfileReport *out, Err *err);
/* Writes the report as the contract's JSON object (one line per value would be too long: compact,
 * one newline at the end). */
void profile_json_write(const ProfileReport *r, FILE *fp);

/* A copy of s into *field (replacing what was there); s NULL sets NULL. */
int profile_report_str(char **field, const char *s, Err *err);
/* A new point at the end of r: strings NULL, counts -1, numbers NaN, no samples. */
ProfilePoint *profile_report_add_point(ProfileReport *r, Err *err);
/* Removes the last point (one whose measurement failed). */
void profile_report_drop_last(ProfileReport *r);
void profile_report_free(ProfileReport *r);

#endif
