/* tests/unit/test_pipeline_exec.c — the exec stage type: PCRE2 metric extraction (every match a
 * step, numbers only, missing metrics are errors, 100 MB of output in linear time, invalid UTF-8)
 * and real command runs (argv and shell, env, cwd, exit status, declared outputs, inputs restored
 * from the store, the private directory, `timeout:`, a huge environment built in linear time);
 * durations and UTF-8 checks. Hang guards (alarm) catch quadratic work; no duration is asserted. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline/records.h"
#include "pipeline/store.h"
#include "stages/exec.h"
#include "stages/stage_types.h"
#include "tests/unit/testutil.h"
#include "util/duration.h"
#include "util/regex.h"
#include "util/strbuf.h"

/* A hang guard, not a timing assertion: the linear code takes well under a second where these
 * tests use it, the quadratic code it replaced minutes to hours. */
static void hang(int sig) {
    (void)sig;
    static const char msg[] = "hang guard: the test did not finish within 60 s (quadratic work?)\n";
    if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
    _exit(3);
}

static void hang_guard(unsigned seconds) {
    signal(SIGALRM, hang);
    alarm(seconds);
}

typedef struct FakeSink {
    RecordSink sink;
    char names[32][64];
    double values[32];
    long long steps[32];
    int n;
    char artifacts[8][256];
    char contents[8][64]; /* each artifact's bytes when it was declared */
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
    (void)err;
    FakeSink *f = s->self;
    size_t len;
    unsigned char *bytes = tu_read_file(path, &len);
    snprintf(f->contents[f->n_artifacts], sizeof f->contents[0], "%.*s", bytes ? (int)len : 0, bytes ? (char *)bytes : "");
    free(bytes);
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

/* 100 MB of a training log, a loss on every line: every match is one step, in linear time (the
 * PCRE2 UTF check on every call made it quadratic: 1 MB took 2.5 s, 4 MB 42 s). */
typedef struct CountSink {
    RecordSink sink;
    long long n;
    double first, last;
} CountSink;

static int count_metric(RecordSink *s, const char *name, double value, const char *subnet, long long step, Err *err) {
    (void)name, (void)subnet, (void)err;
    CountSink *c = s->self;
    if (step != c->n) return err_set(err, "step %lld after %lld values", step, c->n);
    if (!c->n) c->first = value;
    c->last = value;
    c->n++;
    return 0;
}

static void test_extract_large_output(void **state) {
    (void)state;
    size_t len = (size_t)100 << 20;
    char *text = malloc(len + 1);
    assert_non_null(text);
    size_t pos = 0;
    long lines = 0;
    while (pos < len) {
        char line[80];
        int n = snprintf(line, sizeof line, "step %ld of the epoch, loss %.6f, lr 0.1000\n", lines, 1.0 / (double)(lines + 1));
        if (pos + (size_t)n > len) break;
        memcpy(text + pos, line, (size_t)n);
        pos += (size_t)n;
        lines++;
    }
    text[pos] = '\0';
    YNode *m = parse("{loss: 'loss ([0-9.]+)'}");
    CountSink c = {.sink = {.self = &c, .metric = count_metric}};
    Err err;
    hang_guard(60);
    assert_int_equal(exec_extract_metrics(m, text, pos, &c.sink, &err), 0);
    alarm(0);
    assert_int_equal(c.n, lines);
    assert_true(lines > 2000000);
    assert_true(c.first == 1.0);
    assert_true(c.last == strtod(strrchr(text, 's') + 2, NULL));
    ynode_free(m);
    free(text);
}

/* Output that is not valid UTF-8 is matched with those bytes read as '?'. */
static void test_extract_invalid_utf8(void **state) {
    (void)state;
    const char out[] = "\xff\xfe loss 0.5 \xc3(\xed\xa0\x80 loss 0.25\n\xf4\x90\x80\x80 loss 1e-3 caf\xc3\xa9\xe2\x82";
    FakeSink f;
    fake_init(&f);
    Err err;
    YNode *loss = parse("{loss: 'loss ([0-9.e-]+)'}");
    assert_int_equal(exec_extract_metrics(loss, out, sizeof out - 1, &f.sink, &err), 0);
    assert_int_equal(f.n, 3);
    assert_true(f.values[0] == 0.5 && f.values[1] == 0.25 && f.values[2] == 1e-3);
    ynode_free(loss);
    char copy[sizeof out];
    memcpy(copy, out, sizeof out);
    assert_false(regex_utf8_valid(copy, sizeof out - 1));
    assert_int_equal(regex_utf8_sanitize(copy, sizeof out - 1), 2 + 1 + 3 + 4 + 2);
    assert_true(regex_utf8_valid(copy, sizeof out - 1));
    assert_non_null(strstr(copy, "caf\xc3\xa9??")); /* the valid 'é' stays, the cut-off sequence does not */
    const char *good = "plain \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
    assert_true(regex_utf8_valid(good, strlen(good)));
    assert_false(regex_utf8_valid("\xc0\x80", 2)); /* overlong NUL */
}

/* An empty match (a lookahead) resumes at the next character, not inside a multibyte one: the
 * subject is matched without PCRE2's UTF check, and a start inside a character is undefined. */
static void test_extract_empty_match_utf8(void **state) {
    (void)state;
    const char out[] = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 7";
    FakeSink f;
    fake_init(&f);
    Err err;
    YNode *m = parse("{n: '(?=\\D*(\\d))'}");
    assert_int_equal(exec_extract_metrics(m, out, sizeof out - 1, &f.sink, &err), 0);
    assert_int_equal(f.n, 5); /* before e, the euro sign, the emoji, the space and the 7 */
    for (int i = 0; i < f.n; i++) assert_true(f.values[i] == 7.0 && f.steps[i] == i);
    ynode_free(m);
}

static void test_durations(void **state) {
    (void)state;
    static const struct {
        const char *text;
        double seconds;
    } good[] = {{"90", 90}, {"2s", 2}, {"250ms", 0.25}, {"5m", 300}, {"1.5h", 5400}, {"1h30m", 5400}, {"2d", 172800}, {".5s", 0.5}};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        double v = -1;
        assert_int_equal(duration_parse(good[i].text, &v), 0);
        assert_true(v == good[i].seconds);
    }
    static const char *const bad[] = {"", "s", "0", "0s", "2 s", "2x", "-1s", "1e3s", "2ss", "1h 30m", "3.s.", "inf", "5min"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double v;
        if (duration_parse(bad[i], &v) == 0) fail_msg("'%s' was accepted as %g s", bad[i], v);
    }
}

