/* util/duration.h — durations written for people: "90" (seconds), "30s", "250ms", "5m", "1.5h",
 * "1h30m", "2d" (the exec stage's `timeout:` param), and the monotonic clock durations are measured
 * with. */
#ifndef DYNN_UTIL_DURATION_H
#define DYNN_UTIL_DURATION_H

/* Parses text into seconds: one or more parts `<number><unit>` (units ms, s, m, h, d; the number
 * may have a fraction: "1.5h"), or a bare number of seconds. The result is > 0 and finite.
 * Returns 0, or -1 on anything else (empty text, an unknown unit, spaces, "0s"). */
int duration_parse(const char *text, double *seconds);

/* Seconds on the monotonic clock (CLOCK_MONOTONIC): differences of two readings are elapsed time. */
double duration_now_s(void);

#endif
