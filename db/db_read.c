/* db/db_read.c — what the read commands show: runs, a run's stages, params, metrics, artifacts,
 * comparisons, and a user's read-only query, each as a util Table (see db.h). */
#include "db/db_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value of a column as a cell. */
static int set_cell(Table *t, size_t row, size_t col, sqlite3_stmt *st, int i) {
    char buf[64];
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: return table_set(t, row, col, CELL_NULL, NULL);
    case SQLITE_INTEGER: return table_set(t, row, col, CELL_INT, (const char *)sqlite3_column_text(st, i));
    case SQLITE_FLOAT:
        snprintf(buf, sizeof buf, "%.10g", sqlite3_column_double(st, i));
        return table_set(t, row, col, CELL_REAL, buf);
    case SQLITE_BLOB:
        snprintf(buf, sizeof buf, "<blob, %d bytes>", sqlite3_column_bytes(st, i));
        return table_set(t, row, col, CELL_TEXT, buf);
    default: return table_set(t, row, col, CELL_TEXT, (const char *)sqlite3_column_text(st, i));
    }
}

/* Steps a prepared statement to the end, appending every row to t (initialised from its columns). */
static int fill_from(Db *db, sqlite3_stmt *st, Table *t, Err *err) {
    int n = sqlite3_column_count(st);
    const char *cols[256];
    if (n > 256) return err_set(err, "too many columns (%d, at most 256)", n);
    for (int i = 0; i < n; i++) cols[i] = sqlite3_column_name(st, i);
    if (table_init(t, cols, (size_t)n)) return err_set(err, "out of memory");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long row = table_add_row(t);
        if (row < 0) return err_set(err, "out of memory");
        for (int i = 0; i < n; i++)
            if (set_cell(t, (size_t)row, (size_t)i, st, i)) return err_set(err, "out of memory");
    }
    if (rc != SQLITE_DONE) return db_fail(db, "reading results", err);
    return 0;
}

int db_fill_table(Db *db, const char *sql, const int64_t *params, size_t n_params, Table *t, Err *err) {
    memset(t, 0, sizeof *t);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) return db_fail(db, "preparing a query", err);
    for (size_t i = 0; i < n_params; i++) sqlite3_bind_int64(st, (int)i + 1, params[i]);
    int rc = fill_from(db, st, t, err);
    sqlite3_finalize(st);
    if (rc) table_free(t);
    return rc;
}

int db_resolve_run(Db *db, const char *ref, int64_t *run_id, char uuid[40], Err *err) {
    sqlite3_stmt *st;
    const char *sql = "SELECT id, uuid FROM runs ORDER BY started_at DESC, id DESC LIMIT 1";
    int last = !strcmp(ref, "last");
    if (!last) {
        for (const char *p = ref; *p; p++)
            if (!isxdigit((unsigned char)*p) && *p != '-')
                return err_set(err, "'%s' is not a run id (a uuid prefix or 'last'; see `dynn runs`)", ref);
        if (!*ref) return err_set(err, "empty run id");
        sql = "SELECT id, uuid FROM runs WHERE substr(uuid, 1, length(?1)) = lower(?1) LIMIT 2";
    }
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) return db_fail(db, "finding the run", err);
    if (!last) db_bind_text(st, 1, ref);
    int found = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (found++) break;
        *run_id = sqlite3_column_int64(st, 0);
        snprintf(uuid, 40, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(db, "finding the run", err);
    if (!found) return err_set(err, last ? "%s: no runs yet" : "%s: no run '%s' (see `dynn runs`)", db->path, ref);
    if (found > 1) return err_set(err, "run id prefix '%s' is ambiguous; give more characters", ref);
    return 0;
}

int db_runs_table(Db *db, int limit, int short_ids, Table *t, Err *err) {
    int64_t p[2] = {limit > 0 ? limit : -1, short_ids ? 8 : 36};
    return db_fill_table(
        db,
        "SELECT substr(r.uuid, 1, ?2) AS run, e.name AS experiment, r.status, "
        "strftime('%Y-%m-%d %H:%M:%S', r.started_at, 'unixepoch', 'localtime') AS started, "
        "round(r.ended_at - r.started_at, 2) AS seconds, "
        "(SELECT count(*) FROM stages s WHERE s.run_id = r.id) AS stages, "
        "(SELECT count(*) FROM stages s WHERE s.run_id = r.id AND s.status = 'FINISHED') AS ran, "
        "(SELECT count(*) FROM stages s WHERE s.run_id = r.id AND s.status = 'CACHED') AS cached, "
        "(SELECT count(*) FROM stages s WHERE s.run_id = r.id AND s.status = 'FAILED') AS failed, "
        "r.git_commit || CASE WHEN r.git_dirty THEN '-dirty' ELSE '' END AS git_commit "
        "FROM runs r JOIN experiments e ON e.id = r.experiment_id ORDER BY r.started_at DESC, r.id DESC LIMIT ?1",
        p, 2, t, err);
}

int db_run_info_table(Db *db, int64_t run_id, Table *t, Err *err) {
    Table row;
    if (db_fill_table(db,
                      "SELECT r.uuid AS run, e.name AS experiment, r.status, "
                      "strftime('%Y-%m-%d %H:%M:%f', r.started_at, 'unixepoch', 'localtime') AS started, "
                      "strftime('%Y-%m-%d %H:%M:%f', r.ended_at, 'unixepoch', 'localtime') AS ended, "
                      "round(r.ended_at - r.started_at, 3) AS seconds, r.spec_path AS file, r.spec_sha256 AS file_sha256, "
                      "r.seed, r.git_commit, r.git_dirty, r.dynn_version, r.build_id, r.compiler, r.cflags, r.host, "
                      "r.cpu_model, r.argv AS command "
                      "FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?1",
                      &run_id, 1, &row, err))
        return -1;
    static const char *const cols[] = {"field", "value"};
    int rc = table_init(t, cols, 2) ? err_set(err, "out of memory") : 0;
    for (size_t c = 0; !rc && row.n_rows && c < row.n_cols; c++) {
        long r = table_add_row(t);
        const Cell *cell = table_cell(&row, 0, c);
        if (r < 0 || table_set(t, (size_t)r, 0, CELL_TEXT, row.cols[c]) || table_set(t, (size_t)r, 1, cell->type, cell->text))
            rc = err_set(err, "out of memory");
    }
    table_free(&row);
    if (rc) table_free(t);
    return rc;
}

