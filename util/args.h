/* util/args.h — strict parsing of numeric command-line values: the whole string must be a number
 * within bounds, else a one-line error naming the option ("--epochs: 'x' is not an integer"). */
#ifndef DYNN_UTIL_ARGS_H
#define DYNN_UTIL_ARGS_H

#include "util/err.h"

int arg_int(const char *opt, const char *val, long min, long max, int *out, Err *err);
int arg_float(const char *opt, const char *val, double min, double max, float *out, Err *err);
int arg_u64(const char *opt, const char *val, unsigned long long *out, Err *err);
/* Whether stderr is a terminal (progress bars) — DYNN_PROGRESS=0/1 overrides. */
int cli_is_tty(void);
/* Formats seconds as "1h02m", "3m07s" or "12.3s". */
const char *cli_duration(double s, char *buf, int size);

#endif
