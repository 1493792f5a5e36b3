/* cli/cmd_check.c — `dynn check RUN --baseline FILE [--update]`: accuracy, relative latency and
 * counted instructions of a run against a baseline file (reports/baseline.h); exit 1 on a regression,
 * 2 on bad input or a run the baseline cannot judge (another experiment, another kernel set). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/cli.h"
#include "reports/baseline.h"
#include "util/fs.h"
#include "util/json_out.h"

static int bad_input(const char *msg) {
    fprintf(stderr, "dynn check: %s\n", msg);
    return 2;
}

/* The comparison as a table: kind, where, subnet, baseline, current, change, allowed, status (values
 * as text with their units: % and points for accuracy, a plain ratio and % change for latency, a count
 * and % change for instructions). */
static void value_text(const BaselineEntry *e, double v, char *out, size_t size) {
    if (e->kind == BASE_ACCURACY) snprintf(out, size, "%.2f%%", v * 100);
    else if (e->kind == BASE_LATENCY) snprintf(out, size, "%.4f", v);
    else snprintf(out, size, "%.0f", v);
}

static int result_table(const Baseline *base, const CheckResult *r, Table *t) {
    static const char *const cols[] = {"kind", "where", "subnet", "baseline", "current", "change", "allowed", "status"};
    if (table_init(t, cols, 8)) return -1;
    for (size_t i = 0; i < r->n; i++) {
        const CheckRow *x = &r->rows[i];
        const BaselineEntry *e = x->base ? x->base : x->cur;
        int acc = e->kind == BASE_ACCURACY, ins = e->kind == BASE_INSTRUCTIONS;
        char where[256], b[32] = "", c[32] = "", change[32] = "", allowed[32];
        baseline_entry_where(e, where, sizeof where);
        if (x->base) value_text(e, x->base->value, b, sizeof b);
        if (x->cur) value_text(e, x->cur->value, c, sizeof c);
        if (!isnan(x->change))
            snprintf(change, sizeof change, acc ? "%+.2f pt" : ins ? "%+.2f%%" : "%+.1f%%", acc ? x->change : x->change * 100);
        if (acc) snprintf(allowed, sizeof allowed, "-%.2f pt", base->accuracy_points);
        else snprintf(allowed, sizeof allowed, ins ? "+%.2f%%" : "+%.1f%%", (ins ? base->instructions : base->latency_ratio) * 100);
        long row = table_add_row(t);
        if (row < 0 || table_set(t, (size_t)row, 0, CELL_TEXT, acc ? "accuracy" : ins ? "instructions" : "latency ratio") ||
            table_set(t, (size_t)row, 1, CELL_TEXT, where) || table_set(t, (size_t)row, 2, CELL_TEXT, e->subnet) ||
            table_set(t, (size_t)row, 3, CELL_TEXT, x->base ? b : NULL) || table_set(t, (size_t)row, 4, CELL_TEXT, x->cur ? c : NULL) ||
            table_set(t, (size_t)row, 5, CELL_TEXT, change[0] ? change : NULL) || table_set(t, (size_t)row, 6, CELL_TEXT, allowed) ||
            table_set(t, (size_t)row, 7, CELL_TEXT, check_status_name(x->status)))
            return -1;
    }
    return 0;
}

