/* platforms/platform.h — where hardware lives: the platform interface, platform descriptions and the
 * table of platform types.
 *
 * A platform is a machine the profiler runs on: this one (`local`), a board reached over SSH (`ssh`),
 * or a type registered by a plugin. A platform type is a small table of functions over an opaque
 * state: open a described target, deploy the profiler binary and a model to it, run one profile
 * request there (`dynn profile MODEL ARGS --json`) and fetch what it printed, clean up what deploy
 * left. The profile stage (stages/profile.c) drives a sweep through it; it never knows how a target
 * is reached.
 *
 * A platform description (a board file) is a YAML file in experiments/platforms/, a mapping inline in
 * a stage's params or declared under an experiment's `platforms:`. It has one reader,
 * platforms/platform_desc.c, with one set of limits and messages (FILE:LINE:COL): the profile stage,
 * `dynn profile --platform FILE` and the experiment's `platforms:` all read it there. Common keys are
 * read into PlatformDesc; type-specific keys are named by the type and read by it from `node`.
 * Plugins get this header through pipeline/dynn_plugin.h's DynnPluginApi (`register_platform_type`)
 * and need nothing else from dynn. */
#ifndef DYNN_PLATFORMS_PLATFORM_H
#define DYNN_PLATFORMS_PLATFORM_H

#include <stddef.h>

#include "util/ynode.h"
#include "util/err.h"

/* The limits of a description (docs/FORMATS.md, "Platform descriptions"), one set for every reader. */
#define PLATFORM_DESC_MAX_CLUSTERS 8  /* entries of `clusters` */
#define PLATFORM_DESC_MAX_FREQS 64    /* kHz values of one cluster in `frequencies_khz` */
#define PLATFORM_DESC_MAX_SENSORS 16  /* entries of `sensors` (platforms/energy.h: ENERGY_MAX_SENSORS) */
#define PLATFORM_DESC_MAX_NAME 63     /* characters of `name`, `type`, `arch`, a cluster or sensor name */
#define PLATFORM_DESC_MAX_TEXT 511    /* characters of any other string (paths, host, user, words of `prefix`) */
#define PLATFORM_DESC_MAX_NODE 127    /* characters of `gpu: {devfreq}` (platforms/devfreq.h: DEVFREQ_MAX_NODE) */

/* A group of cores (`clusters: {little: "0-3"}`) and its frequency table (`frequencies_khz`). */
typedef struct DescCluster {
    const char *name;           /* "little" */
    const char *cpus;           /* "0-3" (a cpu list as taskset/cpuset write it) */
    const long long *freqs_khz; /* ascending; NULL/0 when the file gives none */
    size_t n_freqs;
} DescCluster;

/* A power sensor (`sensors: [{name, kind, path, scale}]`). */
typedef struct DescSensor {
    const char *name;
    const char *kind;  /* hwmon | ina231 | ina3221 | rapl */
    const char *path;  /* sysfs path on the target */
    double scale;      /* multiply a raw reading by this to get SI units (1 when absent) */
} DescSensor;

/* The GPU (`gpu: {name, devfreq, frequencies_hz, sensor}`): its devfreq node, its frequency table and
 * the sensor of its power rail. */
typedef struct DescGpu {
    const char *name;           /* "Maxwell 128-core"; NULL when not given */
    const char *devfreq;        /* the node under /sys/class/devfreq: "57000000.gpu" (required) */
    const long long *freqs_hz;  /* ascending; NULL/0 when the file gives none */
    size_t n_freqs;
    const char *sensor;         /* a name of `sensors`; NULL when not given */
} DescGpu;

typedef struct PlatformDesc {
    const char *file;   /* where it was read (messages name file:line:col) */
    const YNode *node;  /* the whole mapping: type-specific keys are read from here */
    const char *name;   /* `name` (required) */
    const char *type;   /* `type` (required): local | ssh | a plugin's type */
    const char *arch;   /* `arch` (uname -m of the target: x86_64, aarch64, armv7l); NULL when not given */
    const char *binary; /* `binary`: the dynn executable to deploy (cross-built for `arch`); NULL = this one */
    const char *const *prefix; /* `prefix`: words run before the profiler (`[taskset, -c, 4-7]`, `sudo -n`) */
    size_t n_prefix;
    DescCluster clusters[PLATFORM_DESC_MAX_CLUSTERS];
    size_t n_clusters;
    DescSensor sensors[PLATFORM_DESC_MAX_SENSORS];
    size_t n_sensors;
    /* ssh (read when type is ssh; defaults otherwise) */
    const char *host, *user, *identity, *workdir, *known_hosts, *strict_host_key_checking;
    int port, connect_timeout_s, retries, backoff_ms;
    /* appended after the ssh keys (plugins built against the older struct read the same offsets) */
    int has_gpu;        /* 1 when `gpu:` is given */
    DescGpu gpu;
} PlatformDesc;

/* One platform type. Every function gets the state `open` made; `cleanup` frees it and is called
 * once after a successful `open`, whatever happened in between. A function that fails fills err
 * with a one-line message naming the target ("ssh pi@rpi4:22: …"). */
