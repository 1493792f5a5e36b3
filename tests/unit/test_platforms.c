/* tests/unit/test_platforms.c — platforms/: shell quoting (hostile strings round-trip through a real
 * `sh -c` and run nothing), platform descriptions (the board files in experiments/platforms/ and one
 * positioned message per mistake), and reading `dynn profile --json` output (the contract, including
 * a sweep that stopped part-way). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "platforms/platform.h"
#include "util/proc.h"
#include "platforms/profile_json.h"
#include "platforms/shell_quote.h"
#include "tests/unit/testutil.h"

/* A profile point's condition K (db/conditions.h): as an integer (0 when unset), as text (NULL). */
#define PT_INT(p, K) cond_get_int(&(p)->cond, COND_##K, 0)
#define PT_TEXT(p, K) cond_get(&(p)->cond, COND_##K)

/* ---- shell quoting ---- */

static void test_quote_form(void **state) {
    (void)state;
    StrBuf sb = {0};
    shell_quote(&sb, "it's");
    assert_string_equal(sb_str(&sb), "'it'\\''s'");
    sb_clear(&sb);
    shell_quote(&sb, "");
    assert_string_equal(sb_str(&sb), "''");
    sb_free(&sb);
}

static void test_quote_roundtrip_sh(void **state) {
    const char *dir = *state;
    char marker[512];
    tu_path(marker, sizeof marker, dir, "pwned");
    char hostile[8][600];
    snprintf(hostile[0], sizeof hostile[0], "'; touch %s; '", marker);
    snprintf(hostile[1], sizeof hostile[1], "$(touch %s)", marker);
    snprintf(hostile[2], sizeof hostile[2], "`touch %s`", marker);
    snprintf(hostile[3], sizeof hostile[3], "x\ntouch %s\n", marker);
    snprintf(hostile[4], sizeof hostile[4], "'; rm -rf /tmp/x; '");
    snprintf(hostile[5], sizeof hostile[5], "\\'\"$HOME ${PATH} * ? [a] ~ ! # & | ; < > \t");
    snprintf(hostile[6], sizeof hostile[6], "''''");
    snprintf(hostile[7], sizeof hostile[7], "%s", "");
    for (size_t i = 0; i < 8; i++) {
        /* sh -c "printf %s WORD" prints the word back exactly when it stayed one literal word */
        StrBuf cmd = {0};
        sb_append(&cmd, "printf %s");
        shell_quote_word(&cmd, hostile[i]);
        const char *argv[] = {"sh", "-c", sb_str(&cmd), NULL};
        ProcResult r;
        Err err;
        assert_int_equal(proc_run(argv, NULL, &r, &err), 0);
        assert_int_equal(r.status, 0);
        assert_string_equal(sb_str(&r.out), hostile[i]);
        proc_result_free(&r);
        sb_free(&cmd);
        assert_false(tu_file_exists(marker));
    }
}

/* ---- platform descriptions ---- */

static const DescCluster *cluster(const PlatformDesc *d, const char *name) {
    const DescCluster *c = platform_desc_cluster(d, name);
    assert_non_null(c);
    return c;
}

