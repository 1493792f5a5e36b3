/* db/db.c — opening, schema creation and migration, transactions, and the runner's writes
 * (see db.h). */
#include "db/db_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Migrations from older schema versions, in order. A new version appends {N, "ALTER TABLE …"} here
 * and updates db/schema.sql to the same result. */
static const DbMigration builtin_migrations[] = {
    {2, "CREATE TABLE stage_needs (stage_id INTEGER NOT NULL REFERENCES stages(id), "
        "needs_stage_id INTEGER NOT NULL REFERENCES stages(id), PRIMARY KEY (stage_id, needs_stage_id)) WITHOUT ROWID;"},
    {3, "ALTER TABLE measurements ADD COLUMN subnet_index INTEGER;"
        "ALTER TABLE measurements ADD COLUMN macs INTEGER;"
        "ALTER TABLE measurements ADD COLUMN peak_rss_kib INTEGER;"
        "ALTER TABLE measurements ADD COLUMN avg_power_w REAL;"},
    {4, "CREATE TABLE cache_voided (stage_id INTEGER PRIMARY KEY REFERENCES stages(id), reason TEXT NOT NULL, "
        "voided_at REAL NOT NULL);"},
    /* The condition columns of measurements become rows of `conditions` (keys of db/conditions.h);
     * the table keeps what was measured as measurement_results (latency_samples follows the rename);
     * a view named measurements shows the old columns. */
    {5, "ALTER TABLE measurements RENAME TO measurement_results;"
        "CREATE TABLE conditions (measurement_id INTEGER NOT NULL REFERENCES measurement_results(id), key TEXT NOT NULL, "
        "value NOT NULL, PRIMARY KEY (measurement_id, key)) WITHOUT ROWID;"
        "CREATE INDEX conditions_key ON conditions(key, value);"
        "INSERT INTO conditions SELECT id, 'platform', platform FROM measurement_results WHERE platform IS NOT NULL AND platform <> '';"
        "INSERT INTO conditions SELECT id, 'batch', batch FROM measurement_results WHERE batch IS NOT NULL;"
        "INSERT INTO conditions SELECT id, 'cpus', cpus FROM measurement_results WHERE cpus IS NOT NULL AND cpus <> '';"
        "INSERT INTO conditions SELECT id, 'threads', threads FROM measurement_results WHERE threads IS NOT NULL;"
        "INSERT INTO conditions SELECT id, 'cpu_freq', frequency_khz FROM measurement_results WHERE frequency_khz IS NOT NULL;"
        "ALTER TABLE measurement_results DROP COLUMN platform;"
        "ALTER TABLE measurement_results DROP COLUMN batch;"
        "ALTER TABLE measurement_results DROP COLUMN threads;"
        "ALTER TABLE measurement_results DROP COLUMN cpus;"
        "ALTER TABLE measurement_results DROP COLUMN frequency_khz;"
        "CREATE VIEW measurements AS SELECT r.id, r.stage_id, "
        "COALESCE((SELECT c.value FROM conditions c WHERE c.measurement_id = r.id AND c.key = 'platform'), '') AS platform, "
        "r.subnet, "
        "(SELECT c.value FROM conditions c WHERE c.measurement_id = r.id AND c.key = 'batch') AS batch, "
        "(SELECT c.value FROM conditions c WHERE c.measurement_id = r.id AND c.key = 'threads') AS threads, "
        "(SELECT c.value FROM conditions c WHERE c.measurement_id = r.id AND c.key = 'cpus') AS cpus, "
        "(SELECT c.value FROM conditions c WHERE c.measurement_id = r.id AND c.key = 'cpu_freq') AS frequency_khz, "
        "r.energy_j, r.n_samples, r.subnet_index, r.macs, r.peak_rss_kib, r.avg_power_w FROM measurement_results r;"},
    /* A counted measurement's instructions per forward pass (the CI latency gate, platforms/counter.h). */
    {6, "ALTER TABLE measurement_results ADD COLUMN instructions INTEGER;"},
    /* How much of its CPUs a measurement had, and whether the profiler flagged it (platforms/interference.h). */
    {7, "ALTER TABLE measurement_results ADD COLUMN cpu_share REAL; "
        "ALTER TABLE measurement_results ADD COLUMN wait_share REAL; "
        "ALTER TABLE measurement_results ADD COLUMN others_share REAL; "
        "ALTER TABLE measurement_results ADD COLUMN attempts INTEGER; "
        "ALTER TABLE measurement_results ADD COLUMN interference_flagged INTEGER NOT NULL DEFAULT 0;"},
};
static const size_t n_builtin_migrations = sizeof builtin_migrations / sizeof *builtin_migrations;

