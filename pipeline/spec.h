/* pipeline/spec.h — an experiment file (YAML) read, var-substituted and checked at the top level.
 *
 *   name: quick                 # default: the file name without extension
 *   seed: 1                     # recorded with the run, given to every stage
 *   vars: {seeds: [1, 2]}       # ${var} anywhere below; `--set k=v` overrides
 *   defaults: {threads: 1, resources: {memory: 4G}, exec: {env: {LC_ALL: C}}}   # threads, resources, params per type
 *   platforms: [odroid-xu3, {file: boards/mine.yaml}, {name: box, type: local}]   # boards stages name
 *   plugins: [lib/my_stages.so] # shared objects registering stage types (paths relative to the file)
 *   stages:
 *     train: {type: exec, needs: [prep], params: {...}, matrix: {seed: ${seeds}}, threads: 2,
 *             resources: {cpus: 2, time: 30m}, executor: local}
 *
 * spec_load() parses, applies `--set` overrides and vars, loads plugins, checks every stage's keys
 * and type, reads the declared boards (platforms/platform.h) and resolves a stage param
 * `platform: NAME` that names one. Instances, needs and params are checked by dag_build() (pipeline/dag.h).
 * The full schema is in docs/FORMATS.md, "Experiment files (YAML)". */
#ifndef DYNN_PIPELINE_SPEC_H
#define DYNN_PIPELINE_SPEC_H

#include <stddef.h>

#include "pipeline/resources.h"
#include "util/ynode.h"
#include "util/err.h"
#include "util/sha256.h"
#include "util/strmap.h"

/* The most CPU threads a stage may ask for (`threads`); also the most `dynn run -j` and `--threads`. */
#define SPEC_MAX_THREADS 4096

typedef struct StageSpec {
    const char *name;      /* the key under `stages:` */
    const YNode *key;      /* its position */
    const YNode *node;     /* the stage's mapping */
    const char *type;
    const YNode *needs;    /* NULL, a scalar or a list of scalars */
    YNode *params;         /* owned: the stage's params with `defaults.<type>` merged in (a mapping) */
    const YNode *matrix;   /* NULL or a mapping key → non-empty list of scalars */
    int threads;
    Resources resources;   /* `defaults.resources`, overridden key by key by the stage's own */
    const char *executor;  /* `executor:`, a name of the executor table; NULL: the run's default */
} StageSpec;

typedef struct Spec {
    char *file;            /* path as given (messages) */
    char *dir;             /* absolute directory of the file: plugin paths are relative to it */
    char sha256[SHA256_HEX_LEN + 1]; /* of the file's bytes */
    YNode *root;           /* the substituted tree (owned) */
    char *name;
    long long seed;
    const YNode *vars, *defaults, *platforms;
    char **plugins;        /* absolute paths */
    size_t n_plugins;
    StageSpec *stages;
    size_t n_stages;
    StrMap stage_index;    /* name → index in stages */
} Spec;

/* sets: "key=value" strings from `--set` (value is YAML: `--set seeds=[1,2]`). */
int spec_load(const char *path, const char *const *sets, size_t n_sets, Spec *spec, Err *err);
void spec_free(Spec *spec);

/* Whether s is a valid stage name / matrix key: letters, digits, '_', '-', '.'. */
int spec_valid_name(const char *s);

#endif
