/* tests/unit/test_profile_report.c — the profile output's one struct both ways (platforms/
 * profile_json.c): a report written and read back is the same report, field by field, and writes
 * the same bytes again; null and absent values keep their meaning. And the profiling option table
 * (platforms/profile_options.c): every default passes its own check, flags and stage params find
 * the same entries, lists are checked whole, --help shows the ranges. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platforms/profile_json.h"
#include "platforms/profile_options.h"

/* A profile point's condition K (db/conditions.h): as an integer (0 when unset), as text (NULL). */
#define PT_INT(p, K) cond_get_int(&(p)->cond, COND_##K, 0)
#define PT_TEXT(p, K) cond_get(&(p)->cond, COND_##K)

static char *written(const ProfileReport *r, size_t *len) {
    char *buf = NULL;
    FILE *fp = open_memstream(&buf, len);
    assert_non_null(fp);
    profile_json_write(r, fp);
    fclose(fp);
    return buf;
}

static void set(char **field, const char *s) {
    Err err;
    assert_int_equal(profile_report_str(field, s, &err), 0);
}

static void assert_same_string(const char *a, const char *b) {
    if (!a || !b) assert_ptr_equal(a, b);
    else assert_string_equal(a, b);
}

static void assert_same_number(double a, double b) {
    if (isnan(a)) assert_true(isnan(b));
    else assert_true(a == b);
}

