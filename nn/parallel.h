/* nn/parallel.h — the one knob for compute threads. dynn links the OpenMP build of OpenBLAS, so
 * setting the OpenMP pool size also sizes sgemm's threads: one pool, never oversubscribed. */
#ifndef DYNN_NN_PARALLEL_H
#define DYNN_NN_PARALLEL_H

/* CPUs this process may run on (sched_getaffinity), at least 1. */
int nn_available_cpus(void);
/* Sets OpenMP's and OpenBLAS's thread count to t (t < 1: available CPUs). Returns the count set. */
int nn_set_threads(int t);

#endif