int db_fail(Db *db, const char *what, Err *err) {
    return err_set(err, "%s: %s: %s", db->path, what, sqlite3_errmsg(db->h));
}

sqlite3_stmt *db_stmt(Db *db, int slot, const char *sql, Err *err) {
    sqlite3_stmt *st = db->stmts[slot];
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        db_fail(db, "preparing a statement", err);
        return NULL;
    }
    db->stmts[slot] = st;
    return st;
}

int db_bind_text(sqlite3_stmt *st, int i, const char *s) {
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

int db_step_done(Db *db, sqlite3_stmt *st, const char *what, Err *err) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return db_fail(db, what, err);
    return 0;
}

static int exec_sql(Db *db, const char *sql, const char *what, Err *err) {
    char *msg = NULL;
    if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        err_set(err, "%s: %s: %s", db->path, what, msg ? msg : sqlite3_errmsg(db->h));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int db_schema_version(Db *db, int *version, Err *err) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, "reading the schema version", err);
    int rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : db_fail(db, "reading the schema version", err);
}

static int set_schema_version(Db *db, int version, Err *err) {
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version); /* PRAGMA takes no bound parameters */
    return exec_sql(db, sql, "setting the schema version", err);
}

/* Creates or upgrades the schema inside one IMMEDIATE transaction, so two processes opening a new
 * database at once do not both create it. */
static int ensure_schema(Db *db, const DbMigration *migrations, size_t n, int target, Err *err) {
    int version;
    if (db_schema_version(db, &version, err)) return -1;
    if (version == target) return 0;
    if (version > target)
        return err_set(err, "%s: database schema version %d is newer than this dynn understands (%d); use a newer dynn",
                       db->path, version, target);
    if (db_begin(db, err)) return -1;
    if (db_schema_version(db, &version, err)) goto fail;
    if (version == 0) {
        if (exec_sql(db, db_schema_sql, "creating the schema", err)) goto fail;
        version = DB_SCHEMA_VERSION; /* schema.sql is always the newest schema */
    }
    for (size_t i = 0; i < n && version < target; i++) {
        if (migrations[i].to_version != version + 1) continue;
        char what[64];
        snprintf(what, sizeof what, "migrating to schema version %d", migrations[i].to_version);
        if (exec_sql(db, migrations[i].sql, what, err)) goto fail;
        version = migrations[i].to_version;
    }
    if (version != target) {
        err_set(err, "%s: no migration from schema version %d to %d", db->path, version, target);
        goto fail;
    }
    if (set_schema_version(db, version, err) || db_commit(db, err)) goto fail;
    return 0;
fail:
    db_rollback(db);
    return -1;
}

