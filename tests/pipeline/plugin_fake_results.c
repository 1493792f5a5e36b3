/* tests/pipeline/plugin_fake_results.c — stand-ins for the train and profile stages in the report
 * end-to-end test (built by tests/e2e/test_report.sh with `cc -shared -fPIC`), recording what those
 * stages record by convention, without training or timing anything:
 *   fake_train    params {method, accuracy: "a0,a1,…"}: per-subnet accuracy, width, macs and
 *                 subnet_index for subnets w(i+1)/n;
 *   fake_profile  params {subnets: N, slow: FACTOR}: measurements of w(i+1)/N at batch 1 under two
 *                 mappings, latency (1 + 9 x width^2) ms x mapping factor x FACTOR, three samples.
 * It includes the old header name "stages/stage.h" on purpose: plugins written before the plugin ABI
 * moved to pipeline/dynn_plugin.h must keep building (the others include the new name). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages/stage.h"

static DynnPluginApi api;

static int check_params(const StageCheck *c, const char *const *keys, size_t n, Err *err) {
    if (api.ynode_check_keys(c->params, keys, n, c->file, "params of a fake stage", err)) return -1;
    for (size_t i = 0; i < n; i++)
        if (!api.ynode_get(c->params, keys[i])) return api.ynode_err(err, c->file, c->at, "stage '%s' is missing '%s'", c->stage, keys[i]);
    return 0;
}

static int train_validate(const StageCheck *c, Err *err) {
    static const char *const keys[] = {"method", "accuracy"};
    return check_params(c, keys, 2, err);
}

static int profile_validate(const StageCheck *c, Err *err) {
    static const char *const keys[] = {"subnets", "slow"};
    return check_params(c, keys, 2, err);
}

static void subnet_name(char *out, size_t size, int i, int n) { snprintf(out, size, "w%g", (double)(i + 1) / n); }

static int train_run(const StageRun *run, Err *err) {
    char accs[256], *save = NULL;
    snprintf(accs, sizeof accs, "%s", api.ynode_get(run->params, "accuracy")->str);
    int n = 1;
    for (const char *p = accs; *p; p++) n += *p == ',';
    int i = 0;
    for (char *tok = strtok_r(accs, ",", &save); tok; tok = strtok_r(NULL, ",", &save), i++) {
        char name[32];
        subnet_name(name, sizeof name, i, n);
        double w = (double)(i + 1) / n;
        if (run->sink->metric(run->sink, "accuracy", strtod(tok, NULL), name, 0, err) ||
            run->sink->metric(run->sink, "width", w, name, 0, err) || run->sink->metric(run->sink, "macs", 4e7 * w * w, name, 0, err) ||
            run->sink->metric(run->sink, "subnet_index", i, name, 0, err))
            return -1;
    }
    return run->sink->metric(run->sink, "train_seconds", 1.0, NULL, 0, err);
}

static int profile_run(const StageRun *run, Err *err) {
    int n = atoi(api.ynode_get(run->params, "subnets")->str);
    double slow = strtod(api.ynode_get(run->params, "slow")->str, NULL);
    for (int i = 0; i < n; i++)
        for (int map = 0; map < 2; map++) {
            char name[32];
            subnet_name(name, sizeof name, i, n);
            double w = (double)(i + 1) / n, lat = (1 + 9 * w * w) * 1e-3 * (map ? 0.6 : 1.0) * slow;
            double samples[3] = {lat * 0.99, lat, lat * 1.02};
            Measurement m = {.platform = "local", .subnet = name, .batch = 1, .threads = map + 1, .cpus = map ? "0-1" : "0",
                             .energy_j = 3 * lat * 2.0, .latency_s = samples, .n_latency = 3};
            if (run->sink->measurement(run->sink, &m, err)) return -1;
        }
    return 0;
}

static const StageType types[] = {
    {.name = "fake_train", .summary = "per-subnet accuracy (test plugin)", .validate = train_validate, .run = train_run},
    {.name = "fake_profile", .summary = "measurements (test plugin)", .validate = profile_validate, .run = profile_run},
};

int dynn_plugin_init(DynnPluginApi *given) {
    if (given->api_version != DYNN_PLUGIN_API_VERSION) {
        given->err_set(given->err, "built for plugin API %d, dynn has %d", DYNN_PLUGIN_API_VERSION, given->api_version);
        return -1;
    }
    api = *given;
    return api.register_stage_type(&types[0], api.err) || api.register_stage_type(&types[1], api.err) ? -1 : 0;
}
