/* tests/unit/test_affinity.c — CPU lists, and that a run pinned to one core really runs there:
 * OpenMP workers that existed before the pinning get the mask too (checked with sched_getaffinity
 * per thread), every sched_getcpu() sample taken by every worker during a busy loop is that core,
 * and /proc/self/task/TID/stat field 39 says the same afterwards. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <omp.h>
#include <stdlib.h>

#include "nn/parallel.h"
#include "platforms/affinity.h"
#include "tests/unit/testutil.h"

static void test_cpulist(void **state) {
    (void)state;
    cpu_set_t s;
    Err err;
    char buf[64];
    const char *ok[][2] = {{"0", "0"}, {"0-3", "0-3"}, {"0,2-3", "0,2-3"}, {"3,1", "1,3"}, {"4-5,0-1,2", "0-2,4-5"}};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        assert_int_equal(cpulist_parse(ok[i][0], "--cpus", &s, &err), 0);
        cpulist_format(&s, buf, sizeof buf);
        assert_string_equal(buf, ok[i][1]);
    }
    assert_int_equal(cpulist_parse("0-2", "--cpus", &s, &err), 0);
    assert_int_equal(CPU_COUNT(&s), 3);
    const char *bad[] = {"", "a", "1,", ",1", "1-", "3-1", "1,,2", "0-99999", "1 2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(cpulist_parse(bad[i], "--cpus", &s, &err), -1);
        assert_non_null(strstr(err.msg, "--cpus"));
    }
    CPU_ZERO(&s);
    cpulist_format(&s, buf, sizeof buf);
    assert_string_equal(buf, "");
}

/* Every thread's affinity mask equals want. */
static void assert_every_thread_mask(const cpu_set_t *want) {
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    struct dirent *e;
    int threads = 0;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        cpu_set_t got;
        assert_int_equal(sched_getaffinity(atoi(e->d_name), sizeof got, &got), 0);
        assert_true(CPU_EQUAL(&got, want));
        threads++;
    }
    closedir(d);
    assert_true(threads >= 2); /* the main thread and the OpenMP worker */
}

static void test_pinned_run_stays_on_its_core(void **state) {
    (void)state;
    cpu_set_t allowed, one, seen;
    Err err;
    assert_int_equal(affinity_get(&allowed, &err), 0);
    int core = -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &allowed)) core = c; /* the last allowed CPU: not where a default run starts */
    CPU_ZERO(&one);
    CPU_SET(core, &one);
    nn_set_threads(2);
    volatile double sink = 0;
#pragma omp parallel reduction(+ : sink)
    sink += omp_get_thread_num(); /* the worker exists before the pinning */
    assert_int_equal(affinity_pin_process(&one, &allowed, "--cpus", &err), 0);
    assert_every_thread_mask(&one);
    /* a busy parallel loop; every thread samples where it runs */
    CPU_ZERO(&seen);
    int samples = 0;
    for (int rep = 0; rep < 20; rep++) {
#pragma omp parallel reduction(+ : sink, samples)
        {
            for (int i = 0; i < 20000; i++) sink += i * 1e-9;
            int cpu = sched_getcpu();
#pragma omp critical
            CPU_SET(cpu, &seen);
            samples++;
        }
    }
    assert_int_equal(samples, 40);
    assert_true(CPU_EQUAL(&seen, &one));
    CPU_ZERO(&seen);
    assert_true(affinity_tasks_last_cpu(&seen, 0) >= 2);
    affinity_omp_probe(&seen);
    assert_true(CPU_EQUAL(&seen, &one));
    /* back to every CPU */
    assert_int_equal(affinity_pin_process(&allowed, &allowed, "--cpus", &err), 0);
    assert_every_thread_mask(&allowed);
    (void)sink;
}

static void test_unavailable_cpu(void **state) {
    (void)state;
    cpu_set_t allowed, far;
    Err err;
    assert_int_equal(affinity_get(&allowed, &err), 0);
    assert_int_equal(cpulist_parse("1000", "--cpus", &far, &err), 0);
    assert_int_equal(affinity_pin_process(&far, &allowed, "--cpus", &err), -1);
    assert_non_null(strstr(err.msg, "--cpus: CPU 1000 is not available (this process may run on "));
    cpu_set_t now;
    assert_int_equal(affinity_get(&now, &err), 0);
    assert_true(CPU_EQUAL(&now, &allowed)); /* nothing changed */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpulist),
        cmocka_unit_test(test_pinned_run_stays_on_its_core),
        cmocka_unit_test(test_unavailable_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