static int open_connection(const char *path, int readonly, Db **out, Err *err) {
    *out = NULL;
    Db *db = calloc(1, sizeof *db);
    if (!db || !(db->path = strdup(path))) {
        free(db);
        return err_set(err, "out of memory");
    }
    db->readonly = readonly;
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &db->h, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        err_set(err, "%s: cannot open the results database: %s", path, db->h ? sqlite3_errmsg(db->h) : "out of memory");
        db_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(db->h, 1);
    const char *pragmas = readonly ? "PRAGMA query_only = ON; PRAGMA foreign_keys = ON;"
                                   : "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";
    /* Switching a new database to WAL needs it to itself for a moment, and SQLite answers BUSY
     * without waiting when another process is doing the same: retry within the busy timeout. */
    int rc;
    for (int waited = 0;; waited += 10) {
        rc = sqlite3_exec(db->h, pragmas, NULL, NULL, NULL);
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) break;
        if (waited >= DB_BUSY_TIMEOUT_MS) break;
        sqlite3_sleep(10);
    }
    if (rc != SQLITE_OK) {
        db_fail(db, "configuring the connection", err);
        db_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

int db_open_versioned(const char *path, const DbMigration *migrations, size_t n, int version, Db **out, Err *err) {
    if (open_connection(path, 0, out, err)) return -1;
    if (ensure_schema(*out, migrations, n, version, err)) {
        db_close(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

int db_open(const char *path, Db **out, Err *err) {
    return db_open_versioned(path, builtin_migrations, n_builtin_migrations, DB_SCHEMA_VERSION, out, err);
}

int db_open_readonly(const char *path, Db **out, Err *err) {
    FILE *probe = fopen(path, "rb");
    if (!probe) return err_set(err, "%s: no results database here (run an experiment first, or pass --db PATH)", path);
    fclose(probe);
    if (open_connection(path, 1, out, err)) return -1;
    int version;
    if (db_schema_version(*out, &version, err)) goto fail;
    if (version != DB_SCHEMA_VERSION) {
        err_set(err, "%s: schema version %d, this dynn reads %d%s", path, version, DB_SCHEMA_VERSION,
                version < DB_SCHEMA_VERSION ? " (any `dynn run` on it migrates it)" : "");
        goto fail;
    }
    return 0;
fail:
    db_close(*out);
    *out = NULL;
    return -1;
}

void db_close(Db *db) {
    if (!db) return;
    for (int i = 0; i < STMT_COUNT; i++) sqlite3_finalize(db->stmts[i]);
    sqlite3_close(db->h);
    free(db->path);
    free(db);
}

int db_begin(Db *db, Err *err) {
    sqlite3_stmt *st = db_stmt(db, STMT_BEGIN, "BEGIN IMMEDIATE", err);
    return st ? db_step_done(db, st, "starting a transaction", err) : -1;
}

int db_commit(Db *db, Err *err) {
    sqlite3_stmt *st = db_stmt(db, STMT_COMMIT, "COMMIT", err);
    return st ? db_step_done(db, st, "committing", err) : -1;
}

void db_rollback(Db *db) {
    if (sqlite3_get_autocommit(db->h)) return;
    sqlite3_stmt *st = db_stmt(db, STMT_ROLLBACK, "ROLLBACK", NULL);
    if (st) db_step_done(db, st, "rolling back", NULL);
}

/* ---- runner writes ---- */

static int experiment_id(Db *db, const char *name, double now, int64_t *id, Err *err) {
    sqlite3_stmt *st = db_stmt(db, STMT_UPSERT_EXPERIMENT,
                               "INSERT INTO experiments(name, created_at) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING", err);
    if (!st) return -1;
    db_bind_text(st, 1, name);
    sqlite3_bind_double(st, 2, now);
    if (db_step_done(db, st, "recording the experiment", err)) return -1;
    st = db_stmt(db, STMT_EXPERIMENT_ID, "SELECT id FROM experiments WHERE name = ?1", err);
    if (!st) return -1;
    db_bind_text(st, 1, name);
    if (sqlite3_step(st) != SQLITE_ROW) return db_fail(db, "finding the experiment", err);
    *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return 0;
}

int db_insert_run(Db *db, const DbRun *r, int64_t *run_id, Err *err) {
    int64_t exp = 0;
    if (experiment_id(db, r->experiment, r->started_at, &exp, err)) return -1;
    sqlite3_stmt *st = db_stmt(db, STMT_INSERT_RUN,
                               "INSERT INTO runs(uuid, experiment_id, spec_path, spec_sha256, status, started_at, git_commit, "
                               "git_dirty, host, cpu_model, compiler, cflags, dynn_version, build_id, seed, argv, pid, pid_start) "
                               "VALUES (?1, ?2, ?3, ?4, 'RUNNING', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                               err);
    if (!st) return -1;
    db_bind_text(st, 1, r->uuid);
    sqlite3_bind_int64(st, 2, exp);
    db_bind_text(st, 3, r->spec_path);
    db_bind_text(st, 4, r->spec_sha256);
    sqlite3_bind_double(st, 5, r->started_at);
    db_bind_text(st, 6, r->git_commit);
    sqlite3_bind_int(st, 7, r->git_dirty);
    db_bind_text(st, 8, r->host);
    db_bind_text(st, 9, r->cpu_model);
    db_bind_text(st, 10, r->compiler);
    db_bind_text(st, 11, r->cflags);
    db_bind_text(st, 12, r->dynn_version);
    db_bind_text(st, 13, r->build_id);
    sqlite3_bind_int64(st, 14, r->seed);
    db_bind_text(st, 15, r->argv);
    sqlite3_bind_int64(st, 16, r->pid);
    sqlite3_bind_int64(st, 17, r->pid_start);
    if (db_step_done(db, st, "recording the run", err)) return -1;
    *run_id = sqlite3_last_insert_rowid(db->h);
    return 0;
}

int db_finish_run(Db *db, int64_t run_id, const char *status, double ended_at, Err *err) {
    sqlite3_stmt *st = db_stmt(db, STMT_FINISH_RUN, "UPDATE runs SET status = ?2, ended_at = ?3 WHERE id = ?1", err);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, run_id);
    db_bind_text(st, 2, status);
    sqlite3_bind_double(st, 3, ended_at);
    return db_step_done(db, st, "finishing the run", err);
}

static void bind_time(sqlite3_stmt *st, int i, double t) {
    if (isnan(t)) sqlite3_bind_null(st, i);
    else sqlite3_bind_double(st, i, t);
}

/* Binds a state to ?2 … ?9 (status, key, cached_from, started_at, ended_at, exit_code, error, log). */
static void bind_state(sqlite3_stmt *st, const DbStageState *s) {
    db_bind_text(st, 2, s->status);
    db_bind_text(st, 3, s->key);
    if (s->cached_from) sqlite3_bind_int64(st, 4, s->cached_from);
    bind_time(st, 5, s->started_at);
    bind_time(st, 6, s->ended_at);
    if (s->exit_code != DB_NO_EXIT_CODE) sqlite3_bind_int(st, 7, s->exit_code);
    db_bind_text(st, 8, s->error);
    db_bind_text(st, 9, s->log);
}

int db_insert_stage(Db *db, int64_t run_id, const char *name, const char *stage, const char *type, int threads,
                    const DbStageState *state, int64_t *stage_id, Err *err) {
    sqlite3_stmt *st = db_stmt(db, STMT_INSERT_STAGE,
                               "INSERT INTO stages(run_id, status, key, cached_from, started_at, ended_at, exit_code, error, "
                               "log, name, stage, type, threads) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                               err);
    if (!st) return -1;
    static const DbStageState queued = {.status = "QUEUED", .started_at = NAN, .ended_at = NAN, .exit_code = DB_NO_EXIT_CODE};
    sqlite3_bind_int64(st, 1, run_id);
    bind_state(st, state ? state : &queued);
    db_bind_text(st, 10, name);
    db_bind_text(st, 11, stage);
    db_bind_text(st, 12, type);
    sqlite3_bind_int(st, 13, threads);
    if (db_step_done(db, st, "recording a stage", err)) return -1;
    *stage_id = sqlite3_last_insert_rowid(db->h);
    return 0;
}

int db_insert_param(Db *db, int64_t stage_id, const char *name, const char *value, Err *err) {
    sqlite3_stmt *st = db_stmt(db, STMT_INSERT_PARAM, "INSERT INTO params(stage_id, name, value) VALUES (?1, ?2, ?3)", err);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, stage_id);
    db_bind_text(st, 2, name);
    db_bind_text(st, 3, value);
    return db_step_done(db, st, "recording a param", err);
}

int db_insert_stage_need(Db *db, int64_t stage_id, int64_t needs_stage_id, Err *err) {
    sqlite3_stmt *st = db_stmt(db, STMT_INSERT_STAGE_NEED, "INSERT OR IGNORE INTO stage_needs(stage_id, needs_stage_id) VALUES (?1, ?2)", err);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, stage_id);
    sqlite3_bind_int64(st, 2, needs_stage_id);
    return db_step_done(db, st, "recording what a stage needs", err);
}

int db_update_stage(Db *db, int64_t stage_id, const DbStageState *s, Err *err) {
    sqlite3_stmt *st = db_stmt(db, STMT_UPDATE_STAGE,
                               "UPDATE stages SET status = ?2, key = COALESCE(?3, key), cached_from = ?4, "
                               "started_at = COALESCE(?5, started_at), ended_at = ?6, exit_code = ?7, error = ?8, "
                               "log = COALESCE(?9, log) WHERE id = ?1",
                               err);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, stage_id);
    bind_state(st, s);
    return db_step_done(db, st, "updating a stage", err);
}

int db_insert_metric(Db *db, int64_t stage_id, const char *name, double value, const char *subnet, long long step,
                     Err *err) {
    sqlite3_stmt *st = db_stmt(db, STMT_INSERT_METRIC,
                               "INSERT INTO metrics(stage_id, subnet, name, value, step) VALUES (?1, ?2, ?3, ?4, ?5)", err);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, stage_id);
    db_bind_text(st, 2, subnet);
    db_bind_text(st, 3, name);
    bind_time(st, 4, value); /* NaN → NULL */
    sqlite3_bind_int64(st, 5, step);
    return db_step_done(db, st, "recording a metric", err);
}

int db_insert_artifact(Db *db, int64_t stage_id, const char *name, const char *kind, const char *hash,
                       const char *path, int64_t size, Err *err) {
    sqlite3_stmt *st = db_stmt(db, STMT_INSERT_ARTIFACT,
                               "INSERT INTO artifacts(stage_id, name, kind, hash, path, size) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                               err);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, stage_id);
    db_bind_text(st, 2, name);
    db_bind_text(st, 3, kind);
    db_bind_text(st, 4, hash);
    db_bind_text(st, 5, path);
    sqlite3_bind_int64(st, 6, size);
    return db_step_done(db, st, "recording an artifact", err);
}

/* One condition row: INT keys bound as integers, TEXT keys as text. */
static int insert_condition(Db *db, int64_t id, int k, const char *value, Err *err) {
    sqlite3_stmt *st = db_stmt(db, STMT_INSERT_CONDITION, "INSERT INTO conditions(measurement_id, key, value) VALUES (?1, ?2, ?3)", err);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, id);
    db_bind_text(st, 2, cond_keys[k].name);
    if (cond_keys[k].type == COND_INT) sqlite3_bind_int64(st, 3, strtoll(value, NULL, 10));
    else db_bind_text(st, 3, value);
    return db_step_done(db, st, "recording a condition", err);
}

int db_insert_measurement(Db *db, int64_t stage_id, const Measurement *m, Err *err) {
    Conditions cond;
    if (measurement_conditions(m, 1, &cond, err)) return err_prefix(err, "%s: a measurement", db->path);
    int rc = -1;
    sqlite3_stmt *st = db_stmt(db, STMT_INSERT_MEASUREMENT,
                               "INSERT INTO measurement_results(stage_id, subnet, energy_j, n_samples, subnet_index, macs, "
                               "peak_rss_kib, avg_power_w, instructions, cpu_share, wait_share, others_share, attempts, "
                               "interference_flagged) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                               err);
    if (!st) goto done;
    sqlite3_bind_int64(st, 1, stage_id);
    db_bind_text(st, 2, m->subnet);
    bind_time(st, 3, m->energy_j);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)m->n_latency);
    if (m->subnet_index >= 0) sqlite3_bind_int(st, 5, m->subnet_index);
    if (m->macs >= 0) sqlite3_bind_int64(st, 6, m->macs);
    if (m->peak_rss_kib >= 0) sqlite3_bind_int64(st, 7, m->peak_rss_kib);
    bind_time(st, 8, m->avg_power_w);
    if (m->instructions > 0) sqlite3_bind_int64(st, 9, m->instructions);
    bind_time(st, 10, m->cpu_share);
    bind_time(st, 11, m->wait_share);
    bind_time(st, 12, m->others_share);
    if (m->attempts > 0) sqlite3_bind_int(st, 13, m->attempts);
    sqlite3_bind_int(st, 14, m->interference_flagged ? 1 : 0);
    if (db_step_done(db, st, "recording a measurement", err)) goto done;
    int64_t id = sqlite3_last_insert_rowid(db->h);
    for (int k = 0; k < COND_COUNT; k++)
        if (cond.value[k] && insert_condition(db, id, k, cond.value[k], err)) goto done;
    st = db_stmt(db, STMT_INSERT_SAMPLE, "INSERT INTO latency_samples(measurement_id, idx, latency_s) VALUES (?1, ?2, ?3)", err);
    if (!st) goto done;
    for (size_t i = 0; i < m->n_latency; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
        sqlite3_bind_double(st, 3, m->latency_s[i]);
        if (db_step_done(db, st, "recording a latency sample", err)) goto done;
    }
    rc = 0;
done:
    cond_free(&cond);
    return rc;
}

