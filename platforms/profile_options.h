/* platforms/profile_options.h — the options of a profiling sweep: one table for `dynn profile`
 * (flags, `--batch 1,128`) and the `profile` stage (params, `batch: [1, 128]`), with one set of
 * ranges and one set of messages, so that `dynn validate` refuses on the laptop what the profiler
 * would refuse on the board after deploying. `dynn profile --help` is generated from it.
 *
 * Each option has a flag name, the stage param that carries it (NULL when the stage sets it itself:
 * `cpus` and `threads` come from the stage's `mapping`, `json` and `here` are always given, `platform`
 * is the deployed board file), a kind, a range and a default. A value is checked as text: a flag's argument, or
 * a param's scalar, or its list joined with commas. */
#ifndef DYNN_PLATFORMS_PROFILE_OPTIONS_H
#define DYNN_PLATFORMS_PROFILE_OPTIONS_H

#include <stddef.h>

#include "util/cliopt.h"
#include "util/err.h"

#define PROFILE_MAX_LIST 64    /* values of one list option */
#define PROFILE_MAX_OPTIONS 32 /* rows of the table */
/* The default --wait-policy of a sweep (why: docs/PERFORMANCE.md, "Interference"). */
#define PROFILE_WAIT_POLICY_DEFAULT "active"

typedef enum ProfileOptKind {
    POPT_INTS,   /* comma-separated integers in [min, max], none twice */
    POPT_FREQS,  /* comma-separated kHz in [min, max] or the words all, min, max, none twice */
    POPT_HZ,     /* the same in Hz (a GPU's devfreq frequencies; up to 100 GHz, beyond an int) */
    POPT_NAMES,  /* comma-separated non-empty words, none twice */
    POPT_INT,    /* one integer in [min, max] */
    POPT_NUMBER, /* one decimal number in [min, max] */
    POPT_U64,    /* one non-negative integer */
    POPT_TEXT,   /* one non-empty text */
    POPT_FLAG,   /* no value */
} ProfileOptKind;

/* What a sweep is asked to do, as the options give it (lists stay text until the model and the
 * machine are known). */
typedef struct ProfileSettings {
    const char *subnets, *batch, *cpus, *threads, *freq, *backend, *platform, *sysfs_root; /* borrowed */
    const char *gpu_freq, *gpu_devfreq; /* borrowed; NULL: the GPU is not touched / the board's gpu node */
    const char *count; /* "instructions": count each point's instructions under callgrind (platforms/counter.h); NULL: time it */
    int gpu_nvml;                       /* the NVIDIA GPU (NVML index) whose clocks are set and read; -1: none */
    int warmup, repeat, json, here;
    double min_time_ms, sample_ms;
    double max_interference;  /* a point disturbed above this share is re-measured, then flagged (platforms/interference.h) */
    int interference_retries; /* re-measurements of a disturbed point; 0: flagged at once */
    const char *wait_policy;  /* OMP_WAIT_POLICY for the sweep: active, passive, or inherit (the environment's) */
    unsigned long long seed;
} ProfileSettings;

typedef struct ProfileOption {
    const char *name;  /* the flag without "--": "min-time-ms" */
    const char *param; /* the stage param: "min_time_ms"; NULL: not a param */
    ProfileOptKind kind;
    double min, max;   /* range of a number (of each number of a list) */
    size_t offset;     /* of the field in ProfileSettings */
    const char *dflt;  /* default as text (applied by profile_settings_defaults); NULL: none */
    const char *env;   /* environment variable that overrides the default; NULL: none */
    const char *arg;   /* argument name in --help: "LIST", "MS" */
    const char *help;  /* --help text; lines after the first are indented under it */
    const char *choices; /* POPT_TEXT: the words allowed, comma-separated; NULL: any text */
} ProfileOption;

/* The table, in --help order; *n gets its length. */
const ProfileOption *profile_options(size_t *n);
/* By flag name ("min-time-ms"), or NULL. */
const ProfileOption *profile_option_find(const char *name);
/* By stage param ("min_time_ms"), or NULL. */
const ProfileOption *profile_option_param(const char *param);

/* Checks a value of option o; messages name it as `shown` ("--batch", "param 'batch'"):
 * "--batch: 0 is out of range 1..65536". */
int profile_option_check(const ProfileOption *o, const char *value, const char *shown, Err *err);
/* Every option's default (environment and built-in). */
void profile_settings_defaults(ProfileSettings *s);
/* Checks and sets one option (value NULL for a flag). */
int profile_settings_set(ProfileSettings *s, const ProfileOption *o, const char *value, const char *shown, Err *err);
/* The integers of a checked POPT_INTS value into out[PROFILE_MAX_LIST]; returns their count. */
int profile_option_ints(const char *value, int *out);
/* The table as command-line options (util/cliopt.h) that set s through profile_settings_set: kinds,
 * ranges, defaults and help as the table gives them, lists' ranges and environment overrides as notes. */
typedef struct ProfileCliOptions {
    CliOpt opts[PROFILE_MAX_OPTIONS];
    char notes[PROFILE_MAX_OPTIONS][96];
    size_t n;
} ProfileCliOptions;
void profile_cli_options(ProfileCliOptions *cli, ProfileSettings *s);
/* The option lines of --help, generated from the table (ranges and defaults included). */
void profile_options_help(char *out, size_t size);

#endif