static void test_board_files(void **state) {
    (void)state;
    PlatformDescFile pf;
    Err err;
    if (platform_desc_load("experiments/platforms/odroid-xu3.yaml", &pf, &err)) fail_msg("%s", err.msg);
    const PlatformDesc *d = &pf.desc;
    assert_string_equal(d->type, "ssh");
    assert_string_equal(d->arch, "armv7l");
    char cwd[PATH_MAX], armhf[PATH_MAX + 64]; /* the binary `make TARGET=armhf` builds, relative to the file */
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(armhf, sizeof armhf, "%s/experiments/platforms/../../build-armhf/dynn", cwd);
    assert_string_equal(d->binary, armhf);
    assert_int_equal(d->port, 22);
    assert_string_equal(cluster(d, "little")->cpus, "0-3");
    assert_string_equal(cluster(d, "big")->cpus, "4-7");
    assert_ptr_equal(cluster(d, "4-7"), cluster(d, "big")); /* a cpu list finds its cluster */
    assert_ptr_equal(cluster(d, "5"), cluster(d, "big"));   /* so does a part of one */
    assert_ptr_equal(cluster(d, "0,2"), cluster(d, "little"));
    assert_null(platform_desc_cluster(d, "3-4")); /* across two clusters: no frequency table */
    assert_null(platform_desc_cluster(d, "8"));
    assert_string_equal(platform_desc_pin_cpus(d, "big"), "4-7"); /* a name pins to its cluster */
    assert_string_equal(platform_desc_pin_cpus(d, "5"), "5");     /* a cpu list to itself */
    assert_int_equal(cluster(d, "little")->n_freqs, 13);
    assert_int_equal(cluster(d, "little")->freqs_khz[12], 1400000);
    assert_int_equal(cluster(d, "big")->n_freqs, 19);
    assert_int_equal(cluster(d, "big")->freqs_khz[18], 2000000);
    assert_int_equal(d->n_sensors, 4);
    for (size_t i = 0; i < d->n_sensors; i++) assert_string_equal(d->sensors[i].kind, "ina231");
    assert_true(d->has_gpu); /* the Mali-T628: its devfreq node, 7 operating points, the INA231 at 0x44 */
    assert_string_equal(d->gpu.devfreq, "11800000.mali");
    assert_int_equal(d->gpu.n_freqs, 7);
    assert_true(d->gpu.freqs_hz[0] == 177000000 && d->gpu.freqs_hz[6] == 600000000);
    assert_string_equal(d->gpu.sensor, "gpu");
    platform_desc_free(&pf);

    if (platform_desc_load("experiments/platforms/jetson-nano.yaml", &pf, &err)) fail_msg("%s", err.msg);
    d = &pf.desc;
    assert_string_equal(d->arch, "aarch64");
    assert_int_equal(cluster(d, "0-3")->n_freqs, 14);
    assert_int_equal(cluster(d, "big")->freqs_khz[13], 1428000);
    assert_int_equal(d->n_sensors, 3);
    assert_string_equal(d->sensors[2].kind, "ina3221");
    assert_true(d->sensors[2].scale == 0.001);
    assert_true(d->has_gpu); /* the Maxwell GPU: 57000000.gpu, 76.8 to 921.6 MHz, the INA3221's GPU rail */
    assert_string_equal(d->gpu.name, "Maxwell 128-core");
    assert_string_equal(d->gpu.devfreq, "57000000.gpu");
    assert_int_equal(d->gpu.n_freqs, 12);
    assert_true(d->gpu.freqs_hz[0] == 76800000 && d->gpu.freqs_hz[11] == 921600000);
    assert_string_equal(d->gpu.sensor, "gpu");
    assert_string_equal(d->sensors[1].name, "gpu");
    platform_desc_free(&pf);

    if (platform_desc_load("experiments/platforms/raspberry-pi-4.yaml", &pf, &err)) fail_msg("%s", err.msg);
    assert_int_equal(cluster(&pf.desc, "big")->freqs_khz[0], 600000);
    platform_desc_free(&pf);
    if (platform_desc_load("experiments/platforms/local.yaml", &pf, &err)) fail_msg("%s", err.msg);
    assert_false(pf.desc.has_gpu); /* no gpu: key, no GPU */
    assert_null(pf.desc.gpu.devfreq);
    assert_string_equal(pf.desc.type, "local");
    assert_null(pf.desc.host);
    platform_desc_free(&pf);
}