int cmd_check(int argc, char **argv) {
    static const char summary[] =
        "  Compares a run (uuid prefix or 'last') with a baseline: accuracy per subnet (absolute points),\n"
        "  latency as a ratio to the largest subnet measured in the same run (same platform, batch, mapping,\n"
        "  frequency), so machine speed cancels, and the instructions of one forward pass where the run\n"
        "  counted them (profile `count: instructions`, callgrind: the same count on any machine of one kernel\n"
        "  set, whatever its load). Tolerances come from the baseline file. Exit status 0: no regression;\n"
        "  1: a regression (or a baseline entry the run lacks); 2: bad input, or a run the baseline cannot\n"
        "  judge (of another experiment than the baseline's, or counted with another kernel set).\n";
    const char *db_path = DB_DEFAULT_PATH, *run = NULL, *file = NULL;
    int json = 0, update = 0;
    size_t n_pos = 0;
    const CliOpt opts[] = {
        {.name = "baseline", .kind = CLIOPT_STRING, .metavar = "FILE.yaml", .dest = &file,
         .help = "the baseline (docs/FORMATS.md, \"Regression baseline\")"},
        {.name = "update", .kind = CLIOPT_FLAG, .dest = &update,
         .help = "write the run's numbers as the new baseline (atomically; an existing file's\ntolerances are kept)"},
        {.name = "db", .kind = CLIOPT_STRING, .metavar = "PATH", .dest = &db_path, .help = "the results database",
         .dflt = DB_DEFAULT_PATH},
        {.name = "json", .kind = CLIOPT_FLAG, .dest = &json, .help = "print JSON"},
    };
    const CliOptCommand c = {.name = "check", .synopsis = "RUN --baseline FILE.yaml [--update] [--db PATH] [--json]",
                             .summary = summary, .opts = opts, .n_opts = sizeof opts / sizeof *opts, .pos = &run,
                             .max_pos = 1, .n_pos = &n_pos};
    int prc = cliopt_main(&c, argc, argv);
    if (prc >= 0) return prc;
    if (!run) return cli_missing(&c, "expected a RUN");
    if (!file) return cli_missing(&c, "--baseline FILE is required");
    Err err;
    Baseline base = {0};
    int have_base = 0;
    if (!update || fs_exists(file)) {
        if (baseline_load(file, &base, &err)) return bad_input(err.msg);
        have_base = 1;
    }
    Db *db;
    if (cli_open_results("check", db_path, &db)) {
        baseline_free(&base);
        return 2;
    }
    int64_t run_id;
    char uuid[40];
    RunData d;
    Aggregate a;
    int rc = db_resolve_run(db, run, &run_id, uuid, &err) || db_load_run_data(db, run_id, NULL, &d, &err) ? -1 : 0;
    db_close(db);
    if (!rc && aggregate_run(&d, &a, &err)) rundata_free(&d), rc = -1;
    if (rc) {
        baseline_free(&base);
        return bad_input(err.msg);
    }
    Baseline cur;
    rc = baseline_from_run(&d, &a, have_base ? &base : NULL, &cur, &err);
    int exit_code = 2;
    if (rc) {
        fprintf(stderr, "dynn check: %s\n", err.msg);
    } else if (!update && baseline_comparable(&base, &cur, d.experiment, &err)) {
        fprintf(stderr, "dynn check: run %.8s against %s: %s\n", uuid, file, err.msg);
    } else if (update) {
        if (!cur.n) fprintf(stderr, "dynn check: run %.8s has no accuracy, latency or instructions to keep as a baseline\n", uuid);
        else if (baseline_write(file, &cur, &err)) fprintf(stderr, "dynn check: %s\n", err.msg);
        else {
            exit_code = 0;
            if (json) printf("{\"run\":\"%s\",\"baseline\":\"%s\",\"entries\":%zu}\n", uuid, file, cur.n);
            else printf("wrote %s: %zu entries from run %.8s\n", file, cur.n, uuid);
        }
    } else {
        CheckResult res;
        Table t;
        int cmp = baseline_compare(&base, &cur, &res, &err);
        if (!cmp) baseline_mark_flagged(&res, &d, &a);
        if (cmp) {
            fprintf(stderr, "dynn check: %s\n", err.msg);
        } else if (result_table(&base, &res, &t)) {
            fprintf(stderr, "dynn check: out of memory\n");
            table_free(&t);
            check_result_free(&res);
        } else {
            exit_code = res.regressions ? 1 : 0;
            if (json) {
                printf("{\"run\":\"%s\",\"baseline\":", uuid);
                json_write_escaped(stdout, file);
                printf(",\"regressions\":%zu,\"flagged\":%zu,\"rows\":", res.regressions, res.flagged);
                table_print_json(&t, stdout);
                printf("}\n");
            } else {
                table_print_text(&t, stdout);
                printf("%s: %zu regression%s against %s (run %.8s)\n", res.regressions ? "FAIL" : "PASS", res.regressions,
                       res.regressions == 1 ? "" : "s", file, uuid);
                if (res.flagged)
                    printf("%zu latency row%s not checked: measurements of their group were flagged for interference "
                           "(other work shared the measured CPUs); measure them again on a quiet machine\n",
                           res.flagged, res.flagged == 1 ? "" : "s");
            }
            table_free(&t);
            check_result_free(&res);
        }
    }
    baseline_free(&cur);
    baseline_free(&base);
    aggregate_free(&a);
    rundata_free(&d);
    return exit_code;
}
