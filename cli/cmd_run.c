/* cli/cmd_run.c — `dynn run FILE`: load, validate, run, report. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/cli.h"
#include "pipeline/runner.h"
#include "pipeline/status.h"
#include "util/strbuf.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static const char usage[] =
    "usage: dynn run FILE [-j N] [--threads N] [--db PATH] [--only REGEX] [--force [REGEX]] [--keep-going]\n"
    "                     [--set KEY=VALUE]... [--executor local|spawn] [--json]\n"
    "  Runs the experiment FILE (YAML): every stage instance in dependency order, up to N at once\n"
    "  within a budget of CPU threads, skipping instances whose cache key already has results.\n"
    "  An exec stage's command runs in a private view of the current directory (its outs are its own)\n"
    "  and ends after its `timeout:`, if it has one (docs/FORMATS.md, \"Stage type exec\").\n"
    "  -j, --jobs N        stages at once, at most " STR(RUNNER_MAX_JOBS) " (default: the number of CPU cores)\n"
    "  --threads N         thread budget shared by running stages, at most " STR(SPEC_MAX_THREADS) " (default: the number of cores)\n"
    "  --db PATH           results database (default " DB_DEFAULT_PATH "); store/, logs/ live beside it\n"
    "  --only REGEX        only instances whose name matches (PCRE2), plus what they need\n"
    "  --force [REGEX]     ignore the cache for every instance, or for those matching REGEX\n"
    "  -k, --keep-going    after a failure, keep running what does not depend on it\n"
    "  --set KEY=VALUE     override a var of the file (VALUE is YAML: --set seeds=[1,2])\n"
    "  --executor NAME     for stages without `executor:`: local (fork server per slot, default) or spawn\n"
    "                      (one dynn process per stage)\n"
    "  --json              a JSON summary on stdout (progress lines go to stderr)\n"
    "  Ctrl-C, SIGTERM or SIGHUP stops the run: running stages get SIGTERM, SIGKILL after 5 s or a second\n"
    "  Ctrl-C; nothing a stage started outlives it. When the results database cannot be written (a full\n"
    "  disk), the run stops the same way and its end is recorded by the next dynn command on the database.\n"
    "  Exit status: 0 all finished, 1 a stage failed or the file is invalid, 2 usage, 130 interrupted.\n";

static const char *const run_options[] = {"--jobs", "--threads", "--db", "--only", "--force", "--keep-going",
                                          "--set", "--executor", "--json", "--help"};

typedef struct RunArgs {
    const char *file;
    const char *sets[CLI_MAX_SETS];
    size_t n_sets;
    int json;
    RunOptions opt;
} RunArgs;

static int online_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static int parse_args(int argc, char **argv, RunArgs *a) {
    const char *force_candidate = NULL, *v;
    int r;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (cli_is_help(arg)) {
            fputs(usage, stdout);
            return 0;
        }
        if (!strcmp(arg, "-j") || !strncmp(arg, "-j", 2)) {
            const char *val = arg[2] ? arg + 2 : (i + 1 < argc ? argv[++i] : "");
            if (cli_positive_max("run", "-j", val, RUNNER_MAX_JOBS, &a->opt.jobs)) return 2;
        } else if ((r = cli_value(argc, argv, &i, "--jobs", &v))) {
            if (r < 0 || cli_positive_max("run", "--jobs", v, RUNNER_MAX_JOBS, &a->opt.jobs)) return 2;
        } else if ((r = cli_value(argc, argv, &i, "--threads", &v))) {
            if (r < 0 || cli_positive_max("run", "--threads", v, SPEC_MAX_THREADS, &a->opt.threads)) return 2;
        } else if ((r = cli_value(argc, argv, &i, "--db", &v))) {
            if (r < 0) return 2;
            a->opt.db_path = v;
        } else if ((r = cli_value(argc, argv, &i, "--only", &v))) {
            if (r < 0) return 2;
            a->opt.only_re = v;
        } else if ((r = cli_value(argc, argv, &i, "--executor", &v))) {
            if (r < 0) return 2;
            a->opt.executor = v;
        } else if ((r = cli_value(argc, argv, &i, "--set", &v))) {
            if (r < 0) return 2;
            if (a->n_sets == CLI_MAX_SETS) return fprintf(stderr, "dynn run: too many --set\n"), 2;
            a->sets[a->n_sets++] = v;
        } else if (!strncmp(arg, "--force=", 8)) {
            a->opt.force_re = arg + 8;
        } else if (!strcmp(arg, "--force")) {
            a->opt.force_all = 1;
            if (i + 1 < argc && argv[i + 1][0] != '-') force_candidate = argv[++i];
        } else if (!strcmp(arg, "--keep-going") || !strcmp(arg, "-k")) {
            a->opt.keep_going = 1;
        } else if (!strcmp(arg, "--json")) {
            a->json = 1;
        } else if (arg[0] == '-') {
            return cli_unknown_option("run", arg, run_options, sizeof run_options / sizeof *run_options);
        } else if (!a->file) {
            a->file = arg;
        } else {
            fprintf(stderr, "dynn run: one experiment file at a time ('%s' and '%s')\n", a->file, arg);
            return 2;
        }
    }
    /* `--force X`: X is a regex when the file is given elsewhere, else it is the file */
    if (force_candidate) {
        if (a->file) a->opt.force_all = 0, a->opt.force_re = force_candidate;
        else a->file = force_candidate;
    }
    if (!a->file) {
        fputs(usage, stderr);
        return 2;
    }
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
    if (cli_load_experiment("run", a.file, a.sets, a.n_sets, &spec, &dag)) return 1;
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
