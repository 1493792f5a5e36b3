/* tests/unit/test_pipeline_spec.c — experiment files: every bad file under tests/pipeline/bad/ fails
 * with exactly the message on its first line ("# expect: LINE:COL: message"); vars, --set,
 * escapes, defaults, aliases, platforms on good files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>

#include "tests/unit/testutil.h"
#include "tests/unit/pipeline_testutil.h"

/* The bad files are named relative to the repository root. */
static int setup(void **state) {
    const char *root = getenv("DYNN_ROOT");
    if (root && chdir(root) != 0) return -1;
    return pt_setup(state);
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

static int is_yaml(const struct dirent *e) {
    size_t n = strlen(e->d_name);
    return n > 5 && !strcmp(e->d_name + n - 5, ".yaml");
}

/* "{dir}" in an expected message stands for the absolute directory of the bad files. */
static void expected_message(const char *path, const char *abs_dir, char *out, size_t size) {
    size_t len;
    unsigned char *text = tu_read_file(path, &len);
    assert_non_null(text);
    const char *prefix = "# expect: ";
    assert_true(!strncmp((char *)text, prefix, strlen(prefix)));
    char line[1024];
    size_t n = strcspn((char *)text + strlen(prefix), "\n");
    assert_true(n < sizeof line);
    memcpy(line, text + strlen(prefix), n);
    line[n] = '\0';
    free(text);
    char *mark = strstr(line, "{dir}");
    if (mark) {
        *mark = '\0';
        snprintf(out, size, "%s:%s%s%s", path, line, abs_dir, mark + 5);
    } else {
        snprintf(out, size, "%s:%s", path, line);
    }
}

static void test_bad_files(void **state) {
    (void)state;
    const char *dir = "tests/pipeline/bad";
    char abs_dir[PATH_MAX];
    assert_non_null(realpath(dir, abs_dir));
    struct dirent **entries;
    int n = scandir(dir, &entries, is_yaml, by_name);
    assert_true(n >= 30);
    int failures = 0;
    for (int i = 0; i < n; i++) {
        char path[1024], want[PATH_MAX + 3000];
        snprintf(path, sizeof path, "%s/%s", dir, entries[i]->d_name);
        expected_message(path, abs_dir, want, sizeof want);
        Spec spec;
        Dag dag;
        Err err = {{0}};
        int rc = spec_load(path, NULL, 0, &spec, &err);
        if (!rc) {
            rc = dag_build(&spec, &dag, &err);
            if (!rc) dag_free(&dag);
        }
        spec_free(&spec);
        if (rc == 0) {
            print_error("%s: accepted, wanted: %s\n", path, want);
            failures++;
        } else if (strcmp(err.msg, want)) {
            print_error("%s:\n  got:  %s\n  want: %s\n", path, err.msg, want);
            failures++;
        }
        free(entries[i]);
    }
    free(entries);
    assert_int_equal(failures, 0);
}

static const char good[] = "name: demo\n"
                           "seed: 7\n"
                           "vars:\n"
                           "  greeting: hello\n"
                           "  who: ${greeting} world\n"
                           "  seeds: [1, 2]\n"
                           "defaults:\n"
                           "  threads: 3\n"
                           "  exec: {env: {LC_ALL: C}, shell: false}\n"
                           "platforms:\n"
                           "  - {name: local, type: local}\n"
                           "  - rpi4\n"
                           "stages:\n"
                           "  say:\n"
                           "    type: exec\n"
                           "    params: {cmd: [echo, '${who}', '$${literal}'], shell: true}\n"
                           "  loop:\n"
                           "    type: exec\n"
                           "    threads: 1\n"
                           "    matrix: {seed: '${seeds}'}\n"
                           "    params: {cmd: [echo, '${matrix.seed}']}\n";

static void test_vars_defaults_and_escapes(void **state) {
    (void)state;
    Spec spec;
    Dag dag;
    Err err;
    assert_int_equal(pt_load(pt_tmp, good, NULL, 0, &spec, &dag, &err), 0);
    assert_string_equal(spec.name, "demo");
    assert_int_equal(spec.seed, 7);
    assert_int_equal(spec.n_stages, 2);
    assert_int_equal(spec.stages[0].threads, 3); /* from defaults */
    assert_int_equal(spec.stages[1].threads, 1); /* own value wins */
    const YNode *cmd = ynode_get(dag.inst[0].params, "cmd");
    assert_string_equal(cmd->items[1]->str, "hello world");
    assert_string_equal(cmd->items[2]->str, "${literal}"); /* $${ is a literal ${ */
    assert_string_equal(ynode_get(dag.inst[0].params, "shell")->str, "true");              /* own value wins */
    assert_string_equal(ynode_get(ynode_get(dag.inst[0].params, "env"), "LC_ALL")->str, "C"); /* merged default */
    assert_int_equal(dag.n, 3);
    assert_string_equal(dag.inst[1].name, "loop@seed=1");
    assert_string_equal(ynode_get(dag.inst[2].params, "cmd")->items[1]->str, "2");
    assert_non_null(spec.platforms);
    assert_int_equal(spec.platforms->len, 2);
    dag_free(&dag);
    spec_free(&spec);
}

static void test_set_overrides(void **state) {
    (void)state;
    Spec spec;
    Dag dag;
    Err err;
    const char *sets[] = {"greeting=bye", "seeds=[4, 5, 6]"};
    assert_int_equal(pt_load(pt_tmp, good, sets, 2, &spec, &dag, &err), 0);
    assert_string_equal(ynode_get(dag.inst[0].params, "cmd")->items[1]->str, "bye world"); /* later vars see it */
    assert_int_equal(dag.n, 4);
    assert_string_equal(dag.inst[3].name, "loop@seed=6");
    dag_free(&dag);
    spec_free(&spec);

    const char *typo[] = {"greting=x"};
    assert_int_equal(pt_load(pt_tmp, good, typo, 1, &spec, &dag, &err), -1);
    assert_non_null(strstr(err.msg, "--set greting=x: "));
    assert_non_null(strstr(err.msg, "has no var 'greting' (did you mean 'greeting'?)"));
    const char *malformed[] = {"greeting"};
    assert_int_equal(pt_load(pt_tmp, good, malformed, 1, &spec, &dag, &err), -1);
    assert_string_equal(err.msg, "--set 'greeting': expected KEY=VALUE");
}

static void test_aliases_are_copied(void **state) {
    (void)state;
    Spec spec;
    Dag dag;
    Err err;
    const char *text = "stages:\n"
                       "  a: {type: exec, params: &p {cmd: [echo, shared]}}\n"
                       "  b: {type: exec, params: *p}\n";
    assert_int_equal(pt_load(pt_tmp, text, NULL, 0, &spec, &dag, &err), 0);
    assert_string_equal(ynode_get(dag.inst[1].params, "cmd")->items[1]->str, "shared");
    dag_free(&dag);
    spec_free(&spec);
}

static void test_positions_and_canonical_json(void **state) {
    (void)state;
    YNode *root;
    Err err;
    const char *text = "b: 1\na:\n  - x\n  - {z: 2, y: \"3\"}\n";
    assert_int_equal(ynode_parse(text, strlen(text), "t.yaml", &root, &err), 0);
    const YNode *a = ynode_get(root, "a");
    assert_int_equal(a->line, 3);
    assert_int_equal(a->col, 3);
    assert_int_equal(a->items[1]->line, 4);
    assert_int_equal(a->items[1]->col, 5);
    StrBuf sb = {0};
    ynode_canonical_json(root, &sb);
    assert_string_equal(sb_str(&sb), "{\"a\":[\"x\",{\"y\":\"3\",\"z\":\"2\"}],\"b\":\"1\"}");
    sb_free(&sb);
    ynode_free(root);
    const char *two_docs = "a: 1\n---\nb: 2\n";
    assert_int_equal(ynode_parse(two_docs, strlen(two_docs), "t.yaml", &root, &err), -1);
    assert_string_equal(err.msg, "t.yaml:2:1: only one YAML document per file is allowed");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_vars_defaults_and_escapes),
        cmocka_unit_test(test_set_overrides),
        cmocka_unit_test(test_aliases_are_copied),
        cmocka_unit_test(test_positions_and_canonical_json),
    };
    return cmocka_run_group_tests(tests, setup, pt_teardown);
}
