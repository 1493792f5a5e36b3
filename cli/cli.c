/* cli/cli.c — helpers shared by the pipeline and results commands (see cli.h). */
#include "cli/cli.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/run_note.h"
#include "util/fs.h"

int cli_missing(const CliOptCommand *c, const char *what) {
    fprintf(stderr, "dynn %s: %s (usage: dynn %s %s)\n", c->name, what, c->name, c->synopsis);
    return 2;
}

/* --json / --csv: the last one given wins. */
static int set_format(void *ctx, const CliOptValue *v, Err *err) {
    (void)err;
    ((ResultArgs *)ctx)->format = !strcmp(v->opt->name, "json") ? OUT_JSON : OUT_CSV;
    return 0;
}

int cli_results_args(const char *cmd, const char *synopsis, const char *summary, size_t min_pos, size_t max_pos,
                     int with_limit, int argc, char **argv, ResultArgs *a) {
    a->db_path = DB_DEFAULT_PATH;
    a->limit = 20;
    const CliOpt opts[] = {
        {.name = "db", .kind = CLIOPT_STRING, .metavar = "PATH", .help = "the results database", .dest = &a->db_path,
         .dflt = DB_DEFAULT_PATH},
        {.name = "json", .kind = CLIOPT_FLAG, .help = "print JSON", .set = set_format, .ctx = a},
        {.name = "csv", .kind = CLIOPT_FLAG, .help = "print CSV", .set = set_format, .ctx = a},
        {.name = "limit", .kind = CLIOPT_INT, .metavar = "N", .help = "at most N runs", .dest = &a->limit, .min = 1,
         .max = 1000000, .dflt = "20"},
    };
    const CliOptCommand c = {.name = cmd, .synopsis = synopsis, .summary = summary, .opts = opts,
                             .n_opts = with_limit ? 4 : 3 /* --limit is last */, .pos = a->pos, .max_pos = max_pos,
                             .n_pos = &a->n_pos};
    int rc = cliopt_main(&c, argc, argv);
    if (rc < 0 && a->n_pos < min_pos)
        return cli_missing(&c, min_pos == 1 ? "expected one argument" : "expected two arguments");
    return rc;
}

void cli_print_table(const Table *t, OutFormat format, FILE *fp) {
    switch (format) {
    case OUT_TEXT: table_print_text(t, fp); break;
    case OUT_CSV: table_print_csv(t, fp); break;
    case OUT_JSON: table_print_json(t, fp); break;
    }
}

int cli_open_results(const char *cmd, const char *db_path, Db **db) {
    Err err, ro;
    if (!fs_exists(db_path)) {
        fprintf(stderr, "dynn %s: %s: no results database here (run an experiment first, or pass --db PATH)\n", cmd, db_path);
        return -1;
    }
    char state_dir[PATH_MAX];
    fs_dirname(db_path, state_dir, sizeof state_dir);
    int reaped;
    if (db_open(db_path, db, &err) == 0 && run_note_reap(*db, state_dir, &reaped, &err) == 0) return 0;
    db_close(*db);
    *db = NULL;
    /* The runs of dead runners cannot be marked (a full disk, a read-only file system): the read
     * commands still show what is there. */
    if (db_open_readonly(db_path, db, &ro)) {
        fprintf(stderr, "dynn %s: %s\n", cmd, err.msg);
        return -1;
    }
    fprintf(stderr, "dynn %s: warning: the database cannot be written (%s); showing it as it is: a run whose runner died "
            "may still say RUNNING\n", cmd, err.msg);
    return 0;
}

int cli_load_experiment(const char *cmd, const char *file, const char *const *sets, size_t n_sets, const char *only,
                        Spec *spec, Dag *dag) {
    Err err;
    memset(dag, 0, sizeof *dag);
    if (spec_load(file, sets, n_sets, spec, &err) || dag_build_only(spec, only, dag, &err)) {
        fprintf(stderr, "dynn %s: %s\n", cmd, err.msg);
        spec_free(spec);
        return -1;
    }
    return 0;
}
