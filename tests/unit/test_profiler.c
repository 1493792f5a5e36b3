/* tests/unit/test_profiler.c — the profiler's statistics on known sequences (percentiles by linear
 * interpolation between closest ranks, sample stddev) and its loop: warm-up calls are not timed,
 * sampling stops only when both the repeat count and the minimum time are reached — driven by a
 * fake clock that each call of the fake workload advances by a known amount. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "platforms/counter.h"
#include "platforms/interference.h"
#include "platforms/profile_options.h"
#include "platforms/profiler.h"
#include <string.h>
#include "tests/unit/testutil.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-12)

static void test_stats_known_sequence(void **state) {
    (void)state;
    /* 1..10 shuffled: sorted ranks 0..9 */
    double x[] = {7, 3, 10, 1, 5, 9, 2, 8, 4, 6};
    ProfileStats st;
    Err err;
    assert_int_equal(profile_stats(x, 10, &st, &err), 0);
    assert_int_equal(st.n, 10);
    NEAR(st.median, 5.5);          /* rank 4.5 */
    NEAR(st.p90, 9.1);             /* rank 8.1: 9 + 0.1 * (10 - 9) */
    NEAR(st.p99, 9.91);            /* rank 8.91 */
    NEAR(st.mean, 5.5);
    NEAR(st.stddev, sqrt(82.5 / 9.0)); /* sum of squared deviations 82.5, n - 1 = 9 */
    NEAR(st.min, 1);
    NEAR(st.max, 10);
    assert_true(x[0] == 7 && x[9] == 6); /* input not reordered */
}

static void test_stats_edge_cases(void **state) {
    (void)state;
    ProfileStats st;
    Err err;
    double one = 0.25;
    assert_int_equal(profile_stats(&one, 1, &st, &err), 0);
    NEAR(st.median, 0.25);
    NEAR(st.p99, 0.25);
    NEAR(st.stddev, 0.0);
    double two[] = {2.0, 1.0};
    assert_int_equal(profile_stats(two, 2, &st, &err), 0);
    NEAR(st.median, 1.5);
    NEAR(st.p90, 1.9);
    NEAR(st.stddev, sqrt(0.5));
    /* an outlier moves p99 and the mean, not the median */
    double y[101];
    for (int i = 0; i < 100; i++) y[i] = 1.0;
    y[100] = 1001.0;
    assert_int_equal(profile_stats(y, 101, &st, &err), 0);
    NEAR(st.median, 1.0);
    NEAR(st.p99, 1.0);   /* rank 99 of 0..100 is still a 1.0 */
    NEAR(st.mean, 1101.0 / 101.0);
    NEAR(st.max, 1001.0);
    assert_int_equal(profile_stats(y, 0, &st, &err), -1);
}

/* Fake workload and clock: call i takes durations[i % n] seconds of fake time. */
typedef struct Fake {
    double now;
    const double *durations;
    int n, calls, fail_at;
} Fake;

static double fake_clock(void *ctx) { return ((Fake *)ctx)->now; }

static int fake_work(void *ctx, Err *err) {
    Fake *f = ctx;
    if (f->calls == f->fail_at) return err_set(err, "workload failed at call %d", f->calls);
    f->now += f->durations[f->calls % f->n];
    f->calls++;
    return 0;
}

static void test_warmup_excluded(void **state) {
    (void)state;
    /* warm-up calls are slow (100 s), timed ones 1 s: no 100 may appear among the samples */
    double d[] = {100, 100, 100, 1, 1, 1, 1, 1};
    Fake f = {.durations = d, .n = 8, .fail_at = -1};
    ProfileLoop loop = {.warmup = 3, .repeat = 5, .min_time_s = 0};
    ProfileSamples s = {0};
    Err err;
    assert_int_equal(profile_measure(&loop, fake_work, &f, fake_clock, &f, &s, &err), 0);
    assert_int_equal(f.calls, 8);
    assert_int_equal(s.n, 5);
    for (long i = 0; i < s.n; i++) NEAR(s.s[i], 1.0);
    profile_samples_free(&s);
}

