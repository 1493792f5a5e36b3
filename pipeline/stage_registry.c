/* pipeline/stage_registry.c — the table of stage types: the built-in ones the binary lists
 * (dynn_builtin_stage_types, cli/stage_types.c), then those plugins register at run time, and
 * loading plugins (dlopen + dynn_plugin_init with the api of pipeline/dynn_plugin.h). */
#include "pipeline/stage.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/dynn_plugin.h"

#define MAX_STAGE_TYPES 128
#define MAX_PLUGINS 64

static const StageType *plugin_types[MAX_STAGE_TYPES];
static size_t n_plugin_types;
static char *loaded_plugins[MAX_PLUGINS];
static size_t n_loaded_plugins;

const StageType *stage_type_find(const char *name) {
    for (const StageType *const *t = dynn_builtin_stage_types; *t; t++)
        if (!strcmp((*t)->name, name)) return *t;
    for (size_t i = 0; i < n_plugin_types; i++)
        if (!strcmp(plugin_types[i]->name, name)) return plugin_types[i];
    return NULL;
}

size_t stage_type_names(const char **out, size_t max) {
    size_t n = 0;
    for (const StageType *const *t = dynn_builtin_stage_types; *t && n < max; t++) out[n++] = (*t)->name;
    for (size_t i = 0; i < n_plugin_types && n < max; i++) out[n++] = plugin_types[i]->name;
    return n;
}

int stage_type_register(const StageType *type, Err *err) {
    if (!type || !type->name || !type->name[0] || !type->validate || !type->run)
        return err_set(err, "a stage type needs a name, a validate and a run function");
    if (stage_type_find(type->name)) return err_set(err, "stage type '%s' is already registered", type->name);
    if (n_plugin_types == MAX_STAGE_TYPES) return err_set(err, "too many stage types (at most %d)", MAX_STAGE_TYPES);
    plugin_types[n_plugin_types++] = type;
    return 0;
}

int stage_plugin_load(const char *path, Err *err) {
    for (size_t i = 0; i < n_loaded_plugins; i++)
        if (!strcmp(loaded_plugins[i], path)) return 0;
    if (n_loaded_plugins == MAX_PLUGINS) return err_set(err, "too many plugins (at most %d)", MAX_PLUGINS);
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) return err_set(err, "%s", dlerror());
    DynnPluginInit init;
    *(void **)&init = dlsym(handle, DYNN_PLUGIN_INIT_SYMBOL);
    if (!init) {
        dlclose(handle);
        return err_set(err, "%s: not a dynn plugin (no function '%s')", path, DYNN_PLUGIN_INIT_SYMBOL);
    }
    Err plugin_err = {{0}};
    DynnPluginApi api = {
        .api_version = DYNN_PLUGIN_API_VERSION,
        .err = &plugin_err,
        .register_stage_type = stage_type_register,
        .ynode_get = ynode_get,
        .ynode_err = ynode_err,
        .ynode_check_keys = ynode_check_keys,
        .err_set = err_set,
        .register_platform_type = platform_type_register,
    };
    if (init(&api) != 0) {
        /* the handle stays open: the plugin may have registered types before failing */
        return err_set(err, "%s: plugin initialisation failed%s%s", path, plugin_err.msg[0] ? ": " : "", plugin_err.msg);
    }
    loaded_plugins[n_loaded_plugins] = strdup(path);
    if (!loaded_plugins[n_loaded_plugins]) return err_set(err, "out of memory");
    n_loaded_plugins++;
    return 0;
}
