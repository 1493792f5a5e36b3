/* tests/unit/test_pipeline_dag.c — matrix expansion (names, order, params), needs joined on shared
 * matrix keys, fan-in, needs on one instance, cycle detection, topological order, --only, and that
 * building a large DAG stays fast (no pairwise scans). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>


#include "tests/unit/testutil.h"
#include "tests/unit/pipeline_testutil.h"
#include "util/strbuf.h"

static const char experiment[] =
    "stages:\n"
    "  prep: {type: exec, params: {cmd: [echo, prep]}}\n"
    "  train:\n"
    "    type: exec\n"
    "    needs: prep\n"
    "    matrix: {method: [uniform, incremental], seed: [1, 2]}\n"
    "    params: {cmd: [train, --method, '${matrix.method}', --seed, '${matrix.seed}']}\n"
    "  eval:\n"
    "    type: exec\n"
    "    needs: [train]\n"
    "    matrix: {seed: [2, 1]}\n"
    "    params: {cmd: [eval, '${matrix.seed}']}\n"
    "  report: {type: exec, needs: [eval, 'train@method=uniform,seed=1'], params: {cmd: [report]}}\n";

static void test_matrix_expansion(void **state) {
    (void)state;
    Spec spec;
    Dag dag;
    Err err;
    assert_int_equal(pt_load(pt_tmp, experiment, NULL, 0, &spec, &dag, &err), 0);
    assert_int_equal(dag.n, 1 + 4 + 2 + 1);
    /* first key outermost, values in file order */
    assert_string_equal(dag.inst[1].name, "train@method=uniform,seed=1");
    assert_string_equal(dag.inst[2].name, "train@method=uniform,seed=2");
    assert_string_equal(dag.inst[3].name, "train@method=incremental,seed=1");
    assert_string_equal(dag.inst[4].name, "train@method=incremental,seed=2");
    assert_string_equal(dag.inst[5].name, "eval@seed=2");
    const YNode *cmd = ynode_get(dag.inst[3].params, "cmd");
    assert_string_equal(cmd->items[2]->str, "incremental");
    assert_string_equal(cmd->items[4]->str, "1");
    assert_string_equal(ynode_get(dag.inst[3].bindings, "seed")->str, "1");
    assert_null(dag.inst[0].bindings);
    dag_free(&dag);
    spec_free(&spec);
}

static void test_needs_join_and_fan_in(void **state) {
    (void)state;
    Spec spec;
    Dag dag;
    Err err;
    assert_int_equal(pt_load(pt_tmp, experiment, NULL, 0, &spec, &dag, &err), 0);
    /* every train instance needs prep */
    assert_true(pt_depends(&dag, "train@method=incremental,seed=2", "prep"));
    /* eval@seed=1 joins on seed: both methods with seed 1, not seed 2 */
    const Instance *e1 = &dag.inst[pt_inst(&dag, "eval@seed=1")];
    assert_int_equal(e1->n_deps, 2);
    assert_true(pt_depends(&dag, "eval@seed=1", "train@method=uniform,seed=1"));
    assert_true(pt_depends(&dag, "eval@seed=1", "train@method=incremental,seed=1"));
    assert_false(pt_depends(&dag, "eval@seed=1", "train@method=uniform,seed=2"));
    /* report has no matrix: all of eval, plus the one named train instance */
    const Instance *r = &dag.inst[pt_inst(&dag, "report")];
    assert_int_equal(r->n_deps, 3);
    assert_true(pt_depends(&dag, "report", "train@method=uniform,seed=1"));
    assert_true(pt_depends(&dag, "report", "eval@seed=2"));
    /* reverse edges match */
    const Instance *prep = &dag.inst[pt_inst(&dag, "prep")];
    assert_int_equal(prep->n_users, 4);
    dag_free(&dag);
    spec_free(&spec);
}

static void test_topological_order(void **state) {
    (void)state;
    Spec spec;
    Dag dag;
    Err err;
    assert_int_equal(pt_load(pt_tmp, experiment, NULL, 0, &spec, &dag, &err), 0);
    size_t *position = calloc(dag.n, sizeof *position);
    for (size_t k = 0; k < dag.n; k++) position[dag.order[k]] = k;
    for (size_t i = 0; i < dag.n; i++)
        for (size_t d = 0; d < dag.inst[i].n_deps; d++) assert_true(position[dag.inst[i].deps[d]] < position[i]);
    free(position);
    dag_free(&dag);
    spec_free(&spec);
}