static void test_round_trip(void **state) {
    (void)state;
    ProfileReport r = {0};
    Err err;
    r.complete = 0;
    set(&r.model, "/tmp/\"m\".dnn");
    set(&r.model_crc32, "3b3b6920");
    set(&r.host_name, "vm");
    set(&r.host_arch, "aarch64");
    set(&r.host_cpu_model, "Cortex-A72");
    r.host_ncpus = 4;
    set(&r.build, "0.1.0+abc -O3");
    r.dvfs_available = 1;
    set(&r.dvfs_reason, "");
    set(&r.dvfs_sysfs_root, "/sys");
    set(&r.dvfs_method, "userspace");
    r.policies = calloc(2, sizeof *r.policies);
    r.n_policies = 2;
    r.policies[0].cpu = 0;
    r.policies[1].cpu = 4;
    r.policies[1].khz = calloc(2, sizeof(long long));
    r.policies[1].khz[0] = 200000, r.policies[1].khz[1] = 2000000, r.policies[1].n_khz = 2;
    r.energy_available = 1;
    set(&r.energy_reason, "");
    r.sensors = calloc(1, sizeof *r.sensors);
    r.n_sensors = 1;
    set(&r.sensors[0].name, "a15");
    set(&r.sensors[0].kind, "ina231");
    set(&r.sensors[0].path, "/sys/bus/i2c/drivers/INA231/3-0040/sensor_W");
    for (int i = 0; i < 2; i++) {
        ProfilePoint *p = profile_report_add_point(&r, &err);
        assert_non_null(p);
        p->subnet = i;
        set(&p->subnet_name, i ? "w1.00" : "w0.25");
        p->macs = 1960160 + i, p->params = 17462 + i;
        assert_int_equal(cond_set_int(&p->cond, COND_BATCH, 1 + 7 * i, &err), 0);
        assert_int_equal(cond_set_int(&p->cond, COND_THREADS, 2, &err), 0);
        assert_int_equal(cond_set(&p->cond, COND_CPUS, "0-1", &err), 0);
        set(&p->cpus_seen, "0-1");
        if (i) assert_int_equal(cond_set_int(&p->cond, COND_CPU_FREQ, 1400000, &err), 0); /* point 0: not set */
        assert_int_equal(cond_set(&p->cond, COND_BACKEND, "cpu", &err), 0);
        assert_int_equal(cond_set(&p->cond, COND_DEVICE, "x86_64", &err), 0);
        p->warmup = 3, p->repeat = 10, p->min_time_ms = 0.100000001;
        p->n_samples = 3;
        p->samples_ms = calloc(3, sizeof(double));
        p->samples_ms[0] = 0.166, p->samples_ms[1] = 0.3333333333, p->samples_ms[2] = 1e-7;
        p->median_ms = 0.166, p->p90_ms = 0.3, p->p99_ms = 0.33, p->mean_ms = 0.17, p->stddev_ms = 0.02;
        p->min_ms = 1e-7, p->max_ms = 0.3333333333, p->peak_rss_kib = 15360;
        p->energy_j = i ? 0.25 : NAN;
        p->avg_power_w = i ? 2.5 : NAN;
    }
    size_t len, len2;
    char *text = written(&r, &len);
    ProfileReport b;
    if (profile_json_parse(text, len, "out", &b, &err)) fail_msg("%s\n%s", err.msg, text);
    assert_int_equal(b.complete, 0);
    assert_same_string(b.model, r.model);
    assert_same_string(b.model_crc32, r.model_crc32);
    assert_same_string(b.host_name, r.host_name);
    assert_same_string(b.host_arch, r.host_arch);
    assert_same_string(b.host_cpu_model, r.host_cpu_model);
    assert_int_equal(b.host_ncpus, 4);
    assert_same_string(b.build, r.build);
    assert_int_equal(b.dvfs_available, 1);
    assert_same_string(b.dvfs_method, "userspace");
    assert_same_string(b.dvfs_sysfs_root, "/sys");
    assert_int_equal(b.n_policies, 2);
    assert_int_equal(b.policies[1].cpu, 4);
    assert_int_equal(b.policies[1].n_khz, 2);
    assert_int_equal(b.policies[1].khz[1], 2000000);
    assert_int_equal(b.energy_available, 1);
    assert_int_equal(b.n_sensors, 1);
    assert_same_string(b.sensors[0].kind, "ina231");
    assert_same_string(b.sensors[0].path, r.sensors[0].path);
    assert_int_equal(b.n_points, 2);
    for (size_t i = 0; i < 2; i++) {
        const ProfilePoint *p = &r.points[i], *q = &b.points[i];
        assert_int_equal(q->subnet, p->subnet);
        assert_same_string(q->subnet_name, p->subnet_name);
        assert_int_equal(q->macs, p->macs);
        assert_int_equal(q->params, p->params);
        assert_int_equal(PT_INT(q, BATCH), PT_INT(p, BATCH));
        assert_int_equal(PT_INT(q, THREADS), PT_INT(p, THREADS));
        assert_same_string(PT_TEXT(q, CPUS), PT_TEXT(p, CPUS));
        assert_same_string(q->cpus_seen, p->cpus_seen);
        assert_int_equal(PT_INT(q, CPU_FREQ), PT_INT(p, CPU_FREQ));
        assert_same_string(PT_TEXT(q, BACKEND), PT_TEXT(p, BACKEND));
        assert_same_string(PT_TEXT(q, DEVICE), PT_TEXT(p, DEVICE));
        assert_int_equal(q->warmup, p->warmup);
        assert_int_equal(q->repeat, p->repeat);
        assert_int_equal(q->n_samples, p->n_samples);
        for (size_t k = 0; k < p->n_samples; k++) assert_same_number(q->samples_ms[k], p->samples_ms[k]);
        const double *a = &p->min_time_ms, *c = &q->min_time_ms;
        assert_same_number(*a, *c);
        assert_same_number(q->median_ms, p->median_ms);
        assert_same_number(q->p90_ms, p->p90_ms);
        assert_same_number(q->p99_ms, p->p99_ms);
        assert_same_number(q->mean_ms, p->mean_ms);
        assert_same_number(q->stddev_ms, p->stddev_ms);
        assert_same_number(q->min_ms, p->min_ms);
        assert_same_number(q->max_ms, p->max_ms);
        assert_int_equal(q->peak_rss_kib, p->peak_rss_kib);
        assert_same_number(q->energy_j, p->energy_j);
        assert_same_number(q->avg_power_w, p->avg_power_w);
    }
    char *again = written(&b, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(text, again, len); /* one struct: what is read writes the same bytes (numbers as %.10g, util/json_out.c) */
    assert_non_null(strstr(text, "\"freq_khz\":null")); /* 0 kHz: not set */
    assert_non_null(strstr(text, "\"energy_j\":null"));
    free(text);
    free(again);
    profile_report_drop_last(&b);
    assert_int_equal(b.n_points, 1);
    profile_report_free(&b);
    profile_report_free(&r);
    assert_null(r.points);
}

/* Output of a dynn before backend, device and the optional statistics: read, absent as documented. */
static void test_older_output(void **state) {
    (void)state;
    const char *text = "{\"format\":\"dynn-profile\",\"version\":1,\"results\":[{\"subnet\":0,\"subnet_name\":\"w\","
                       "\"macs\":1,\"params\":2,\"batch\":1,\"cpus\":\"0\",\"threads\":1,\"freq_khz\":null,"
                       "\"samples_ms\":[1],\"median_ms\":1,\"energy_j\":null,\"avg_power_w\":null}]}";
    ProfileReport r;
    Err err;
    if (profile_json_parse(text, strlen(text), "out", &r, &err)) fail_msg("%s", err.msg);
    assert_true(r.complete);
    assert_null(r.model_crc32);
    assert_null(PT_TEXT(&r.points[0], BACKEND));
    assert_null(r.points[0].cpus_seen);
    assert_int_equal(r.points[0].warmup, -1);
    assert_int_equal(r.points[0].peak_rss_kib, -1);
    assert_true(isnan(r.points[0].p90_ms));
    profile_report_free(&r);
    /* present optional fields must be valid */
    const char *bad = "{\"format\":\"dynn-profile\",\"version\":1,\"results\":[{\"subnet\":0,\"subnet_name\":\"w\","
                      "\"macs\":1,\"params\":2,\"batch\":1,\"cpus\":\"0\",\"threads\":1,\"freq_khz\":null,"
                      "\"samples_ms\":[1],\"median_ms\":1,\"energy_j\":null,\"avg_power_w\":null,\"repeat\":\"ten\"}]}";
    assert_int_equal(profile_json_parse(bad, strlen(bad), "out", &r, &err), -1);
    assert_string_equal(err.msg, "out: result 0: 'repeat' must be a number, not 'ten'");
}

static void test_option_table(void **state) {
    (void)state;
    size_t n;
    const ProfileOption *opts = profile_options(&n);
    Err err;
    for (size_t i = 0; i < n; i++) { /* every default passes its own check */
        if (opts[i].dflt && profile_option_check(&opts[i], opts[i].dflt, opts[i].name, &err))
            fail_msg("default of %s: %s", opts[i].name, err.msg);
        if (opts[i].param) assert_ptr_equal(profile_option_param(opts[i].param), &opts[i]);
        assert_ptr_equal(profile_option_find(opts[i].name), &opts[i]);
    }
    ProfileSettings s;
    unsetenv("DYNN_SYSFS_ROOT");
    profile_settings_defaults(&s);
    assert_string_equal(s.batch, "1");
    assert_string_equal(s.subnets, "all");
    assert_string_equal(s.backend, "cpu");
    assert_string_equal(s.sysfs_root, "/sys");
    assert_int_equal(s.warmup, 3);
    assert_int_equal(s.repeat, 10);
    assert_true(s.min_time_ms == 200 && s.sample_ms == 2);
    assert_int_equal(s.seed, 1);
    setenv("DYNN_SYSFS_ROOT", "/fake", 1);
    profile_settings_defaults(&s);
    assert_string_equal(s.sysfs_root, "/fake");
    unsetenv("DYNN_SYSFS_ROOT");
    const ProfileOption *batch = profile_option_param("batch"), *freq = profile_option_param("frequencies_khz");
    assert_ptr_equal(freq, profile_option_find("freq"));
    static const struct {
        const ProfileOption *o;
        const char *value, *msg;
    } bad[] = {
        {NULL, "1,,2", "x: '1,,2' has an empty value (a comma-separated list)"},
        {NULL, ",1", "x: ',1' has an empty value (a comma-separated list)"},
        {NULL, "1,65537", "x: 65537 is out of range 1..65536"},
        {NULL, "8,1,8", "x: 8 is listed twice"},
        {NULL, "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,"
               "38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65",
         "x: more than 64 values"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(profile_option_check(batch, bad[i].value, "x", &err), -1);
        assert_string_equal(err.msg, bad[i].msg);
    }
    assert_int_equal(profile_option_check(freq, "min,max,1400000", "--freq", &err), 0);
    assert_int_equal(profile_option_check(freq, "max,max", "--freq", &err), -1);
    assert_string_equal(err.msg, "--freq: max is listed twice");
    assert_int_equal(profile_option_check(freq, "fast", "--freq", &err), -1);
    assert_string_equal(err.msg, "--freq: 'fast' is not a frequency in kHz, all, min or max");
    int ints[PROFILE_MAX_LIST];
    assert_int_equal(profile_option_ints("1,128,65536", ints), 3);
    assert_true(ints[0] == 1 && ints[1] == 128 && ints[2] == 65536);
    char help[8192];
    profile_options_help(help, sizeof help);
    assert_non_null(strstr(help, "  --batch LIST        batch sizes, e.g. 1,128 (1; each 1..65536)\n"));
    assert_non_null(strstr(help, "  --min-time-ms MS    "));
    assert_non_null(strstr(help, "(200; 0..3600000)\n"));
    assert_non_null(strstr(help, "(/sys; env DYNN_SYSFS_ROOT)\n"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_older_output),
        cmocka_unit_test(test_option_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