static void test_stop_rule(void **state) {
    (void)state;
    double d[] = {0.01};
    Fake f = {.durations = d, .n = 1, .fail_at = -1};
    ProfileSamples s = {0};
    Err err;
    /* the repeat count dominates: 10 x 10 ms = 100 ms > 50 ms minimum */
    ProfileLoop a = {.warmup = 0, .repeat = 10, .min_time_s = 0.05};
    assert_int_equal(profile_measure(&a, fake_work, &f, fake_clock, &f, &s, &err), 0);
    assert_int_equal(s.n, 10);
    profile_samples_free(&s);
    /* the minimum time dominates: 10 ms calls until >= 255 ms in total -> 26 samples */
    f.calls = 0;
    ProfileLoop b = {.warmup = 2, .repeat = 3, .min_time_s = 0.255};
    assert_int_equal(profile_measure(&b, fake_work, &f, fake_clock, &f, &s, &err), 0);
    assert_int_equal(s.n, 26);
    assert_int_equal(f.calls, 28);
    profile_samples_free(&s);
    /* the safety cap ends an endless minimum time */
    ProfileLoop c = {.repeat = 1, .min_time_s = 1e9, .max_samples = 7};
    assert_int_equal(profile_measure(&c, fake_work, &f, fake_clock, &f, &s, &err), 0);
    assert_int_equal(s.n, 7);
    profile_samples_free(&s);
}

static void test_workload_error(void **state) {
    (void)state;
    double d[] = {1};
    Fake f = {.durations = d, .n = 1, .fail_at = 4};
    ProfileLoop loop = {.warmup = 2, .repeat = 10};
    ProfileSamples s = {0};
    Err err;
    assert_int_equal(profile_measure(&loop, fake_work, &f, fake_clock, &f, &s, &err), -1);
    assert_non_null(strstr(err.msg, "call 4"));
    assert_int_equal(s.n, 2); /* the samples taken before the failure are kept */
    profile_samples_free(&s);
}

static void test_peak_rss(void **state) {
    (void)state;
    /* Under valgrind, VmHWM is the tool's own high-water mark (its start-up peak already exceeds
     * what the guest adds), so the property cannot be observed there. */
    const char *vg = getenv("DYNN_VALGRIND");
    if (vg && !strcmp(vg, "1")) skip();
    long before = profile_peak_rss_kib();
    assert_true(before > 0);
    size_t n = 64u << 20; /* touching 64 MiB raises the peak by about that much (mmap: returned at
                             munmap even under sanitizers, whose malloc keeps freed memory) */
    char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    memset(p, 1, n);
    long after = profile_peak_rss_kib();
    assert_true(after - before >= 60 * 1024);
    munmap(p, n);
    if (profile_reset_peak_rss() == 0) assert_true(profile_peak_rss_kib() < after - 32 * 1024);
}

/* The callgrind dump's totals (else summary) line is a forward's count; anything else is refused
 * naming the file. Outside valgrind, counting is refused (never a silent 0). --count takes one word. */
static void test_counter(void **state) {
    (void)state;
    long long n = -1;
    Err err;
    const char *dump = "# callgrind format\nversion: 1\ncmd: dynn\nevents: Ir\nfl=(1) x.c\nfn=(1) f\n16 3\nsummary: 179279\n"
                       "\n\ntotals: 179280\n";
    assert_int_equal(counter_parse_dump(dump, "cg.out.1", &n, &err), 0);
    assert_int_equal(n, 179280);
    assert_int_equal(counter_parse_dump("version: 1\nsummary: 42\n", "cg.out.2", &n, &err), 0);
    assert_int_equal(n, 42);
    assert_int_equal(counter_parse_dump("version: 1\nevents: Ir\n", "cg.out.3", &n, &err), -1);
    assert_non_null(strstr(err.msg, "cg.out.3: no 'totals:' or 'summary:' line"));
    assert_int_equal(counter_parse_dump("version: 1\ntotals: many\n", "cg.out.4", &n, &err), -1);
    assert_non_null(strstr(err.msg, "'totals:' is not followed by a count"));
    if (!counter_under_valgrind()) {
        assert_int_equal(counter_count(NULL, NULL, &n, &err), -1);
        assert_non_null(strstr(err.msg, "needs this process under callgrind"));
    }
    assert_non_null(strstr(counter_name(), "callgrind " COUNTER_KERNEL_SET " ("));
    const ProfileOption *o = profile_option_find("count");
    assert_non_null(o);
    assert_int_equal(profile_option_check(o, "instructions", "--count", &err), 0);
    assert_int_equal(profile_option_check(o, "cycles", "--count", &err), -1);
    assert_string_equal(err.msg, "--count: 'cycles' is not one of: instructions");
}