static void test_desc_values(void **state) {
    (void)state;
    const char *yaml = "name: b\ntype: ssh\nhost: 10.0.0.2\nport: 2222\nuser: pi\nidentity: /k/id\n"
                       "prefix: sudo -n  nice\nretries: 0\n";
    YNode *root;
    Err err;
    assert_int_equal(ynode_parse(yaml, strlen(yaml), "b.yaml", &root, &err), 0);
    PlatformDescFile pf;
    if (platform_desc_read(root, "b.yaml", &pf, &err)) fail_msg("%s", err.msg);
    assert_int_equal(pf.desc.port, 2222);
    assert_int_equal(pf.desc.retries, 0);
    assert_int_equal(pf.desc.connect_timeout_s, 10);
    assert_string_equal(pf.desc.workdir, "dynn-work");
    assert_string_equal(pf.desc.strict_host_key_checking, "yes");
    assert_string_equal(pf.desc.identity, "/k/id");
    assert_int_equal(pf.desc.n_prefix, 3);
    assert_string_equal(pf.desc.prefix[2], "nice");
    char line[256];
    platform_type_ssh.describe(&pf.desc, line, sizeof line);
    assert_string_equal(line, "ssh pi@10.0.0.2:2222");
    platform_desc_free(&pf);
    assert_string_equal(ynode_get(root, "prefix")->str, "sudo -n  nice"); /* the tree is not touched */
    ynode_free(root);
}

