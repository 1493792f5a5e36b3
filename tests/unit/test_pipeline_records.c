/* tests/unit/test_pipeline_records.c — records files written by a stage and read back by the runner
 * (escaping, measurements with every sample, failures, incomplete files) and the content-addressed
 * store (equal contents stored once, read-only objects, restore). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <sys/stat.h>

#include "pipeline/records.h"
#include "pipeline/store.h"
#include "util/fs.h"
#include "tests/unit/testutil.h"
#include "tests/unit/pipeline_testutil.h"

static void test_roundtrip(void **state) {
    (void)state;
    char path[512], out[512];
    tu_path(path, sizeof path, pt_tmp, "records");
    tu_path(out, sizeof out, pt_tmp, "model.bin");
    tu_write_file(out, "weights", 7);
    RecordWriter w;
    records_writer_init(&w, pt_tmp);
    RecordSink *s = &w.sink;
    Err err;
    assert_int_equal(s->metric(s, "acc", 0.9375, NULL, 0, &err), 0);
    assert_int_equal(s->metric(s, "odd\tname\\with\nbreaks", NAN, "0.50", 3, &err), 0);
    double samples[] = {0.001, 0.0015, 0.00125};
    Measurement m = {.platform = "local", .subnet = "1.00", .batch = 1, .threads = 2, .cpus = "0-1",
                     .frequency_khz = 2400000, .energy_j = 1.5, .latency_s = samples, .n_latency = 3};
    assert_int_equal(s->measurement(s, &m, &err), 0);
    assert_int_equal(s->artifact(s, "model", out, "checkpoint", &err), 0);
    s->exit_code = 0;
    assert_int_equal(records_writer_finish(&w, path, 1, NULL, &err), 0);
    records_writer_free(&w);

    Records r;
    assert_int_equal(records_read(path, &r, &err), 0);
    assert_true(r.ok);
    assert_int_equal(r.exit_code, 0);
    assert_int_equal(r.n_metrics, 2);
    assert_string_equal(r.metrics[0].name, "acc");
    assert_null(r.metrics[0].subnet);
    assert_true(r.metrics[0].value == 0.9375);
    assert_string_equal(r.metrics[1].name, "odd\tname\\with\nbreaks");
    assert_string_equal(r.metrics[1].subnet, "0.50");
    assert_true(isnan(r.metrics[1].value));
    assert_int_equal(r.metrics[1].step, 3);
    assert_int_equal(r.n_measurements, 1);
    const Measurement *got = &r.measurements[0].m;
    assert_string_equal(got->platform, "local");
    assert_string_equal(got->cpus, "0-1");
    assert_int_equal(got->frequency_khz, 2400000);
    assert_int_equal(got->n_latency, 3);
    assert_true(got->latency_s[1] == 0.0015);
    /* `measurement` (plugin API 1) reads no later field: they come back unknown */
    assert_int_equal(got->subnet_index, -1);
    assert_int_equal(got->macs, -1);
    assert_int_equal(got->peak_rss_kib, -1);
    assert_true(isnan(got->avg_power_w));
    assert_int_equal(r.n_artifacts, 1);
    /* sha256("weights") */
    assert_string_equal(r.artifacts[0].hash, "9a129038d9a00aed0cf6a7ea059ca50a813449061ab87848cf1a13eafdf33b2c");
    assert_string_equal(r.artifacts[0].path, "store/9a/129038d9a00aed0cf6a7ea059ca50a813449061ab87848cf1a13eafdf33b2c");
    assert_int_equal(r.artifacts[0].size, 7);
    assert_string_equal(r.artifacts[0].kind, "checkpoint");
    records_free(&r);
}

