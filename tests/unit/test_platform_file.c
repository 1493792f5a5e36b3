/* tests/unit/test_platform_file.c — board files as `dynn profile --platform FILE` reads them, through
 * the one reader (platforms/platform_desc.c): the profiler's own keys (no `type`: this machine) and
 * whole board descriptions; clusters as CPU sets, frequencies per cluster, sensors with kinds and
 * scales; mistakes answered with file:line:col; every board file shipped in experiments/platforms/
 * accepted as it is; the limits. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platforms/affinity.h"
#include "platforms/energy.h"
#include "platforms/platform.h"
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

static int load(const char *dir, const char *text, PlatformDescFile *pf, Err *err) {
    char path[512];
    tu_path(path, sizeof path, dir, "p.yaml");
    tu_write_file(path, text, strlen(text));
    return platform_desc_load(path, pf, err);
}

static const DescCluster *platform_cluster(const PlatformDescFile *pf, const char *name) {
    for (size_t i = 0; i < pf->desc.n_clusters; i++)
        if (!strcmp(pf->desc.clusters[i].name, name)) return &pf->desc.clusters[i];
    return NULL;
}

static cpu_set_t cpus_of(const DescCluster *c) {
    cpu_set_t set;
    Err err;
    if (cpulist_parse(c->cpus, c->name, &set, &err)) fail_msg("%s", err.msg);
    return set;
}

static int kind_of(const DescSensor *s) {
    SensorKind kind;
    return energy_sensor_kind(s->kind, &kind) ? -1 : (int)kind;
}

static void test_valid(void **state) {
    PlatformDescFile *pf = calloc(1, sizeof *pf);
    Err err;
    assert_int_equal(load(*state, XU3, pf, &err), 0);
    assert_string_equal(pf->desc.name, "odroid-xu3");
    assert_string_equal(pf->desc.arch, "armv7l");
    assert_string_equal(pf->desc.type, "local"); /* no type: the machine the profiler runs on */
    assert_int_equal(pf->desc.n_clusters, 2);
    const DescCluster *big = platform_cluster(pf, "big");
    assert_non_null(big);
    cpu_set_t big_cpus = cpus_of(big);
    assert_int_equal(CPU_COUNT(&big_cpus), 4);
    assert_true(CPU_ISSET(4, &big_cpus) && CPU_ISSET(7, &big_cpus) && !CPU_ISSET(3, &big_cpus));
    assert_int_equal(big->n_freqs, 3);
    assert_int_equal(big->freqs_khz[2], 2000000);
    assert_null(platform_cluster(pf, "medium"));
    assert_int_equal(pf->desc.n_sensors, 2);
    assert_int_equal(kind_of(&pf->desc.sensors[0]), SENSOR_INA231);
    assert_string_equal(pf->desc.sensors[1].path, "/sys/class/hwmon/hwmon0/power1_input");
    assert_true(pf->desc.sensors[1].scale == 0.5);
    platform_desc_free(pf);
    free(pf);
}

static void test_mistakes(void **state) {
    PlatformDescFile *pf = calloc(1, sizeof *pf);
    Err err;
    struct {
        const char *yaml, *want;
    } cases[] = {
        {"name: x\nsensor: []\n", "p.yaml:2:1: unknown key 'sensor' in platform 'x' (local) (did you mean 'sensors'?)"},
        {"clusters: {big: \"4-x\"}\n", "p.yaml:1:17: cluster 'big'"},
        {"clusters: {big: \"4-7\"}\nfrequencies_khz: {little: [1]}\n",
         "p.yaml:2:19: frequencies_khz: 'little' is not a cluster of 'clusters'"},
        {"sensors:\n  - {name: a, kind: ina226, path: /x}\n", "p.yaml:2:21: sensor 'a': unknown kind 'ina226'"},
        {"sensors:\n  - {name: a, kind: rapl}\n", "a sensor needs 'name', 'kind' and 'path'"},
        {"sensors:\n  - {name: a, kind: rapl, path: /x, scale: -1}\n", "sensor 'a': 'scale' must be a positive number"},
        {"clusters: [0, 1]\n", "'clusters' must be a mapping"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(load(*state, cases[i].yaml, pf, &err), -1);
        if (!strstr(err.msg, cases[i].want)) fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].want);
    }
    free(pf);
}

/* A whole board description (as in experiments/platforms/, with `type:` and the ssh keys) is read
 * by the same reader, with the clusters, frequencies and sensors the profiler uses. */
