/* tests/unit/pipeline_testutil.h — helpers for the pipeline unit tests (header-only, static inline):
 * a temporary directory per test group, an experiment text written to a file and loaded as Spec
 * (+ Dag), lookups of instances and edges.
 * Include after <cmocka.h> and tests/unit/testutil.h. */
#ifndef DYNN_TESTS_UNIT_PIPELINE_TESTUTIL_H
#define DYNN_TESTS_UNIT_PIPELINE_TESTUTIL_H

#include "pipeline/dag.h"
#include "pipeline/spec.h"

/* A fresh temporary directory per test group: pt_setup / pt_teardown as cmocka group fixtures. */
static char *pt_tmp __attribute__((unused));

static inline int pt_setup(void **state) {
    (void)state;
    pt_tmp = tu_tmpdir();
    return 0;
}

static inline int pt_teardown(void **state) {
    (void)state;
    tu_rmtree(pt_tmp);
    free(pt_tmp);
    pt_tmp = NULL;
    return 0;
}

/* Writes text to <dir>/exp.yaml and loads it; the path lands in path[size]. Returns spec_load's
 * result (then dag_build's when dag is not NULL). On failure nothing needs freeing. */
static inline int pt_load(const char *dir, const char *text, const char *const *sets, size_t n_sets, Spec *spec,
                          Dag *dag, Err *err) {
    char path[512];
    tu_path(path, sizeof path, dir, "exp.yaml");
    tu_write_file(path, text, strlen(text));
    if (spec_load(path, sets, n_sets, spec, err)) {
        spec_free(spec);
        return -1;
    }
    if (dag && dag_build(spec, dag, err)) {
        spec_free(spec);
        return -1;
    }
    return 0;
}

/* The error message without the "<dir>/exp.yaml:" prefix. */
static inline const char *pt_msg(const Err *err) {
    const char *p = strstr(err->msg, "exp.yaml:");
    return p ? p + strlen("exp.yaml:") : err->msg;
}

/* Index of an instance by name (fails the test when absent). */
static inline size_t pt_inst(const Dag *dag, const char *name) {
    size_t i = 0;
    if (!strmap_get(&dag->by_name, name, &i)) fail_msg("no instance '%s'", name);
    return i;
}

static inline int pt_depends(const Dag *dag, const char *user, const char *dep) {
    const Instance *in = &dag->inst[pt_inst(dag, user)];
    size_t d = pt_inst(dag, dep);
    for (size_t k = 0; k < in->n_deps; k++)
        if (in->deps[k] == d) return 1;
    return 0;
}

#endif
