/* tests/unit/test_platform_file.c — platform descriptions (experiments/platforms/NAME.yaml): clusters
 * as CPU sets, frequencies per cluster, sensors with kinds and scales; mistakes answered with
 * file:line:col. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platforms/platform_file.h"
#include "tests/unit/testutil.h"

static const char *XU3 =
    "name: odroid-xu3\n"
    "arch: armv7l\n"
    "clusters: {little: \"0-3\", big: \"4-7\"}\n"
    "frequencies_khz:\n"
    "  little: [200000, 1400000]\n"
    "  big: [200000, 1000000, 2000000]\n"
    "sensors:\n"
    "  - {name: a15, kind: ina231, path: /sys/bus/i2c/drivers/INA231/3-0040/sensor_W, scale: 1}\n"
    "  - {name: board, kind: hwmon, path: /sys/class/hwmon/hwmon0/power1_input, scale: 0.5}\n";

static int load(const char *dir, const char *text, PlatformFile *pf, Err *err) {
    char path[512];
    tu_path(path, sizeof path, dir, "p.yaml");
    tu_write_file(path, text, strlen(text));
    return platform_file_load(path, pf, err);
}

static void test_valid(void **state) {
    PlatformFile *pf = calloc(1, sizeof *pf);
    Err err;
    assert_int_equal(load(*state, XU3, pf, &err), 0);
    assert_string_equal(pf->name, "odroid-xu3");
    assert_string_equal(pf->arch, "armv7l");
    assert_int_equal(pf->n_clusters, 2);
    const PlatformCluster *big = platform_cluster(pf, "big");
    assert_non_null(big);
    assert_int_equal(CPU_COUNT(&big->cpus), 4);
    assert_true(CPU_ISSET(4, &big->cpus) && CPU_ISSET(7, &big->cpus) && !CPU_ISSET(3, &big->cpus));
    assert_int_equal(big->n_freqs, 3);
    assert_int_equal(big->freqs_khz[2], 2000000);
    assert_null(platform_cluster(pf, "medium"));
    assert_int_equal(pf->n_sensors, 2);
    assert_int_equal(pf->sensors[0].kind, SENSOR_INA231);
    assert_string_equal(pf->sensors[1].path, "/sys/class/hwmon/hwmon0/power1_input");
    assert_true(pf->sensors[1].scale == 0.5);
    free(pf);
}

static void test_mistakes(void **state) {
    PlatformFile *pf = calloc(1, sizeof *pf);
    Err err;
    struct {
        const char *yaml, *want;
    } cases[] = {
        {"name: x\nsensor: []\n", "p.yaml:2:1: unknown key 'sensor' in a platform file (did you mean 'sensors'?)"},
        {"clusters: {big: \"4-x\"}\n", "p.yaml:1:17: cluster 'big'"},
        {"clusters: {big: \"4-7\"}\nfrequencies_khz: {little: [1]}\n", "p.yaml:2:19: frequencies_khz: no cluster 'little'"},
        {"sensors:\n  - {name: a, kind: ina226, path: /x}\n", "p.yaml:2:21: unknown sensor kind 'ina226'"},
        {"sensors:\n  - {name: a, kind: rapl}\n", "a sensor needs name, kind and path"},
        {"sensors:\n  - {name: a, kind: rapl, path: /x, scale: -1}\n", "sensor scale must be a positive number"},
        {"clusters: [0, 1]\n", "'clusters' must be a mapping"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(load(*state, cases[i].yaml, pf, &err), -1);
        if (!strstr(err.msg, cases[i].want)) fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].want);
    }
    free(pf);
}

/* A whole board description (as in experiments/platforms/, with `type:` and the ssh keys) is read
 * by the stage side's reader, and the profiler keeps the clusters, frequencies and sensors. */
static void test_board_description(void **state) {
    PlatformFile *pf = calloc(1, sizeof *pf);
    Err err;
    char *board = malloc(strlen(XU3) + 256);
    sprintf(board, "type: ssh\nhost: xu3.local\nuser: odroid\nprefix: [sudo, -n]\ndescription: a board\n%s", XU3);
    assert_int_equal(load(*state, board, pf, &err), 0);
    assert_string_equal(pf->name, "odroid-xu3");
    assert_string_equal(pf->arch, "armv7l");
    assert_int_equal(pf->n_clusters, 2);
    const PlatformCluster *little = platform_cluster(pf, "little");
    assert_non_null(little);
    assert_int_equal(CPU_COUNT(&little->cpus), 4);
    assert_int_equal(little->n_freqs, 2);
    assert_int_equal(little->freqs_khz[1], 1400000);
    assert_int_equal(pf->n_sensors, 2);
    assert_int_equal(pf->sensors[0].kind, SENSOR_INA231);
    assert_true(pf->sensors[1].scale == 0.5);
    /* its mistakes are the stage side's, with positions: a misspelt ssh key, a missing host */
    sprintf(board, "type: ssh\nhots: xu3.local\n%s", XU3);
    assert_int_equal(load(*state, board, pf, &err), -1);
    if (!strstr(err.msg, "p.yaml:2:1") || !strstr(err.msg, "'hots'")) fail_msg("unexpected: %s", err.msg);
    sprintf(board, "type: ssh\n%s", XU3);
    assert_int_equal(load(*state, board, pf, &err), -1);
    if (!strstr(err.msg, "host")) fail_msg("unexpected: %s", err.msg);
    free(board);
    free(pf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_valid, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_mistakes, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_board_description, tu_setup_tmpdir, tu_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
