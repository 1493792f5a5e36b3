/* tests/unit/test_conditions.c — measurement conditions as one key/value set (db/conditions.h): the
 * registry, values checked by type, and a measurement with every key of the registry carried through
 * every place that stores conditions: profile JSON -> records file -> results database -> read back,
 * equal at each step. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>

#include "db/db.h"
#include "pipeline/records.h"
#include "platforms/profile_json.h"
#include "tests/unit/testutil.h"

/* A value for every key of the registry, valid for its type and different per key. */
static void every_key(Conditions *c) {
    Err err;
    for (int k = 0; k < COND_COUNT; k++) {
        char v[64];
        if (cond_keys[k].type == COND_INT) snprintf(v, sizeof v, "%lld", cond_keys[k].min + 1000 * (k + 1));
        else snprintf(v, sizeof v, "%s value\twith tab", cond_keys[k].name); /* escapes in the records file */
        if (cond_set(c, k, v, &err)) fail_msg("%s", err.msg);
    }
}

static void test_registry(void **state) {
    (void)state;
    static const char *const want[] = {"platform", "backend", "device", "batch", "cpus", "threads", "cpu_freq", "gpu_freq",
                                       "gpu_sm_clock", "gpu_mem_clock", "counter", "omp_wait"};
    assert_int_equal(COND_COUNT, sizeof want / sizeof *want);
    for (int k = 0; k < COND_COUNT; k++) {
        assert_string_equal(cond_keys[k].name, want[k]);
        assert_int_equal(cond_find(want[k]), k);
        assert_non_null(cond_keys[k].json);
        assert_true(cond_keys[k].description[0] != '\0');
        for (int j = 0; j < k; j++) assert_true(strcmp(cond_keys[j].json, cond_keys[k].json) != 0);
    }
    assert_int_equal(cond_find("voltage"), -1);
    assert_string_equal(cond_keys[COND_CPU_FREQ].unit, "kHz");
    assert_string_equal(cond_keys[COND_CPU_FREQ].json, "freq_khz"); /* the profile output's field since version 1 */
    Conditions c = {0};
    Err err;
    assert_int_equal(cond_set(&c, COND_BATCH, "0", &err), -1);
    assert_string_equal(err.msg, "'batch' must be an integer >= 1, not '0'");
    assert_int_equal(cond_set(&c, COND_THREADS, "4x", &err), -1);
    assert_int_equal(cond_set(&c, COND_BATCH, "+08", &err), 0);
    assert_string_equal(cond_get(&c, COND_BATCH), "8"); /* canonical */
    assert_null(cond_get(&c, COND_GPU_FREQ));           /* unset on CPUs */
    MeasCondition bad = {"voltage", "1"};
    assert_int_equal(cond_set_pairs(&c, &bad, 1, &err), -1);
    assert_non_null(strstr(err.msg, "unknown condition 'voltage' (known: platform, backend, device, batch, cpus, threads, "
                                    "cpu_freq, gpu_freq, gpu_sm_clock, gpu_mem_clock"));
    cond_free(&c);
}

