/* cli/cmd_run.c — `dynn run FILE`: load, validate, run, report. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/cli.h"
#include "pipeline/executor_slurm.h"
#include "pipeline/runner.h"
#include "pipeline/status.h"
#include "platforms/platform_lock.h"
#include "util/duration.h"
#include "util/fs.h"
#include "util/strbuf.h"

static const char summary[] =
    "  Runs the experiment FILE (YAML): every stage instance in dependency order, up to N at once\n"
    "  within a budget of CPU threads, skipping instances whose cache key already has results.\n"
    "  An exec stage's command runs in a private view of the current directory (its outs are its own)\n"
    "  and ends after its `timeout:`, if it has one (docs/FORMATS.md, \"Stage type exec\").\n";
static const char epilog[] =
    "  Ctrl-C, SIGTERM or SIGHUP stops the run: running stages get SIGTERM, SIGKILL after 5 s or a second\n"
    "  Ctrl-C; nothing a stage started outlives it. When the results database cannot be written (a full\n"
    "  disk), the run stops the same way and its end is recorded by the next dynn command on the database.\n"
    "  A stage that measures on a board (profile) has it to itself: stages on one board run one after the\n"
    "  other, also across dynn processes sharing the lock directory; a stage waiting for a board held\n"
    "  by another process says so in its log.\n"
    "  With --executor slurm every exec and train stage is an sbatch job (resources: become its options);\n"
    "  aggregate, report and profile stages stay here; .dynn and the working directory must be shared.\n"
    "  Exit status: 0 all finished, 1 a stage failed or the file is invalid, 2 usage, 130 interrupted.\n";

typedef struct RunArgs {
    const char *file;
    const char *sets[CLI_MAX_SETS];
    CliOptList set_list;
    const char *force_candidate; /* `--force X`: a regex when the file is given elsewhere, else the file */
    int json;
    const char *slurm_opts[SLURM_MAX_OPTS];
    CliOptList slurm_opt_list;
    SlurmSettings slurm;
    RunOptions opt;
} RunArgs;

static int online_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* --lock-dir, --board-wait: the board locks' settings (platforms/platform_lock.h) reach the stage
 * processes through the environment, as they reach any dynn that measures. */
static int set_lock_dir(void *ctx, const CliOptValue *v, Err *err) {
    (void)ctx;
    char dir[PATH_MAX];
    Err why;
    if (!v->value[0]) return err_set(err, "%s: expected a directory", v->shown);
    if (fs_absolute(v->value, dir, sizeof dir, &why)) return err_set(err, "%s: %s", v->shown, why.msg);
    if (setenv(PLATFORM_LOCK_DIR_ENV, dir, 1)) return err_set(err, "%s: out of memory", v->shown); /* absolute: stage processes run elsewhere */
    return 0;
}

static int set_board_wait(void *ctx, const CliOptValue *v, Err *err) {
    (void)ctx;
    double seconds;
    if (duration_parse(v->value, &seconds))
        return err_set(err, "%s: '%s' is not a duration such as 90s, 10m or 2h", v->shown, v->value);
    if (setenv(PLATFORM_LOCK_WAIT_ENV, v->value, 1)) return err_set(err, "%s: out of memory", v->shown);
    return 0;
}

/* --force (every instance), --force=REGEX, --force REGEX (or the file: see force_candidate). */
static int set_force(void *ctx, const CliOptValue *v, Err *err) {
    (void)err;
    RunArgs *a = ctx;
    if (v->value && v->attached) {
        a->opt.force_re = v->value;
        return 0;
    }
    a->opt.force_all = 1;
    if (v->value) a->force_candidate = v->value;
    return 0;
}

