/* nn/parallel.c — thread-count control shared by OpenMP loops and OpenBLAS (see parallel.h). */
#include "nn/parallel.h"

#include <cblas.h>
#include <omp.h>
#include <sched.h>

int nn_available_cpus(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    return 1;
}

int nn_set_threads(int t) {
    if (t < 1) t = nn_available_cpus();
    omp_set_num_threads(t);
    openblas_set_num_threads(t);
    return t;
}