static void test_board_description(void **state) {
    PlatformDescFile *pf = calloc(1, sizeof *pf);
    Err err;
    char *board = malloc(strlen(XU3) + 256);
    sprintf(board, "type: ssh\nhost: xu3.local\nuser: odroid\nprefix: [sudo, -n]\ndescription: a board\n%s", XU3);
    assert_int_equal(load(*state, board, pf, &err), 0);
    assert_string_equal(pf->desc.name, "odroid-xu3");
    assert_string_equal(pf->desc.arch, "armv7l");
    assert_int_equal(pf->desc.n_clusters, 2);
    const DescCluster *little = platform_cluster(pf, "little");
    assert_non_null(little);
    cpu_set_t little_cpus = cpus_of(little);
    assert_int_equal(CPU_COUNT(&little_cpus), 4);
    assert_int_equal(little->n_freqs, 2);
    assert_int_equal(little->freqs_khz[1], 1400000);
    assert_int_equal(pf->desc.n_sensors, 2);
    assert_int_equal(kind_of(&pf->desc.sensors[0]), SENSOR_INA231);
    assert_true(pf->desc.sensors[1].scale == 0.5);
    platform_desc_free(pf);
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

/* Every board file shipped in experiments/platforms/ is accepted as it is, by the stage's reading
 * and by the target's (--here), and names itself after its file. */
static void test_shipped_boards(void **state) {
    (void)state;
    DIR *dp = opendir("experiments/platforms");
    assert_non_null(dp);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(dp));) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml")) continue;
        char path[1024];
        snprintf(path, sizeof path, "experiments/platforms/%s", e->d_name);
        PlatformDescFile pf;
        Err err;
        if (platform_desc_load(path, &pf, &err)) fail_msg("%s refused: %s", path, err.msg);
        if (strncmp(pf.desc.name, e->d_name, len - 5) || strlen(pf.desc.name) != len - 5)
            fail_msg("%s names itself '%s'", path, pf.desc.name);
        platform_desc_free(&pf);
        if (platform_desc_load_flags(path, PLATFORM_READ_HERE, &pf, &err)) fail_msg("%s refused --here: %s", path, err.msg);
        platform_desc_free(&pf);
        n++;
    }
    closedir(dp);
    assert_true(n >= 4); /* local, odroid-xu3, jetson-nano, raspberry-pi-4 */
}

