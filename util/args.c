/* util/args.c — numeric option parsing and terminal helpers (see args.h). */
#include "util/args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int arg_int(const char *opt, const char *val, long min, long max, int *out, Err *err) {
    char *end;
    errno = 0;
    long v = strtol(val, &end, 10);
    if (!*val || *end || errno) return err_set(err, "%s: '%s' is not an integer", opt, val);
    if (v < min || v > max) return err_set(err, "%s: %ld is out of range %ld..%ld", opt, v, min, max);
    *out = (int)v;
    return 0;
}

int arg_float(const char *opt, const char *val, double min, double max, float *out, Err *err) {
    char *end;
    errno = 0;
    double v = strtod(val, &end);
    if (!*val || *end || errno) return err_set(err, "%s: '%s' is not a number", opt, val);
    if (!(v >= min && v <= max)) return err_set(err, "%s: %g is out of range [%g, %g]", opt, v, min, max);
    *out = (float)v;
    return 0;
}

int arg_u64(const char *opt, const char *val, unsigned long long *out, Err *err) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(val, &end, 10);
    if (!*val || *end || errno || val[0] == '-') return err_set(err, "%s: '%s' is not a non-negative integer", opt, val);
    *out = v;
    return 0;
}

int cli_is_tty(void) {
    const char *e = getenv("DYNN_PROGRESS");
    if (e && *e) return e[0] == '1';
    return isatty(2);
}

const char *cli_duration(double s, char *buf, int size) {
    if (s < 0) s = 0;
    if (s < 60) snprintf(buf, size, "%.1fs", s);
    else if (s < 3600) snprintf(buf, size, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(buf, size, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
    return buf;
}
