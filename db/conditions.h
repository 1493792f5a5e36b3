/* db/conditions.h — the conditions of a measurement (what it was measured under: platform, backend,
 * device, batch, CPU mapping, threads, frequencies, GPU clocks) as one key/value set, and the one registry of
 * the keys that exist.
 *
 * Everything that carries conditions iterates the registry instead of naming fields: the profile
 * output (platforms/profile_json.c), the records file (pipeline/records.c), the database's
 * `conditions` table (db/db.c, db/db_rundata.c). Adding a condition is one row of
 * DYNN_CONDITION_KEYS below; see docs/ARCHITECTURE.md, "Where a new thing goes".
 *
 * A value is kept as canonical text: a TEXT key's string as given, an INT key's decimal integer
 * (checked against the key's minimum). NULL means unset. The database stores INT values as
 * integers, so SQL compares them as numbers. */
#ifndef DYNN_DB_CONDITIONS_H
#define DYNN_DB_CONDITIONS_H

#include <stddef.h>

#include "util/err.h"

typedef enum CondType { COND_TEXT, COND_INT } CondType;

/* How the profile output (docs/FORMATS.md, "Profile output") treats a key: REQUIRED, the reader
 * refuses a result without it; NULLABLE, `null` stands for unset (otherwise null is refused). */
enum { COND_JSON_REQUIRED = 1, COND_JSON_NULLABLE = 2 };

/* The registry: X(ID, name, type, minimum (INT), unit, profile JSON field, JSON rules, description).
 * Its order is the order of every listing (JSON, records, reports' reading, docs). */
#define DYNN_CONDITION_KEYS(X)                                                                                          \
    X(PLATFORM, "platform", COND_TEXT, 0, "", "platform", COND_JSON_NULLABLE,                                          \
      "the platform description's name (local, rpi4, ...); set by the profile stage")                                 \
    X(BACKEND, "backend", COND_TEXT, 0, "", "backend", COND_JSON_NULLABLE, "the inference backend that ran the passes (nn/backend.h)") \
    X(DEVICE, "device", COND_TEXT, 0, "", "device", COND_JSON_NULLABLE, "what the backend computed on (x86_64, aarch64, a GPU)") \
    X(BATCH, "batch", COND_INT, 1, "images", "batch", COND_JSON_REQUIRED, "images per forward pass")                   \
    X(CPUS, "cpus", COND_TEXT, 0, "", "cpus", COND_JSON_REQUIRED, "the CPU mapping, a canonical CPU list (0-3)")        \
    X(THREADS, "threads", COND_INT, 1, "", "threads", COND_JSON_REQUIRED, "compute threads")                           \
    X(CPU_FREQ, "cpu_freq", COND_INT, 1, "kHz", "freq_khz", COND_JSON_REQUIRED | COND_JSON_NULLABLE,                  \
      "the CPU frequency set for the mapping; unset when not set (no cpufreq, or no sweep)")                          \
    X(GPU_FREQ, "gpu_freq", COND_INT, 1, "kHz", "gpu_freq_khz", COND_JSON_NULLABLE,                                    \
      "the GPU frequency set: through devfreq (Hz / 1000, rounded), or the SM clock set through NVML; unset when none was set") \
    X(GPU_SM_CLOCK, "gpu_sm_clock", COND_INT, 1, "MHz", "gpu_sm_clock_mhz", COND_JSON_NULLABLE,                        \
      "the NVIDIA GPU's SM clock seen through NVML at the end of the timed loop (--gpu-nvml); unset without it")       \
    X(GPU_MEM_CLOCK, "gpu_mem_clock", COND_INT, 1, "MHz", "gpu_mem_clock_mhz", COND_JSON_NULLABLE,                     \
      "the NVIDIA GPU's memory clock seen through NVML at the end of the timed loop (--gpu-nvml); unset without it")   \
    X(COUNTER, "counter", COND_TEXT, 0, "", "counter", COND_JSON_NULLABLE,                                             \
      "what counted the point's instructions and the kernel set counted (callgrind x86-64-v3); unset when timed") \
    X(OMP_WAIT, "omp_wait", COND_TEXT, 0, "", "omp_wait", COND_JSON_NULLABLE,                                           \
      "the OpenMP wait policy the profiler ran under: OMP_WAIT_POLICY (active, passive) or default, then ,spincount=N when GOMP_SPINCOUNT is set")

typedef enum CondKeyId {
#define DYNN_COND_ENUM(id, ...) COND_##id,
    DYNN_CONDITION_KEYS(DYNN_COND_ENUM)
#undef DYNN_COND_ENUM
    COND_COUNT
} CondKeyId;

typedef struct CondKey {
    const char *name;        /* the key in the records file and the database */
    CondType type;
    long long min;           /* INT: smallest valid value */
    const char *unit;        /* "" when none */
    const char *json;        /* the field of a profile result */
    int json_rules;          /* COND_JSON_* */
    const char *description;
} CondKey;

extern const CondKey cond_keys[COND_COUNT];

/* The key with this name, or -1. */
int cond_find(const char *name);

/* A set of conditions: value[k] is key k's canonical text (owned), NULL when unset. A zeroed set
 * is empty. */
typedef struct Conditions {
    char *value[COND_COUNT];
} Conditions;

/* Sets key k from text (NULL: unsets), checked against its type: err "'NAME' must be an integer
 * >= MIN, not 'TEXT'". */
int cond_set(Conditions *c, int k, const char *text, Err *err);
int cond_set_int(Conditions *c, int k, long long v, Err *err);
/* The text of key k, or NULL when unset. */
const char *cond_get(const Conditions *c, int k);
/* The value of INT key k, or dflt when unset. */
long long cond_get_int(const Conditions *c, int k, long long dflt);
/* Every key of src (set or unset) into dst. */
int cond_copy(Conditions *dst, const Conditions *src, Err *err);
/* 1 when both sets hold the same keys with the same values. */
int cond_equal(const Conditions *a, const Conditions *b);
void cond_free(Conditions *c);

/* A condition as plugins pass it (db/measurement.h): a key name of the registry and its text. */
typedef struct MeasCondition {
    const char *key;
    const char *value; /* NULL: unset */
} MeasCondition;

/* Adds name/value pairs to c; an unknown name is refused, naming the known ones. */
int cond_set_pairs(Conditions *c, const MeasCondition *pairs, size_t n, Err *err);

#endif
