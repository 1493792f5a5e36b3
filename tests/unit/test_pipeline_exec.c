/* tests/unit/test_pipeline_exec.c — the exec stage type: PCRE2 metric extraction (every match a
 * step, numbers only, missing metrics are errors) and real command runs (argv and shell, env, cwd,
 * exit status, declared outputs, inputs restored from the store). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>

#include "pipeline/records.h"
#include "pipeline/store.h"
#include "stages/exec.h"
#include "stages/stage_types.h"
#include "tests/unit/testutil.h"

typedef struct FakeSink {
    RecordSink sink;
    char names[32][64];
    double values[32];
    long long steps[32];
    int n;
    char artifacts[8][256];
    int n_artifacts;
} FakeSink;

static int fake_metric(RecordSink *s, const char *name, double value, const char *subnet, long long step, Err *err) {
    (void)subnet, (void)err;
    FakeSink *f = s->self;
    snprintf(f->names[f->n], sizeof f->names[0], "%s", name);
    f->values[f->n] = value;
    f->steps[f->n++] = step;
    return 0;
}

static int fake_artifact(RecordSink *s, const char *name, const char *path, const char *kind, Err *err) {
    (void)path, (void)err;
    FakeSink *f = s->self;
    snprintf(f->artifacts[f->n_artifacts++], sizeof f->artifacts[0], "%s:%s", kind, name);
    return 0;
}

static void fake_init(FakeSink *f) {
    memset(f, 0, sizeof *f);
    f->sink.self = f;
    f->sink.metric = fake_metric;
    f->sink.artifact = fake_artifact;
    f->sink.exit_code = -1;
}

static YNode *parse(const char *text) {
    YNode *n;
    Err err;
    assert_int_equal(ynode_parse(text, strlen(text), "params", &n, &err), 0);
    return n;
}

static void test_extract_metrics(void **state) {
    (void)state;
    const char *out = "epoch 1 loss 0.91 acc 0.50\nepoch 2 loss 0.42 acc 0.75\nfinal test acc: 93.1%\n";
    YNode *m = parse("{loss: 'loss ([0-9.]+)', test: 'final test acc: ([0-9.]+)%', first: '(?m)^epoch (\\d+)'}");
    FakeSink f;
    fake_init(&f);
    Err err;
    assert_int_equal(exec_extract_metrics(m, out, strlen(out), &f.sink, &err), 0);
    assert_int_equal(f.n, 5);
    assert_string_equal(f.names[0], "loss");
    assert_true(f.values[0] == 0.91 && f.steps[0] == 0);
    assert_true(f.values[1] == 0.42 && f.steps[1] == 1);
    assert_string_equal(f.names[2], "test");
    assert_true(f.values[2] == 93.1);
    assert_string_equal(f.names[3], "first");
    assert_true(f.values[4] == 2.0 && f.steps[4] == 1);
    ynode_free(m);
}

static void test_extract_errors(void **state) {
    (void)state;
    const char *out = "acc=high\nloss=0.5\n";
    FakeSink f;
    fake_init(&f);
    Err err;
    YNode *m = parse("{acc: 'acc=(\\w+)'}");
    assert_int_equal(exec_extract_metrics(m, out, strlen(out), &f.sink, &err), -1);
    assert_string_equal(err.msg, "metric 'acc': pattern 'acc=(\\w+)' matched 'high', which is not a number");
    ynode_free(m);
    m = parse("{f1: 'f1=([0-9.]+)'}");
    assert_int_equal(exec_extract_metrics(m, out, strlen(out), &f.sink, &err), -1);
    assert_string_equal(err.msg, "metric 'f1': pattern 'f1=([0-9.]+)' matched nothing in the command's output");
    ynode_free(m);
    m = parse("{loss: 'loss=([0-9.]+)|(nothing)'}");
    assert_int_equal(exec_extract_metrics(m, "nothing", 7, &f.sink, &err), -1);
    assert_non_null(strstr(err.msg, "group 1 of"));
    ynode_free(m);
}

typedef struct Run {
    char dir[512], log[600];
    int log_fd;
} Run;

/* Runs params (YAML) through the exec stage type in dir; returns run()'s result. */
static int run_exec(Run *r, const char *params_text, FakeSink *f, const StageInput *inputs, size_t n_inputs, Err *err) {
    YNode *params = parse(params_text);
    tu_path(r->log, sizeof r->log, r->dir, "stage.log");
    r->log_fd = open(r->log, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0644);
    assert_true(r->log_fd >= 0);
    fake_init(f);
    StageRun run = {.name = "t", .type = "exec", .params = params, .inputs = inputs, .n_inputs = n_inputs, .workdir = r->dir,
                    .scratch = r->dir, .log_path = r->log, .log_fd = r->log_fd, .threads = 3, .seed = 42, .sink = &f->sink};
    /* the command's output goes to the log, as in a stage process */
    int saved_out = dup(1), saved_err = dup(2);
    dup2(r->log_fd, 1);
    dup2(r->log_fd, 2);
    int rc = stage_type_exec.run(&run, err);
    fflush(stdout);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    close(r->log_fd);
    ynode_free(params);
    return rc;
}