/* Every key: JSON -> records -> database -> read back. */
static void test_round_trip(void **state) {
    (void)state;
    char *tmp = tu_tmpdir(), path[512], dbp[512];
    Err err;
    Conditions want = {0};
    every_key(&want);

    /* the profile output */
    ProfileReport r = {0};
    r.complete = 1;
    ProfilePoint *p = profile_report_add_point(&r, &err);
    assert_non_null(p);
    p->subnet = 0, p->macs = 10, p->params = 2, p->median_ms = 1, p->n_samples = 2, p->warmup = 1, p->repeat = 2, p->peak_rss_kib = 100;
    assert_int_equal(profile_report_str(&p->subnet_name, "w1", &err), 0);
    p->samples_ms = calloc(2, sizeof *p->samples_ms);
    p->samples_ms[0] = 1, p->samples_ms[1] = 2;
    assert_int_equal(cond_copy(&p->cond, &want, &err), 0);
    char *text = NULL;
    size_t len;
    FILE *fp = open_memstream(&text, &len);
    profile_json_write(&r, fp);
    fclose(fp);
    assert_non_null(strstr(text, "\"gpu_freq_khz\":8001"));
    ProfileReport back;
    if (profile_json_parse(text, len, "out", &back, &err)) fail_msg("%s\n%s", err.msg, text);
    assert_true(cond_equal(&back.points[0].cond, &want));

    /* the records file, through the sink a stage uses */
    MeasCondition pairs[COND_COUNT];
    size_t n = 0;
    for (int k = 0; k < COND_COUNT; k++) pairs[n++] = (MeasCondition){cond_keys[k].name, cond_get(&back.points[0].cond, k)};
    double lat[] = {0.001, 0.002};
    Measurement m = {.subnet = "w1", .energy_j = NAN, .latency_s = lat, .n_latency = 2, .subnet_index = 0, .macs = 10,
                     .peak_rss_kib = -1, .avg_power_w = NAN, .conditions = pairs, .n_conditions = n};
    RecordWriter w;
    records_writer_init(&w, tmp);
    if (w.sink.measurement_conditions(&w.sink, &m, &err)) fail_msg("%s", err.msg);
    tu_path(path, sizeof path, tmp, "stage.rec");
    assert_int_equal(records_writer_finish(&w, path, 1, NULL, &err), 0);
    records_writer_free(&w);
    Records rec;
    if (records_read(path, &rec, &err)) fail_msg("%s", err.msg);
    assert_int_equal(rec.n_measurements, 1);
    assert_true(cond_equal(&rec.measurements[0].cond, &want));

    /* the database */
    tu_path(dbp, sizeof dbp, tmp, "results.db");
    Db *db;
    if (db_open(dbp, &db, &err)) fail_msg("%s", err.msg);
    DbRun run = {.uuid = "33333333-0000-4000-8000-000000000000", .experiment = "e", .spec_path = "e.yaml", .spec_sha256 = "0",
                 .started_at = 1, .git_commit = "a", .host = "h", .cpu_model = "c", .compiler = "gcc", .cflags = "",
                 .dynn_version = "0", .build_id = "b", .argv = "dynn", .pid = 1, .pid_start = 1};
    DbStageState done = {.status = "FINISHED", .started_at = 1, .ended_at = 2, .exit_code = 0};
    int64_t run_id, stage_id;
    assert_int_equal(db_begin(db, &err), 0);
    assert_int_equal(db_insert_run(db, &run, &run_id, &err), 0);
    assert_int_equal(db_insert_stage(db, run_id, "prof", "prof", "profile", 1, &done, &stage_id, &err), 0);
    if (db_insert_measurement(db, stage_id, &rec.measurements[0].m, &err)) fail_msg("%s", err.msg);
    assert_int_equal(db_commit(db, &err), 0);
    RunData d;
    if (db_load_run_data(db, run_id, NULL, &d, &err)) fail_msg("%s", err.msg);
    assert_int_equal(d.n_meas, 1);
    assert_true(cond_equal(&d.meas[0].cond, &want));
    assert_string_equal(d.meas[0].platform, cond_get(&want, COND_PLATFORM));
    assert_int_equal(d.meas[0].batch, cond_get_int(&want, COND_BATCH, 0));
    assert_int_equal(d.meas[0].frequency_khz, cond_get_int(&want, COND_CPU_FREQ, 0));
    assert_int_equal(d.meas[0].n_samples, 2);
    /* INT keys are integers in SQL; one row per key */
    Table t;
    assert_int_equal(db_query_table(db, "SELECT count(*), sum(typeof(value) = 'integer') FROM conditions", &t, &err), 0);
    int n_int = 0;
    for (int k = 0; k < COND_COUNT; k++) n_int += cond_keys[k].type == COND_INT;
    assert_int_equal(n_int, 6); /* batch, threads, cpu_freq, gpu_freq, gpu_sm_clock, gpu_mem_clock */
    assert_int_equal(atoi(table_cell(&t, 0, 0)->text), COND_COUNT);
    assert_int_equal(atoi(table_cell(&t, 0, 1)->text), n_int);
    table_free(&t);
    rundata_free(&d);
    db_close(db);

    records_free(&rec);
    profile_report_free(&back);
    profile_report_free(&r);
    free(text);
    cond_free(&want);
    tu_rmtree(tmp);
    free(tmp);
}

/* Conditions that are not KEY=VALUE of a known key are refused with the line; bad JSON values with
 * the field. */
static void test_bad_conditions(void **state) {
    (void)state;
    char *tmp = tu_tmpdir(), path[512];
    tu_path(path, sizeof path, tmp, "bad.rec");
    static const char *const lines[] = {"measurement\tw\t1\t1\t0.1\t0\t1\t-1\tnan\tvoltage=3\n",
                                        "measurement\tw\t1\t1\t0.1\t0\t1\t-1\tnan\tbatch=0\n",
                                        "measurement\tw\t1\t1\t0.1\t0\t1\t-1\tnan\tbatch=2\tbatch=3\n",
                                        "measurement\tw\t1\t1\t0.1\t0\t1\t-1\tnan\tcpus\n"};
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        char text[256];
        snprintf(text, sizeof text, "dynn-records 2\n%sresult\tok\t0\t\nend\n", lines[i]);
        tu_write_file(path, text, strlen(text));
        Records r;
        Err err;
        assert_int_equal(records_read(path, &r, &err), -1);
        assert_non_null(strstr(err.msg, "bad.rec:2: a measurement's condition is not KEY=VALUE"));
    }
    const char *json = "{\"format\":\"dynn-profile\",\"version\":1,\"results\":[{\"subnet\":0,\"subnet_name\":\"w\","
                       "\"macs\":1,\"params\":2,\"batch\":1,\"cpus\":\"0\",\"threads\":1,\"freq_khz\":null,"
                       "\"gpu_freq_khz\":-5,\"samples_ms\":[1],\"median_ms\":1,\"energy_j\":null,\"avg_power_w\":null}]}";
    ProfileReport r;
    Err err;
    assert_int_equal(profile_json_parse(json, strlen(json), "out", &r, &err), -1);
    assert_string_equal(err.msg, "out: result 0: 'gpu_freq_khz' must be an integer >= 1, not -5");
    tu_rmtree(tmp);
    free(tmp);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_conditions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
