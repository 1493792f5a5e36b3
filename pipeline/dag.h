/* pipeline/dag.h — stage instances and their dependencies, checked before anything runs.
 *
 * dag_build() expands each stage's matrix into instances ("train@method=uniform,seed=1", keys in
 * file order, first key outermost), substitutes ${matrix.KEY} in their params, has each stage type
 * validate each instance's params, resolves `needs` and rejects cycles (printing the cycle).
 *
 * Needs between matrix stages join on shared matrix keys: `profile` (matrix seed) needing `train`
 * (matrix method × seed) depends on the train instances with the same seed; a stage without a
 * shared key depends on every instance of the stage it needs. A need may also name one instance.
 * Everything is linear in the number of instances plus edges (hash maps, no pairwise scans), and
 * bounded: instances, the params of all instances and the edges are counted before they are made
 * and refused over their limits (docs/FORMATS.md, "Limits"). */
#ifndef DYNN_PIPELINE_DAG_H
#define DYNN_PIPELINE_DAG_H

#include <stddef.h>

#include "pipeline/spec.h"
#include "util/err.h"
#include "util/strmap.h"

typedef struct Instance {
    char *name;          /* "stage" or "stage@k=v,k2=v2" */
    size_t stage;        /* index into spec->stages */
    YNode *params;       /* owned, fully substituted mapping */
    YNode *bindings;     /* owned mapping matrix key → value, NULL without matrix */
    int threads;
    size_t *deps;        /* upstream instances */
    size_t n_deps, cap_deps;
    size_t *users;       /* downstream instances */
    size_t n_users, cap_users;
} Instance;

typedef struct Dag {
    const Spec *spec;
    Instance *inst;
    size_t n;
    size_t *order;       /* topological order: every instance after all of its deps */
    StrMap by_name;      /* instance name → index */
} Dag;

int dag_build(const Spec *spec, Dag *dag, Err *err);
/* The same for `--only PATTERN` (NULL: dag_build): every instance is expanded and the whole graph
 * checked, but only the instances the pattern selects (dag_select: they and what they need) have
 * their params validated, after the graph is built. So a run of some stages does not need what only
 * the others need (a data set directory: `dynn run experiments/paper-resnet.yaml --only resnet18`
 * without CIFAR-10). A pattern that matches nothing is an error. */
int dag_build_only(const Spec *spec, const char *only, Dag *dag, Err *err);
void dag_free(Dag *dag);

/* Walks from `start` along deps (upstream) or users (downstream). visit(ctx, i) decides whether
 * instance i is taken and walked through; it must say yes at most once per instance (it keeps its
 * own marks). `start` itself is not visited. Returns -1 when out of memory. */
int dag_walk(const Dag *dag, size_t start, int downstream, int (*visit)(void *ctx, size_t i), void *ctx);

/* --only: selected[i] = 1 for instances whose name matches the PCRE2 pattern and everything they
 * need (transitively). A pattern that matches nothing is an error. */
int dag_select(const Dag *dag, const char *pattern, unsigned char *selected, Err *err);

#endif
