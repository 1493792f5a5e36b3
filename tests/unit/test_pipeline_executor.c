/* tests/unit/test_pipeline_executor.c — the executor seam: a stage's `resources:` (keys, units,
 * bounds, `defaults:` overridden key by key, each bad value refused at FILE:LINE:COL), the executor
 * table and a stage's `executor:` key (unknown names with a did-you-mean and the known list, refused
 * on aggregate and report stages), the local executors' admission (`-j`, the thread budget,
 * `resources.cpus` as the demand), and a runner that asks the executor before starting a job: a
 * fake executor registered here that admits one job at a time is obeyed. The slurm executor's pure
 * parts: resources as sbatch words (account, qos, constraint, extra `sbatch` options included),
 * which Slurm states are final, and which stages stay on the runner's machine under it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <unistd.h>

#include "tests/unit/testutil.h"
#include "tests/unit/pipeline_testutil.h"
#include "pipeline/executor.h"
#include "pipeline/executor_slurm.h"
#include "pipeline/resources.h"
#include "pipeline/runner.h"

/* ---- resources ---- */

static void test_resources_good(void **state) {
    (void)state;
    Spec spec;
    Err err = {{0}};
    const char *text = "defaults:\n"
                       "  resources: {memory: 4G, time: 2h, partition: batch}\n"
                       "stages:\n"
                       "  a: {type: exec, params: {cmd: [true]}, resources: {cpus: 4, memory: 512M, gpus: 0}}\n"
                       "  b: {type: exec, params: {cmd: [true]}, resources: {time: 1h30m, gpus: 2, partition: gpu.big-1}}\n"
                       "  c: {type: exec, params: {cmd: [true]}}\n";
    assert_int_equal(pt_load(pt_tmp, text, NULL, 0, &spec, NULL, &err), 0);
    const Resources *a = &spec.stages[0].resources, *b = &spec.stages[1].resources, *c = &spec.stages[2].resources;
    assert_int_equal(a->cpus, 4);
    assert_true(a->memory == UINT64_C(512) << 20); /* the stage's own value wins */
    assert_true(a->time_s == 7200.0);              /* the rest comes from defaults */
    assert_int_equal(a->gpus, 0);
    assert_string_equal(a->partition, "batch");
    assert_int_equal(b->cpus, 0); /* not given */
    assert_true(b->memory == UINT64_C(4) << 30);
    assert_true(b->time_s == 5400.0);
    assert_int_equal(b->gpus, 2);
    assert_string_equal(b->partition, "gpu.big-1");
    assert_int_equal(c->cpus, 0);
    assert_int_equal(c->gpus, -1);
    assert_true(c->memory == UINT64_C(4) << 30);
    spec_free(&spec);
}

