/* platforms/profile_cmd.c — the profiler command line (see profile_cmd.h). */
#include "platforms/profile_cmd.h"

#include <stdlib.h>

#include "util/proc.h"
#include "platforms/shell_quote.h"

const char **profile_cmd_argv(const PlatformDesc *d, const char *binary, const char *model, const char *platform_file,
                              const char *const *args, size_t n_args) {
    const char **argv = calloc(d->n_prefix + n_args + 7, sizeof *argv);
    if (!argv) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < d->n_prefix; i++) argv[n++] = d->prefix[i];
    argv[n++] = binary;
    argv[n++] = "profile";
    argv[n++] = model;
    if (platform_file) argv[n++] = "--platform", argv[n++] = platform_file;
    for (size_t i = 0; i < n_args; i++) argv[n++] = args[i];
    argv[n++] = "--json";
    return argv;
}

void profile_cmd_shell(StrBuf *sb, const PlatformDesc *d, const char *binary, const char *model,
                       const char *platform_file, const char *const *args, size_t n_args) {
    const char **argv = profile_cmd_argv(d, binary, model, platform_file, args, n_args);
    if (!argv) {
        sb->oom = 1;
        return;
    }
    for (size_t i = 0; argv[i]; i++) {
        if (i) sb_append_char(sb, ' ');
        shell_quote(sb, argv[i]);
    }
    free(argv);
}

int profile_cmd_failed(const char *target, int status, const char *errout, Err *err) {
    char line[512];
    proc_last_line(errout, line, sizeof line);
    if (status > 128) return err_set(err, "%s: dynn profile was killed by signal %d%s%s", target, status - 128, line[0] ? ": " : "", line);
    return err_set(err, "%s: dynn profile exited with status %d%s%s", target, status, line[0] ? ": " : "", line);
}
