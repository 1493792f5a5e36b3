/* cli/cmd_query.c — `dynn query "SELECT …"`: a user's SQL on a read-only connection. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/cli.h"

int cmd_query(int argc, char **argv) {
    static const char synopsis[] = "SQL [--db PATH] [--csv | --json]";
    static const char summary[] =
        "  Runs one read-only SQL statement on the results database and prints the rows (aligned table,\n"
        "  CSV or JSON). The connection is opened read-only: INSERT, UPDATE, DELETE, DDL are refused.\n"
        "  Tables: experiments, runs, stages, stage_needs, params, artifacts, metrics, measurements, latency_samples\n"
        "  (docs/FORMATS.md, \"Results database\"). Example:\n"
        "    dynn query \"SELECT s.name, m.name, m.value FROM metrics m JOIN stages s ON s.id = m.stage_id\"\n";
    ResultArgs a = {0};
    int rc = cli_results_args("query", synopsis, summary, 1, 1, 0, argc, argv, &a);
    if (rc >= 0) return rc;
    rc = 0;
    Db *db;
    Err err;
    Table t;
    if (db_open_readonly(a.db_path, &db, &err)) {
        fprintf(stderr, "dynn query: %s\n", err.msg);
        return 1;
    }
    if (db_query_table(db, a.pos[0], &t, &err)) {
        fprintf(stderr, "dynn query: %s\n", err.msg);
        rc = 1;
    } else {
        cli_print_table(&t, a.format, stdout);
        table_free(&t);
    }
    db_close(db);
    return rc;
}