void db_artifacts_free(DbArtifact *arts, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(arts[i].name);
        free(arts[i].kind);
        free(arts[i].hash);
        free(arts[i].path);
    }
    free(arts);
}

static char *column_dup(sqlite3_stmt *st, int i) {
    const unsigned char *s = sqlite3_column_text(st, i);
    return strdup(s ? (const char *)s : "");
}

int db_find_cached(Db *db, const char *key, int64_t *stage_id, DbArtifact **arts, size_t *n_arts, Err *err) {
    *arts = NULL;
    *n_arts = 0;
    sqlite3_stmt *st = db_stmt(db, STMT_FIND_CACHED,
                               "SELECT id FROM stages s WHERE key = ?1 AND status = 'FINISHED' AND "
                               "NOT EXISTS (SELECT 1 FROM cache_voided v WHERE v.stage_id = s.id) ORDER BY ended_at DESC LIMIT 1", err);
    if (!st) return -1;
    db_bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return sqlite3_reset(st), 0;
    if (rc != SQLITE_ROW) return db_fail(db, "looking up the cache", err);
    *stage_id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    st = db_stmt(db, STMT_CACHED_ARTIFACTS, "SELECT name, kind, hash, path, size FROM artifacts WHERE stage_id = ?1 ORDER BY name", err);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, *stage_id);
    size_t cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n_arts == cap) {
            cap = cap ? cap * 2 : 4;
            DbArtifact *p = realloc(*arts, cap * sizeof *p);
            if (!p) break;
            *arts = p;
        }
        DbArtifact *a = &(*arts)[(*n_arts)++];
        a->name = column_dup(st, 0), a->kind = column_dup(st, 1), a->hash = column_dup(st, 2), a->path = column_dup(st, 3);
        a->size = sqlite3_column_int64(st, 4);
        if (!a->name || !a->kind || !a->hash || !a->path) break;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        db_artifacts_free(*arts, *n_arts);
        *arts = NULL, *n_arts = 0;
        return rc == SQLITE_ROW ? err_set(err, "out of memory") : db_fail(db, "reading cached artifacts", err);
    }
    return 1;
}

