/* tests/pipeline/plugin_constant.c — a stage-type plugin for the end-to-end tests (built by
 * tests/e2e/test_pipeline_plugin.sh with `cc -shared -fPIC`). Type `constant`: params
 * {metric: NAME, value: NUMBER, file: NAME}; records the metric and writes `value` into an
 * artifact in its scratch directory. Uses only the headers and the api it is given. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "pipeline/dynn_plugin.h"

static DynnPluginApi api;

static int constant_validate(const StageCheck *c, Err *err) {
    static const char *const keys[] = {"metric", "value", "file"};
    if (api.ynode_check_keys(c->params, keys, 3, c->file, "params of a constant stage", err)) return -1;
    const YNode *value = api.ynode_get(c->params, "value"), *metric = api.ynode_get(c->params, "metric");
    if (!metric) return api.ynode_err(err, c->file, c->at, "stage '%s' (constant) is missing param 'metric'", c->stage);
    if (!value) return api.ynode_err(err, c->file, c->at, "stage '%s' (constant) is missing param 'value'", c->stage);
    char *end;
    if (value->kind != YNODE_SCALAR || (strtod(value->str, &end), *end || end == value->str))
        return api.ynode_err(err, c->file, value, "stage '%s': 'value' must be a number", c->stage);
    return 0;
}

static int constant_run(const StageRun *run, Err *err) {
    const YNode *value = api.ynode_get(run->params, "value"), *metric = api.ynode_get(run->params, "metric");
    const YNode *file = api.ynode_get(run->params, "file");
    printf("constant %s = %s\n", metric->str, value->str);
    if (run->sink->metric(run->sink, metric->str, strtod(value->str, NULL), "full", 0, err)) return -1;
    if (!file) return 0;
    char path[4096];
    if (mkdir(run->scratch, 0777) && errno != EEXIST) return api.err_set(err, "%s: cannot create", run->scratch);
    snprintf(path, sizeof path, "%s/%s", run->scratch, file->str);
    FILE *f = fopen(path, "w");
    if (!f) return api.err_set(err, "%s: cannot write", path);
    fprintf(f, "%s\n", value->str);
    fclose(f);
    return run->sink->artifact(run->sink, file->str, path, "constant", err);
}

static const StageType constant_type = {
    .name = "constant",
    .summary = "records a constant metric (test plugin)",
    .validate = constant_validate,
    .run = constant_run,
};

int dynn_plugin_init(DynnPluginApi *given) {
    if (given->api_version != DYNN_PLUGIN_API_VERSION) {
        given->err_set(given->err, "built for plugin API %d, dynn has %d", DYNN_PLUGIN_API_VERSION, given->api_version);
        return -1;
    }
    api = *given;
    return api.register_stage_type(&constant_type, api.err);
}
