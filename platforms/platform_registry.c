/* platforms/platform_registry.c — the table of platform types: `local` and `ssh` built in, plugins'
 * types added at run time (pipeline/stage_registry.c hands plugins platform_type_register). */
#include "platforms/platform.h"

#include <string.h>

#define MAX_PLATFORM_TYPES 64

static const PlatformType *const builtin_types[] = {&platform_type_local, &platform_type_ssh};
static const PlatformType *plugin_types[MAX_PLATFORM_TYPES];
static size_t n_plugin_types;

const PlatformType *platform_type_find(const char *name) {
    for (size_t i = 0; i < sizeof builtin_types / sizeof *builtin_types; i++)
        if (!strcmp(builtin_types[i]->name, name)) return builtin_types[i];
    for (size_t i = 0; i < n_plugin_types; i++)
        if (!strcmp(plugin_types[i]->name, name)) return plugin_types[i];
    return NULL;
}

size_t platform_type_names(const char **out, size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < sizeof builtin_types / sizeof *builtin_types && n < max; i++) out[n++] = builtin_types[i]->name;
    for (size_t i = 0; i < n_plugin_types && n < max; i++) out[n++] = plugin_types[i]->name;
    return n;
}

int platform_type_register(const PlatformType *type, Err *err) {
    if (!type || !type->name || !type->name[0] || !type->describe || !type->open || !type->deploy || !type->profile ||
        !type->cleanup)
        return err_set(err, "a platform type needs a name and describe, open, deploy, profile and cleanup functions");
    if (platform_type_find(type->name)) return err_set(err, "platform type '%s' is already registered", type->name);
    if (n_plugin_types == MAX_PLATFORM_TYPES)
        return err_set(err, "too many platform types (at most %d)", MAX_PLATFORM_TYPES);
    plugin_types[n_plugin_types++] = type;
    return 0;
}
