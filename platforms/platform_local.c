/* platforms/platform_local.c — the `local` platform type: the profiler runs on this machine, as a
 * child process (argv array, no shell), from where the binary and the model already are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "platforms/platform.h"
#include "util/proc.h"
#include "platforms/profile_cmd.h"

typedef struct LocalState {
    const PlatformDesc *desc;
    char *binary, *model, *platform_file;
    char target[128];
} LocalState;

static void local_describe(const PlatformDesc *d, char *out, size_t size) {
    snprintf(out, size, "local '%s'", d->name);
}

static int local_open(const PlatformDesc *d, void **state, Err *err) {
    LocalState *s = calloc(1, sizeof *s);
    if (!s) return err_set(err, "out of memory");
    s->desc = d;
    local_describe(d, s->target, sizeof s->target);
    *state = s;
    return 0;
}

static int local_deploy(void *state, const char *binary, const char *model, const char *platform_file, Err *err) {
    LocalState *s = state;
    if (access(binary, X_OK)) return err_set(err, "%s: profiler binary %s is not executable", s->target, binary);
    if (access(model, R_OK)) return err_set(err, "%s: model %s cannot be read", s->target, model);
    free(s->binary), free(s->model), free(s->platform_file);
    s->binary = strdup(binary), s->model = strdup(model), s->platform_file = platform_file ? strdup(platform_file) : NULL;
    if (!s->binary || !s->model || (platform_file && !s->platform_file)) return err_set(err, "out of memory");
    return 0;
}

static int local_profile(void *state, const char *const *args, size_t n_args, char **out, Err *err) {
    LocalState *s = state;
    *out = NULL;
    if (!s->binary) return err_set(err, "%s: nothing deployed", s->target);
    const char **argv = profile_cmd_argv(s->desc, s->binary, s->model, s->platform_file, args, n_args);
    if (!argv) return err_set(err, "out of memory");
    ProcResult r;
    int rc = proc_run(argv, NULL, &r, err);
    free(argv);
    if (!rc && r.status) rc = profile_cmd_failed(s->target, r.status, sb_str(&r.errout), err);
    *out = r.out.len ? sb_take(&r.out) : NULL;
    proc_result_free(&r);
    return rc;
}

static int local_cleanup(void *state, Err *err) {
    (void)err;
    LocalState *s = state;
    free(s->binary), free(s->model), free(s->platform_file);
    free(s);
    return 0;
}

const PlatformType platform_type_local = {
    .name = "local",
    .summary = "this machine: the profiler runs as a child process",
    .describe = local_describe,
    .open = local_open,
    .deploy = local_deploy,
    .profile = local_profile,
    .cleanup = local_cleanup,
};