typedef struct Run {
    char dir[512], log[600], scratch[512], slot_dir[512]; /* dir: the working directory, a new temp dir */
    int log_fd;
} Run;

static void run_begin(Run *r) {
    char *tmp = tu_tmpdir();
    snprintf(r->dir, sizeof r->dir, "%s", tmp);
    free(tmp);
}

static void run_end(Run *r) { tu_rmtree(r->dir); }

/* Runs params (YAML) through the exec stage type in dir; returns run()'s result. */
static int run_exec(Run *r, const char *params_text, FakeSink *f, const StageInput *inputs, size_t n_inputs, Err *err) {
    YNode *params = parse(params_text);
    tu_path(r->log, sizeof r->log, r->dir, "stage.log");
    tu_path(r->scratch, sizeof r->scratch, r->dir, ".dynn/work/run/0.scratch"); /* as the runner makes them */
    tu_path(r->slot_dir, sizeof r->slot_dir, r->dir, ".dynn/work/run/0.dir");
    r->log_fd = open(r->log, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0644);
    assert_true(r->log_fd >= 0);
    fake_init(f);
    StageRun run = {.name = "t", .type = "exec", .params = params, .inputs = inputs, .n_inputs = n_inputs, .workdir = r->dir,
                    .scratch = r->scratch, .slot_dir = r->slot_dir, .log_path = r->log, .log_fd = r->log_fd, .threads = 3, .seed = 42, .sink = &f->sink};
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
    run_begin(&r);
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
    run_end(&r);
}

/* An upstream workspace file is put back (from the store) before the command runs. */
static void test_inputs_restored(void **state) {
    (void)state;
    Run r;
    run_begin(&r);
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
    size_t len;
    unsigned char *back = tu_read_file(src, &len); /* and the working directory's copy is the input again */
    assert_non_null(back);
    assert_int_equal(len, 8);
    assert_memory_equal(back, "value=7\n", 8);
    free(back);
    run_end(&r);
}

static char *read_text(const char *dir, const char *name) {
    char path[700];
    size_t len;
    unsigned char *bytes = tu_read_file(tu_path(path, sizeof path, dir, name), &len);
    if (bytes) bytes[len] = '\0'; /* tu_read_file leaves room for it */
    return (char *)bytes;
}

/* The command runs in a private directory: another process writing the same output path in the
 * working directory meanwhile (here the command itself, through the absolute path) does not
 * change the artifact; an output starts absent; reads and writes of existing files reach the
 * working directory; new files and the output are there afterwards; only the view's links stay in
 * the slot's directory, and a link to a file gone from the working directory goes too. */