/* The limits (platform.h): at the limit accepted, one over refused with the position. */
static void test_limits(void **state) {
    PlatformDescFile pf;
    Err err;
    char *yaml = malloc(16384);
    char *p;
    /* clusters */
    for (int n = PLATFORM_DESC_MAX_CLUSTERS; n <= PLATFORM_DESC_MAX_CLUSTERS + 1; n++) {
        p = yaml + sprintf(yaml, "name: x\nclusters: {");
        for (int i = 0; i < n; i++) p += sprintf(p, "%sc%d: \"%d\"", i ? ", " : "", i, i);
        sprintf(p, "}\n");
        int rc = load(*state, yaml, &pf, &err);
        if (n == PLATFORM_DESC_MAX_CLUSTERS) {
            if (rc) fail_msg("%d clusters refused: %s", n, err.msg);
            platform_desc_free(&pf);
        } else if (rc != -1 || !strstr(err.msg, "p.yaml:2:11: platform 'clusters': at most 8 clusters")) {
            fail_msg("%d clusters: %s", n, rc ? err.msg : "accepted");
        }
    }
    /* frequencies of one cluster */
    for (int n = PLATFORM_DESC_MAX_FREQS; n <= PLATFORM_DESC_MAX_FREQS + 1; n++) {
        p = yaml + sprintf(yaml, "name: x\nclusters: {big: \"0\"}\nfrequencies_khz:\n  big: [");
        for (int i = 0; i < n; i++) p += sprintf(p, "%s%d", i ? ", " : "", 1000 + i);
        sprintf(p, "]\n");
        int rc = load(*state, yaml, &pf, &err);
        if (n == PLATFORM_DESC_MAX_FREQS) {
            if (rc) fail_msg("%d frequencies refused: %s", n, err.msg);
            assert_int_equal(pf.desc.clusters[0].n_freqs, n);
            platform_desc_free(&pf);
        } else if (rc != -1 || !strstr(err.msg, "p.yaml:4:8: frequencies_khz of 'big': at most 64 frequencies")) {
            fail_msg("%d frequencies: %s", n, rc ? err.msg : "accepted");
        }
    }
    /* sensors */
    for (int n = PLATFORM_DESC_MAX_SENSORS; n <= PLATFORM_DESC_MAX_SENSORS + 1; n++) {
        p = yaml + sprintf(yaml, "name: x\nsensors:\n");
        for (int i = 0; i < n; i++) p += sprintf(p, "  - {name: s%d, kind: rapl, path: /x%d}\n", i, i);
        int rc = load(*state, yaml, &pf, &err);
        if (n == PLATFORM_DESC_MAX_SENSORS) {
            if (rc) fail_msg("%d sensors refused: %s", n, err.msg);
            platform_desc_free(&pf);
        } else if (rc != -1 || !strstr(err.msg, "p.yaml:3:3: platform 'sensors': at most 16")) {
            fail_msg("%d sensors: %s", n, rc ? err.msg : "accepted");
        }
    }
    /* string lengths: a name of 63 characters, not 64; a sensor path of 511, not 512 */
    char name[PLATFORM_DESC_MAX_NAME + 2], path[PLATFORM_DESC_MAX_TEXT + 2];
    memset(name, 'n', sizeof name - 1), name[sizeof name - 1] = '\0';
    memset(path, 'p', sizeof path - 1), path[0] = '/', path[sizeof path - 1] = '\0';
    sprintf(yaml, "name: %.63s\n", name);
    if (load(*state, yaml, &pf, &err)) fail_msg("63 characters refused: %s", err.msg);
    platform_desc_free(&pf);
    sprintf(yaml, "name: %s\n", name);
    assert_int_equal(load(*state, yaml, &pf, &err), -1);
    if (!strstr(err.msg, "p.yaml:1:7: platform 'name' is too long (64 characters, at most 63)")) fail_msg("%s", err.msg);
    sprintf(yaml, "name: x\nsensors: [{name: s, kind: hwmon, path: %.511s}]\n", path);
    if (load(*state, yaml, &pf, &err)) fail_msg("a path of 511 characters refused: %s", err.msg);
    platform_desc_free(&pf);
    sprintf(yaml, "name: x\nsensors: [{name: s, kind: hwmon, path: %s}]\n", path);
    assert_int_equal(load(*state, yaml, &pf, &err), -1);
    if (!strstr(err.msg, "platform 'path' is too long (512 characters, at most 511)")) fail_msg("%s", err.msg);
    sprintf(yaml, "name: x\nclusters: {%s: \"0\"}\n", name);
    assert_int_equal(load(*state, yaml, &pf, &err), -1);
    if (!strstr(err.msg, "p.yaml:2:12: a cluster name is too long")) fail_msg("%s", err.msg);
    free(yaml);
}

/* On the target (--here) a type this dynn does not know, a plugin's, is accepted with its own keys;
 * anywhere else it is refused with its position. The common keys are checked either way. */
static void test_here(void **state) {
    PlatformDescFile pf;
    Err err;
    char path[512];
    const char *yaml = "name: box\ntype: dir\ndir: /tmp/board\nclusters: {all: \"0-1\"}\n";
    tu_write_file(tu_path(path, sizeof path, *state, "box.yaml"), yaml, strlen(yaml));
    assert_int_equal(platform_desc_load(path, &pf, &err), -1);
    if (!strstr(err.msg, "box.yaml:2:7: platform 'box': unknown type 'dir'")) fail_msg("%s", err.msg);
    if (platform_desc_load_flags(path, PLATFORM_READ_HERE, &pf, &err)) fail_msg("%s", err.msg);
    assert_string_equal(pf.desc.type, "dir");
    assert_string_equal(pf.desc.clusters[0].cpus, "0-1");
    platform_desc_free(&pf);
    yaml = "name: box\ntype: dir\nclusters: {all: \"0-x\"}\n";
    tu_write_file(path, yaml, strlen(yaml));
    assert_int_equal(platform_desc_load_flags(path, PLATFORM_READ_HERE, &pf, &err), -1);
    if (!strstr(err.msg, "box.yaml:3:17: cluster 'all' must be a cpu list")) fail_msg("%s", err.msg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_valid, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_mistakes, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_board_description, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test(test_shipped_boards),
        cmocka_unit_test_setup_teardown(test_limits, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_here, tu_setup_tmpdir, tu_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