static void test_cycle_is_printed(void **state) {
    (void)state;
    Spec spec;
    Dag dag;
    Err err;
    const char *text = "stages:\n"
                       "  start: {type: exec, params: {cmd: [x]}}\n"
                       "  a: {type: exec, needs: [start, d], params: {cmd: [x]}}\n"
                       "  b: {type: exec, needs: a, params: {cmd: [x]}}\n"
                       "  c: {type: exec, needs: b, params: {cmd: [x]}}\n"
                       "  d: {type: exec, needs: [c], params: {cmd: [x]}}\n";
    assert_int_equal(pt_load(pt_tmp, text, NULL, 0, &spec, &dag, &err), -1);
    assert_string_equal(pt_msg(&err), "3:34: stages form a cycle: a -> d -> c -> b -> a");
}

static void test_only_selects_dependencies(void **state) {
    (void)state;
    Spec spec;
    Dag dag;
    Err err;
    assert_int_equal(pt_load(pt_tmp, experiment, NULL, 0, &spec, &dag, &err), 0);
    unsigned char sel[8];
    assert_int_equal(dag_select(&dag, "^eval@seed=1$", sel, &err), 0);
    size_t selected = 0;
    for (size_t i = 0; i < dag.n; i++) selected += sel[i];
    assert_int_equal(selected, 4); /* eval@seed=1, two train instances, prep */
    assert_true(sel[pt_inst(&dag, "prep")]);
    assert_false(sel[pt_inst(&dag, "train@method=uniform,seed=2")]);
    assert_false(sel[pt_inst(&dag, "report")]);
    assert_int_equal(dag_select(&dag, "nothing-like-this", sel, &err), -1);
    assert_non_null(strstr(err.msg, "--only 'nothing-like-this' matches no stage"));
    assert_int_equal(dag_select(&dag, "eval(", sel, &err), -1);
    assert_string_equal(err.msg, "--only: bad pattern 'eval(' at offset 5: missing closing parenthesis");
    dag_free(&dag);
    spec_free(&spec);
}

/* 2 × 20000 instances joined one to one on their shared matrix key: every instance of b gets
 * exactly its own a, none of the others (a join that ignored the key would give 20000 each). How
 * long this takes is a benchmark, not a test: bench/pipeline_bench.sh times the same DAG through
 * `dynn validate`. */
static void test_large_dag_joins_one_to_one(void **state) {
    (void)state;
    StrBuf sb = {0};
    sb_append(&sb, "stages:\n  a:\n    type: exec\n    matrix: {i: [");
    for (int i = 0; i < 20000; i++) sb_printf(&sb, i ? ",%d" : "%d", i);
    sb_append(&sb, "]}\n    params: {cmd: [echo, '${matrix.i}']}\n"
                   "  b:\n    type: exec\n    needs: a\n    matrix: {i: [");
    for (int i = 0; i < 20000; i++) sb_printf(&sb, i ? ",%d" : "%d", i);
    sb_append(&sb, "]}\n    params: {cmd: [echo, '${matrix.i}']}\n");
    Spec spec;
    Dag dag;
    Err err;
    assert_int_equal(pt_load(pt_tmp, sb_str(&sb), NULL, 0, &spec, &dag, &err), 0);
    assert_int_equal(dag.n, 40000);
    for (int i = 0; i < 20000; i += 777) {
        char b_name[32], a_name[32];
        snprintf(b_name, sizeof b_name, "b@i=%d", i);
        snprintf(a_name, sizeof a_name, "a@i=%d", i);
        assert_int_equal(dag.inst[pt_inst(&dag, b_name)].n_deps, 1);
        assert_true(pt_depends(&dag, b_name, a_name));
        assert_int_equal(dag.inst[pt_inst(&dag, a_name)].n_deps, 0);
    }
    sb_free(&sb);
    dag_free(&dag);
    spec_free(&spec);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix_expansion),
        cmocka_unit_test(test_needs_join_and_fan_in),
        cmocka_unit_test(test_topological_order),
        cmocka_unit_test(test_cycle_is_printed),
        cmocka_unit_test(test_only_selects_dependencies),
        cmocka_unit_test(test_large_dag_joins_one_to_one),
    };
    return cmocka_run_group_tests(tests, pt_setup, pt_teardown);
}
