/* pipeline/cmd_query.c — `dynn query "SELECT …"`: a user's SQL on a read-only connection. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "pipeline/cli.h"

int cmd_query(int argc, char **argv) {
    static const char usage[] =
        "usage: dynn query SQL [--db PATH] [--csv | --json]\n"
        "  Runs one read-only SQL statement on the results database and prints the rows (aligned table,\n"
        "  CSV or JSON). The connection is opened read-only: INSERT, UPDATE, DELETE, DDL are refused.\n"
        "  Tables: experiments, runs, stages, params, artifacts, metrics, measurements, latency_samples\n"
        "  (docs/FORMATS.md, \"Results database\"). Example:\n"
        "    dynn query \"SELECT s.name, m.name, m.value FROM metrics m JOIN stages s ON s.id = m.stage_id\"\n";
    static const char *const options[] = {"--db", "--csv", "--json", "--help"};
    const char *db_path = CLI_DEFAULT_DB, *sql = NULL, *v;
    OutFormat format = OUT_TEXT;
    int r;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return 0;
        }
        if ((r = cli_value(argc, argv, &i, "--db", &v))) {
            if (r < 0) return 2;
            db_path = v;
        } else if (!strcmp(argv[i], "--csv")) {
            format = OUT_CSV;
        } else if (!strcmp(argv[i], "--json")) {
            format = OUT_JSON;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            return cli_unknown_option("query", argv[i], options, sizeof options / sizeof *options);
        } else if (!sql) {
            sql = argv[i];
        } else {
            fprintf(stderr, "dynn query: give the SQL as one argument (quote it)\n");
            return 2;
        }
    }
    if (!sql) {
        fputs(usage, stderr);
        return 2;
    }
    Db *db;
    Err err;
    Table t;
    if (db_open_readonly(db_path, &db, &err)) {
        fprintf(stderr, "dynn query: %s\n", err.msg);
        return 1;
    }
    int rc = 0;
    if (db_query_table(db, sql, &t, &err)) {
        fprintf(stderr, "dynn query: %s\n", err.msg);
        rc = 1;
    } else {
        cli_print_table(&t, format, stdout);
        table_free(&t);
    }
    db_close(db);
    return rc;
}
