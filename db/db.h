/* db/db.h — the results database: every SQL statement of dynn lives under db/.
 *
 * SQLite in WAL mode with a busy timeout, foreign keys on, synchronous=NORMAL (a crash loses no
 * committed transaction; power loss may lose the last ones but never corrupts). The schema is
 * db/schema.sql (embedded); PRAGMA user_version holds its version and db_open() migrates older
 * databases. Writers use BEGIN IMMEDIATE so that two `dynn run` processes on one database queue
 * up instead of failing. Statements are prepared once per connection, parameters always bound.
 *
 * Runner side: db_insert_run … db_finish_run, db_find_cached. Read side: db/db_read.c fills
 * util Tables for the CLI; db_query_table runs a user's SELECT on a read-only connection. `dynn
 * fsck`: db/db_fsck.c (integrity checks, the artifact rows of cache entries, dead runs, voiding). */
#ifndef DYNN_DB_DB_H
#define DYNN_DB_DB_H

#include <stddef.h>
#include <stdint.h>

#include "db/measurement.h"
#include "db/rundata.h"
#include "util/err.h"
#include "util/table.h"

#define DB_SCHEMA_VERSION 7
/* Where the commands and the report stage find the results database unless told (--db). */
#define DB_DEFAULT_PATH ".dynn/results.db"
#define DB_BUSY_TIMEOUT_MS 60000

extern const char db_schema_sql[];

typedef struct Db Db;

/* Read-write; creates the file and schema when absent, migrates when older. */
int db_open(const char *path, Db **out, Err *err);
/* Read-only connection (query_only as well): nothing can be written through it. */
int db_open_readonly(const char *path, Db **out, Err *err);
void db_close(Db *db);

int db_begin(Db *db, Err *err); /* BEGIN IMMEDIATE */
int db_commit(Db *db, Err *err);
void db_rollback(Db *db);

/* A schema migration: SQL that takes a database from version to_version - 1 to to_version. */
typedef struct DbMigration {
    int to_version;
    const char *sql;
} DbMigration;

/* db_open() with an explicit migration list and target version (for tests of the mechanism). */
int db_open_versioned(const char *path, const DbMigration *migrations, size_t n, int version, Db **out, Err *err);
int db_schema_version(Db *db, int *version, Err *err);

/* ---- runner: writes ---- */

typedef struct DbRun {
    const char *uuid, *experiment, *spec_path, *spec_sha256;
    double started_at;
    const char *git_commit;
    int git_dirty;
    const char *host, *cpu_model, *compiler, *cflags, *dynn_version, *build_id;
    long long seed;
    const char *argv;
    long long pid, pid_start;
} DbRun;

int db_insert_run(Db *db, const DbRun *run, int64_t *run_id, Err *err);
int db_finish_run(Db *db, int64_t run_id, const char *status, double ended_at, Err *err);

#define DB_NO_EXIT_CODE (-100000)

/* A stage's state. NULL strings / NaN times / cached_from 0 / DB_NO_EXIT_CODE mean NULL, except
 * that an update leaves key, log and started_at as they are. */
typedef struct DbStageState {
    const char *status;
    const char *key;
    int64_t cached_from;
    double started_at, ended_at;
    int exit_code;
    const char *error;
    const char *log;
} DbStageState;

/* A stage row in the given state (NULL: QUEUED). */
int db_insert_stage(Db *db, int64_t run_id, const char *name, const char *stage, const char *type, int threads,
                    const DbStageState *state, int64_t *stage_id, Err *err);
int db_insert_param(Db *db, int64_t stage_id, const char *name, const char *value, Err *err);
int db_update_stage(Db *db, int64_t stage_id, const DbStageState *s, Err *err);
/* Records that stage_id needs needs_stage_id (an edge of the run's stage graph). */
int db_insert_stage_need(Db *db, int64_t stage_id, int64_t needs_stage_id, Err *err);

int db_insert_metric(Db *db, int64_t stage_id, const char *name, double value, const char *subnet, long long step,
                     Err *err);
int db_insert_artifact(Db *db, int64_t stage_id, const char *name, const char *kind, const char *hash,
                       const char *path, int64_t size, Err *err);
int db_insert_measurement(Db *db, int64_t stage_id, const Measurement *m, Err *err);

typedef struct DbArtifact {
    char *name, *kind, *hash, *path;
    int64_t size;
} DbArtifact;

/* The newest FINISHED stage with this cache key (and no voided cache entry) and its artifacts: 1
 * found, 0 none, -1 error. */
int db_find_cached(Db *db, const char *key, int64_t *stage_id, DbArtifact **arts, size_t *n_arts, Err *err);
void db_artifacts_free(DbArtifact *arts, size_t n);

/* Runs still RUNNING whose runner process is gone (alive() says no) are over: KILLED, with their
 * RUNNING stages KILLED (error: the runner died) and QUEUED ones SKIPPED. The run's ended_at, and
 * that of its reaped stages, is the last evidence of life: the latest of its start, its stages'
 * start and end times and what ended() says. *reaped counts them. */
