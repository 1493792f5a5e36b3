/* db/db_fsck.c — what `dynn fsck` asks of the results database: SQLite's own integrity and
 * foreign-key checks, the artifact rows of cache entries, runs left RUNNING by a dead runner, and
 * voiding cache entries whose objects are gone (see db.h). Statements here run rarely, so they are
 * prepared per call rather than cached. */
#include "db/db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/grow.h"

static sqlite3_stmt *prepare(Db *db, const char *sql, const char *what, Err *err) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
        db_fail(db, what, err);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static const char *text_or(sqlite3_stmt *st, int i, const char *fallback) {
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? (const char *)s : fallback;
}

void db_strings_free(char **s, size_t n) {
    for (size_t i = 0; i < n; i++) free(s[i]);
    free(s);
}

static int add_msg(char ***msgs, size_t *n, size_t *cap, const char *msg, Err *err) {
    char **slot = grow_one(msgs, n, cap, sizeof **msgs);
    if (!slot || !(*slot = strdup(msg))) return err_set(err, "out of memory");
    return 0;
}

int db_integrity_problems(Db *db, char ***msgs, size_t *n, Err *err) {
    *msgs = NULL, *n = 0;
    size_t cap = 0;
    sqlite3_stmt *st = prepare(db, "PRAGMA integrity_check", "checking integrity", err);
    if (!st) return -1;
    int rc;
    char line[1024];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *m = text_or(st, 0, "");
        if (!strcmp(m, "ok")) continue;
        snprintf(line, sizeof line, "integrity_check: %s", m);
        if (add_msg(msgs, n, &cap, line, err)) break;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return db_fail(db, "checking integrity", err);
    if (rc == SQLITE_ROW) return -1;
    if (!(st = prepare(db, "PRAGMA foreign_key_check", "checking foreign keys", err))) return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        snprintf(line, sizeof line, "foreign_key_check: %s row %lld refers to a missing row of %s", text_or(st, 0, "?"),
                 sqlite3_column_int64(st, 1), text_or(st, 2, "?"));
        if (add_msg(msgs, n, &cap, line, err)) break;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return db_fail(db, "checking foreign keys", err);
    return rc == SQLITE_ROW ? -1 : 0;
}

void db_cache_artifacts_free(DbCacheArtifact *rows, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(rows[i].run), free(rows[i].stage);
        free(rows[i].name), free(rows[i].hash), free(rows[i].path);
    }
    free(rows);
}

int db_cache_artifacts(Db *db, DbCacheArtifact **rows, size_t *n, Err *err) {
    *rows = NULL, *n = 0;
    size_t cap = 0;
    sqlite3_stmt *st = prepare(db,
                               "SELECT a.stage_id, r.uuid, s.name, a.name, a.hash, a.path, a.size FROM artifacts a "
                               "JOIN stages s ON s.id = a.stage_id JOIN runs r ON r.id = s.run_id "
                               "WHERE s.status = 'FINISHED' AND NOT EXISTS (SELECT 1 FROM cache_voided v WHERE v.stage_id = s.id) "
                               "ORDER BY a.id",
                               "listing artifacts", err);
    if (!st) return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        DbCacheArtifact *a = grow_one(rows, n, &cap, sizeof **rows);
        if (!a) break;
        a->stage_id = sqlite3_column_int64(st, 0);
        a->run = strdup(text_or(st, 1, "")), a->stage = strdup(text_or(st, 2, ""));
        a->name = strdup(text_or(st, 3, "")), a->hash = strdup(text_or(st, 4, "")), a->path = strdup(text_or(st, 5, ""));
        a->size = sqlite3_column_int64(st, 6);
        if (!a->run || !a->stage || !a->name || !a->hash || !a->path) break;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) return 0;
    db_cache_artifacts_free(*rows, *n);
    *rows = NULL, *n = 0;
    return rc == SQLITE_ROW ? err_set(err, "out of memory") : db_fail(db, "listing artifacts", err);
}

int db_void_cache_entry(Db *db, int64_t stage_id, const char *reason, double at, Err *err) {
    sqlite3_stmt *st = prepare(db, "INSERT OR IGNORE INTO cache_voided(stage_id, reason, voided_at) VALUES (?1, ?2, ?3)",
                               "voiding a cache entry", err);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, stage_id);
    db_bind_text(st, 2, reason);
    sqlite3_bind_double(st, 3, at);
    int rc = db_step_done(db, st, "voiding a cache entry", err);
    sqlite3_finalize(st);
    return rc;
}

int db_dead_runs(Db *db, DbRunAlive alive, void *ctx, DbDeadRun **runs, size_t *n, Err *err) {
    *runs = NULL, *n = 0;
    size_t cap = 0;
    sqlite3_stmt *st = prepare(db,
                               "SELECT uuid, host, pid, pid_start, (SELECT count(*) FROM stages s WHERE s.run_id = r.id "
                               "AND s.status = 'RUNNING') FROM runs r WHERE status = 'RUNNING' ORDER BY id",
                               "listing running runs", err);
    if (!st) return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *host = text_or(st, 1, "");
        if (alive(host, sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3), ctx)) continue;
        DbDeadRun *d = grow_one(runs, n, &cap, sizeof **runs);
        if (!d) break;
        snprintf(d->uuid, sizeof d->uuid, "%s", text_or(st, 0, ""));
        snprintf(d->host, sizeof d->host, "%s", host);
        d->pid = sqlite3_column_int64(st, 2);
        d->n_running = sqlite3_column_int64(st, 4);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) return 0;
    free(*runs);
    *runs = NULL, *n = 0;
    return rc == SQLITE_ROW ? err_set(err, "out of memory") : db_fail(db, "listing running runs", err);
}