static void test_desc_errors(void **state) {
    (void)state;
    static const struct {
        const char *yaml, *msg;
    } cases[] = {
        {"name: b\ntype: ssh\nhots: x\n", "p.yaml:3:1: unknown key 'hots' in platform 'b' (ssh) (did you mean 'host'?)"},
        {"name: b\ntype: ssh\n", "p.yaml:1:1: platform 'b' (ssh) needs a 'host'"},
        {"name: b\ntype: shh\nhost: x\n", "p.yaml:2:7: platform 'b': unknown type 'shh' (did you mean 'ssh'?)"},
        {"name: b\ntype: local\nhost: x\n", "p.yaml:3:1: unknown key 'host' in platform 'b' (local)"},
        {"type: local\n", "p.yaml:1:1: a platform description needs a 'name'"},
        {"name: b c\ntype: local\n", "p.yaml:1:7: platform name 'b c': use letters, digits"},
        {"name: b\ntype: ssh\nhost: -oProxyCommand=x\n", "p.yaml:3:7: platform 'b': host '-oProxyCommand=x' must not start with '-'"},
        {"name: b\ntype: ssh\nhost: x\nport: 70000\n", "p.yaml:4:7: platform 'port' must be between 1 and 65535, not 70000"},
        {"name: b\ntype: ssh\nhost: x\nstrict_host_key_checking: maybe\n", "p.yaml:4:27: platform 'b': strict_host_key_checking must be yes, no or accept-new"},
        {"name: b\ntype: local\nclusters: {big: \"4-\"}\n", "p.yaml:3:17: cluster 'big' must be a cpu list"},
        {"name: b\ntype: local\nclusters: {big: \"4-7\"}\nfrequencies_khz: {bgi: [1]}\n",
         "p.yaml:4:19: frequencies_khz: 'bgi' is not a cluster of 'clusters' (did you mean 'big'?)"},
        {"name: b\ntype: local\nclusters: {big: \"4-7\"}\nfrequencies_khz: {big: [2, 1]}\n",
         "p.yaml:4:28: frequencies_khz of 'big' must be ascending without repeats"},
        {"name: b\ntype: local\nclusters: {big: \"4-7\"}\nfrequencies_khz: {big: [fast]}\n",
         "p.yaml:4:25: a frequency of 'big' (kHz) must be an integer, not 'fast'"},
        {"name: b\ntype: local\nsensors: [{name: s, kind: ina321, path: /x}]\n",
         "p.yaml:3:27: sensor 's': unknown kind 'ina321' (hwmon, ina231, ina3221 or rapl) (did you mean 'ina231'?)"},
        {"name: b\ntype: local\nsensors: [{name: s, kind: rapl}]\n", "p.yaml:3:11: a sensor needs 'name', 'kind' and 'path'"},
        {"name: b\ntype: local\nsensors: [{name: s, kind: rapl, path: /x, scale: -1}]\n",
         "p.yaml:3:50: sensor 's': 'scale' must be a positive number"},
        {"name: b\ntype: local\nprefix: [sudo, [x]]\n", "p.yaml:3:16: platform 'prefix' must be a string or a list of strings"},
        {"- a\n", "p.yaml:1:1: a platform description must be a mapping, not a list"},
        {"name: b\ngpu: 57000000.gpu\n", "p.yaml:2:6: platform 'gpu' must be a mapping, not a string"},
        {"name: b\ngpu: {devfreq: 57000000.gpu, frequency_hz: [1]}\n",
         "p.yaml:2:30: unknown key 'frequency_hz' in platform 'gpu' (did you mean 'frequencies_hz'?)"},
        {"name: b\ngpu: {name: Mali}\n",
         "p.yaml:2:6: platform 'gpu' needs 'devfreq': the GPU's node under /sys/class/devfreq (57000000.gpu)"},
        {"name: b\ngpu: {devfreq: /sys/class/devfreq/x}\n",
         "p.yaml:2:16: gpu 'devfreq' must be the name of a node under /sys/class/devfreq (57000000.gpu), not a path: "
         "'/sys/class/devfreq/x'"},
        {"name: b\ngpu: {devfreq: x, frequencies_hz: []}\n", "p.yaml:2:35: gpu 'frequencies_hz' must be a non-empty list of Hz"},
        {"name: b\ngpu: {devfreq: x, frequencies_hz: [2, 1]}\n",
         "p.yaml:2:39: gpu 'frequencies_hz' must be ascending without repeats"},
        {"name: b\ngpu: {devfreq: x, frequencies_hz: [0]}\n",
         "p.yaml:2:36: a frequency of the gpu (Hz) must be between 1 and 100000000000, not 0"},
        {"name: b\ngpu: {devfreq: x, frequencies_hz: [fast]}\n",
         "p.yaml:2:36: a frequency of the gpu (Hz) must be an integer, not 'fast'"},
        {"name: b\nsensors: [{name: gpu_rail, kind: rapl, path: /x}]\ngpu: {devfreq: x, sensor: gpu_rial}\n",
         "p.yaml:3:27: gpu 'sensor': 'gpu_rial' is not a name of 'sensors' (did you mean 'gpu_rail'?)"},
        {"name: b\ngpu: {devfreq: x, sensor: gpu}\n", "p.yaml:2:27: gpu 'sensor': 'gpu' is not a name of 'sensors' (the file has none)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        YNode *root;
        Err err;
        assert_int_equal(ynode_parse(cases[i].yaml, strlen(cases[i].yaml), "p.yaml", &root, &err), 0);
        PlatformDescFile pf;
        assert_int_equal(platform_desc_read(root, "p.yaml", &pf, &err), -1);
        if (strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)))
            fail_msg("case %zu:\n  want: %s\n  got:  %s", i, cases[i].msg, err.msg);
        ynode_free(root);
    }
}

static void test_desc_find(void **state) {
    const char *dir = *state;
    char out[4096], path[512];
    Err err;
    assert_int_equal(platform_desc_find("odroid-xu3", ".", out, sizeof out, &err), 0);
    assert_true(tu_file_exists(out));
    assert_int_equal(platform_desc_find("no-such-board", dir, out, sizeof out, &err), -1);
    assert_non_null(strstr(err.msg, "no platform 'no-such-board'"));
    tu_write_file(tu_path(path, sizeof path, dir, "mine.yaml"), "x", 1);
    assert_int_equal(platform_desc_find("mine.yaml", dir, out, sizeof out, &err), 0);
    assert_string_equal(out, path);
    assert_int_equal(platform_desc_find("$(x)", dir, out, sizeof out, &err), -1);
}

