/* cli/cmd_report.c — `dynn report [RUN] -o DIR`: plots, report.md and report.html of a run. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/cli.h"
#include "reports/report.h"
#include "util/json_out.h"

int cmd_report(int argc, char **argv) {
    static const char summary[] =
        "  Writes the report of a run (default: the last; RUN is a uuid prefix or 'last') into DIR:\n"
        "  report.md (tables: accuracy per subnet, latency p50/p90/p99, dynamic ranges, Pareto fronts, the\n"
        "  individually trained baseline, provenance), report.html (the same page with every figure inlined)\n"
        "  and plots/ (PNG + SVG drawn by gnuplot, with their data and scripts), plus the marker .dynn-report.\n"
        "  DIR is a directory below the current one (no '..', no symlink leading out), neither the state\n"
        "  directory (where --db lives) nor inside or above it. It is replaced as a whole, in one step, and only\n"
        "  if dynn wrote it (it has .dynn-report) or it is empty; a report that fails leaves it as it was.\n";
    const char *db_path = DB_DEFAULT_PATH, *run = "last", *dir = NULL;
    int json = 0;
    size_t n_pos = 0;
    const CliOpt opts[] = {
        {.name = "output", .short_name = 'o', .kind = CLIOPT_STRING, .metavar = "DIR", .dest = &dir,
         .help = "where the report goes (required)"},
        {.name = "db", .kind = CLIOPT_STRING, .metavar = "PATH", .dest = &db_path, .help = "the results database",
         .dflt = DB_DEFAULT_PATH},
        {.name = "json", .kind = CLIOPT_FLAG, .dest = &json, .help = "a JSON summary on stdout"},
    };
    const CliOptCommand c = {.name = "report", .synopsis = "[RUN] -o DIR [--db PATH] [--json]", .summary = summary,
                             .opts = opts, .n_opts = sizeof opts / sizeof *opts, .pos = &run, .max_pos = 1,
                             .n_pos = &n_pos};
    int prc = cliopt_main(&c, argc, argv);
    if (prc >= 0) return prc;
    if (!dir || !dir[0]) {
        fprintf(stderr, "dynn report: -o DIR is required (where the report goes)\n");
        return 2;
    }
    Db *db;
    if (cli_open_results("report", db_path, &db)) return 1;
    Err err;
    int64_t run_id;
    char uuid[40];
    RunData d;
    size_t n_figures = 0;
    int rc = db_resolve_run(db, run, &run_id, uuid, &err) || db_load_run_data(db, run_id, NULL, &d, &err) ? -1 : 0;
    db_close(db);
    if (rc) {
        fprintf(stderr, "dynn report: %s\n", err.msg);
        return 1;
    }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) rc = err_set(&err, "cannot read the current directory: %s", strerror(errno));
    else rc = report_write(&d, dir, cwd, db_path, &n_figures, &err);
    if (rc) fprintf(stderr, "dynn report: %s\n", err.msg);
    else if (json) {
        JsonOut j;
        json_init(&j, stdout);
        json_object_begin(&j);
        json_key(&j, "run"), json_string(&j, uuid);
        json_key(&j, "dir"), json_string(&j, dir);
        json_key(&j, "models"), json_int(&j, (long long)d.n_models);
        json_key(&j, "measurements"), json_int(&j, (long long)d.n_meas);
        json_key(&j, "figures"), json_int(&j, (long long)n_figures);
        json_object_end(&j);
        json_finish(&j);
    } else {
        printf("report of run %.8s in %s: report.html, report.md, %zu figures in plots/ (%zu models, %zu measurements)\n", uuid,
               dir, n_figures, d.n_models, d.n_meas);
    }
    rundata_free(&d);
    return rc ? 1 : 0;
}
