/* platforms/profiler.c — warm-up, timed repeats, statistics, peak memory (see profiler.h). */
#include "platforms/profiler.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double profile_percentile(const double *sorted, long n, double p) {
    double r = p / 100.0 * (double)(n - 1);
    long lo = (long)floor(r);
    if (lo >= n - 1) return sorted[n - 1];
    if (lo < 0) return sorted[0];
    return sorted[lo] + (r - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

int profile_stats(const double *samples, long n, ProfileStats *out, Err *err) {
    if (n < 1) return err_set(err, "no samples to summarize");
    double *sorted = malloc((size_t)n * sizeof *sorted);
    if (!sorted) return err_set(err, "out of memory sorting %ld samples", n);
    memcpy(sorted, samples, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_double);
    double sum = 0.0;
    for (long i = 0; i < n; i++) sum += sorted[i];
    double mean = sum / (double)n, ss = 0.0;
    for (long i = 0; i < n; i++) ss += (sorted[i] - mean) * (sorted[i] - mean);
    out->n = n;
    out->mean = mean;
    out->stddev = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
    out->min = sorted[0];
    out->max = sorted[n - 1];
    out->median = profile_percentile(sorted, n, 50.0);
    out->p90 = profile_percentile(sorted, n, 90.0);
    out->p99 = profile_percentile(sorted, n, 99.0);
    free(sorted);
    return 0;
}

static double monotonic_s(void *ctx) {
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int push_sample(ProfileSamples *s, double v, Err *err) {
    if (s->n == s->cap) {
        long cap = s->cap ? 2 * s->cap : 256;
        double *p = realloc(s->s, (size_t)cap * sizeof *p);
        if (!p) return err_set(err, "out of memory keeping %ld samples", s->n);
        s->s = p;
        s->cap = cap;
    }
    s->s[s->n++] = v;
    return 0;
}

int profile_measure(const ProfileLoop *loop, ProfileWork work, void *work_ctx, ProfileClock clock, void *clock_ctx,
                    ProfileSamples *out, Err *err) {
    if (!clock) clock = monotonic_s;
    long cap = loop->max_samples > 0 ? loop->max_samples : 1000000;
    for (int i = 0; i < loop->warmup; i++)
        if (work(work_ctx, err)) return -1;
    double total = 0.0;
    for (long taken = 0; taken < cap && (taken < loop->repeat || total < loop->min_time_s); taken++) {
        double t0 = clock(clock_ctx);
        if (work(work_ctx, err)) return -1;
        double dt = clock(clock_ctx) - t0;
        if (push_sample(out, dt, err)) return -1;
        total += dt;
    }
    return 0;
}

void profile_samples_free(ProfileSamples *s) {
    free(s->s);
    s->s = NULL;
    s->n = s->cap = 0;
}

long profile_peak_rss_kib(void) {
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (fp && fgets(line, sizeof line, fp))
        if (!strncmp(line, "VmHWM:", 6)) kib = strtol(line + 6, NULL, 10);
    if (fp) fclose(fp);
    if (kib > 0) return kib;
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1; /* KiB on Linux */
}

int profile_reset_peak_rss(void) {
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd < 0) return -1;
    int ok = write(fd, "5", 1) == 1;
    close(fd);
    return ok ? 0 : -1;
}
