/* tests/unit/test_energy.c — energy from fake sensor files with known values: the unit of each
 * sensor kind, trapezoid integration and RAPL counter differences driven by a fake clock, a RAPL
 * wrap at max_energy_range_uj, the sampling thread on a constant 2.5 W sensor (energy = 2.5 W x
 * the sampled interval, exactly) and on a step from 1 W to 3 W (error bounded by the step times
 * the longest gap between samples), RAPL discovery, sensor errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "platforms/energy.h"
#include "tests/unit/testutil.h"

/* Replaces ROOT/rel atomically (a sampler never sees a half-written file), creating directories. */
static void put(const char *root, const char *rel, const char *text) {
    char path[1024], tmp[1100], cmd[1200];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
    assert_int_equal(system(cmd), 0);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    tu_write_file(tmp, text, strlen(text));
    assert_int_equal(rename(tmp, path), 0);
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_units(void **state) {
    const char *root = *state;
    put(root, "class/hwmon/hwmon0/power1_input", "2500000\n");
    put(root, "bus/i2c/drivers/INA231/3-0040/sensor_W", "2.500000\n");
    put(root, "bus/i2c/drivers/ina3221x/0-0040/iio:device0/in_power0_input", "2500\n");
    EnergySensors es = {0};
    Err err;
    assert_int_equal(energy_add_sensor(&es, root, "h", SENSOR_HWMON, "/sys/class/hwmon/hwmon0/power1_input", 1.0, &err), 0);
    assert_int_equal(energy_add_sensor(&es, root, "i", SENSOR_INA231, "/sys/bus/i2c/drivers/INA231/3-0040/sensor_W", 1.0, &err), 0);
    assert_int_equal(energy_add_sensor(&es, root, "j", SENSOR_INA3221,
                                       "bus/i2c/drivers/ina3221x/0-0040/iio:device0/in_power0_input", 2.0, &err), 0);
    double w;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(power_sensor_read(&es.s[i], &w, NULL, &err), 0);
        assert_true(fabs(w - (i == 2 ? 5.0 : 2.5)) < 1e-12); /* the last one has scale 2 */
    }
    char expect[1024];
    snprintf(expect, sizeof expect, "%s/class/hwmon/hwmon0/power1_input", root);
    assert_string_equal(es.s[0].path, expect);
    /* errors name the sensor and the file */
    assert_int_equal(energy_add_sensor(&es, root, "gone", SENSOR_HWMON, "/sys/class/hwmon/hwmon9/power1_input", 1.0, &err), -1);
    assert_non_null(strstr(err.msg, "sensor 'gone'"));
    assert_non_null(strstr(err.msg, "hwmon9/power1_input"));
    put(root, "class/hwmon/hwmon1/power1_input", "n/a\n");
    assert_int_equal(energy_add_sensor(&es, root, "bad", SENSOR_HWMON, "/sys/class/hwmon/hwmon1/power1_input", 1.0, &err), -1);
    assert_non_null(strstr(err.msg, "not a number"));
    put(root, "class/powercap/x/energy_uj", "5\n"); /* no max_energy_range_uj beside it */
    assert_int_equal(energy_add_sensor(&es, root, "r", SENSOR_RAPL, "/sys/class/powercap/x/energy_uj", 1.0, &err), -1);
    assert_non_null(strstr(err.msg, "max_energy_range_uj"));
    assert_int_equal(es.n, 3);
    SensorKind k;
    assert_int_equal(energy_sensor_kind("rapl", &k), 0);
    assert_int_equal(k, SENSOR_RAPL);
    assert_int_equal(energy_sensor_kind("ina226", &k), -1);
}

static void test_trapezoid_fake_clock(void **state) {
    const char *root = *state;
    put(root, "s/sensor_W", "2.0\n");
    EnergySensors es = {0};
    Err err;
    assert_int_equal(energy_add_sensor(&es, root, "a15", SENSOR_INA231, "s/sensor_W", 1.0, &err), 0);
    EnergyMeter m;
    energy_meter_begin(&m, &es);
    assert_int_equal(energy_meter_sample(&m, 10.0, &err), 0);
    put(root, "s/sensor_W", "4.0\n");
    assert_int_equal(energy_meter_sample(&m, 11.0, &err), 0); /* (2 + 4) / 2 x 1 s */
    assert_true(fabs(m.joules - 3.0) < 1e-12);
    assert_int_equal(energy_meter_sample(&m, 13.0, &err), 0); /* + 4 W x 2 s */
    assert_true(fabs(m.joules - 11.0) < 1e-12);
    assert_true(fabs(energy_meter_seconds(&m) - 3.0) < 1e-12);
    assert_true(fabs(m.max_gap_s - 2.0) < 1e-12);
}

