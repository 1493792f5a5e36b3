/* db/db_internal.h — the connection shared by the db/ sources and its prepared-statement cache. Not for use
 * outside db/. */
#ifndef DYNN_DB_DB_INTERNAL_H
#define DYNN_DB_DB_INTERNAL_H

#include <sqlite3.h>

#include "db/db.h"

/* One slot per statement; each is prepared on first use and reused (reset) afterwards. */
enum {
    STMT_BEGIN,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_UPSERT_EXPERIMENT,
    STMT_EXPERIMENT_ID,
    STMT_INSERT_RUN,
    STMT_FINISH_RUN,
    STMT_INSERT_STAGE,
    STMT_INSERT_PARAM,
    STMT_INSERT_STAGE_NEED,
    STMT_UPDATE_STAGE,
    STMT_INSERT_METRIC,
    STMT_INSERT_ARTIFACT,
    STMT_INSERT_MEASUREMENT,
    STMT_INSERT_SAMPLE,
    STMT_INSERT_CONDITION,
    STMT_FIND_CACHED,
    STMT_CACHED_ARTIFACTS,
    STMT_RUNNING_RUNS,
    STMT_RUN_LAST_ALIVE,
    STMT_KILL_RUN,
    STMT_KILL_RUN_STAGES,
    STMT_SKIP_RUN_STAGES,
    STMT_RUN_IS_OVER,
    STMT_COUNT
};

struct Db {
    sqlite3 *h;
    char *path;
    int readonly;
    sqlite3_stmt *stmts[STMT_COUNT];
};

/* The cached statement for slot (prepared from sql on first use), reset with bindings cleared. */
sqlite3_stmt *db_stmt(Db *db, int slot, const char *sql, Err *err);

/* err = "<db path>: <what>: <sqlite message>"; returns -1. */
int db_fail(Db *db, const char *what, Err *err);

/* Binds text or NULL. */
int db_bind_text(sqlite3_stmt *st, int i, const char *s);

/* Steps a statement that returns no rows (SQLITE_DONE expected). */
int db_step_done(Db *db, sqlite3_stmt *st, const char *what, Err *err);

/* Runs an ad-hoc statement and fills a table (column names from the statement); params are bound
 * as int64 in order. */
int db_fill_table(Db *db, const char *sql, const int64_t *params, size_t n_params, Table *t, Err *err);

#endif