static void test_memory_sizes(void **state) {
    (void)state;
    uint64_t b = 0;
    assert_int_equal(resources_parse_memory("1536K", &b), 0);
    assert_true(b == UINT64_C(1536) << 10);
    assert_int_equal(resources_parse_memory("2t", &b), 0);
    assert_true(b == UINT64_C(2) << 40);
    const char *bad[] = {"", "4", "G", "0G", "1.5G", "4GB", "-1M", " 4G", "4 G", "99999999999999999999M", "20000000T"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (resources_parse_memory(bad[i], &b) == 0) fail_msg("'%s' was accepted", bad[i]);
}

/* Each bad `resources:` is refused at its FILE:LINE:COL with the message. */
static void test_resources_bad(void **state) {
    (void)state;
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"stages:\n  a: {type: exec, params: {cmd: [true]}, resources: {cpu: 2}}\n",
         "2:54: unknown key 'cpu' in 'resources' of stage 'a' (cpus, memory, time, gpus, partition, account, qos, constraint, sbatch) (did you mean 'cpus'?)"},
        {"stages:\n  a: {type: exec, params: {cmd: [true]}, resources: {cpus: 0}}\n",
         "2:60: stage 'a': 'resources.cpus' must be between 1 and 4096, not 0"},
        {"stages:\n  a: {type: exec, params: {cmd: [true]}, resources: {cpus: 5000}}\n",
         "2:60: stage 'a': 'resources.cpus' must be between 1 and 4096, not 5000"},
        {"stages:\n  a: {type: exec, params: {cmd: [true]}, resources: {gpus: -1}}\n",
         "2:60: stage 'a': 'resources.gpus' must be between 0 and 1024, not -1"},
        {"stages:\n  a: {type: exec, params: {cmd: [true]}, resources: {gpus: two}}\n",
         "2:60: stage 'a': 'resources.gpus' must be an integer, not 'two'"},
        {"stages:\n  a:\n    type: exec\n    params: {cmd: [true]}\n    resources:\n      memory: 4GB\n",
         "6:15: stage 'a': 'resources.memory' must be a size like 512M or 4G (a whole number and a unit K, M, G or T), not '4GB'"},
        {"stages:\n  a: {type: exec, params: {cmd: [true]}, resources: {memory: 512K}}\n",
         "2:62: stage 'a': 'resources.memory' must be between 1M and 1024T, not '512K'"},
        {"stages:\n  a: {type: exec, params: {cmd: [true]}, resources: {time: soon}}\n",
         "2:60: stage 'a': 'resources.time' must be a duration like 30m, 2h or 1h30m (units ms, s, m, h, d), not 'soon'"},
        {"stages:\n  a: {type: exec, params: {cmd: [true]}, resources: {time: 400d}}\n",
         "2:60: stage 'a': 'resources.time' must be between 1s and 365d, not '400d'"},
        {"stages:\n  a: {type: exec, params: {cmd: [true]}, resources: {partition: 'a b'}}\n",
         "2:65: stage 'a': 'resources.partition' must be a name of 1 to 64 letters, digits, '_', '-' or '.', not 'a b'"},
        {"stages:\n  a: {type: exec, params: {cmd: [true]}, resources: [cpus]}\n",
         "2:53: stage 'a': 'resources' must be a mapping (cpus, memory, time, gpus, partition, account, qos, constraint, sbatch), not a list"},
        {"defaults:\n  resources: {memroy: 1G}\nstages:\n  a: {type: exec, params: {cmd: [true]}}\n",
         "2:15: unknown key 'memroy' in 'defaults.resources' (cpus, memory, time, gpus, partition, account, qos, constraint, sbatch) (did you mean 'memory'?)"},
        {"defaults:\n  resources: {cpus: 2.5}\nstages:\n  a: {type: exec, params: {cmd: [true]}}\n",
         "2:21: 'defaults.resources.cpus' must be an integer, not '2.5'"},
        {"stages:\n  a: {type: exec, params: {cmd: [true]}, resources: {account: 'x;y'}}\n",
         "2:63: stage 'a': 'resources.account' must be a name of 1 to 64 letters, digits, '_', '-' or '.', not 'x;y'"},
        {"stages:\n  a: {type: exec, params: {cmd: [true]}, resources: {constraint: 'a b'}}\n",
         "2:66: stage 'a': 'resources.constraint' must be a Slurm feature expression of 1 to 256 characters (letters, digits and _-.&|!*[]():,=), not 'a b'"},
        {"stages:\n  a: {type: exec, params: {cmd: [true]}, resources: {sbatch: --exclusive}}\n",
         "2:62: stage 'a': 'resources.sbatch' must be a list of sbatch options like [--exclusive, --nice=10], not '--exclusive'"},
        {"stages:\n  a: {type: exec, params: {cmd: [true]}, resources: {sbatch: [--nice=1, exclusive]}}\n",
         "2:73: stage 'a': 'resources.sbatch': each item must be one sbatch option word starting with '-' (like --nice=10), not 'exclusive'"},
        {"stages:\n  a: {type: exec, params: {cmd: [true]}, resources: {sbatch: ['--comment=a b']}}\n",
         "2:63: stage 'a': 'resources.sbatch': each item must be one sbatch option word starting with '-' (like --nice=10), not '--comment=a b'"},
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        Spec spec;
        Err err = {{0}};
        if (pt_load(pt_tmp, cases[i].yaml, NULL, 0, &spec, NULL, &err) == 0) {
            spec_free(&spec);
            print_error("case %zu accepted, wanted: %s\n", i, cases[i].want);
            failures++;
        } else if (strcmp(pt_msg(&err), cases[i].want)) {
            print_error("case %zu:\n  got:  %s\n  want: %s\n", i, pt_msg(&err), cases[i].want);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* ---- the executor table and `executor:` ---- */

static void test_executor_key(void **state) {
    (void)state;
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"stages:\n  a: {type: exec, params: {cmd: [true]}, executor: locl}\n",
         "2:52: stage 'a' has unknown executor 'locl' (did you mean 'local'?); known executors: local, spawn, slurm"},
        {"stages:\n  a: {type: exec, params: {cmd: [true]}, executor: slrum}\n",
         "2:52: stage 'a' has unknown executor 'slrum' (did you mean 'slurm'?); known executors: local, spawn, slurm"},
        {"stages:\n  a: {type: exec, params: {cmd: [true]}, executor: [local]}\n",
         "2:52: stage 'a': 'executor' must be a string, not a list"},
        {"stages:\n  a: {type: exec, params: {cmd: [true]}, exector: local}\n",
         "2:42: unknown key 'exector' in stage 'a' (did you mean 'executor'?)"},
        {"stages:\n  agg: {type: aggregate, executor: local}\n",
         "2:36: stage 'agg': 'executor' cannot be set on an aggregate stage: it reads the results database and always "
         "runs where the database is (remove the key)"},
        {"stages:\n  r:\n    type: report\n    executor: spawn\n",
         "4:15: stage 'r': 'executor' cannot be set on a report stage: it reads the results database and always runs "
         "where the database is (remove the key)"},
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        Spec spec;
        Err err = {{0}};
        if (pt_load(pt_tmp, cases[i].yaml, NULL, 0, &spec, NULL, &err) == 0) {
            spec_free(&spec);
            print_error("case %zu accepted, wanted: %s\n", i, cases[i].want);
            failures++;
        } else if (strcmp(pt_msg(&err), cases[i].want)) {
            print_error("case %zu:\n  got:  %s\n  want: %s\n", i, pt_msg(&err), cases[i].want);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
    Spec spec;
    Err err = {{0}};
    assert_int_equal(pt_load(pt_tmp,
                             "stages:\n  a: {type: exec, params: {cmd: [true]}, executor: spawn}\n"
                             "  b: {type: exec, params: {cmd: [true]}}\n",
                             NULL, 0, &spec, NULL, &err),
                     0);
    assert_string_equal(spec.stages[0].executor, "spawn");
    assert_null(spec.stages[1].executor); /* the run's default */
    spec_free(&spec);
}

static Executor *never_create(const char *exe, size_t slots, Err *err) {
    (void)exe, (void)slots;
    err_set(err, "not for running");
    return NULL;
}

static void test_table(void **state) {
    (void)state;
    assert_non_null(executor_type_find("local"));
    assert_non_null(executor_type_find("spawn"));
    assert_null(executor_type_find("nope"));
    static const ExecutorType dup = {"local", "a second local", never_create, 0};
    Err err = {{0}};
    assert_int_equal(executor_type_register(&dup, &err), -1);
    assert_string_equal(err.msg, "executor 'local' is already registered");
    static const ExecutorType nameless = {"", "", never_create, 0};
    assert_int_equal(executor_type_register(&nameless, &err), -1);
    assert_null(executor_new("spwan", "/bin/false", 1, &err));
    assert_string_equal(err.msg, "unknown executor 'spwan' (did you mean 'spawn'?); known executors: local, spawn, slurm");
}

/* ---- the slurm executor's pure parts ---- */

/* resources: → sbatch words, every key; unset keys give nothing but --cpus-per-task (the threads). */
static void test_slurm_words(void **state) {
    (void)state;
    Spec spec;
    Err err = {{0}};
    const char *text = "defaults:\n"
                       "  resources: {account: proj42, sbatch: [--nice=10]}\n"
                       "stages:\n"
                       "  a:\n"
                       "    type: exec\n"
                       "    params: {cmd: [true]}\n"
                       "    resources: {cpus: 4, memory: 1536K, time: 61s, gpus: 2, partition: gpu, qos: long,\n"
                       "                constraint: 'avx512&[ib|eth]', sbatch: [--exclusive, --comment=x]}\n"
                       "  b: {type: exec, threads: 3, params: {cmd: [true]}}\n";
    assert_int_equal(pt_load(pt_tmp, text, NULL, 0, &spec, NULL, &err), 0);
    char **w = NULL;
    size_t n = 0;
    assert_int_equal(slurm_resource_options(&spec.stages[0].resources, 1, &w, &n, &err), 0);
    const char *want_a[] = {"--cpus-per-task=4", "--mem=2M", "--time=2", "--gpus=2", "--partition=gpu", "--account=proj42",
                            "--qos=long", "--constraint=avx512&[ib|eth]", "--exclusive", "--comment=x"};
    assert_int_equal(n, sizeof want_a / sizeof *want_a);
    for (size_t i = 0; i < n; i++) assert_string_equal(w[i], want_a[i]);
    slurm_free_words(w, n);
    w = NULL, n = 0;
    assert_int_equal(slurm_resource_options(&spec.stages[1].resources, 3, &w, &n, &err), 0);
    const char *want_b[] = {"--cpus-per-task=3", "--account=proj42", "--nice=10"}; /* threads; the defaults' keys */
    assert_int_equal(n, sizeof want_b / sizeof *want_b);
    for (size_t i = 0; i < n; i++) assert_string_equal(w[i], want_b[i]);
    slurm_free_words(w, n);
    spec_free(&spec);
}

static void test_slurm_states(void **state) {
    (void)state;
    const char *final[] = {"COMPLETED", "FAILED", "TIMEOUT", "CANCELLED", "CANCELLED by 0", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED"};
    const char *open[] = {"PENDING", "RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED", "REQUEUED", "", "COMPLETEDX"};
    for (size_t i = 0; i < sizeof final / sizeof *final; i++)
        if (!slurm_state_final(final[i])) fail_msg("'%s' is final", final[i]);
    for (size_t i = 0; i < sizeof open / sizeof *open; i++)
        if (slurm_state_final(open[i])) fail_msg("'%s' is not final", open[i]);
}

/* Under a remote default the stages that belong on the runner's machine stay local; a stage's own
 * `executor:` always wins; local defaults change nothing. */
static void test_executor_for_stage(void **state) {
    (void)state;
    assert_string_equal(executor_for_stage("exec", NULL, "slurm"), "slurm");
    assert_string_equal(executor_for_stage("train", NULL, "slurm"), "slurm");
    assert_string_equal(executor_for_stage("aggregate", NULL, "slurm"), "local");
    assert_string_equal(executor_for_stage("report", NULL, "slurm"), "local");
    assert_string_equal(executor_for_stage("profile", NULL, "slurm"), "local");
    assert_string_equal(executor_for_stage("profile", "slurm", "local"), "slurm");
    assert_string_equal(executor_for_stage("aggregate", NULL, "spawn"), "spawn");
    assert_string_equal(executor_for_stage("exec", "spawn", "slurm"), "spawn");
}

/* ---- admission ---- */

static void test_admit_budget(void **state) {
    (void)state;
    Resources none, four;
    resources_init(&none);
    resources_init(&four);
    four.cpus = 4;
    ExecJob thin = {.threads = 1, .resources = &none}, wide = {.threads = 1, .resources = &four};
    assert_int_equal(executor_thread_demand(&thin, 8), 1);
    assert_int_equal(executor_thread_demand(&wide, 8), 4); /* cpus counts, not threads */
    assert_int_equal(executor_thread_demand(&wide, 2), 2); /* at most the budget */
    ExecLoad load = {.running = 1, .jobs = 4, .threads_in_use = 5, .budget = 8};
    assert_int_equal(executor_admit_budget(NULL, &thin, &load), 1);
    assert_int_equal(executor_admit_budget(NULL, &wide, &load), 0); /* 5 + 4 > 8 */
    load.running = 0, load.threads_in_use = 0;
    ExecJob huge = {.threads = 64, .resources = &none};
    assert_int_equal(executor_admit_budget(NULL, &huge, &load), 1); /* alone, even wider than the budget */
    load = (ExecLoad){.running = 4, .jobs = 4, .threads_in_use = 4, .budget = 64};
    assert_int_equal(executor_admit_budget(NULL, &thin, &load), 0); /* -j */
}

/* A fake executor around the local one: `solo` admits a job only when none of its own runs, `eager`
 * always; both count the jobs already running when one is submitted. */
typedef struct Fake {
    Executor base;
    Executor *inner;
    int solo;
    size_t submitted, most_running_at_submit, admit_calls;
} Fake;

static Fake *last_fake;

static int fake_admit(Executor *ex, const ExecJob *job, const ExecLoad *load) {
    Fake *f = (Fake *)ex;
    (void)job, (void)load;
    f->admit_calls++;
    return f->solo ? f->inner->running(f->inner) == 0 : 1;
}

static int fake_submit(Executor *ex, const ExecJob *job, Err *err) {
    Fake *f = (Fake *)ex;
    size_t running = f->inner->running(f->inner);
    if (running > f->most_running_at_submit) f->most_running_at_submit = running;
    f->submitted++;
    return f->inner->submit(f->inner, job, err);
}

static int fake_wait(Executor *ex, int timeout_ms, int wake_fd, ExecEvent *events, size_t max, Err *err) {
    Fake *f = (Fake *)ex;
    return f->inner->wait(f->inner, timeout_ms, wake_fd, events, max, err);
}

static void fake_signal(Executor *ex, int sig) { ((Fake *)ex)->inner->signal(((Fake *)ex)->inner, sig); }

static size_t fake_running(const Executor *ex) {
    const Fake *f = (const Fake *)ex;
    return f->inner->running(f->inner);
}

static void fake_destroy(Executor *ex) {
    Fake *f = (Fake *)ex;
    f->inner->destroy(f->inner); /* the Fake itself stays for the test to read (last_fake) */
}

static Executor *fake_create(const char *exe, size_t slots, int solo, Err *err) {
    Executor *inner = executor_local_new(exe, slots, err);
    if (!inner) return NULL;
    static Fake fakes[2];
    Fake *f = &fakes[solo];
    *f = (Fake){.base = {.name = solo ? "solo" : "eager", .admit = fake_admit, .submit = fake_submit, .wait = fake_wait,
                         .signal = fake_signal, .running = fake_running, .destroy = fake_destroy},
                .inner = inner,
                .solo = solo};
    last_fake = f;
    return &f->base;
}

static Executor *solo_create(const char *exe, size_t slots, Err *err) { return fake_create(exe, slots, 1, err); }
static Executor *eager_create(const char *exe, size_t slots, Err *err) { return fake_create(exe, slots, 0, err); }

/* Runs four independent stages at -j 4 through the named fake executor; returns the run's status. */
static const char *run_through(const char *executor, char *status, size_t size) {
    char text[512], db[PATH_MAX];
    snprintf(text, sizeof text,
             "stages:\n  s: {type: exec, executor: %s, matrix: {i: [1, 2, 3, 4]}, params: {cmd: [sh, -c, 'sleep 0.05']}}\n",
             executor);
    Spec spec;
    Dag dag;
    Err err = {{0}};
    if (pt_load(pt_tmp, text, NULL, 0, &spec, &dag, &err)) fail_msg("%s", err.msg);
    tu_path(db, sizeof db, pt_tmp, executor);
    strncat(db, ".db", sizeof db - strlen(db) - 1);
    RunOptions opt = {.db_path = db, .dynn_exe = getenv("DYNN_BIN"), .executor = "local", .jobs = 4, .threads = 4,
                      .argv_text = "test_pipeline_executor"};
    RunResult result;
    int rc = runner_run(&spec, &dag, &opt, &result, &err);
    dag_free(&dag);
    spec_free(&spec);
    if (rc) fail_msg("%s", err.msg);
    assert_int_equal(result.count[NODE_FINISHED], 4);
    snprintf(status, size, "%s", result.status);
    return status;
}

static void test_runner_asks_the_executor(void **state) {
    (void)state;
    if (!getenv("DYNN_BIN")) skip(); /* the stage processes are `dynn stage-exec` (tests/run.sh sets it) */
    static const ExecutorType solo = {"solo", "one job at a time", solo_create, 0};
    static const ExecutorType eager = {"eager", "every job at once", eager_create, 0};
    Err err = {{0}};
    assert_int_equal(executor_type_register(&solo, &err), 0);
    assert_int_equal(executor_type_register(&eager, &err), 0);
    char cwd[PATH_MAX], status[16];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(pt_tmp), 0); /* exec stages run where the runner was started */
    /* the control: an executor that admits everything gets the four at once (-j 4, 4 threads) */
    assert_string_equal(run_through("eager", status, sizeof status), "FINISHED");
    assert_int_equal(last_fake->submitted, 4);
    assert_int_equal(last_fake->most_running_at_submit, 3);
    /* one at a time: the runner never submits while one of its jobs runs, and asks again after */
    assert_string_equal(run_through("solo", status, sizeof status), "FINISHED");
    assert_int_equal(last_fake->submitted, 4);
    assert_int_equal(last_fake->most_running_at_submit, 0);
    assert_true(last_fake->admit_calls > 4);
    assert_int_equal(chdir(cwd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resources_good),   cmocka_unit_test(test_memory_sizes),
        cmocka_unit_test(test_resources_bad),    cmocka_unit_test(test_executor_key),
        cmocka_unit_test(test_table),            cmocka_unit_test(test_admit_budget),
        cmocka_unit_test(test_runner_asks_the_executor),
        cmocka_unit_test(test_slurm_words),       cmocka_unit_test(test_slurm_states),
        cmocka_unit_test(test_executor_for_stage),
    };
    return cmocka_run_group_tests(tests, pt_setup, pt_teardown);
}