static int parse_args(int argc, char **argv, RunArgs *a) {
    a->set_list = (CliOptList){a->sets, 0, CLI_MAX_SETS};
    a->slurm_opt_list = (CliOptList){a->slurm_opts, 0, SLURM_MAX_OPTS};
    const CliOpt opts[] = {
        {.name = "jobs", .short_name = 'j', .kind = CLIOPT_INT, .metavar = "N", .dest = &a->opt.jobs, .min = 1,
         .max = RUNNER_MAX_JOBS, .help = "stages at once", .dflt = "the number of CPU cores"},
        {.name = "threads", .kind = CLIOPT_INT, .metavar = "N", .dest = &a->opt.threads, .min = 1, .max = SPEC_MAX_THREADS,
         .help = "thread budget shared by running stages", .dflt = "the number of cores"},
        {.name = "db", .kind = CLIOPT_STRING, .metavar = "PATH", .dest = &a->opt.db_path,
         .help = "results database; store/, logs/ live beside it", .dflt = DB_DEFAULT_PATH},
        {.name = "only", .kind = CLIOPT_STRING, .metavar = "REGEX", .dest = &a->opt.only_re,
         .help = "only instances whose name matches (PCRE2), plus what they need"},
        {.name = "force", .kind = CLIOPT_OPTIONAL, .metavar = "REGEX", .set = set_force, .ctx = a,
         .help = "ignore the cache for every instance, or for those matching REGEX"},
        {.name = "keep-going", .short_name = 'k', .kind = CLIOPT_FLAG, .dest = &a->opt.keep_going,
         .help = "after a failure, keep running what does not depend on it"},
        {.name = "set", .kind = CLIOPT_LIST, .metavar = "KEY=VALUE", .dest = &a->set_list,
         .help = "override a var of the file (VALUE is YAML: --set seeds=[1,2]); repeatable"},
        {.name = "executor", .kind = CLIOPT_STRING, .metavar = "NAME", .dest = &a->opt.executor,
         .help = "local (fork server per slot), spawn (one dynn process per stage) or slurm (one sbatch job per stage)",
         .dflt = "local"},
        {.name = "slurm-opt", .kind = CLIOPT_LIST, .metavar = "OPTION", .dest = &a->slurm_opt_list,
         .help = "an extra sbatch option for every Slurm job, one word (--slurm-opt=--exclusive); repeatable"},
        {.name = "slurm-workdir", .kind = CLIOPT_STRING, .metavar = "DIR", .dest = &a->slurm.workdir,
         .help = "where the slurm executor keeps job scripts and ids (shared with the compute nodes)",
         .dflt = "<state dir>/slurm"},
        {.name = "slurm-retries", .kind = CLIOPT_INT, .metavar = "N", .dest = &a->slurm.retries, .min = 0, .max = SLURM_MAX_RETRIES,
         .help = "submit a stage again after its job ended NODE_FAIL or PREEMPTED, at most N times", .dflt = "0"},
        {.name = "json", .kind = CLIOPT_FLAG, .dest = &a->json, .help = "a JSON summary on stdout (progress lines go to stderr)"},
        {.name = "board-wait", .kind = CLIOPT_STRING, .metavar = "DURATION", .set = set_board_wait,
         .help = "a stage waiting this long for a board another process holds fails (sets " PLATFORM_LOCK_WAIT_ENV ")",
         .dflt = "no limit"},
        {.name = "lock-dir", .kind = CLIOPT_STRING, .metavar = "DIR", .set = set_lock_dir,
         .help = "where the board locks live; processes take turns on a board through one directory (sets "
                 PLATFORM_LOCK_DIR_ENV ")", .dflt = "$XDG_RUNTIME_DIR/dynn-locks"},
    };
    size_t n_pos = 0;
    const CliOptCommand c = {.name = "run",
                             .synopsis = "FILE [options]",
                             .summary = summary, .epilog = epilog, .opts = opts, .n_opts = sizeof opts / sizeof *opts,
                             .pos = &a->file, .max_pos = 1, .n_pos = &n_pos};
    int rc = cliopt_main(&c, argc, argv);
    if (rc >= 0) return rc;
    if (a->force_candidate) {
        if (a->file) a->opt.force_all = 0, a->opt.force_re = a->force_candidate;
        else a->file = a->force_candidate;
    }
    if (!a->file) return cli_missing(&c, "expected an experiment FILE");
    for (size_t i = 0; i < a->slurm_opt_list.n; i++)
        if (a->slurm_opts[i][0] != '-' || strpbrk(a->slurm_opts[i], " \t\n")) {
            fprintf(stderr, "dynn run: --slurm-opt '%s': each is one sbatch option word starting with '-' (like --slurm-opt=--nice=10)\n",
                    a->slurm_opts[i]);
            return 2;
        }
    a->slurm.opts = a->slurm_opts;
    a->slurm.n_opts = a->slurm_opt_list.n;
    executor_slurm_configure(&a->slurm);
    return -1; /* go on */
}

static char *command_line(int argc, char **argv) {
    StrBuf sb = {0};
    sb_append(&sb, "dynn");
    for (int i = 0; i < argc; i++) sb_printf(&sb, " %s", argv[i]);
    return sb_take(&sb);
}

int cmd_run(int argc, char **argv) {
    static RunArgs a; /* large (the --set list); one run per process */
    memset(&a, 0, sizeof a);
    a.opt.db_path = DB_DEFAULT_PATH;
    a.opt.executor = "local";
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;
    if (!a.opt.jobs) a.opt.jobs = online_cpus();
    if (!a.opt.threads) a.opt.threads = online_cpus();
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) {
        fprintf(stderr, "dynn run: cannot find the dynn binary (/proc/self/exe)\n");
        return 1;
    }
    exe[len] = '\0';
    a.opt.dynn_exe = exe;
    Spec spec;
    Dag dag;
    if (cli_load_experiment("run", a.file, a.sets, a.set_list.n, a.opt.only_re, &spec, &dag)) return 1;
    StatusPrinter printer;
    FILE *lines = a.json ? stderr : stdout;
    status_printer_init(&printer, lines, a.json ? stdout : NULL, isatty(fileno(lines)));
    a.opt.observer = status_observer(&printer);
    a.opt.tick_ms = 200;
    char *cmdline = command_line(argc, argv);
    a.opt.argv_text = cmdline;
    RunResult result;
    Err err;
    rc = runner_run(&spec, &dag, &a.opt, &result, &err);
    free(cmdline);
    dag_free(&dag);
    spec_free(&spec);
    if (rc) {
        fprintf(stderr, "dynn run: %s\n", err.msg);
        return 1;
    }
    if (!strcmp(result.status, "FINISHED")) return 0;
    return !strcmp(result.status, "KILLED") ? 130 : 1;
}