/* The board file a target's profiler gets: the description's own file, passed through (no reduced
 * copy); an inline mapping written as it is (JSON), which the same reader reads back to the same
 * description. */
static void test_board_file_passed_through(void **state) {
    const char *dir = *state;
    PlatformDescFile pf;
    Err err;
    char path[4096];
    if (platform_desc_load("experiments/platforms/odroid-xu3.yaml", &pf, &err)) fail_msg("%s", err.msg);
    assert_int_equal(platform_desc_board_file(&pf, dir, path, sizeof path, &err), 0);
    assert_string_equal(path, "experiments/platforms/odroid-xu3.yaml");
    platform_desc_free(&pf);
    const char *yaml = "name: b\ntype: ssh\nhost: b.local\nretries: 0\nclusters: {big: \"2-3\"}\n"
                       "frequencies_khz: {big: [100, 200]}\nsensors: [{name: s, kind: rapl, path: /x, scale: 0.5}]\n";
    YNode *root;
    assert_int_equal(ynode_parse(yaml, strlen(yaml), "inline", &root, &err), 0);
    if (platform_desc_read(root, "inline", &pf, &err)) fail_msg("%s", err.msg);
    char sub[512];
    tu_path(sub, sizeof sub, dir, "scratch");
    if (platform_desc_board_file(&pf, sub, path, sizeof path, &err)) fail_msg("%s", err.msg);
    char want[600];
    snprintf(want, sizeof want, "%s/platform.yaml", sub);
    assert_string_equal(path, want);
    platform_desc_free(&pf);
    ynode_free(root);
    PlatformDescFile back;
    if (platform_desc_load(path, &back, &err)) fail_msg("%s", err.msg);
    assert_string_equal(back.desc.name, "b");
    assert_string_equal(back.desc.type, "ssh");
    assert_string_equal(back.desc.host, "b.local");
    assert_int_equal(back.desc.retries, 0);
    assert_int_equal(back.desc.n_clusters, 1);
    assert_string_equal(back.desc.clusters[0].cpus, "2-3");
    assert_int_equal(back.desc.clusters[0].n_freqs, 2);
    assert_int_equal(back.desc.clusters[0].freqs_khz[1], 200);
    assert_int_equal(back.desc.n_sensors, 1);
    assert_true(back.desc.sensors[0].scale == 0.5);
    platform_desc_free(&back);
}

/* ---- profile output ---- */

#define HEAD "{\"format\":\"dynn-profile\",\"version\":1,\"model\":\"m\",\"model_crc32\":\"0a1b\"," \
             "\"host\":{\"hostname\":\"h\",\"arch\":\"aarch64\",\"cpu_model\":\"c\",\"ncpus\":4},\"build\":\"b\","
#define POINT(subnet, freq, energy)                                                                                   \
    "{\"subnet\":" #subnet ",\"subnet_name\":\"w" #subnet "\",\"macs\":1000,\"params\":10,\"batch\":2,\"cpus\":\"0-3\"," \
    "\"threads\":4,\"freq_khz\":" #freq ",\"warmup\":3,\"repeat\":10,\"min_time_ms\":200,"                             \
    "\"samples_ms\":[1.5,2,2.5],\"median_ms\":2,\"p90_ms\":2.5,\"p99_ms\":2.5,\"mean_ms\":2,\"stddev_ms\":0.4,"        \
    "\"min_ms\":1.5,\"max_ms\":2.5,\"per_image_ms\":1,\"peak_rss_kib\":5000,\"energy_j\":" #energy                      \
    ",\"avg_power_w\":null}"

