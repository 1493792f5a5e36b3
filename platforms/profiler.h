/* platforms/profiler.h — the timing loop and its statistics, independent of what is timed.
 *
 * profile_measure() runs `warmup` untimed calls (discarded), then timed calls until BOTH at least
 * `repeat` samples were taken AND the samples add up to at least `min_time_s` (or `max_samples` is
 * reached, a safety cap). The clock is a parameter so tests can drive the loop with a fake one.
 *
 * profile_stats() is pure: percentiles use linear interpolation between closest ranks (NumPy's
 * default): for sorted x[0..n), p in [0,100], rank r = p/100 * (n-1), value
 * x[floor r] + (r - floor r) * (x[floor r + 1] - x[floor r]). The median is p50. stddev is the
 * sample standard deviation (divides by n-1; 0 for one sample). */
#ifndef DYNN_PLATFORMS_PROFILER_H
#define DYNN_PLATFORMS_PROFILER_H

#include "util/err.h"

typedef struct ProfileStats {
    long n;
    double median, p90, p99, mean, stddev, min, max;
} ProfileStats;

/* Percentile p of sorted[0..n), n >= 1, by the definition above. */
double profile_percentile(const double *sorted, long n, double p);
/* Statistics of samples[0..n) (any order, not modified). Fails for n < 1 or out of memory. */
int profile_stats(const double *samples, long n, ProfileStats *out, Err *err);

typedef struct ProfileLoop {
    int warmup;        /* untimed calls first */
    int repeat;        /* at least this many timed calls */
    double min_time_s; /* and at least this much timed time in total */
    long max_samples;  /* never more than this many (0: 1000000) */
} ProfileLoop;

/* One call of the measured work; returns 0 or -1 with err. */
typedef int (*ProfileWork)(void *ctx, Err *err);
/* Seconds from any fixed origin. */
typedef double (*ProfileClock)(void *ctx);

typedef struct ProfileSamples {
    double *s; /* seconds, in the order taken */
    long n, cap;
} ProfileSamples;

/* Runs the loop; samples are appended to out (caller frees out->s). clock NULL = CLOCK_MONOTONIC. */
int profile_measure(const ProfileLoop *loop, ProfileWork work, void *work_ctx, ProfileClock clock, void *clock_ctx,
                    ProfileSamples *out, Err *err);
void profile_samples_free(ProfileSamples *s);

/* Peak resident set size of this process in KiB (VmHWM of /proc/self/status, else
 * getrusage ru_maxrss). */
long profile_peak_rss_kib(void);
/* Resets the kernel's peak-RSS mark (writes 5 to /proc/self/clear_refs) so that the next
 * profile_peak_rss_kib() is the peak since now; returns 0 if the kernel allowed it. */
int profile_reset_peak_rss(void);

#endif