/* The shares of a loop from two snapshots: 2 threads on 2 CPUs for 1 s that got 1.5 s of CPU, waited
 * 0.5 s for one, while the CPUs were busy 2 s (0.5 s of it other work): 75%, 25%, 25%; interference
 * 0.25, flagged above 10% and not above 30%. Its own threads queueing (2 on 1 CPU) is not
 * interference; a loop under 50 ms is not judged; without schedstat the /proc/stat share stands in
 * over a loop of 1 s or more only; a share that cannot be known never flags. The omp_wait condition
 * from the environment. */
static void test_interference(void **state) {
    (void)state;
    cpu_set_t cpus, one;
    CPU_ZERO(&cpus);
    CPU_SET(0, &cpus);
    CPU_SET(1, &cpus);
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    InterferenceSnap a = {.wall_s = 10, .cpu_s = 1, .run_delay_s = 2, .busy_s = 100};
    InterferenceSnap b = {.wall_s = 11, .cpu_s = 2.5, .run_delay_s = 2.5, .busy_s = 102};
    InterferenceShares sh;
    interference_shares(&a, &b, 2, &cpus, &sh);
    assert_true(fabs(sh.cpu_share - 0.75) < 1e-12 && fabs(sh.wait_share - 0.25) < 1e-12 && fabs(sh.others_share - 0.25) < 1e-12);
    assert_true(fabs(interference_level(&sh) - 0.25) < 1e-12);
    assert_true(interference_flagged(&sh, 0.10));
    assert_false(interference_flagged(&sh, 0.30));
    InterferenceSnap c = {.wall_s = 11, .cpu_s = 2, .run_delay_s = 3.05, .busy_s = 101}; /* 2 threads on 1 CPU, waiting 52.5% */
    interference_shares(&a, &c, 2, &one, &sh);
    assert_true(fabs(sh.wait_share - 0.525) < 1e-12);
    assert_true(fabs(interference_level(&sh) - 0.025) < 1e-12);
    assert_false(interference_flagged(&sh, 0.10));
    InterferenceSnap d = {.wall_s = 10.04, .cpu_s = 1.08, .run_delay_s = 2.04, .busy_s = 100}; /* 40 ms, half waiting */
    interference_shares(&a, &d, 2, &cpus, &sh);
    assert_true(fabs(sh.wait_share - 0.5) < 1e-9);
    assert_true(isnan(interference_level(&sh)));
    assert_false(interference_flagged(&sh, 0.10));
    a.run_delay_s = b.run_delay_s = NAN; /* no schedstat: the /proc/stat share over 1 s */
    interference_shares(&a, &b, 2, &cpus, &sh);
    assert_true(isnan(sh.wait_share));
    assert_true(fabs(interference_level(&sh) - 0.25) < 1e-12);
    b.busy_s = 101; /* the kernel counted less busy time than this process used (tick granularity): no other work */
    interference_shares(&a, &b, 2, &cpus, &sh);
    assert_true(sh.others_share == 0.0);
    assert_false(interference_flagged(&sh, 0.10));
    b.wall_s = 10.5; /* half a second: too few ticks to stand in */
    interference_shares(&a, &b, 2, &cpus, &sh);
    assert_true(isnan(interference_level(&sh)));
    b.wall_s = 11;
    a.busy_s = b.busy_s = NAN;
    interference_shares(&a, &b, 2, &cpus, &sh);
    assert_true(isnan(interference_level(&sh)));
    assert_false(interference_flagged(&sh, 0.0));
    InterferenceSnap now;
    interference_snap(&cpus, &now); /* the real sources of this machine */
    assert_true(now.wall_s > 0 && now.cpu_s >= 0 && !isnan(now.busy_s));
    char w[96];
    unsetenv("GOMP_SPINCOUNT");
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    interference_omp_wait(w, sizeof w);
    assert_string_equal(w, "passive");
    unsetenv("OMP_WAIT_POLICY");
    setenv("GOMP_SPINCOUNT", "10000", 1);
    interference_omp_wait(w, sizeof w);
    assert_string_equal(w, "default,spincount=10000");
    unsetenv("GOMP_SPINCOUNT");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_known_sequence), cmocka_unit_test(test_stats_edge_cases),
        cmocka_unit_test(test_warmup_excluded),      cmocka_unit_test(test_stop_rule),
        cmocka_unit_test(test_workload_error),       cmocka_unit_test(test_peak_rss), cmocka_unit_test(test_counter), cmocka_unit_test(test_interference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
