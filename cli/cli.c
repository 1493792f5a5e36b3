/* cli/cli.c — helpers shared by the pipeline and results commands (see cli.h). */
#include "cli/cli.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/run_note.h"
#include "util/fs.h"
#include "util/suggest.h"

int cli_value(int argc, char **argv, int *i, const char *name, const char **value) {
    const char *arg = argv[*i];
    size_t len = strlen(name);
    if (strncmp(arg, name, len)) return 0;
    if (arg[len] == '=') {
        *value = arg + len + 1;
        return 1;
    }
    if (arg[len] != '\0') return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "dynn %s: %s needs a value\n", argv[0], name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int cli_positive_max(const char *cmd, const char *name, const char *value, int max, int *out) {
    char *end;
    long v = strtol(value, &end, 10);
    if (!*value || *end || v < 1) {
        fprintf(stderr, "dynn %s: %s must be a positive integer, not '%s'\n", cmd, name, value);
        return -1;
    }
    if (v > max) {
        fprintf(stderr, "dynn %s: %s must be at most %d, not '%s'\n", cmd, name, max, value);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int cli_positive(const char *cmd, const char *name, const char *value, int *out) {
    return cli_positive_max(cmd, name, value, 1000000, out);
}

int cli_is_help(const char *arg) { return !strcmp(arg, "--help") || !strcmp(arg, "-h"); }

int cli_unknown_option(const char *cmd, const char *arg, const char *const *known, size_t n) {
    char hint[160];
    fprintf(stderr, "dynn %s: unknown option '%s'%s; see 'dynn %s --help'\n", cmd, arg,
            suggest_hint(hint, sizeof hint, arg, known, n), cmd);
    return 2;
}

int cli_results_args(const char *cmd, const char *usage, int max_pos, int with_limit, int argc, char **argv, ResultArgs *a) {
    static const char *const options[] = {"--db", "--json", "--csv", "--help", "--limit"};
    a->db_path = DB_DEFAULT_PATH;
    a->limit = 20;
    const char *v;
    int r;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return 0;
        }
        if ((r = cli_value(argc, argv, &i, "--db", &v))) {
            if (r < 0) return 2;
            a->db_path = v;
        } else if (with_limit && (r = cli_value(argc, argv, &i, "--limit", &v))) {
            if (r < 0 || cli_positive(cmd, "--limit", v, &a->limit)) return 2;
        } else if (!strcmp(argv[i], "--json")) {
            a->format = OUT_JSON;
        } else if (!strcmp(argv[i], "--csv")) {
            a->format = OUT_CSV;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            return cli_unknown_option(cmd, argv[i], options, with_limit ? 5 : 4 /* --limit is last */);
        } else if (a->n_pos < max_pos) {
            a->pos[a->n_pos++] = argv[i];
        } else {
            fputs(usage, stderr);
            return 2;
        }
    }
    return -1;
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

int cli_load_experiment(const char *cmd, const char *file, const char *const *sets, size_t n_sets, Spec *spec, Dag *dag) {
    Err err;
    memset(dag, 0, sizeof *dag);
    if (spec_load(file, sets, n_sets, spec, &err) || dag_build(spec, dag, &err)) {
        fprintf(stderr, "dynn %s: %s\n", cmd, err.msg);
        spec_free(spec);
        return -1;
    }
    return 0;
}
