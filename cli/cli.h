/* cli/cli.h — what the pipeline and results commands share: option parsing, the results
 * database location, printing tables as text / CSV / JSON, loading an experiment file. */
#ifndef DYNN_CLI_CLI_H
#define DYNN_CLI_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "db/db.h"
#include "pipeline/dag.h"
#include "pipeline/spec.h"
#include "util/table.h"

#define CLI_MAX_SETS 256

typedef enum { OUT_TEXT, OUT_CSV, OUT_JSON } OutFormat;

/* "--name VALUE" or "--name=VALUE" at argv[*i]: returns 1 and sets *value (advancing *i), 0 when
 * argv[*i] is another option, -1 (message printed) when the value is missing. */
int cli_value(int argc, char **argv, int *i, const char *name, const char **value);
/* A positive integer option value (at most 1000000); prints a message and returns -1 when it is not one. */
int cli_positive(const char *cmd, const char *name, const char *value, int *out);
/* The same with its own upper bound, named in the message. */
int cli_positive_max(const char *cmd, const char *name, const char *value, int max, int *out);
int cli_is_help(const char *arg);
/* "dynn CMD: unknown option 'x'" (with a near miss among known) and usage hint; returns 2. */
int cli_unknown_option(const char *cmd, const char *arg, const char *const *known, size_t n);

void cli_print_table(const Table *t, OutFormat format, FILE *fp);

/* Arguments of the results commands (runs, status, show, compare, query): --db, --json, --csv,
 * --limit N (when with_limit), up to max_pos positional arguments. */
typedef struct ResultArgs {
    const char *db_path;
    const char *pos[2];
    int n_pos;
    int limit;
    OutFormat format;
} ResultArgs;

/* Returns -1 to go on, else the exit code (0 after --help, 2 on a usage error, message printed). */
int cli_results_args(const char *cmd, const char *usage, int max_pos, int with_limit, int argc, char **argv, ResultArgs *a);

/* Opens an existing results database for the read commands (runs of dead runners are marked
 * KILLED on the way, or FAILED as their runner's note says: run_note.h). When that cannot be
 * written (a full disk, a read-only file system), warns and opens it read-only instead. Prints
 * the error and returns -1. */
int cli_open_results(const char *cmd, const char *db_path, Db **db);

/* Loads and checks an experiment file (spec + dag). Prints the error and returns -1. */
int cli_load_experiment(const char *cmd, const char *file, const char *const *sets, size_t n_sets, Spec *spec, Dag *dag);

#endif