static void test_private_directory(void **state) {
    (void)state;
    Run r;
    run_begin(&r);
    char path[700], params[2048];
    tu_write_file(tu_path(path, sizeof path, r.dir, "out.txt"), "old\n", 4);
    tu_write_file(tu_path(path, sizeof path, r.dir, "notes.txt"), "n=1\n", 4);
    snprintf(params, sizeof params,
             "{cmd: [sh, -c, 'echo mine >> out.txt; echo intruder > %s/out.txt; cat notes.txt; echo n=2 >> notes.txt;"
             " echo made > made.txt; pwd'], outs: [out.txt], metrics: {n: 'n=(\\d)'}}",
             r.dir);
    FakeSink f;
    Err err = {{0}};
    assert_int_equal(run_exec(&r, params, &f, NULL, 0, &err), 0);
    assert_int_equal(f.n_artifacts, 1);
    assert_string_equal(f.contents[0], "mine\n"); /* its own bytes: not the intruder's, not appended to "old" */
    assert_true(f.n == 1 && f.values[0] == 1.0);   /* read notes.txt of the working directory */
    char *text;
    assert_string_equal(text = read_text(r.dir, "out.txt"), "mine\n"); /* the output, published */
    free(text);
    assert_string_equal(text = read_text(r.dir, "notes.txt"), "n=1\nn=2\n"); /* written through the view */
    free(text);
    assert_string_equal(text = read_text(r.dir, "made.txt"), "made\n"); /* a new file comes back */
    free(text);
    assert_non_null(text = read_text(r.dir, "stage.log"));
    assert_non_null(strstr(text, "/.dynn/work/run/0.dir\n")); /* pwd */
    free(text);
    struct stat st;
    assert_int_equal(lstat(tu_path(path, sizeof path, r.slot_dir, "notes.txt"), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(lstat(tu_path(path, sizeof path, r.slot_dir, ".dynn"), &st), -1); /* never linked */
    remove(tu_path(path, sizeof path, r.dir, "notes.txt"));
    assert_int_equal(run_exec(&r, "{cmd: [ls]}", &f, NULL, 0, &err), 0);
    assert_non_null(text = read_text(r.dir, "stage.log"));
    assert_null(strstr(text, "notes.txt")); /* the stale link went */
    assert_non_null(strstr(text, "made.txt")); /* the new file got one */
    free(text);
    run_end(&r);
}

/* State of a process from /proc: 0 when it is gone or a zombie. */
static int process_alive(pid_t pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *fp = fopen(path, "r");
    if (!fp) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

/* `timeout:` ends a hung command and everything it started, and says so. */
static void test_timeout(void **state) {
    (void)state;
    Run r;
    run_begin(&r);
    FakeSink f;
    Err err = {{0}};
    hang_guard(60);
    assert_int_equal(run_exec(&r, "{cmd: [sh, -c, 'sleep 100 & echo $! > child.pid; wait'], timeout: 300ms}", &f, NULL, 0, &err), -1);
    alarm(0);
    assert_string_equal(err.msg, "'sh' timed out after 300ms: its processes got SIGTERM");
    assert_int_equal(f.sink.exit_code, 128 + SIGTERM);
    char *pid = read_text(r.dir, "child.pid"); /* published after the command ended */
    assert_non_null(pid);
    assert_false(process_alive((pid_t)atol(pid)));
    free(pid);
    hang_guard(60);
    assert_int_equal(run_exec(&r, "{cmd: [sh, -c, 'trap \"\" TERM; sleep 100'], timeout: 100ms}", &f, NULL, 0, &err), -1);
    alarm(0);
    assert_string_equal(err.msg, "'sh' timed out after 100ms: its processes got SIGTERM, then SIGKILL");
    assert_int_equal(f.sink.exit_code, 128 + SIGKILL);
    assert_int_equal(run_exec(&r, "{cmd: [sh, -c, 'exit 4'], timeout: 1h}", &f, NULL, 0, &err), -1); /* in time */
    assert_string_equal(err.msg, "'sh' exited with status 4");
    run_end(&r);
}

/* 400000 `env` entries (validation refuses more than 10000; run() does not validate): the
 * environment is built in linear time, then the kernel refuses it as too large. Built by
 * scanning the entries for each new one, it took minutes. */
static void test_huge_environment(void **state) {
    (void)state;
    if (getenv("DYNN_VALGRIND")) { /* the kernel's E2BIG is what is tested; valgrind's execve dies of it */
        print_message("SKIP: under valgrind (its execve cannot recover from E2BIG: the child dies instead of "
                      "failing the exec; make test runs this)\n");
        skip();
    }
    Run r;
    run_begin(&r);
    StrBuf sb = {0};
    sb_append(&sb, "{cmd: ['true'], env: {");
    for (int i = 0; i < 400000; i++) sb_printf(&sb, "%sV%d: x", i ? ", " : "", i);
    sb_append(&sb, "}}");
    FakeSink f;
    Err err = {{0}};
    hang_guard(60);
    assert_int_equal(run_exec(&r, sb_str(&sb), &f, NULL, 0, &err), -1);
    alarm(0);
    assert_non_null(strstr(err.msg, "Argument list too long"));
    sb_free(&sb);
    run_end(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extract_metrics),
        cmocka_unit_test(test_extract_errors),
        cmocka_unit_test(test_extract_large_output),
        cmocka_unit_test(test_extract_invalid_utf8),
        cmocka_unit_test(test_extract_empty_match_utf8),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_run_commands),
        cmocka_unit_test(test_inputs_restored),
        cmocka_unit_test(test_private_directory),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_huge_environment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