typedef struct PlatformType {
    const char *name;    /* the `type:` value */
    const char *summary;
    const char *const *keys; /* keys of a description this type reads besides the common ones */
    size_t n_keys;
    /* Checks the type's own keys (positions from desc->node); NULL when there is nothing to check. */
    int (*validate)(const PlatformDesc *desc, Err *err);
    /* One line naming the target for logs and messages: "ssh pi@rpi4:22 (aarch64)". */
    void (*describe)(const PlatformDesc *desc, char *out, size_t size);
    int (*open)(const PlatformDesc *desc, void **state, Err *err);
    /* Puts the profiler binary, the model and the board file (local paths; the file is the
     * description itself, passed through; NULL when the stage has none) where `profile` runs them. */
    int (*deploy)(void *state, const char *binary, const char *model, const char *platform_file, Err *err);
    /* Runs `<prefix> <binary> profile <model> [--platform FILE] args[0..] --json` on the target and fetches its
     * standard output into *out (malloc'd, NUL-terminated; the caller frees it). Returns -1 when
     * the profiler could not be reached or exited non-zero; *out then still holds what it printed
     * (a partial sweep's JSON), or NULL. */
    int (*profile)(void *state, const char *const *args, size_t n_args, char **out, Err *err);
    /* Removes what deploy put on the target and frees the state. */
    int (*cleanup)(void *state, Err *err);
} PlatformType;

/* Table of types (platforms/platform_registry.c): built-ins `local` and `ssh`, then plugins'. */
int platform_type_register(const PlatformType *type, Err *err);
const PlatformType *platform_type_find(const char *name);
size_t platform_type_names(const char **out, size_t max);

extern const PlatformType platform_type_local;
extern const PlatformType platform_type_ssh;

/* Platform descriptions (platforms/platform_desc.c). */
typedef struct PlatformDescFile {
    PlatformDesc desc;
    YNode *root;   /* owned when read from a file */
    char *path;    /* the file read, or NULL for an inline mapping */
    void *storage; /* arrays behind desc */
} PlatformDescFile;

/* How a description is read. */
enum {
    /* On the target (`dynn profile --here`, as the profile stage runs the profiler there): the common
     * keys are read and checked; the type's own keys, its validate and the paths (`binary`, ssh's
     * `identity`, `known_hosts`, which mean something only where the board was loaded) are left
     * out, and a type this dynn has not registered (a plugin's) is accepted. */
    PLATFORM_READ_HERE = 1,
};

/* Reads a description from a mapping (file = where it was written, for messages) and checks it:
 * common keys, the type's keys and its validate. `type` defaults to `local` (the profiler's own
 * subset of keys describes this machine). `node` must outlive the result. */
int platform_desc_read(const YNode *node, const char *file, PlatformDescFile *out, Err *err);
int platform_desc_read_flags(const YNode *node, const char *file, unsigned flags, PlatformDescFile *out, Err *err);
/* Reads a description file. */
int platform_desc_load(const char *path, PlatformDescFile *out, Err *err);
int platform_desc_load_flags(const char *path, unsigned flags, PlatformDescFile *out, Err *err);
void platform_desc_free(PlatformDescFile *pf);

/* The board file a target's profiler reads with --platform: the file the description came from, or
 * (an inline mapping) the mapping written as JSON, which is YAML, to dir/platform.yaml. out gets the
 * path. */
int platform_desc_board_file(const PlatformDescFile *pf, const char *dir, char *out, size_t size, Err *err);

/* The profiler to deploy: the description's `binary` (refused, saying how to build it, when it is not an
 * executable file), else this dynn when `arch` is absent or matches this machine's. */
int platform_desc_binary(const PlatformDesc *d, char *out, size_t size, Err *err);

/* Names of the board files next to `base` and the dynn executable (experiments/platforms/NAME.yaml),
 * sorted, without repeats; returns how many were written to names (each PLATFORM_DESC_MAX_NAME + 1
 * bytes). */
size_t platform_desc_builtin_names(const char *base, char (*names)[PLATFORM_DESC_MAX_NAME + 1], size_t max);

/* Where `platform: VALUE` points: a path (it contains '/' or ends in .yaml/.yml) relative to base, or
 * a name looked up as base/experiments/platforms/NAME.yaml, then next to the dynn executable
 * (<exe dir>/../experiments/platforms/NAME.yaml, i.e. the source tree of build/dynn). Writes the
 * path into out; -1 with the places tried when none exists. */
int platform_desc_find(const char *value, const char *base, char *out, size_t size, Err *err);

/* What a stage's `platform:` param names: an inline mapping, or a name or path found from base
 * (platform_desc_find) and loaded. file names the params in messages. The one reading of the param
 * (the profile stage's validate and run, the runner's board claims). */
int platform_desc_open_param(const YNode *platform, const char *file, const char *base, PlatformDescFile *pf, Err *err);

/* A cpu list as taskset/cpuset write it: "3", "0-3", "0,2,4-7". */
int platform_desc_cpu_list_valid(const char *cpus);

/* The cluster a mapping's cpus belong to: a cluster name, or a cpu list whose cpus all lie in one
 * cluster (its frequency table applies). NULL when none matches. */
const DescCluster *platform_desc_cluster(const PlatformDesc *d, const char *cpus);

/* The cpu list a mapping pins to: a cluster name's cpus, or the cpu list itself. */
const char *platform_desc_pin_cpus(const PlatformDesc *d, const char *cpus);

#endif
