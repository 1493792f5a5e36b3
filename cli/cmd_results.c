/* cli/cmd_results.c — the results database read commands: `dynn runs`, `dynn status [RUN]`,
 * `dynn show RUN`, `dynn compare RUN_A RUN_B`. RUN is a uuid prefix or `last`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/cli.h"
#include "util/json_out.h"

static int fail(const char *cmd, const Err *err) {
    fprintf(stderr, "dynn %s: %s\n", cmd, err->msg);
    return 1;
}

int cmd_runs(int argc, char **argv) {
    static const char synopsis[] = "[--db PATH] [--limit N] [--json | --csv]";
    static const char summary[] = "  Lists the most recent runs (default 20): status, time, stages ran / cached / failed.\n"
                                  "  Runs whose runner died are marked KILLED (or FAILED, as the runner's note says) on the\n"
                                  "  way; when the database cannot be written (a full disk), it is shown as it is, with a warning.\n";
    ResultArgs a = {0};
    int rc = cli_results_args("runs", synopsis, summary, 0, 0, 1, argc, argv, &a);
    if (rc >= 0) return rc;
    Db *db;
    if (cli_open_results("runs", a.db_path, &db)) return 1;
    Table t;
    Err err;
    rc = db_runs_table(db, a.limit, a.format == OUT_TEXT, &t, &err) ? fail("runs", &err) : 0;
    if (!rc) {
        cli_print_table(&t, a.format, stdout);
        table_free(&t);
    }
    db_close(db);
    return rc;
}

/* {"field": value, …} from a two-column field/value table. */
static void print_fields_json(JsonOut *j, const Table *t) {
    json_object_begin(j);
    for (size_t r = 0; r < t->n_rows; r++) {
        const Cell *value = table_cell(t, r, 1);
        json_key(j, table_cell(t, r, 0)->text);
        if (value->type == CELL_NULL) json_null(j);
        else if (value->type == CELL_INT) json_int(j, strtoll(value->text, NULL, 10));
        else if (value->type == CELL_REAL) json_number(j, strtod(value->text, NULL));
        else json_string(j, value->text);
    }
    json_object_end(j);
}

static void print_fields_text(const Table *t) {
    for (size_t r = 0; r < t->n_rows; r++) {
        const Cell *value = table_cell(t, r, 1);
        printf("%-13s %s\n", table_cell(t, r, 0)->text, value->text ? value->text : "-");
    }
}

typedef int (*TableFn)(Db *db, int64_t run_id, Table *t, Err *err);

/* Prints a run: its fields, then the named tables (one section each, or one JSON object). */
static int print_run(Db *db, int64_t run_id, OutFormat format, const char *const *names, const TableFn *fns, size_t n,
                     Err *err) {
    Table info;
    if (db_run_info_table(db, run_id, &info, err)) return -1;
    JsonOut j;
    json_init(&j, stdout);
    if (format == OUT_JSON) {
        fputs("{\"run\":", stdout);
        print_fields_json(&j, &info);
    } else {
        print_fields_text(&info);
    }
    table_free(&info);
    for (size_t k = 0; k < n; k++) {
        Table t;
        if (fns[k](db, run_id, &t, err)) return -1;
        if (format == OUT_JSON) {
            printf(",\"%s\":", names[k]);
            table_print_json(&t, stdout);
        } else {
            printf("\n%s:\n", names[k]);
            if (t.n_rows) table_print_text(&t, stdout);
            else printf("  (none)\n");
        }
        table_free(&t);
    }
    if (format == OUT_JSON) fputs("}\n", stdout);
    return 0;
}

static int run_command(const char *cmd, int argc, char **argv, const char *synopsis, const char *summary, int needs_run,
                       const char *const *names, const TableFn *fns, size_t n) {
    ResultArgs a = {0};
    int rc = cli_results_args(cmd, synopsis, summary, needs_run ? 1 : 0, 1, 0, argc, argv, &a);
    if (rc >= 0) return rc;
    if (a.format == OUT_CSV) {
        fprintf(stderr, "dynn %s: --csv prints one table; use --json here, or `dynn query --csv`\n", cmd);
        return 2;
    }
    Db *db;
    if (cli_open_results(cmd, a.db_path, &db)) return 1;
    Err err;
    int64_t run_id;
    char uuid[40];
    rc = db_resolve_run(db, a.n_pos ? a.pos[0] : "last", &run_id, uuid, &err) || print_run(db, run_id, a.format, names, fns, n, &err)
             ? fail(cmd, &err)
             : 0;
    db_close(db);
    return rc;
}

int cmd_status(int argc, char **argv) {
    static const char synopsis[] = "[RUN] [--db PATH] [--json]";
    static const char summary[] = "  The state of every stage of a run (default: the last; RUN is a uuid prefix or 'last').\n"
                                  "  Works read-only, with a warning, when the database cannot be written (a full disk).\n";
    static const char *const names[] = {"counts", "stages"};
    static const TableFn fns[] = {db_run_counts_table, db_run_stages_table};
    return run_command("status", argc, argv, synopsis, summary, 0, names, fns, 2);
}

int cmd_show(int argc, char **argv) {
    static const char synopsis[] = "RUN [--db PATH] [--json]";
    static const char summary[] = "  Everything about a run: provenance, stages, params, metrics (last step of each\n"
                                  "  series) and artifacts. RUN is a uuid prefix or 'last'.\n";
    static const char *const names[] = {"stages", "params", "metrics", "artifacts"};
    static const TableFn fns[] = {db_run_stages_table, db_run_params_table, db_run_metrics_table, db_run_artifacts_table};
    return run_command("show", argc, argv, synopsis, summary, 1, names, fns, 4);
}

int cmd_compare(int argc, char **argv) {
    static const char synopsis[] = "RUN_A RUN_B [--db PATH] [--json | --csv]";
    static const char summary[] = "  Metrics of two runs side by side (last step of each series), with B - A and its\n"
                                  "  percentage of A. RUN is a uuid prefix or 'last'.\n";
    ResultArgs a = {0};
    int rc = cli_results_args("compare", synopsis, summary, 2, 2, 0, argc, argv, &a);
    if (rc >= 0) return rc;
    rc = 0;
    Db *db;
    if (cli_open_results("compare", a.db_path, &db)) return 1;
    Err err;
    int64_t ra, rb;
    char ua[40], ub[40];
    Table t;
    if (db_resolve_run(db, a.pos[0], &ra, ua, &err) || db_resolve_run(db, a.pos[1], &rb, ub, &err) ||
        db_compare_table(db, ra, rb, &t, &err)) {
        db_close(db);
        return fail("compare", &err);
    }
    char name_a[16], name_b[16];
    snprintf(name_a, sizeof name_a, "%.8s", ua);
    snprintf(name_b, sizeof name_b, "%.8s", ub);
    if (!strcmp(name_a, name_b)) snprintf(name_b, sizeof name_b, "%.8s'", ub);
    free(t.cols[3]);
    free(t.cols[4]);
    t.cols[3] = strdup(name_a);
    t.cols[4] = strdup(name_b);
    if (!t.cols[3] || !t.cols[4]) rc = 1, fprintf(stderr, "dynn compare: out of memory\n");
    else if (a.format == OUT_TEXT && !t.n_rows) printf("no metrics in %s or %s\n", name_a, name_b);
    else cli_print_table(&t, a.format, stdout);
    table_free(&t);
    db_close(db);
    return rc;
}
