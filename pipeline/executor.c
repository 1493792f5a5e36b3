/* pipeline/executor.c — choosing an executor by name, and what both executors share: the
 * environment a stage process gets (see executor.h). */
#include "pipeline/executor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/executor_common.h"

extern char **environ;

Executor *executor_new(const char *name, const char *dynn_exe, size_t slots, Err *err) {
    if (!strcmp(name, "local")) return executor_local_new(dynn_exe, slots, err);
    if (!strcmp(name, "spawn")) return executor_spawn_new(dynn_exe, slots, err);
    err_set(err, "unknown executor '%s' (local or spawn)", name);
    return NULL;
}

char **executor_environment(void) {
    size_t n = 0;
    while (environ[n]) n++;
    char **envp = calloc(n + 2, sizeof *envp);
    if (!envp) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], EXECUTOR_PARENT_ENV "=", strlen(EXECUTOR_PARENT_ENV) + 1)) envp[k++] = environ[i];
    static char parent[64];
    snprintf(parent, sizeof parent, EXECUTOR_PARENT_ENV "=%ld", (long)getpid());
    envp[k++] = parent;
    envp[k] = NULL;
    return envp;
}

pid_t executor_parent_from_env(void) {
    const char *s = getenv(EXECUTOR_PARENT_ENV);
    return s ? (pid_t)atol(s) : 0;
}

int executor_spawn_attrs(posix_spawnattr_t *attr) {
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGCHLD);
    sigaddset(&defaults, SIGHUP);
    if (posix_spawnattr_init(attr)) return -1;
    posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(attr, 0);
    posix_spawnattr_setsigmask(attr, &none);
    posix_spawnattr_setsigdefault(attr, &defaults);
    return 0;
}