static void test_rapl_wrap(void **state) {
    const char *root = *state;
    assert_int_equal(rapl_delta_uj(100, 350, 1000), 250);
    assert_int_equal(rapl_delta_uj(900, 100, 1000), 200); /* wrapped once at 1000 */
    put(root, "class/powercap/intel-rapl:0/energy_uj", "262142000000\n");
    put(root, "class/powercap/intel-rapl:0/max_energy_range_uj", "262143328850\n");
    put(root, "class/powercap/intel-rapl:0/name", "package-0\n");
    put(root, "class/powercap/intel-rapl:0/intel-rapl:0:0/energy_uj", "1\n");
    put(root, "class/powercap/intel-rapl:0:0/energy_uj", "1\n"); /* a subdomain link: not added */
    put(root, "class/powercap/intel-rapl:0:0/max_energy_range_uj", "100\n");
    EnergySensors es = {0};
    assert_int_equal(energy_add_rapl_domains(&es, root), 1);
    assert_string_equal(es.s[0].name, "intel-rapl:0");
    assert_int_equal(es.s[0].range_uj, 262143328850ULL);
    EnergyMeter m;
    Err err;
    energy_meter_begin(&m, &es);
    assert_int_equal(energy_meter_sample(&m, 0.0, &err), 0);
    put(root, "class/powercap/intel-rapl:0/energy_uj", "262143000000\n");
    assert_int_equal(energy_meter_sample(&m, 0.5, &err), 0); /* +1.0 J */
    put(root, "class/powercap/intel-rapl:0/energy_uj", "671150\n");
    assert_int_equal(energy_meter_sample(&m, 1.0, &err), 0); /* wraps: +0.32885 J to the range, +0.67115 J after */
    assert_true(fabs(m.joules - 2.0) < 1e-9);
}

static void test_thread_constant_power(void **state) {
    const char *root = *state;
    put(root, "bus/i2c/drivers/INA231/3-0040/sensor_W", "2.5\n");
    EnergySensors es = {0};
    Err err;
    assert_int_equal(energy_add_sensor(&es, root, "a15", SENSOR_INA231, "/sys/bus/i2c/drivers/INA231/3-0040/sensor_W", 1.0, &err), 0);
    EnergyMeter m;
    double t0 = energy_now();
    assert_int_equal(energy_meter_start(&m, &es, 0.001, NULL, &err), 0);
    sleep_ms(60);
    /* on a loaded machine the sampler may start late: wait (up to 5 s) for one sample of its own */
    for (int i = 0; i < 500 && __atomic_load_n(&m.n_samples, __ATOMIC_SEQ_CST) < 2; i++) sleep_ms(10);
    assert_int_equal(energy_meter_stop(&m, &err), 0);
    double t1 = energy_now();
    double secs = energy_meter_seconds(&m);
    assert_true(m.n_samples >= 3);             /* the start, the stop and at least one thread sample */
    assert_true(secs > 0.055 && secs <= t1 - t0); /* the interval covers the sleep, nothing outside */
    assert_true(fabs(m.joules - 2.5 * secs) < 1e-9); /* constant power: exact */
}

static void test_thread_power_step(void **state) {
    const char *root = *state;
    put(root, "p/power1_input", "1000000\n"); /* 1 W */
    EnergySensors es = {0};
    Err err;
    assert_int_equal(energy_add_sensor(&es, root, "board", SENSOR_HWMON, "p/power1_input", 1.0, &err), 0);
    EnergyMeter m;
    assert_int_equal(energy_meter_start(&m, &es, 0.002, NULL, &err), 0);
    sleep_ms(40);
    double s0 = energy_now();
    put(root, "p/power1_input", "3000000\n"); /* 3 W from some time in [s0, s1] */
    double s1 = energy_now();
    sleep_ms(40);
    assert_int_equal(energy_meter_stop(&m, &err), 0);
    double lo = 1.0 * (s0 - m.t_first) + 3.0 * (m.t_last - s0) - 2.0 * (s1 - s0); /* switch at s1 */
    double hi = 1.0 * (s0 - m.t_first) + 3.0 * (m.t_last - s0);                   /* switch at s0 */
    /* The step falls inside one trapezoid (error <= 2 W x gap / 2), and a sample's value may be read
     * up to one gap after its time stamp if the sampler is preempted (<= 2 W x gap more). */
    double tol = 3.0 * m.max_gap_s;
    assert_true(m.joules >= lo - tol && m.joules <= hi + tol);
    double avg = m.joules / energy_meter_seconds(&m);
    assert_true(avg > 1.0 && avg < 3.0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_units, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_trapezoid_fake_clock, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_rapl_wrap, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_thread_constant_power, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_thread_power_step, tu_setup_tmpdir, tu_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
