/* pipeline/executor.c — choosing an executor by name, and what both executors share: the
 * environment a stage process gets, spawn attributes, the runner's supervision of strays (see
 * executor.h, executor_common.h). */
#include "pipeline/executor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline/executor_common.h"
#include "util/proctree.h"

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

void executor_supervise(int on) { proctree_set_subreaper(on); }

static int is_known(const pid_t *known, size_t n, pid_t pid) {
    for (size_t i = 0; i < n; i++)
        if (known[i] == pid) return 1;
    return 0;
}

void executor_kill_strays(const pid_t *known, size_t n_known) {
    pid_t kids[PROCTREE_MAX];
    for (;;) { /* a killed stray's own children come back here in turn */
        int n = proctree_children(getpid(), kids, PROCTREE_MAX), strays = 0;
        for (int i = 0; i < n; i++)
            if (!is_known(known, n_known, kids[i])) proctree_signal_tree(kids[i], SIGKILL), strays++;
        if (!strays) return;
        for (int i = 0; i < n; i++)
            if (!is_known(known, n_known, kids[i]))
                while (waitpid(kids[i], NULL, 0) < 0 && errno == EINTR) {
                }
    }
}