int db_run_is_over(Db *db, const char *uuid, Err *err) {
    sqlite3_stmt *st = db_stmt(db, STMT_RUN_IS_OVER, "SELECT count(*) FROM runs WHERE uuid = ?1 AND status <> 'RUNNING'", err);
    if (!st) return -1;
    db_bind_text(st, 1, uuid);
    int rc = sqlite3_step(st);
    int over = rc == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? over : db_fail(db, "looking up a run", err);
}

typedef struct DeadRun {
    int64_t id;
    long long pid;
    char uuid[40];
} DeadRun;

/* The latest time in the database at which the run was known alive: its start, its stages' starts and ends. */
static int run_last_alive(Db *db, int64_t run_id, double *t, Err *err) {
    sqlite3_stmt *st = db_stmt(db, STMT_RUN_LAST_ALIVE,
                               "SELECT max(r.started_at, coalesce(max(s.started_at), 0), coalesce(max(s.ended_at), 0)) "
                               "FROM runs r LEFT JOIN stages s ON s.run_id = r.id WHERE r.id = ?1",
                               err);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, run_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *t = sqlite3_column_double(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : db_fail(db, "reading a dead run's times", err);
}

/* Marks one dead run over (see db_reap_dead_runs_ex). */
static int reap_run(Db *db, const DeadRun *run, const DbRunEnd *end, Err *err) {
    double ended = 0;
    if (run_last_alive(db, run->id, &ended, err)) return -1;
    if (!isnan(end->last_alive) && end->last_alive > ended) ended = end->last_alive;
    const char *status = end->status[0] ? end->status : "KILLED";
    char why[800];
    if (end->status[0])
        snprintf(why, sizeof why, "not recorded: the runner (pid %lld) stopped: %s", run->pid, end->error);
    else
        snprintf(why, sizeof why, "the runner (pid %lld) died while this stage ran; marked KILLED when the database was next opened",
                 run->pid);
    sqlite3_stmt *st = db_stmt(db, STMT_KILL_RUN, "UPDATE runs SET status = ?2, ended_at = ?3 WHERE id = ?1 AND status = 'RUNNING'", err);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, run->id);
    db_bind_text(st, 2, status);
    sqlite3_bind_double(st, 3, ended);
    if (db_step_done(db, st, "marking a dead run", err)) return -1;
    st = db_stmt(db, STMT_KILL_RUN_STAGES,
                 "UPDATE stages SET status = ?2, ended_at = coalesce(ended_at, ?3), error = coalesce(error, ?4) "
                 "WHERE run_id = ?1 AND status = 'RUNNING'",
                 err);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, run->id);
    db_bind_text(st, 2, end->status[0] ? "FAILED" : "KILLED");
    sqlite3_bind_double(st, 3, ended);
    db_bind_text(st, 4, why);
    if (db_step_done(db, st, "marking a dead run's stages", err)) return -1;
    st = db_stmt(db, STMT_SKIP_RUN_STAGES, "UPDATE stages SET status = 'SKIPPED' WHERE run_id = ?1 AND status = 'QUEUED'", err);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, run->id);
    return db_step_done(db, st, "marking a dead run's stages", err);
}