static void test_profile_json(void **state) {
    (void)state;
    const char *text = HEAD "\"results\":[" POINT(0, null, null) "," POINT(1, 1400000, 0.25) "]}\n";
    ProfileReport r;
    Err err;
    if (profile_json_parse(text, strlen(text), "out", &r, &err)) fail_msg("%s", err.msg);
    assert_true(r.complete);
    assert_string_equal(r.model_crc32, "0a1b");
    assert_string_equal(r.host_arch, "aarch64");
    assert_int_equal(r.n_points, 2);
    assert_int_equal(PT_INT(&r.points[0], CPU_FREQ), 0);
    assert_true(isnan(r.points[0].energy_j));
    assert_true(isnan(r.points[0].avg_power_w));
    assert_int_equal(r.points[1].subnet, 1);
    assert_string_equal(r.points[1].subnet_name, "w1");
    assert_string_equal(PT_TEXT(&r.points[1], CPUS), "0-3");
    assert_int_equal(PT_INT(&r.points[1], CPU_FREQ), 1400000);
    assert_true(r.points[1].energy_j == 0.25);
    assert_int_equal(r.points[1].n_samples, 3);
    assert_true(r.points[1].samples_ms[2] == 2.5);
    assert_int_equal(r.points[1].peak_rss_kib, 5000);
    assert_int_equal(r.points[1].macs, 1000);
    profile_report_free(&r);
}

static void test_profile_json_incomplete(void **state) {
    (void)state;
    const char *text = HEAD "\"complete\":false,\"results\":[" POINT(0, 200000, null) "]}";
    ProfileReport r;
    Err err;
    if (profile_json_parse(text, strlen(text), "out", &r, &err)) fail_msg("%s", err.msg);
    assert_false(r.complete);
    assert_int_equal(r.n_points, 1);
    assert_int_equal(PT_INT(&r.points[0], CPU_FREQ), 200000);
    profile_report_free(&r);
}

static void test_profile_json_errors(void **state) {
    (void)state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"", "out: empty (the profiler printed nothing)"},
        {"dynn: no such file\n", "out: not a JSON object"},
        {HEAD "\"results\":[" POINT(0, null, null), "out: not valid JSON"}, /* cut short */
        {"{\"format\":\"other\",\"version\":1,\"results\":[]}", "out: not dynn profile output"},
        {"{\"format\":\"dynn-profile\",\"version\":2,\"results\":[]}", "out: unsupported \"version\""},
        {"{\"format\":\"dynn-profile\",\"version\":1}", "out: \"results\" must be a list"},
        {HEAD "\"results\":[{\"subnet\":0}]}", "out: result 0 has no 'subnet_name'"},
        {HEAD "\"results\":[" POINT(0, "\"fast\"", null) "]}", "out: result 0: 'freq_khz' must be a number or null, not '\"fast\"'"},
        {HEAD "\"results\":[" POINT(0, null, null) "," POINT(-1, null, null) "]}", "out: result 1: 'subnet' must be an integer >= 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ProfileReport r;
        Err err;
        assert_int_equal(profile_json_parse(cases[i].text, strlen(cases[i].text), "out", &r, &err), -1);
        if (strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)))
            fail_msg("case %zu:\n  want: %s\n  got:  %s", i, cases[i].msg, err.msg);
        assert_int_equal(r.n_points, 0);
    }
    /* samples must be numbers, not strings */
    const char *text = HEAD "\"results\":[" POINT(0, null, null) "]}";
    char *bad = strdup(text), *s = strstr(bad, "[1.5,");
    memcpy(s, "[\"1\",", 5);
    ProfileReport r;
    Err err;
    assert_int_equal(profile_json_parse(bad, strlen(bad), "out", &r, &err), -1);
    assert_non_null(strstr(err.msg, "samples_ms[0] must be a non-negative number"));
    free(bad);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote_form),
        cmocka_unit_test_setup_teardown(test_quote_roundtrip_sh, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test(test_board_files),
        cmocka_unit_test(test_desc_values),
        cmocka_unit_test(test_desc_errors),
        cmocka_unit_test_setup_teardown(test_desc_find, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_board_file_passed_through, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test(test_profile_json),
        cmocka_unit_test(test_profile_json_incomplete),
        cmocka_unit_test(test_profile_json_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
