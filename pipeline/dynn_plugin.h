/* pipeline/dynn_plugin.h — the plugin ABI (docs/PLUGINS.md): what a shared object named in an
 * experiment's `plugins:` list sees. It exports `int dynn_plugin_init(DynnPluginApi *api)` and
 * registers stage types (pipeline/stage.h) and platform types (platforms/platform.h) through the
 * api; it needs only the headers this one brings in (it cannot call into dynn directly).
 *
 * Compatibility: members are only ever appended to DynnPluginApi, RecordSink and Measurement, so a
 * plugin built against older headers keeps working; api_version changes only if something is
 * removed or changes meaning. */
#ifndef DYNN_PIPELINE_DYNN_PLUGIN_H
#define DYNN_PIPELINE_DYNN_PLUGIN_H

#include "pipeline/stage.h"
#include "platforms/platform.h"
#include "util/err.h"
#include "util/ynode.h"

#define DYNN_PLUGIN_API_VERSION 1

typedef struct DynnPluginApi {
    int api_version; /* DYNN_PLUGIN_API_VERSION */
    Err *err;        /* where dynn_plugin_init describes a failure (returning -1) */
    int (*register_stage_type)(const StageType *type, Err *err);
    /* helpers a plugin's validate/run can use without linking against dynn */
    YNode *(*ynode_get)(const YNode *map, const char *key);
    int (*ynode_err)(Err *err, const char *file, const YNode *at, const char *fmt, ...);
    int (*ynode_check_keys)(const YNode *map, const char *const *allowed, size_t n, const char *file,
                            const char *context, Err *err);
    int (*err_set)(Err *err, const char *fmt, ...);
    /* Members are only ever appended (api_version stays 1); a plugin using one needs a dynn that
     * has it. Platform types (platforms/platform.h; docs/PLUGINS.md): */
    int (*register_platform_type)(const PlatformType *type, Err *err);
} DynnPluginApi;

/* The symbol a plugin exports. */
typedef int (*DynnPluginInit)(DynnPluginApi *api);
#define DYNN_PLUGIN_INIT_SYMBOL "dynn_plugin_init"

#endif