typedef int (*DbRunAlive)(const char *host, long long pid, long long pid_start, void *ctx);
int db_reap_dead_runs(Db *db, DbRunAlive alive, void *ctx, int *reaped, Err *err);

/* What is known of a dead run outside the database (pipeline/run_note.c). */
typedef struct DbRunEnd {
    double last_alive;  /* last sign of life of its runner (NAN: none) */
    char status[16];    /* "": it died; else the status it meant to record (FAILED) ... */
    char error[512];    /* ... and why it stopped (a database write that failed) */
} DbRunEnd;
/* Fills *end (zeroed, last_alive NAN, before the call) for the dead run `uuid`. */
typedef void (*DbRunEnded)(const char *uuid, DbRunEnd *end, void *ctx);

/* db_reap_dead_runs, with ended() (may be NULL) telling more: a run whose runner meant to record
 * FAILED gets it, and its RUNNING stages become FAILED with "not recorded: <why>". */
int db_reap_dead_runs_ex(Db *db, DbRunAlive alive, DbRunEnded ended, void *ctx, int *reaped, Err *err);

/* Moves the WAL's content into the database and empties it (PRAGMA wal_checkpoint(TRUNCATE)): gives
 * back the WAL's disk space, so that a write refused for a full disk may pass when retried. */
int db_checkpoint(Db *db, Err *err);

/* 1 when the run with this uuid is recorded and over (not RUNNING), 0 when it is RUNNING or not
 * recorded (yet), -1 on error. */
int db_run_is_over(Db *db, const char *uuid, Err *err);

/* ---- dynn fsck (db/db_fsck.c) ---- */

/* What PRAGMA integrity_check reports (nothing when it says "ok") and one line per PRAGMA
 * foreign_key_check row, as *n malloc'd strings (free with db_strings_free, also after an error). */
int db_integrity_problems(Db *db, char ***msgs, size_t *n, Err *err);
void db_strings_free(char **s, size_t n);

typedef struct DbCacheArtifact {
    int64_t stage_id;
    char *run, *stage; /* run uuid, instance name */
    char *name, *hash, *path;
    int64_t size;
} DbCacheArtifact;

/* The artifact rows of every cache entry (FINISHED stage) not voided, in row order. */
int db_cache_artifacts(Db *db, DbCacheArtifact **rows, size_t *n, Err *err);
void db_cache_artifacts_free(DbCacheArtifact *rows, size_t n);

/* Voids a cache entry: db_find_cached never returns that stage again; its rows stay. A second call
 * for the same stage keeps the first reason. */
int db_void_cache_entry(Db *db, int64_t stage_id, const char *reason, double at, Err *err);

typedef struct DbDeadRun {
    char uuid[40];
    char host[256];
    long long pid;
    long long n_running; /* its stages still RUNNING */
} DbDeadRun;

/* Runs still RUNNING whose runner is gone (alive() says no), oldest first (what db_reap_dead_runs
 * would mark KILLED). */
int db_dead_runs(Db *db, DbRunAlive alive, void *ctx, DbDeadRun **runs, size_t *n, Err *err);

/* ---- read side (db/db_read.c) ---- */

/* "last", or a unique prefix of a run uuid. */
int db_resolve_run(Db *db, const char *ref, int64_t *run_id, char uuid[40], Err *err);

/* short_ids: the run column holds 8-character uuid prefixes (for a terminal) instead of full uuids. */
int db_runs_table(Db *db, int limit, int short_ids, Table *t, Err *err);
int db_run_info_table(Db *db, int64_t run_id, Table *t, Err *err);   /* field/value pairs */
int db_run_stages_table(Db *db, int64_t run_id, Table *t, Err *err);
int db_run_params_table(Db *db, int64_t run_id, Table *t, Err *err);
int db_run_metrics_table(Db *db, int64_t run_id, Table *t, Err *err); /* the last step of each series */
int db_run_artifacts_table(Db *db, int64_t run_id, Table *t, Err *err);
/* Per status counts of a run's stages, in a fixed status order. */
int db_run_counts_table(Db *db, int64_t run_id, Table *t, Err *err);
/* Metrics of two runs side by side (last step of each series), with delta and relative delta. */
int db_compare_table(Db *db, int64_t run_a, int64_t run_b, Table *t, Err *err);

/* A run's models (stages with per-subnet accuracy), measurements with their samples, and provenance
 * (db/db_rundata.c). With needed_by (an instance name of the run), only the stages that instance
 * needs, directly or not; NULL: every FINISHED or CACHED stage of the run. */
int db_load_run_data(Db *db, int64_t run_id, const char *needed_by, RunData *out, Err *err);

/* A user's statement on a read-only connection: refused unless sqlite3_stmt_readonly() says it
 * only reads; one statement only. */
int db_query_table(Db *db, const char *sql, Table *t, Err *err);

#endif
