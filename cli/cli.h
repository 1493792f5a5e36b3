/* cli/cli.h — what the pipeline and results commands share: the results commands' options, the results
 * database location, printing tables as text / CSV / JSON, loading an experiment file. */
#ifndef DYNN_CLI_CLI_H
#define DYNN_CLI_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "db/db.h"
#include "pipeline/dag.h"
#include "pipeline/spec.h"
#include "util/cliopt.h"
#include "util/table.h"

#define CLI_MAX_SETS 256

typedef enum { OUT_TEXT, OUT_CSV, OUT_JSON } OutFormat;

/* "dynn CMD: WHAT (usage: dynn CMD SYNOPSIS)" on stderr for a missing positional argument; returns 2. */
int cli_missing(const CliOptCommand *c, const char *what);

void cli_print_table(const Table *t, OutFormat format, FILE *fp);

/* Arguments of the results commands (runs, status, show, compare, query), parsed by util/cliopt.h:
 * --db, --json, --csv, --limit N (when with_limit), min_pos..max_pos positional arguments. */
typedef struct ResultArgs {
    const char *db_path;
    const char *pos[2];
    size_t n_pos;
    int limit;
    OutFormat format;
} ResultArgs;

/* Returns -1 to go on, else the exit code (0 after --help, 2 on a usage error, message printed). */
int cli_results_args(const char *cmd, const char *synopsis, const char *summary, size_t min_pos, size_t max_pos,
                     int with_limit, int argc, char **argv, ResultArgs *a);

/* Opens an existing results database for the read commands (runs of dead runners are marked
 * KILLED on the way, or FAILED as their runner's note says: run_note.h). When that cannot be
 * written (a full disk, a read-only file system), warns and opens it read-only instead. Prints
 * the error and returns -1. */
int cli_open_results(const char *cmd, const char *db_path, Db **db);

/* Loads and checks an experiment file (spec + dag; with `only`, an --only pattern, the params of the
 * instances it selects: dag_build_only). Prints the error and returns -1. */
int cli_load_experiment(const char *cmd, const char *file, const char *const *sets, size_t n_sets, const char *only,
                        Spec *spec, Dag *dag);

#endif