int db_run_stages_table(Db *db, int64_t run_id, Table *t, Err *err) {
    return db_fill_table(db,
                         "SELECT s.name AS stage, s.status, s.type, "
                         "round(COALESCE(s.ended_at, o.ended_at) - COALESCE(s.started_at, o.started_at), 3) AS seconds, "
                         "substr(ro.uuid, 1, 8) AS cached_from_run, COALESCE(s.exit_code, o.exit_code) AS exit_code, "
                         "s.error, COALESCE(s.log, o.log) AS log, s.key "
                         "FROM stages s LEFT JOIN stages o ON o.id = s.cached_from LEFT JOIN runs ro ON ro.id = o.run_id "
                         "WHERE s.run_id = ?1 ORDER BY s.id",
                         &run_id, 1, t, err);
}

int db_run_params_table(Db *db, int64_t run_id, Table *t, Err *err) {
    return db_fill_table(db,
                         "SELECT s.name AS stage, p.name AS param, p.value FROM params p JOIN stages s ON s.id = p.stage_id "
                         "WHERE s.run_id = ?1 ORDER BY s.id, p.name",
                         &run_id, 1, t, err);
}

/* SQLite's min/max rule: the bare columns of a row come from the row holding max(step). */
#define LAST_STEP_METRICS(run_param)                                                                          \
    "SELECT s.name AS stage, m.subnet AS subnet, m.name AS metric, m.value AS value, max(m.step) AS step, "    \
    "count(*) AS steps, s.id AS stage_order FROM stages s JOIN metrics m ON m.stage_id = COALESCE(s.cached_from, s.id) " \
    "WHERE s.run_id = " run_param " GROUP BY s.id, m.subnet, m.name"

int db_run_metrics_table(Db *db, int64_t run_id, Table *t, Err *err) {
    return db_fill_table(db,
                         "SELECT stage, subnet, metric, value, step, steps FROM (" LAST_STEP_METRICS("?1") ") "
                         "ORDER BY stage_order, subnet, metric",
                         &run_id, 1, t, err);
}

int db_run_artifacts_table(Db *db, int64_t run_id, Table *t, Err *err) {
    return db_fill_table(db,
                         "SELECT s.name AS stage, a.name AS artifact, a.kind, a.size, a.hash, a.path "
                         "FROM stages s JOIN artifacts a ON a.stage_id = COALESCE(s.cached_from, s.id) "
                         "WHERE s.run_id = ?1 ORDER BY s.id, a.name",
                         &run_id, 1, t, err);
}

int db_run_counts_table(Db *db, int64_t run_id, Table *t, Err *err) {
    return db_fill_table(db,
                         "SELECT st.status, (SELECT count(*) FROM stages s WHERE s.run_id = ?1 AND s.status = st.status) AS count "
                         "FROM (SELECT 'FINISHED' AS status, 1 AS o UNION ALL SELECT 'CACHED', 2 UNION ALL SELECT 'RUNNING', 3 "
                         "UNION ALL SELECT 'QUEUED', 4 UNION ALL SELECT 'FAILED', 5 UNION ALL SELECT 'KILLED', 6 "
                         "UNION ALL SELECT 'SKIPPED', 7) st ORDER BY st.o",
                         &run_id, 1, t, err);
}

int db_compare_table(Db *db, int64_t run_a, int64_t run_b, Table *t, Err *err) {
    int64_t p[2] = {run_a, run_b};
    return db_fill_table(
        db,
        "WITH a AS (" LAST_STEP_METRICS("?1") "), b AS (" LAST_STEP_METRICS("?2") ") "
        "SELECT COALESCE(a.stage, b.stage) AS stage, COALESCE(a.subnet, b.subnet) AS subnet, "
        "COALESCE(a.metric, b.metric) AS metric, a.value AS a, b.value AS b, b.value - a.value AS delta, "
        "CASE WHEN a.value <> 0 THEN round(100.0 * (b.value - a.value) / abs(a.value), 2) END AS delta_pct "
        "FROM a FULL OUTER JOIN b ON a.stage = b.stage AND a.subnet IS b.subnet AND a.metric = b.metric "
        "ORDER BY COALESCE(a.stage_order, b.stage_order + 1e12), 1, 2, 3",
        p, 2, t, err);
}

int db_query_table(Db *db, const char *sql, Table *t, Err *err) {
    memset(t, 0, sizeof *t);
    sqlite3_stmt *st;
    const char *tail;
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, &tail) != SQLITE_OK) return db_fail(db, "query", err);
    if (!st) return err_set(err, "empty query");
    while (*tail && (isspace((unsigned char)*tail) || *tail == ';')) tail++;
    int rc = 0;
    if (*tail) rc = err_set(err, "one statement at a time (found more after '%.*s')", 40, sql);
    else if (!sqlite3_stmt_readonly(st))
        rc = err_set(err, "refused: only read-only statements (SELECT, WITH …, EXPLAIN) may run here, and this one writes");
    else rc = fill_from(db, st, t, err);
    sqlite3_finalize(st);
    if (rc) table_free(t);
    return rc;
}