static void test_artifact_hash_and_store(void **state) {
    (void)state;
    char src[512], dest[512], path[512];
    tu_path(src, sizeof src, pt_tmp, "a.txt");
    tu_write_file(src, "abc", 3);
    char hash[SHA256_HEX_LEN + 1], rel[STORE_REL_MAX];
    uint64_t size;
    Err err;
    assert_int_equal(store_put(pt_tmp, src, hash, rel, &size, &err), 0);
    assert_string_equal(hash, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_string_equal(rel, "store/ba/7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(size, 3);
    StoreCheck c;
    assert_int_equal(store_check(pt_tmp, rel, 3, 0, &c), STORE_OK);
    assert_int_equal(store_check(pt_tmp, rel, 4, 0, &c), STORE_BAD); /* a row that disagrees on the size */
    store_abs(pt_tmp, rel, path, sizeof path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0444);
    /* the same content again: one object */
    tu_path(src, sizeof src, pt_tmp, "b.txt");
    tu_write_file(src, "abc", 3);
    char rel2[STORE_REL_MAX];
    assert_int_equal(store_put(pt_tmp, src, hash, rel2, &size, &err), 0);
    assert_string_equal(rel, rel2);
    char dir[512];
    tu_path(dir, sizeof dir, pt_tmp, "store/ba");
    assert_int_equal(tu_count_entries(dir), 1);
    /* restore into a new directory */
    tu_path(dest, sizeof dest, pt_tmp, "restored/sub/a.txt");
    assert_int_equal(store_restore(pt_tmp, rel, dest, &err), 0);
    size_t len;
    unsigned char *text = tu_read_file(dest, &len);
    assert_non_null(text);
    assert_int_equal(len, 3);
    assert_memory_equal(text, "abc", 3);
    free(text);
}

static void test_failed_and_incomplete(void **state) {
    (void)state;
    char path[512];
    tu_path(path, sizeof path, pt_tmp, "failed");
    RecordWriter w;
    records_writer_init(&w, pt_tmp);
    Err err;
    assert_int_equal(w.sink.metric(&w.sink, "partial", 1.0, NULL, 0, &err), 0);
    double samples[] = {0.25, 0.5};
    Measurement m = {.platform = "board", .subnet = "w0", .batch = 2, .threads = 1, .cpus = "4-7", .energy_j = NAN,
                     .latency_s = samples, .n_latency = 2, .subnet_index = 3, .macs = 1234, .peak_rss_kib = 99,
                     .avg_power_w = 2.5};
    assert_int_equal(w.sink.measurement_ex(&w.sink, &m, &err), 0);
    w.sink.exit_code = 3;
    assert_int_equal(records_writer_finish(&w, path, 0, "'x' exited with status 3", &err), 0);
    records_writer_free(&w);
    Records r;
    assert_int_equal(records_read(path, &r, &err), 0);
    assert_false(r.ok);
    assert_int_equal(r.exit_code, 3);
    assert_string_equal(r.error, "'x' exited with status 3");
    assert_int_equal(r.n_metrics, 0); /* a failed stage hands back no metrics or artifacts... */
    assert_int_equal(r.n_measurements, 1); /* ...but what it measured before failing */
    const Measurement *got = &r.measurements[0].m;
    assert_string_equal(got->platform, "board");
    assert_string_equal(got->cpus, "4-7");
    assert_int_equal(got->n_latency, 2);
    assert_true(got->latency_s[1] == 0.5);
    assert_int_equal(got->subnet_index, 3);
    assert_int_equal(got->macs, 1234);
    assert_int_equal(got->peak_rss_kib, 99);
    assert_true(got->avg_power_w == 2.5);
    assert_true(isnan(got->energy_j));
    records_free(&r);

    /* a stage killed while writing: no "end" line */
    const char *cut = "dynn-records 2\nmetric\tacc\t0.5\t\\N\t0\n";
    tu_write_file(path, cut, strlen(cut));
    assert_int_equal(records_read(path, &r, &err), -1);
    assert_non_null(strstr(err.msg, "incomplete records file"));
    tu_write_file(path, "", 0); /* never written */
    assert_int_equal(records_read(path, &r, &err), -1);
}

/* measurement_counted keeps the instructions of a counted point; measurement_conditions (built
 * before the field existed) does not read it; a version-2 file (no instructions field) still reads. */
static void test_counted_measurement(void **state) {
    (void)state;
    char path[512];
    tu_path(path, sizeof path, pt_tmp, "counted.rec");
    RecordWriter w;
    records_writer_init(&w, pt_tmp);
    RecordSink *s = &w.sink;
    Err err;
    double sample = 0.2;
    MeasCondition pairs[] = {{"batch", "1"}, {"counter", "callgrind x86-64-v3"}};
    Measurement m = {.subnet = "g1", .energy_j = NAN, .latency_s = &sample, .n_latency = 1, .subnet_index = 0, .macs = 10,
                     .peak_rss_kib = -1, .avg_power_w = NAN, .conditions = pairs, .n_conditions = 2, .instructions = 178161};
    assert_int_equal(s->measurement_counted(s, &m, &err), 0);
    assert_int_equal(s->measurement_conditions(s, &m, &err), 0);
    assert_int_equal(records_writer_finish(&w, path, 1, NULL, &err), 0);
    records_writer_free(&w);
    Records r;
    assert_int_equal(records_read(path, &r, &err), 0);
    assert_int_equal(r.n_measurements, 2);
    assert_int_equal(r.measurements[0].m.instructions, 178161);
    assert_string_equal(cond_get(&r.measurements[0].cond, COND_COUNTER), "callgrind x86-64-v3");
    assert_int_equal(r.measurements[1].m.instructions, -1);
    records_free(&r);
    const char *v2 = "dynn-records 2\nmeasurement\tg1\tnan\t1\t0.5\t0\t10\t-1\tnan\tbatch=4\nresult\tok\t0\t\nend\n";
    tu_write_file(path, v2, strlen(v2));
    assert_int_equal(records_read(path, &r, &err), 0);
    assert_int_equal(r.n_measurements, 1);
    assert_int_equal(r.measurements[0].m.instructions, -1);
    assert_string_equal(cond_get(&r.measurements[0].cond, COND_BATCH), "4");
    records_free(&r);
}

/* measurement_shared keeps a point's CPU shares, attempts and interference flag; measurement_counted
 * (built before the fields existed) does not read them (NaN, -1, 0 read back); a version-3 file (no
 * such fields) still reads. */
static void test_shared_measurement(void **state) {
    (void)state;
    char path[512];
    tu_path(path, sizeof path, pt_tmp, "shared.rec");
    RecordWriter w;
    records_writer_init(&w, pt_tmp);
    RecordSink *s = &w.sink;
    Err err;
    double sample = 0.2;
    MeasCondition pairs[] = {{"batch", "1"}, {"omp_wait", "active"}};
    Measurement m = {.subnet = "g1", .energy_j = NAN, .latency_s = &sample, .n_latency = 1, .subnet_index = 0, .macs = 10,
                     .peak_rss_kib = -1, .avg_power_w = NAN, .conditions = pairs, .n_conditions = 2, .instructions = -1,
                     .cpu_share = 0.625, .wait_share = 0.375, .others_share = 0.25, .attempts = 3, .interference_flagged = 1};
    assert_int_equal(s->measurement_shared(s, &m, &err), 0);
    assert_int_equal(s->measurement_counted(s, &m, &err), 0);
    assert_int_equal(records_writer_finish(&w, path, 1, NULL, &err), 0);
    records_writer_free(&w);
    Records r;
    assert_int_equal(records_read(path, &r, &err), 0);
    assert_int_equal(r.n_measurements, 2);
    const Measurement *a = &r.measurements[0].m, *b = &r.measurements[1].m;
    assert_true(a->cpu_share == 0.625 && a->wait_share == 0.375 && a->others_share == 0.25);
    assert_int_equal(a->attempts, 3);
    assert_int_equal(a->interference_flagged, 1);
    assert_string_equal(cond_get(&r.measurements[0].cond, COND_OMP_WAIT), "active");
    assert_true(isnan(b->cpu_share) && isnan(b->wait_share) && isnan(b->others_share));
    assert_int_equal(b->attempts, -1);
    assert_int_equal(b->interference_flagged, 0);
    records_free(&r);
    const char *v3 = "dynn-records 3\nmeasurement\tg1\tnan\t1\t0.5\t0\t10\t-1\tnan\t42\tbatch=4\nresult\tok\t0\t\nend\n";
    tu_write_file(path, v3, strlen(v3));
    assert_int_equal(records_read(path, &r, &err), 0);
    assert_int_equal(r.n_measurements, 1);
    assert_int_equal(r.measurements[0].m.instructions, 42);
    assert_true(isnan(r.measurements[0].m.cpu_share));
    assert_int_equal(r.measurements[0].m.interference_flagged, 0);
    assert_string_equal(cond_get(&r.measurements[0].cond, COND_BATCH), "4");
    records_free(&r);
}

/* The runner spoils the slot's old records before a stage starts; only the stage's complete
 * rewrite (first byte last) makes the file valid again. */
static void test_spoiled_and_overwritten(void **state) {
    (void)state;
    char path[512];
    tu_path(path, sizeof path, pt_tmp, "slot.rec");
    const char *old = "dynn-records 2\nmetric\told\t1\t\\N\t0\nresult\tok\t0\t\nend\n";
    Err err;
    assert_int_equal(fs_overwrite_file(path, old, strlen(old), &err), 0);
    Records r;
    assert_int_equal(records_read(path, &r, &err), 0);
    assert_string_equal(r.metrics[0].name, "old");
    records_free(&r);
    assert_int_equal(fs_spoil_first_byte(path, &err), 0);
    assert_int_equal(records_read(path, &r, &err), -1); /* the old stage's records no longer count */
    assert_non_null(strstr(err.msg, "not a records file"));
    const char *shorter = "dynn-records 2\nresult\tok\t0\t\nend\n";
    assert_int_equal(fs_overwrite_file(path, shorter, strlen(shorter), &err), 0);
    size_t len;
    unsigned char *text = tu_read_file(path, &len);
    assert_int_equal(len, strlen(shorter)); /* the longer old content is gone */
    free(text);
    assert_int_equal(records_read(path, &r, &err), 0);
    assert_int_equal(r.n_metrics, 0);
    records_free(&r);
    tu_path(path, sizeof path, pt_tmp, "new.rec");
    assert_int_equal(fs_spoil_first_byte(path, &err), 0); /* creates it */
    assert_int_equal(records_read(path, &r, &err), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counted_measurement),
        cmocka_unit_test(test_shared_measurement),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_artifact_hash_and_store),
        cmocka_unit_test(test_failed_and_incomplete),
        cmocka_unit_test(test_spoiled_and_overwritten),
    };
    return cmocka_run_group_tests(tests, pt_setup, pt_teardown);
}
