/* tests/unit/test_db_schema.c — the results database: schema creation and version, WAL and
 * foreign keys, migrations (applied once, newer databases refused), the runner's writes and cache
 * lookups (voided entries skipped), reaping runs whose runner died, read-only queries (writes
 * refused), and what `dynn fsck` asks: integrity problems, cache artifact rows, dead runs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <sqlite3.h>

#include "db/db.h"
#include "tests/unit/testutil.h"

static char *tmp;
static char db_path[512];

static int setup_each(void **state) {
    (void)state;
    tmp = tu_tmpdir();
    tu_path(db_path, sizeof db_path, tmp, "results.db");
    return 0;
}

static int teardown_each(void **state) {
    (void)state;
    tu_rmtree(tmp);
    free(tmp);
    return 0;
}

/* First cell of a query as text (NULL-safe), into out. */
static void query1(Db *db, const char *sql, char *out, size_t size) {
    Table t;
    Err err;
    if (db_query_table(db, sql, &t, &err)) fail_msg("%s: %s", sql, err.msg);
    const Cell *c = t.n_rows ? table_cell(&t, 0, 0) : NULL;
    snprintf(out, size, "%s", c && c->text ? c->text : "(null)");
    table_free(&t);
}

static void test_create_and_pragmas(void **state) {
    (void)state;
    Db *db;
    Err err;
    assert_int_equal(db_open(db_path, &db, &err), 0);
    int version;
    assert_int_equal(db_schema_version(db, &version, &err), 0);
    assert_int_equal(version, DB_SCHEMA_VERSION);
    char v[64];
    query1(db, "SELECT journal_mode FROM pragma_journal_mode", v, sizeof v);
    assert_string_equal(v, "wal");
    query1(db, "SELECT foreign_keys FROM pragma_foreign_keys", v, sizeof v);
    assert_string_equal(v, "1");
    query1(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", v, sizeof v);
    assert_string_equal(v, "11");
    db_close(db);
    /* opening again does not recreate anything */
    assert_int_equal(db_open(db_path, &db, &err), 0);
    db_close(db);
}

/* A database at schema version 4, made from that version's schema.sql (kept as tests/db/schema_v4.sql),
 * then changed by `then` (SQL run on the same connection). */
static void old_database(const char *then) {
    const char *root = getenv("DYNN_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/db/schema_v4.sql", root ? root : ".");
    size_t len;
    unsigned char *bytes = tu_read_file(path, &len);
    char *sql = bytes ? calloc(len + 1, 1) : NULL;
    if (!sql) fail_msg("cannot read %s", path);
    memcpy(sql, bytes, len);
    free(bytes);
    sqlite3 *h;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(db_path, &h), SQLITE_OK);
    if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK || sqlite3_exec(h, "PRAGMA user_version = 4", NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(h, then, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("building the old database: %s", msg ? msg : "?");
    sqlite3_close(h);
    free(sql);
}

/* A database made by schema version 2 (before the measurement columns of version 3) is migrated. */
static void test_migrate_v2_measurements(void **state) {
    (void)state;
    Db *db;
    Err err;
    Table t;
    old_database("ALTER TABLE measurements DROP COLUMN subnet_index; ALTER TABLE measurements DROP COLUMN macs;"
                 "ALTER TABLE measurements DROP COLUMN peak_rss_kib; ALTER TABLE measurements DROP COLUMN avg_power_w;"
                 "DROP TABLE cache_voided; PRAGMA user_version = 2");
    assert_int_equal(db_open(db_path, &db, &err), 0);
    int version;
    assert_int_equal(db_schema_version(db, &version, &err), 0);
    assert_int_equal(version, DB_SCHEMA_VERSION);
    assert_int_equal(db_query_table(db, "SELECT count(*) FROM pragma_table_info('measurements') WHERE name IN "
                                        "('subnet_index', 'macs', 'peak_rss_kib', 'avg_power_w')", &t, &err), 0);
    assert_string_equal(table_cell(&t, 0, 0)->text, "4");
    table_free(&t);
    db_close(db);
}

/* A version-3 database (before cache_voided) gains the table; its lookups work as before. */
static void test_migrate_v3_cache_voided(void **state) {
    (void)state;
    old_database("DROP TABLE cache_voided; PRAGMA user_version = 3;");
    Db *db;
    Err err;
    assert_int_equal(db_open(db_path, &db, &err), 0);
    int version;
    assert_int_equal(db_schema_version(db, &version, &err), 0);
    assert_int_equal(version, DB_SCHEMA_VERSION);
    char v[64];
    query1(db, "SELECT count(*) FROM pragma_table_info('cache_voided')", v, sizeof v);
    assert_string_equal(v, "3");
    db_close(db);
}

/* One text cell of a query on a plain connection (no migration): the old database as it was. */
static void raw_query1(const char *sql, char *out, size_t size) {
    sqlite3 *h;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(db_path, &h), SQLITE_OK);
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *v = sqlite3_column_text(st, 0);
    snprintf(out, size, "%s", v ? (const char *)v : "(null)");
    sqlite3_finalize(st);
    sqlite3_close(h);
}

/* Every column of the measurements (table before version 5, view after), row by row, as SQL literals. */
#define ALL_MEASUREMENTS                                                                                              \
    "SELECT group_concat(r, ' | ') FROM (SELECT quote(id)||','||quote(stage_id)||','||quote(platform)||','||"         \
    "quote(subnet)||','||quote(batch)||','||quote(threads)||','||quote(cpus)||','||quote(frequency_khz)||','||"       \
    "quote(energy_j)||','||quote(n_samples)||','||quote(subnet_index)||','||quote(macs)||','||quote(peak_rss_kib)||','||" \
    "quote(avg_power_w) AS r FROM measurements ORDER BY id)"

/* A version-4 database with measurements (condition columns set, NULL, empty) is migrated: every
 * condition becomes a row of `conditions` with its type, the view named measurements shows what the
 * table showed, the samples still belong to their measurements, and the run's data reads back. */
static void test_migrate_v4_conditions(void **state) {
    (void)state;
    old_database("INSERT INTO experiments VALUES (1, 'exp', 1000);"
                 "INSERT INTO runs (id, uuid, experiment_id, spec_path, spec_sha256, status, started_at, ended_at, git_commit, "
                 "git_dirty, host, cpu_model, compiler, cflags, dynn_version, build_id, seed, argv, pid, pid_start) VALUES (1, "
                 "'22222222-0000-4000-8000-000000000000', 1, 'e.yaml', '00', 'FINISHED', 1000, 1001, 'abc', 0, 'h', 'c', "
                 "'gcc', '-O2', '0.1', 'b', 1, 'dynn run', 1, 1);"
                 "INSERT INTO stages (id, run_id, name, stage, type, status, threads) VALUES (1, 1, 'prof', 'prof', "
                 "'profile', 'FINISHED', 1);"
                 "INSERT INTO measurements VALUES (1, 1, 'rpi4', 'w0.25', 4, 2, '0-1', 1200000, 0.5, 2, 0, 1000, 2048, 1.5);"
                 "INSERT INTO measurements VALUES (2, 1, 'local', 'w1.0', 1, 1, '3', NULL, NULL, 1, 1, 4000, NULL, NULL);"
                 "INSERT INTO measurements VALUES (3, 1, '', 'w1.0', NULL, NULL, NULL, NULL, NULL, 1, NULL, NULL, NULL, NULL);"
                 "INSERT INTO latency_samples VALUES (1, 0, 0.001), (1, 1, 0.002), (2, 0, 0.003), (3, 0, 0.004);");
    char before[2048], after[2048], v[1024];
    raw_query1(ALL_MEASUREMENTS, before, sizeof before);
    Db *db;
    Err err;
    if (db_open(db_path, &db, &err)) fail_msg("%s", err.msg);
    int version;
    assert_int_equal(db_schema_version(db, &version, &err), 0);
    assert_int_equal(version, DB_SCHEMA_VERSION); /* through version 5 to 6 (instructions) and 7 (CPU shares) */
    query1(db, ALL_MEASUREMENTS, after, sizeof after);
    assert_string_equal(after, before);
    assert_string_equal(after, "1,1,'rpi4','w0.25',4,2,'0-1',1200000,0.5,2,0,1000,2048,1.5 | 2,1,'local','w1.0',1,1,'3',NULL,NULL,1,1,"
                               "4000,NULL,NULL | 3,1,'','w1.0',NULL,NULL,NULL,NULL,NULL,1,NULL,NULL,NULL,NULL");
    query1(db, "SELECT group_concat(c, ' ') FROM (SELECT measurement_id||':'||key||'='||value||':'||typeof(value) AS c "
               "FROM conditions ORDER BY measurement_id, key)", v, sizeof v);
    assert_string_equal(v, "1:batch=4:integer 1:cpu_freq=1200000:integer 1:cpus=0-1:text 1:platform=rpi4:text 1:threads=2:integer "
                           "2:batch=1:integer 2:cpus=3:text 2:platform=local:text 2:threads=1:integer");
    query1(db, "SELECT count(*) FROM pragma_table_info('measurement_results') WHERE name IN ('platform', 'batch', 'threads', "
               "'cpus', 'frequency_khz')", v, sizeof v);
    assert_string_equal(v, "0");
    query1(db, "SELECT count(*) FROM pragma_foreign_key_check", v, sizeof v);
    assert_string_equal(v, "0");
    query1(db, "SELECT group_concat(m.platform||':'||l.latency_s, ' ') FROM latency_samples l JOIN measurements m ON "
               "m.id = l.measurement_id", v, sizeof v);
    assert_string_equal(v, "rpi4:0.001 rpi4:0.002 local:0.003 :0.004");
    RunData d;
    if (db_load_run_data(db, 1, NULL, &d, &err)) fail_msg("%s", err.msg);
    assert_int_equal(d.n_meas, 3);
    assert_string_equal(d.meas[0].platform, "rpi4");
    assert_int_equal(d.meas[0].batch, 4);
    assert_int_equal(d.meas[0].threads, 2);
    assert_string_equal(d.meas[0].cpus, "0-1");
    assert_int_equal(d.meas[0].frequency_khz, 1200000);
    assert_int_equal(d.meas[0].n_samples, 2);
    assert_int_equal(d.meas[1].frequency_khz, 0);
    assert_null(cond_get(&d.meas[2].cond, COND_PLATFORM));
    assert_string_equal(d.meas[2].platform, "");
    rundata_free(&d);
    /* the migrated database takes new measurements with any condition of the registry */
    MeasCondition pairs[] = {{"platform", "board"}, {"backend", "cpu"}, {"gpu_freq", "600000"}};
    double sample = 0.005;
    Measurement m = {.subnet = "w0.25", .energy_j = NAN, .latency_s = &sample, .n_latency = 1, .subnet_index = -1, .macs = -1,
                     .peak_rss_kib = -1, .avg_power_w = NAN, .conditions = pairs, .n_conditions = 3};
    assert_int_equal(db_begin(db, &err), 0);
    if (db_insert_measurement(db, 1, &m, &err)) fail_msg("%s", err.msg);
    assert_int_equal(db_commit(db, &err), 0);
    query1(db, "SELECT platform||'|'||quote(batch)||'|'||(SELECT group_concat(key||'='||value, ',') FROM conditions c WHERE "
               "c.measurement_id = m.id) FROM measurements m WHERE id = 4", v, sizeof v);
    assert_string_equal(v, "board|NULL|backend=cpu,gpu_freq=600000,platform=board");
    /* version 6: a counted measurement keeps its instructions; the others have none (NULL, -1 read back) */
    MeasCondition counted[] = {{"platform", "local"}, {"counter", "callgrind x86-64-v3"}};
    m.conditions = counted, m.n_conditions = 2, m.instructions = 178161;
    assert_int_equal(db_begin(db, &err), 0);
    if (db_insert_measurement(db, 1, &m, &err)) fail_msg("%s", err.msg);
    assert_int_equal(db_commit(db, &err), 0);
    query1(db, "SELECT group_concat(quote(instructions), ',') FROM measurement_results", v, sizeof v);
    assert_string_equal(v, "NULL,NULL,NULL,NULL,178161");
    if (db_load_run_data(db, 1, NULL, &d, &err)) fail_msg("%s", err.msg);
    assert_int_equal(d.n_meas, 5);
    assert_int_equal(d.meas[0].instructions, -1);
    assert_int_equal(d.meas[4].instructions, 178161);
    assert_string_equal(cond_get(&d.meas[4].cond, COND_COUNTER), "callgrind x86-64-v3");
    rundata_free(&d);
    /* version 7: a measurement's CPU shares and interference flag; older rows have none (NULL, flag 0) */
    MeasCondition shared[] = {{"platform", "local"}, {"omp_wait", "active"}};
    m.conditions = shared, m.n_conditions = 2, m.instructions = -1;
    m.cpu_share = 0.75, m.wait_share = 0.25, m.others_share = 0.5, m.attempts = 3, m.interference_flagged = 1;
    assert_int_equal(db_begin(db, &err), 0);
    if (db_insert_measurement(db, 1, &m, &err)) fail_msg("%s", err.msg);
    assert_int_equal(db_commit(db, &err), 0);
    query1(db, "SELECT group_concat(quote(cpu_share)||'/'||quote(wait_share)||'/'||quote(others_share)||'/'||quote(attempts)||'/'||"
               "interference_flagged, ',') FROM measurement_results", v, sizeof v);
    assert_string_equal(v, "NULL/NULL/NULL/NULL/0,NULL/NULL/NULL/NULL/0,NULL/NULL/NULL/NULL/0,0.0/0.0/0.0/NULL/0,"
                           "0.0/0.0/0.0/NULL/0,0.75/0.25/0.5/3/1");
    if (db_load_run_data(db, 1, NULL, &d, &err)) fail_msg("%s", err.msg);
    assert_int_equal(d.n_meas, 6);
    assert_int_equal(d.meas[0].interference_flagged, 0);
    assert_true(isnan(d.meas[0].cpu_share));
    assert_int_equal(d.meas[5].interference_flagged, 1);
    assert_int_equal(d.meas[5].attempts, 3);
    assert_true(d.meas[5].wait_share == 0.25 && d.meas[5].others_share == 0.5 && d.meas[5].cpu_share == 0.75);
    assert_string_equal(cond_get(&d.meas[5].cond, COND_OMP_WAIT), "active");
    rundata_free(&d);
    db_close(db);
}

static void test_migrations(void **state) {
    (void)state;
    Db *db;
    Err err;
    assert_int_equal(db_open(db_path, &db, &err), 0);
    db_close(db);
    const DbMigration next[] = {{DB_SCHEMA_VERSION + 1, "ALTER TABLE runs ADD COLUMN note TEXT;"}};
    assert_int_equal(db_open_versioned(db_path, next, 1, DB_SCHEMA_VERSION + 1, &db, &err), 0);
    int version;
    assert_int_equal(db_schema_version(db, &version, &err), 0);
    assert_int_equal(version, DB_SCHEMA_VERSION + 1);
    char v[64];
    query1(db, "SELECT count(*) FROM pragma_table_info('runs') WHERE name = 'note'", v, sizeof v);
    assert_string_equal(v, "1");
    db_close(db);
    /* applied once: reopening at the same version runs nothing (ALTER would fail the second time) */
    assert_int_equal(db_open_versioned(db_path, next, 1, DB_SCHEMA_VERSION + 1, &db, &err), 0);
    db_close(db);
    /* this dynn (version DB_SCHEMA_VERSION) refuses the newer database */
    assert_int_equal(db_open(db_path, &db, &err), -1);
    assert_non_null(strstr(err.msg, "is newer than this dynn understands"));
    /* a migration that fails leaves the version unchanged */
    const DbMigration broken[] = {{DB_SCHEMA_VERSION + 2, "ALTER TABLE nowhere ADD COLUMN x;"}};
    assert_int_equal(db_open_versioned(db_path, broken, 1, DB_SCHEMA_VERSION + 2, &db, &err), -1);
    assert_non_null(strstr(err.msg, "migrating to schema version"));
    assert_int_equal(db_open_versioned(db_path, next, 1, DB_SCHEMA_VERSION + 1, &db, &err), 0);
    assert_int_equal(db_schema_version(db, &version, &err), 0);
    assert_int_equal(version, DB_SCHEMA_VERSION + 1);
    db_close(db);
}

/* A version-1 database (before stage_needs and the measurement columns of version 3) is brought to the
 * current version by db_open. */
static void test_migrate_v1(void **state) {
    (void)state;
    old_database("DROP TABLE stage_needs; ALTER TABLE measurements DROP COLUMN subnet_index;"
                 "ALTER TABLE measurements DROP COLUMN macs; ALTER TABLE measurements DROP COLUMN peak_rss_kib;"
                 "ALTER TABLE measurements DROP COLUMN avg_power_w; DROP TABLE cache_voided;"
                 "PRAGMA user_version = 1;");
    Db *db;
    Err err;
    assert_int_equal(db_open_readonly(db_path, &db, &err), -1); /* read-only connections do not migrate */
    assert_non_null(strstr(err.msg, "schema version 1"));
    assert_int_equal(db_open(db_path, &db, &err), 0);
    int version;
    assert_int_equal(db_schema_version(db, &version, &err), 0);
    assert_int_equal(version, DB_SCHEMA_VERSION);
    char v[64];
    query1(db, "SELECT count(*) FROM sqlite_master WHERE name = 'stage_needs'", v, sizeof v);
    assert_string_equal(v, "1");
    query1(db, "SELECT count(*) FROM pragma_table_info('measurements') WHERE name = 'avg_power_w'", v, sizeof v);
    assert_string_equal(v, "1");
    db_close(db);
}

static DbRun sample_run(const char *uuid, long long pid) {
    return (DbRun){.uuid = uuid, .experiment = "exp", .spec_path = "exp.yaml", .spec_sha256 = "00", .started_at = 1000.0,
                   .git_commit = "abc", .git_dirty = 0, .host = "here", .cpu_model = "cpu", .compiler = "gcc", .cflags = "-O2",
                   .dynn_version = "0.1.0", .build_id = "0.1.0+abc", .seed = 1, .argv = "dynn run exp.yaml", .pid = pid,
                   .pid_start = 5};
}

/* One FINISHED stage with a metric and an artifact; returns its id. */
static int64_t finished_stage(Db *db, int64_t run, const char *name, const char *key, double ended) {
    Err err;
    int64_t sid;
    assert_int_equal(db_begin(db, &err), 0);
    assert_int_equal(db_insert_stage(db, run, name, name, "exec", 1, NULL, &sid, &err), 0);
    assert_int_equal(db_insert_param(db, sid, "cmd.0", "echo", &err), 0);
    assert_int_equal(db_insert_metric(db, sid, "acc", 0.5, NULL, 0, &err), 0);
    assert_int_equal(db_insert_metric(db, sid, "acc", 0.75, NULL, 1, &err), 0);
    assert_int_equal(db_insert_artifact(db, sid, "out.txt", "file", "ab12", "store/ab/12", 3, &err), 0);
    double samples[] = {0.001, 0.002};
    Measurement m = {.platform = "local", .subnet = "1.0", .batch = 1, .threads = 1, .energy_j = NAN, .latency_s = samples,
                     .n_latency = 2};
    assert_int_equal(db_insert_measurement(db, sid, &m, &err), 0);
    DbStageState s = {.status = "FINISHED", .key = key, .started_at = ended - 1, .ended_at = ended, .exit_code = 0};
    assert_int_equal(db_update_stage(db, sid, &s, &err), 0);
    assert_int_equal(db_commit(db, &err), 0);
    return sid;
}

static void test_writes_and_cache_lookup(void **state) {
    (void)state;
    Db *db;
    Err err;
    assert_int_equal(db_open(db_path, &db, &err), 0);
    int64_t run;
    DbRun r = sample_run("11111111-0000-4000-8000-000000000000", 1);
    assert_int_equal(db_begin(db, &err), 0);
    assert_int_equal(db_insert_run(db, &r, &run, &err), 0);
    assert_int_equal(db_commit(db, &err), 0);
    finished_stage(db, run, "a", "key1", 2000.0);
    int64_t newer = finished_stage(db, run, "b", "key1", 3000.0);
    int64_t sid;
    DbArtifact *arts;
    size_t n;
    assert_int_equal(db_find_cached(db, "key1", &sid, &arts, &n, &err), 1);
    assert_int_equal(sid, newer);
    assert_int_equal(n, 1);
    assert_string_equal(arts[0].path, "store/ab/12");
    db_artifacts_free(arts, n);
    assert_int_equal(db_find_cached(db, "other", &sid, &arts, &n, &err), 0);
    char v[64];
    query1(db, "SELECT count(*) FROM latency_samples", v, sizeof v);
    assert_string_equal(v, "4");
    query1(db, "SELECT energy_j IS NULL FROM measurements LIMIT 1", v, sizeof v);
    assert_string_equal(v, "1");
    /* the metrics table shows the last step of each series */
    Table t;
    assert_int_equal(db_run_metrics_table(db, run, &t, &err), 0);
    assert_int_equal(t.n_rows, 2);
    assert_string_equal(table_cell(&t, 0, 3)->text, "0.75");
    table_free(&t);
    /* foreign keys are enforced */
    assert_int_equal(db_insert_metric(db, 9999, "x", 1.0, NULL, 0, &err), -1);
    assert_non_null(strstr(err.msg, "FOREIGN KEY"));
    db_close(db);
}

static int nobody_alive(const char *host, long long pid, long long pid_start, void *ctx) {
    (void)host, (void)pid_start, (void)ctx;
    return pid == 2; /* run with pid 2 is "alive" */
}

/* A dead run (pid 1) with a QUEUED stage, a RUNNING one started at 1005 and one that ran 1002..1010, and a
 * live run (pid 2). */
static void dead_and_live_runs(Db *db, int64_t *dead, int64_t *running) {
    Err err;
    int64_t alive, queued, finished;
    DbRun r1 = sample_run("22222222-0000-4000-8000-000000000000", 1), r2 = sample_run("33333333-0000-4000-8000-000000000000", 2);
    assert_int_equal(db_begin(db, &err), 0);
    assert_int_equal(db_insert_run(db, &r1, dead, &err), 0);
    assert_int_equal(db_insert_run(db, &r2, &alive, &err), 0);
    assert_int_equal(db_insert_stage(db, *dead, "q", "q", "exec", 1, NULL, &queued, &err), 0);
    assert_int_equal(db_insert_stage(db, *dead, "r", "r", "exec", 1, NULL, running, &err), 0);
    assert_int_equal(db_insert_stage(db, *dead, "f", "f", "exec", 1, NULL, &finished, &err), 0);
    DbStageState s = {.status = "RUNNING", .started_at = 1005.0, .ended_at = NAN, .exit_code = DB_NO_EXIT_CODE};
    assert_int_equal(db_update_stage(db, *running, &s, &err), 0);
    s = (DbStageState){.status = "FINISHED", .started_at = 1002.0, .ended_at = 1010.0, .exit_code = 0};
    assert_int_equal(db_update_stage(db, finished, &s, &err), 0);
    assert_int_equal(db_commit(db, &err), 0);
}

static void test_reap_dead_runs(void **state) {
    (void)state;
    Db *db;
    Err err;
    assert_int_equal(db_open(db_path, &db, &err), 0);
    int64_t dead, running;
    dead_and_live_runs(db, &dead, &running);
    int reaped;
    assert_int_equal(db_reap_dead_runs(db, nobody_alive, NULL, &reaped, &err), 0);
    assert_int_equal(reaped, 1);
    char v[256];
    query1(db, "SELECT group_concat(status, ',') FROM (SELECT status FROM runs ORDER BY id)", v, sizeof v);
    assert_string_equal(v, "KILLED,RUNNING");
    query1(db, "SELECT group_concat(name || '=' || status, ',') FROM (SELECT * FROM stages ORDER BY id)", v, sizeof v);
    assert_string_equal(v, "q=SKIPPED,r=KILLED,f=FINISHED");
    /* the run ended at its last sign of life in the database (the latest stage time), not at its start */
    query1(db, "SELECT ended_at FROM runs WHERE status = 'KILLED'", v, sizeof v);
    assert_string_equal(v, "1010");
    /* the reaped stage says why, and ends there too */
    query1(db, "SELECT ended_at || ' ' || error FROM stages WHERE name = 'r'", v, sizeof v);
    assert_string_equal(v, "1010.0 the runner (pid 1) died while this stage ran; marked KILLED when the database was next opened");
    db_close(db);
}

/* What the runner's note says (pipeline/run_note.c) */
static void note_alive_until_1020(const char *uuid, DbRunEnd *end, void *ctx) {
    (void)ctx;
    if (!strcmp(uuid, "22222222-0000-4000-8000-000000000000")) end->last_alive = 1020.0;
}

static void note_disk_full(const char *uuid, DbRunEnd *end, void *ctx) {
    note_alive_until_1020(uuid, end, ctx);
    snprintf(end->status, sizeof end->status, "FAILED");
    snprintf(end->error, sizeof end->error, "results.db: committing: database or disk is full");
}

static void test_reap_with_note(void **state) {
    (void)state;
    Db *db;
    Err err;
    int64_t dead, running;
    int reaped;
    char v[256];
    assert_int_equal(db_open(db_path, &db, &err), 0);
    dead_and_live_runs(db, &dead, &running);
    /* a heartbeat later than anything in the database */
    assert_int_equal(db_reap_dead_runs_ex(db, nobody_alive, note_alive_until_1020, NULL, &reaped, &err), 0);
    assert_int_equal(reaped, 1);
    query1(db, "SELECT status || ' ' || ended_at FROM runs WHERE id = 1", v, sizeof v);
    assert_string_equal(v, "KILLED 1020.0");
    db_close(db);
    unlink(db_path);
    /* the end the runner could not record: the run FAILED, its running stage not recorded, with the cause */
    assert_int_equal(db_open(db_path, &db, &err), 0);
    dead_and_live_runs(db, &dead, &running);
    assert_int_equal(db_reap_dead_runs_ex(db, nobody_alive, note_disk_full, NULL, &reaped, &err), 0);
    query1(db, "SELECT status || ' ' || ended_at FROM runs WHERE id = 1", v, sizeof v);
    assert_string_equal(v, "FAILED 1020.0");
    query1(db, "SELECT status || ' ' || error FROM stages WHERE name = 'r'", v, sizeof v);
    assert_string_equal(v, "FAILED not recorded: the runner (pid 1) stopped: results.db: committing: database or disk is full");
    query1(db, "SELECT status FROM stages WHERE name = 'q'", v, sizeof v);
    assert_string_equal(v, "SKIPPED");
    db_close(db);
}

/* The newest FINISHED row of a key is the hit until it is voided; then the one before it. */
static void test_void_cache_entry(void **state) {
    (void)state;
    Db *db;
    Err err;
    assert_int_equal(db_open(db_path, &db, &err), 0);
    int64_t run, sid;
    DbRun r = sample_run("44444444-0000-4000-8000-000000000000", 1);
    assert_int_equal(db_begin(db, &err), 0);
    assert_int_equal(db_insert_run(db, &r, &run, &err), 0);
    assert_int_equal(db_commit(db, &err), 0);
    int64_t older = finished_stage(db, run, "a", "key1", 2000.0);
    int64_t newer = finished_stage(db, run, "b", "key1", 3000.0);
    DbCacheArtifact *rows;
    size_t n;
    assert_int_equal(db_cache_artifacts(db, &rows, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(rows[1].stage_id, newer);
    assert_string_equal(rows[1].run, "44444444-0000-4000-8000-000000000000");
    assert_string_equal(rows[1].stage, "b");
    assert_string_equal(rows[1].name, "out.txt");
    assert_string_equal(rows[1].hash, "ab12");
    assert_string_equal(rows[1].path, "store/ab/12");
    assert_int_equal(rows[1].size, 3);
    db_cache_artifacts_free(rows, n);
    assert_int_equal(db_void_cache_entry(db, newer, "store/ab/12 is not in the store", 4000.0, &err), 0);
    assert_int_equal(db_void_cache_entry(db, newer, "again", 5000.0, &err), 0); /* the first reason stays */
    DbArtifact *arts;
    assert_int_equal(db_find_cached(db, "key1", &sid, &arts, &n, &err), 1);
    assert_int_equal(sid, older);
    db_artifacts_free(arts, n);
    assert_int_equal(db_cache_artifacts(db, &rows, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].stage_id, older);
    db_cache_artifacts_free(rows, n);
    assert_int_equal(db_void_cache_entry(db, older, "bad", 4000.0, &err), 0);
    assert_int_equal(db_find_cached(db, "key1", &sid, &arts, &n, &err), 0);
    char v[128];
    query1(db, "SELECT group_concat(reason, '|') FROM (SELECT reason FROM cache_voided ORDER BY stage_id)", v, sizeof v);
    assert_string_equal(v, "bad|store/ab/12 is not in the store");
    query1(db, "SELECT count(*) FROM stages WHERE status = 'FINISHED'", v, sizeof v); /* rows stay */
    assert_string_equal(v, "2");
    db_close(db);
}

/* Dead runs are listed (not changed); SQLite's integrity and foreign-key checks come back as lines. */
static void test_fsck_checks(void **state) {
    (void)state;
    Db *db;
    Err err;
    assert_int_equal(db_open(db_path, &db, &err), 0);
    char **msgs = NULL;
    size_t n = 0;
    assert_int_equal(db_integrity_problems(db, &msgs, &n, &err), 0);
    assert_int_equal(n, 0);
    int64_t dead, alive, running;
    DbRun r1 = sample_run("55555555-0000-4000-8000-000000000000", 1), r2 = sample_run("66666666-0000-4000-8000-000000000000", 2);
    assert_int_equal(db_begin(db, &err), 0);
    assert_int_equal(db_insert_run(db, &r1, &dead, &err), 0);
    assert_int_equal(db_insert_run(db, &r2, &alive, &err), 0);
    DbStageState s = {.status = "RUNNING", .started_at = 1.0, .ended_at = NAN, .exit_code = DB_NO_EXIT_CODE};
    assert_int_equal(db_insert_stage(db, dead, "r", "r", "exec", 1, &s, &running, &err), 0);
    assert_int_equal(db_commit(db, &err), 0);
    DbDeadRun *runs;
    assert_int_equal(db_dead_runs(db, nobody_alive, NULL, &runs, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(runs[0].uuid, "55555555-0000-4000-8000-000000000000");
    assert_string_equal(runs[0].host, "here");
    assert_int_equal(runs[0].pid, 1);
    assert_int_equal(runs[0].n_running, 1);
    free(runs);
    char v[64];
    query1(db, "SELECT count(*) FROM runs WHERE status = 'RUNNING'", v, sizeof v);
    assert_string_equal(v, "2");
    db_close(db);
    /* a row whose parent is gone (written with foreign keys off, as a crash or a hand edit might) */
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db_path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "INSERT INTO metrics(stage_id, name, value) VALUES (4242, 'x', 1)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(db_open(db_path, &db, &err), 0);
    msgs = NULL, n = 0;
    assert_int_equal(db_integrity_problems(db, &msgs, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(msgs[0], "foreign_key_check: metrics row 1 refers to a missing row of stages");
    db_strings_free(msgs, n);
    db_close(db);
}

static void test_readonly_query(void **state) {
    (void)state;
    Db *db;
    Err err;
    assert_int_equal(db_open(db_path, &db, &err), 0);
    db_close(db);
    assert_int_equal(db_open_readonly(db_path, &db, &err), 0);
    Table t;
    assert_int_equal(db_query_table(db, "INSERT INTO experiments(name, created_at) VALUES ('x', 1)", &t, &err), -1);
    assert_non_null(strstr(err.msg, "refused: only read-only statements"));
    assert_int_equal(db_query_table(db, "DELETE FROM runs", &t, &err), -1);
    assert_int_equal(db_query_table(db, "DROP TABLE runs", &t, &err), -1);
    assert_int_equal(db_query_table(db, "SELECT 1; DELETE FROM runs", &t, &err), -1);
    assert_non_null(strstr(err.msg, "one statement at a time"));
    assert_int_equal(db_query_table(db, "SELEC 1", &t, &err), -1);
    assert_non_null(strstr(err.msg, "syntax error"));
    assert_int_equal(db_query_table(db, "SELECT 1 AS one, 'a' AS s, NULL AS n, 2.5 AS r;", &t, &err), 0);
    assert_int_equal(t.n_rows, 1);
    assert_string_equal(t.cols[0], "one");
    assert_int_equal(table_cell(&t, 0, 0)->type, CELL_INT);
    assert_int_equal(table_cell(&t, 0, 1)->type, CELL_TEXT);
    assert_int_equal(table_cell(&t, 0, 2)->type, CELL_NULL);
    assert_int_equal(table_cell(&t, 0, 3)->type, CELL_REAL);
    table_free(&t);
    db_close(db);
    char v[64];
    assert_int_equal(db_open(db_path, &db, &err), 0);
    query1(db, "SELECT count(*) FROM experiments", v, sizeof v);
    assert_string_equal(v, "0");
    db_close(db);
    tu_path(db_path, sizeof db_path, tmp, "absent.db");
    assert_int_equal(db_open_readonly(db_path, &db, &err), -1);
    assert_non_null(strstr(err.msg, "no results database here"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_pragmas, setup_each, teardown_each),
        cmocka_unit_test_setup_teardown(test_migrate_v2_measurements, setup_each, teardown_each),
        cmocka_unit_test_setup_teardown(test_migrate_v3_cache_voided, setup_each, teardown_each),
        cmocka_unit_test_setup_teardown(test_migrate_v4_conditions, setup_each, teardown_each),
        cmocka_unit_test_setup_teardown(test_migrations, setup_each, teardown_each),
        cmocka_unit_test_setup_teardown(test_migrate_v1, setup_each, teardown_each),
        cmocka_unit_test_setup_teardown(test_writes_and_cache_lookup, setup_each, teardown_each),
        cmocka_unit_test_setup_teardown(test_reap_dead_runs, setup_each, teardown_each),
        cmocka_unit_test_setup_teardown(test_void_cache_entry, setup_each, teardown_each),
        cmocka_unit_test_setup_teardown(test_fsck_checks, setup_each, teardown_each),
        cmocka_unit_test_setup_teardown(test_reap_with_note, setup_each, teardown_each),
        cmocka_unit_test_setup_teardown(test_readonly_query, setup_each, teardown_each),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