static void test_run_commands(void **state) {
    (void)state;
    Run r;
    char *tmp = tu_tmpdir();
    snprintf(r.dir, sizeof r.dir, "%s", tmp);
    FakeSink f;
    Err err;
    char sub[600];
    tu_path(sub, sizeof sub, r.dir, "sub");
    mkdir(sub, 0755);
    assert_int_equal(run_exec(&r, "{cmd: [sh, -c, 'echo acc=0.$DYNN_THREADS$DYNN_SEED $GREETING > out.txt; cat out.txt'],"
                                  " env: {GREETING: hi}, cwd: sub, outs: [out.txt], metrics: {acc: 'acc=([0-9.]+)'}}",
                             &f, NULL, 0, &err),
                     0);
    assert_int_equal(f.sink.exit_code, 0);
    assert_int_equal(f.n, 1);
    assert_true(f.values[0] == 0.342); /* threads 3, seed 42 */
    assert_int_equal(f.n_artifacts, 1);
    assert_string_equal(f.artifacts[0], "file:sub/out.txt"); /* named relative to the working directory */

    assert_int_equal(run_exec(&r, "{cmd: 'exit 3', shell: true}", &f, NULL, 0, &err), -1);
    assert_string_equal(err.msg, "'/bin/sh' exited with status 3");
    assert_int_equal(f.sink.exit_code, 3);

    assert_int_equal(run_exec(&r, "{cmd: [true], outs: [never.txt]}", &f, NULL, 0, &err), -1);
    assert_string_equal(err.msg, "declared output 'never.txt' was not written");

    assert_int_equal(run_exec(&r, "{cmd: [no-such-command-xyz]}", &f, NULL, 0, &err), -1);
    assert_non_null(strstr(err.msg, "no-such-command-xyz"));
    tu_rmtree(tmp);
    free(tmp);
}

/* An upstream workspace file is put back (from the store) before the command runs. */
static void test_inputs_restored(void **state) {
    (void)state;
    Run r;
    char *tmp = tu_tmpdir();
    snprintf(r.dir, sizeof r.dir, "%s", tmp);
    char src[600], hash[SHA256_HEX_LEN + 1], rel[STORE_REL_MAX], abs[700];
    uint64_t size;
    Err err;
    tu_path(src, sizeof src, r.dir, "data.txt");
    tu_write_file(src, "value=7\n", 8);
    assert_int_equal(store_put(r.dir, src, hash, rel, &size, &err), 0);
    remove(src);
    store_abs(r.dir, rel, abs, sizeof abs);
    StageInput in = {.stage = "prep", .name = "data.txt", .kind = "file", .path = abs, .hash = hash, .size = size};
    FakeSink f;
    assert_int_equal(run_exec(&r, "{cmd: [cat, data.txt], metrics: {value: 'value=(\\d+)'}}", &f, &in, 1, &err), 0);
    assert_true(f.values[0] == 7.0);
    /* a modified copy is replaced too */
    tu_write_file(src, "value=8\n", 8);
    assert_int_equal(run_exec(&r, "{cmd: [cat, data.txt], metrics: {value: 'value=(\\d+)'}}", &f, &in, 1, &err), 0);
    assert_true(f.values[0] == 7.0);
    tu_rmtree(tmp);
    free(tmp);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extract_metrics),
        cmocka_unit_test(test_extract_errors),
        cmocka_unit_test(test_run_commands),
        cmocka_unit_test(test_inputs_restored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
