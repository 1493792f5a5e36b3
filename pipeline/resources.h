/* pipeline/resources.h — what a stage instance asks of the machine that runs it: the `resources:`
 * map of an experiment file's stage (or of `defaults:`), parsed and bounded.
 *
 *   resources: {cpus: 4, memory: 8G, time: 2h, gpus: 1, partition: gpu,
 *               account: proj42, qos: long, constraint: "avx512&ib", sbatch: [--exclusive]}
 *
 * Every key is optional. An executor gets the result with each job (pipeline/executor.h) and uses
 * what it understands: the local executors use only `cpus` (the instance's thread demand for
 * admission); the slurm executor turns every key into sbatch options (account, qos, constraint and
 * the free-form `sbatch` words only mean something to it). The schema is in
 * docs/FORMATS.md, "Experiment files (YAML)". */
#ifndef DYNN_PIPELINE_RESOURCES_H
#define DYNN_PIPELINE_RESOURCES_H

#include <stdint.h>

#include "util/err.h"
#include "util/ynode.h"

#define RESOURCES_MAX_CPUS 4096                       /* as `threads` (SPEC_MAX_THREADS) */
#define RESOURCES_MAX_GPUS 1024
#define RESOURCES_MIN_MEMORY (UINT64_C(1) << 20)       /* 1M */
#define RESOURCES_MAX_MEMORY (UINT64_C(1) << 50)       /* 1024T */
#define RESOURCES_MIN_TIME_S 1.0
#define RESOURCES_MAX_TIME_S (365.0 * 86400)           /* 365d */
#define RESOURCES_MAX_PARTITION 64                     /* characters (also account, qos) */
#define RESOURCES_MAX_CONSTRAINT 256                   /* characters */
#define RESOURCES_MAX_SBATCH 64                        /* words of `sbatch` */

typedef struct Resources {
    int cpus;                  /* 0: not given */
    uint64_t memory;           /* bytes; 0: not given */
    double time_s;             /* seconds; 0: not given */
    int gpus;                  /* -1: not given */
    char partition[RESOURCES_MAX_PARTITION + 1]; /* "": not given */
    char account[RESOURCES_MAX_PARTITION + 1];   /* "": not given */
    char qos[RESOURCES_MAX_PARTITION + 1];       /* "": not given */
    char constraint[RESOURCES_MAX_CONSTRAINT + 1]; /* a Slurm feature expression; "": not given */
    const YNode *sbatch;       /* a sequence of extra sbatch options, each one word starting with
                                * '-' (the spec's tree owns it); NULL: not given */
} Resources;

/* Nothing given. */
void resources_init(Resources *r);

/* Reads a `resources:` mapping (NULL: nothing) into r, setting only the keys it has (so that a
 * stage's map read after the `defaults:` one overrides it key by key). path is how the file names
 * the map ("resources", "defaults.resources"), stage the stage it belongs to (NULL under
 * `defaults:`). Messages: "FILE:L:C: stage 'train': 'resources.cpus' must be between 1 and 4096,
 * not 0"; an unknown key gets a did-you-mean. */
int resources_parse(const YNode *map, const char *file, const char *path, const char *stage, Resources *r, Err *err);

/* "512M", "4G", "1536K": a number of bytes written as an integer and a unit K, M, G or T (powers of
 * 1024; lower case too). Returns 0, or -1 on anything else (no unit, 0, a fraction, overflow). */
int resources_parse_memory(const char *text, uint64_t *bytes);

#endif