int db_reap_dead_runs_ex(Db *db, DbRunAlive alive, DbRunEnded ended, void *ctx, int *reaped, Err *err) {
    *reaped = 0;
    sqlite3_stmt *st = db_stmt(db, STMT_RUNNING_RUNS, "SELECT id, host, pid, pid_start, uuid FROM runs WHERE status = 'RUNNING'", err);
    if (!st) return -1;
    DeadRun dead[256];
    size_t n_dead = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n_dead < 256) {
        const char *host = (const char *)sqlite3_column_text(st, 1), *uuid = (const char *)sqlite3_column_text(st, 4);
        if (alive(host ? host : "", sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3), ctx)) continue;
        DeadRun *d = &dead[n_dead++];
        d->id = sqlite3_column_int64(st, 0);
        d->pid = sqlite3_column_int64(st, 2);
        snprintf(d->uuid, sizeof d->uuid, "%s", uuid ? uuid : "");
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return db_fail(db, "listing running runs", err);
    if (!n_dead) return 0;
    if (db_begin(db, err)) return -1;
    for (size_t i = 0; i < n_dead; i++) {
        DbRunEnd end = {.last_alive = NAN};
        if (ended) ended(dead[i].uuid, &end, ctx);
        if (reap_run(db, &dead[i], &end, err)) {
            db_rollback(db);
            return -1;
        }
    }
    if (db_commit(db, err)) {
        db_rollback(db);
        return -1;
    }
    *reaped = (int)n_dead;
    return 0;
}

int db_reap_dead_runs(Db *db, DbRunAlive alive, void *ctx, int *reaped, Err *err) {
    return db_reap_dead_runs_ex(db, alive, NULL, ctx, reaped, err);
}

int db_checkpoint(Db *db, Err *err) {
    return exec_sql(db, "PRAGMA wal_checkpoint(TRUNCATE)", "emptying the write-ahead log", err);
}
