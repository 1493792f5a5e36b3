/* platforms/profile_cmd.h — the profiler command line every built-in platform runs:
 * `<prefix...> <binary> profile <model> [--platform FILE] <args...> --json`, as an argv array (local) or as one
 * quoted remote shell command (ssh). */
#ifndef DYNN_PLATFORMS_PROFILE_CMD_H
#define DYNN_PLATFORMS_PROFILE_CMD_H

#include <stddef.h>

#include "platforms/platform.h"
#include "util/strbuf.h"

/* A NULL-terminated argv (malloc'd array; the strings are borrowed). NULL when out of memory. */
const char **profile_cmd_argv(const PlatformDesc *d, const char *binary, const char *model, const char *platform_file,
                              const char *const *args, size_t n_args);
/* Appends the same command to sb, every word shell-quoted. */
void profile_cmd_shell(StrBuf *sb, const PlatformDesc *d, const char *binary, const char *model,
                       const char *platform_file, const char *const *args, size_t n_args);
/* "dynn profile exited with status 3: <last line of its stderr>" into err; returns -1. */
int profile_cmd_failed(const char *target, int status, const char *errout, Err *err);

#endif
