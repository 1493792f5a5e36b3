/* platforms/profile_sweep.h — the measurement loop behind `dynn profile`: every combination of CPU
 * mapping, frequency, GPU frequency (devfreq or an NVIDIA GPU's SM clock), thread count, batch size
 * and subnet (in that order, outermost first), timed through an inference backend (nn/backend.h).
 *
 * For each (mapping, frequency, threads, batch) the backend is opened for exactly that batch and
 * thread count, so the peak memory of a point is that of a deployment of its batch (not of the
 * largest batch of the sweep, nor of a training model). For each subnet: the warm-up passes, the
 * timed loop (platforms/profiler.h) with the power sampler around it when there are sensors, the
 * statistics, the CPUs the threads ran on, the peak RSS since just before the warm-up (or, counting,
 * the instructions of one forward and the `counter` condition), the GPU's clocks at the end of the
 * timed loop when NVML reads them, the CPU share the loop had (platforms/interference.h: a point
 * that had too little of its CPUs is measured again, up to max_interference retries, and flagged when
 * every attempt was disturbed; the least disturbed attempt is kept) and the OpenMP wait policy
 * (condition omp_wait). Each point
 * is appended to the report as it is measured, so a sweep that fails part-way keeps its points. */
#ifndef DYNN_PLATFORMS_PROFILE_SWEEP_H
#define DYNN_PLATFORMS_PROFILE_SWEEP_H

#include <sched.h>

#include "nn/model_desc.h"
#include "platforms/cpufreq.h"
#include "platforms/devfreq.h"
#include "platforms/energy.h"
#include "platforms/nvml_clocks.h"
#include "platforms/profile_json.h"
#include "platforms/profile_options.h"

#define PROFILE_MAX_GPU NVML_MAX_CLOCKS /* GPU frequencies of a sweep (as many as NVML lists; devfreq lists fewer) */
_Static_assert(PROFILE_MAX_GPU >= DEVFREQ_MAX_FREQS, "a sweep must hold every devfreq frequency");

typedef struct ProfileMapping {
    cpu_set_t cpus;
    char text[256]; /* canonical CPU list */
} ProfileMapping;

typedef struct ProfileSweep {
    int subnets[PROFILE_MAX_LIST], n_subnets;
    int batches[PROFILE_MAX_LIST], n_batches;
    int threads[PROFILE_MAX_LIST], n_threads; /* n_threads 0: the number of CPUs of each mapping */
    ProfileMapping maps[PROFILE_MAX_LIST];
    int n_maps;
    long freqs[PROFILE_MAX_LIST][CPUFREQ_MAX_FREQS]; /* per mapping; n_freqs[i] 0: not set */
    int n_freqs[PROFILE_MAX_LIST];
    long long gpu_hz[PROFILE_MAX_GPU]; /* GPU frequencies (Hz; devfreq, or NVML SM clocks), each point's gpu_freq in kHz */
    int n_gpu;                         /* 0: the GPU is not touched */
    int gpu_by_nvml;                   /* 1: gpu_hz are set through NVML (nvml_clocks_set), else through devfreq */
    int warmup, repeat;
    double min_time_ms, sample_ms;
    const char *backend;     /* NULL: BACKEND_DEFAULT */
    int count_instructions;  /* 1: each point's forward is counted under callgrind (platforms/counter.h)
                              * instead of timed: after the warm-up, COUNTER_REPEATS counted forwards (the
                              * least count is kept); their wall times (under valgrind) are the samples */
    unsigned long long seed; /* of the random input (standard normal) */
    double max_interference; /* a point whose threads waited for a CPU, or whose CPUs ran other work, for
                              * more than this share of the capacity is re-measured, then flagged
                              * (platforms/interference.h) */
    int interference_retries; /* re-measurements of such a point (0: flagged at once) */
} ProfileSweep;

/* The largest batch and thread count the sweep will open its backend with. */
void profile_sweep_maxima(const ProfileSweep *s, int *max_batch, int *max_threads);

/* Runs the sweep over model d with weights w. `allowed` is the CPU mask the process started with;
 * cf is set per frequency and, per GPU frequency, gf (devfreq) or nc (NVML, when s->gpu_by_nvml); the
 * caller restores them, and the affinity, afterwards. nc non-NULL (--gpu-nvml): every point also gets
 * the SM and memory clocks read right after its timed loop (conditions gpu_sm_clock, gpu_mem_clock).
 * sensors NULL: no energy. Points are appended to r (r->complete is the caller's). */
int profile_sweep_run(const ProfileSweep *s, const ModelDesc *d, const ModelWeights *w, const cpu_set_t *allowed,
                      Cpufreq *cf, Devfreq *gf, NvmlClocks *nc, const EnergySensors *sensors, ProfileReport *r,
                      Err *err);

/* The gpu_freq condition (kHz, db/conditions.h) of a devfreq frequency in Hz: rounded to the nearest kHz. */
long long profile_gpu_khz(long long hz);

#endif
