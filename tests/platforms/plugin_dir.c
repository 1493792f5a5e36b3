/* tests/platforms/plugin_dir.c — a platform-type plugin for the end-to-end tests (built by
 * tests/e2e/test_platform_plugin.sh with `cc -shared -fPIC`). Type `dir`: a "board" that is a local
 * directory (`dir:` in the description): deploy copies the profiler and the model into it, profile
 * runs the copy there and collects its standard output, cleanup removes both copies. Uses only the
 * headers and the api it is given. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline/dynn_plugin.h"

static DynnPluginApi api;
static const char *const dir_keys[] = {"dir"};

typedef struct DirState {
    const PlatformDesc *desc;
    char dir[2048], binary[2100], model[2100], platform_file[2100];
    int has_platform_file;
} DirState;

static int dir_validate(const PlatformDesc *d, Err *err) {
    const YNode *dir = api.ynode_get(d->node, "dir");
    if (!dir || dir->kind != YNODE_SCALAR || !dir->str[0])
        return api.ynode_err(err, d->file, dir ? dir : d->node, "platform '%s' (dir) needs 'dir': a directory", d->name);
    return 0;
}

static void dir_describe(const PlatformDesc *d, char *out, size_t size) {
    snprintf(out, size, "dir %s", api.ynode_get(d->node, "dir")->str);
}

static int dir_open(const PlatformDesc *d, void **state, Err *err) {
    DirState *s = calloc(1, sizeof *s);
    if (!s) return api.err_set(err, "out of memory");
    s->desc = d;
    snprintf(s->dir, sizeof s->dir, "%s", api.ynode_get(d->node, "dir")->str);
    snprintf(s->binary, sizeof s->binary, "%s/dynn", s->dir);
    snprintf(s->model, sizeof s->model, "%s/model", s->dir);
    snprintf(s->platform_file, sizeof s->platform_file, "%s/platform.yaml", s->dir);
    *state = s;
    return 0;
}

static int copy(const char *from, const char *to, mode_t mode, Err *err) {
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode);
    char buf[65536];
    ssize_t n = 0;
    while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) n = -1;
    int rc = in < 0 || out < 0 || n < 0 ? api.err_set(err, "dir: copying %s to %s: %s", from, to, strerror(errno)) : 0;
    if (in >= 0) close(in);
    if (out >= 0) close(out);
    return rc;
}

static int dir_deploy(void *state, const char *binary, const char *model, const char *platform_file, Err *err) {
    DirState *s = state;
    if (mkdir(s->dir, 0777) && errno != EEXIST) return api.err_set(err, "dir: cannot create %s: %s", s->dir, strerror(errno));
    s->has_platform_file = platform_file != NULL;
    return copy(binary, s->binary, 0755, err) || copy(model, s->model, 0644, err) ||
                   (platform_file && copy(platform_file, s->platform_file, 0644, err)) ? -1 : 0;
}

static int dir_profile(void *state, const char *const *args, size_t n_args, char **out, Err *err) {
    DirState *s = state;
    const char *argv[64];
    size_t n = 0;
    argv[n++] = s->binary, argv[n++] = "profile", argv[n++] = s->model;
    if (s->has_platform_file) argv[n++] = "--platform", argv[n++] = s->platform_file;
    for (size_t i = 0; i < n_args && n < 60; i++) argv[n++] = args[i];
    argv[n++] = "--json", argv[n] = NULL;
    int fds[2];
    if (pipe(fds)) return api.err_set(err, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]), close(fds[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0, cap = 4096;
    char *text = malloc(cap);
    ssize_t r;
    while (text && (r = read(fds[0], text + len, cap - len - 1)) > 0)
        if ((len += (size_t)r) + 1 == cap) text = realloc(text, cap *= 2);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    if (!text) return api.err_set(err, "out of memory");
    text[len] = '\0';
    *out = text;
    if (!WIFEXITED(status) || WEXITSTATUS(status)) return api.err_set(err, "dir %s: dynn profile failed (status %d)", s->dir, status);
    return 0;
}

static int dir_cleanup(void *state, Err *err) {
    DirState *s = state;
    int rc = (unlink(s->binary) && errno != ENOENT) || (unlink(s->model) && errno != ENOENT) ||
                     (unlink(s->platform_file) && errno != ENOENT)
                 ? api.err_set(err, "dir %s: cleanup: %s", s->dir, strerror(errno)) : 0;
    free(s);
    return rc;
}

static const PlatformType dir_type = {
    .name = "dir",
    .summary = "a local directory standing in for a board (test plugin)",
    .keys = dir_keys,
    .n_keys = 1,
    .validate = dir_validate,
    .describe = dir_describe,
    .open = dir_open,
    .deploy = dir_deploy,
    .profile = dir_profile,
    .cleanup = dir_cleanup,
};

int dynn_plugin_init(DynnPluginApi *given) {
    if (given->api_version != DYNN_PLUGIN_API_VERSION) {
        given->err_set(given->err, "built for plugin API %d, dynn has %d", DYNN_PLUGIN_API_VERSION, given->api_version);
        return -1;
    }
    api = *given;
    return api.register_platform_type(&dir_type, api.err);
}
