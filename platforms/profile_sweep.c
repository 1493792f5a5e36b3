/* platforms/profile_sweep.c — the profiling sweep through an inference backend (see profile_sweep.h). */
#include "platforms/profile_sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/backend.h"
#include "nn/rng.h"
#include "platforms/affinity.h"
#include "platforms/counter.h"
#include "platforms/interference.h"
#include "platforms/profiler.h"
#include "util/duration.h"

typedef struct Forward {
    Backend *b;
    const float *input;
    float *logits;
    int batch;
    double *device_ms; /* the device clock's time of each forward since the last reset (growing) */
    size_t n_device, cap_device;
} Forward;

static int run_forward(void *ctx, Err *err) {
    Forward *f = ctx;
    if (backend_forward(f->b, f->input, f->batch, f->logits, err)) return -1;
    double device_ms = backend_device_ms(f->b);
    if (isnan(device_ms)) return 0;
    if (f->n_device == f->cap_device) {
        size_t cap = f->cap_device ? 2 * f->cap_device : 64;
        double *grown = realloc(f->device_ms, cap * sizeof *grown);
        if (!grown) return err_set(err, "out of memory");
        f->device_ms = grown, f->cap_device = cap;
    }
    f->device_ms[f->n_device++] = device_ms;
    return 0;
}

void profile_sweep_maxima(const ProfileSweep *s, int *max_batch, int *max_threads) {
    *max_batch = *max_threads = 1;
    for (int i = 0; i < s->n_batches; i++) *max_batch = s->batches[i] > *max_batch ? s->batches[i] : *max_batch;
    for (int i = 0; i < s->n_threads; i++) *max_threads = s->threads[i] > *max_threads ? s->threads[i] : *max_threads;
    for (int i = 0; s->n_threads == 0 && i < s->n_maps; i++)
        if (CPU_COUNT(&s->maps[i].cpus) > *max_threads) *max_threads = CPU_COUNT(&s->maps[i].cpus);
}

/* The point's timing results: samples and statistics in milliseconds. */
static int store_timing(ProfilePoint *p, const ProfileSamples *samples, Err *err) {
    ProfileStats st;
    if (profile_stats(samples->s, samples->n, &st, err)) return -1;
    if (!(p->samples_ms = malloc(sizeof(double) * (size_t)samples->n))) return err_set(err, "out of memory");
    for (long i = 0; i < samples->n; i++) p->samples_ms[i] = 1e3 * samples->s[i];
    p->n_samples = (size_t)samples->n;
    p->median_ms = 1e3 * st.median, p->p90_ms = 1e3 * st.p90, p->p99_ms = 1e3 * st.p99, p->mean_ms = 1e3 * st.mean;
    p->stddev_ms = 1e3 * st.stddev, p->min_ms = 1e3 * st.min, p->max_ms = 1e3 * st.max;
    return 0;
}

/* The device clock's samples of the timed forwards (the last n_samples of them), when it has one. */
static int store_device_timing(ProfilePoint *p, const Forward *fw, Err *err) {
    if (!fw->n_device) return 0;
    size_t n = fw->n_device < p->n_samples ? fw->n_device : p->n_samples, first = fw->n_device - n;
    ProfileStats st;
    if (profile_stats(fw->device_ms + first, (long)n, &st, err)) return -1;
    if (!(p->device_samples_ms = malloc(sizeof(double) * n))) return err_set(err, "out of memory");
    memcpy(p->device_samples_ms, fw->device_ms + first, sizeof(double) * n);
    p->n_device_samples = n;
    p->device_median_ms = st.median;
    return 0;
}

/* A counted point (s->count_instructions): 1 + COUNTER_REPEATS forwards under callgrind; the point's
 * count is the least of the last COUNTER_REPEATS (on a loaded machine a forward's count grows by up
 * to about 0.03% through spin-waits of the threading runtimes, even with one thread: waiting only
 * adds instructions); their wall times (under valgrind) are the samples. */
static int count_one(Forward *fw, ProfilePoint *p, ProfileSamples *samples, Err *err) {
    long long first = -1;
    for (int i = 0; i <= COUNTER_REPEATS; i++) {
        long long n;
        double t0 = duration_now_s();
        if (counter_count(run_forward, fw, &n, err)) return -1;
        double dt = duration_now_s() - t0;
        if (i == 0) continue; /* callgrind's first collection of a process counts a few more: not kept */
        if (first < 0 || n < first) first = n;
        if (samples->n == samples->cap) {
            double *grown = realloc(samples->s, sizeof(double) * (size_t)(samples->cap + COUNTER_REPEATS));
            if (!grown) return err_set(err, "out of memory");
            samples->s = grown, samples->cap += COUNTER_REPEATS;
        }
        samples->s[samples->n++] = dt;
    }
    p->instructions = first;
    return cond_set(&p->cond, COND_COUNTER, counter_name(), err);
}

/* The GPU's clocks now as the point's gpu_sm_clock and gpu_mem_clock (MHz; a clock NVML reads as 0 stays
 * unset). */
static int store_gpu_clocks(NvmlClocks *nc, ProfilePoint *p, Err *err) {
    unsigned sm = 0, mem = 0;
    if (nvml_clocks_read(nc, &sm, &mem, err)) return -1;
    if (sm && cond_set_int(&p->cond, COND_GPU_SM_CLOCK, sm, err)) return -1;
    if (mem && cond_set_int(&p->cond, COND_GPU_MEM_CLOCK, mem, err)) return -1;
    return 0;
}

/* One timed loop of a point (with the power sampler around it and the GPU's clocks right after it)
 * and the CPU share it had. */
typedef struct Attempt {
    ProfileSamples samples;
    double *device_ms; /* the device clock's times of its forwards (fw->device_ms taken over) */
    size_t n_device, cap_device;
    double energy_j, avg_power_w;
    InterferenceShares shares;
} Attempt;

static void attempt_free(Attempt *a) {
    profile_samples_free(&a->samples);
    free(a->device_ms);
    memset(a, 0, sizeof *a);
}

static int timed_attempt(const ProfileSweep *s, const EnergySensors *sensors, NvmlClocks *nc, Forward *fw,
                         const cpu_set_t *sampler_cpus, const ProfileMapping *map, int threads, ProfilePoint *p,
                         Attempt *a, Err *err) {
    ProfileLoop loop = {.warmup = 0, .repeat = s->repeat, .min_time_s = s->min_time_ms / 1e3};
    EnergyMeter meter;
    memset(a, 0, sizeof *a);
    a->energy_j = a->avg_power_w = NAN;
    if (sensors && energy_meter_start(&meter, sensors, s->sample_ms / 1e3, sampler_cpus, err)) return -1;
    fw->n_device = 0; /* the warm-up's (or an earlier attempt's) device times are not samples */
    InterferenceSnap before, after;
    interference_snap(&map->cpus, &before);
    int rc = s->count_instructions ? count_one(fw, p, &a->samples, err)
                                   : profile_measure(&loop, run_forward, fw, NULL, NULL, &a->samples, err);
    interference_snap(&map->cpus, &after);
    interference_shares(&before, &after, threads, &map->cpus, &a->shares);
    if (!rc && nc) rc = store_gpu_clocks(nc, p, err); /* while the GPU still runs at the clocks of the loop */
    if (sensors) {
        Err merr;
        if (energy_meter_stop(&meter, &merr) && !rc) rc = err_set(err, "power sampling: %s", merr.msg);
        double secs = energy_meter_seconds(&meter);
        if (!rc && a->samples.n > 0 && secs > 0) {
            a->energy_j = meter.joules / (double)a->samples.n;
            a->avg_power_w = meter.joules / secs;
        }
    }
    a->device_ms = fw->device_ms, a->n_device = fw->n_device, a->cap_device = fw->cap_device;
    fw->device_ms = NULL, fw->n_device = fw->cap_device = 0;
    if (rc) attempt_free(a);
    return rc;
}

/* One point: warm-up, then timed loops until one had its CPUs (interference at most
 * s->max_interference) or s->interference_retries re-measurements were made; the attempt with the
 * least interference is kept, flagged when it is still above the threshold. Then statistics. */
static int measure_one(const ProfileSweep *s, const EnergySensors *sensors, NvmlClocks *nc, Forward *fw,
                       const cpu_set_t *sampler_cpus, const ProfileMapping *map, int threads, ProfilePoint *p,
                       Err *err) {
    p->warmup = s->warmup;
    p->repeat = s->repeat;
    p->min_time_ms = s->min_time_ms;
    profile_reset_peak_rss();
    for (int i = 0; i < s->warmup; i++)
        if (run_forward(fw, err)) return -1;
    if (s->count_instructions) sensors = NULL; /* nothing is timed: no energy */
    Attempt best = {0};
    int rc = 0, attempts = 0;
    for (;;) {
        Attempt a;
        if ((rc = timed_attempt(s, sensors, nc, fw, sampler_cpus, map, threads, p, &a, err))) break;
        attempts++;
        InterferenceShares sh = a.shares; /* this attempt's */
        double level = interference_level(&sh);
        if (attempts == 1 || (!isnan(level) && level < interference_level(&best.shares))) {
            attempt_free(&best);
            best = a;
        } else {
            attempt_free(&a);
        }
        /* a counted point does not depend on time: never re-measured */
        if (s->count_instructions || !interference_flagged(&sh, s->max_interference)) break;
        int retry = attempts <= s->interference_retries;
        fprintf(stderr,
                "dynn profile: warning: %s, batch %lld, cpus %s, %d threads: its threads waited for a CPU %.0f%% of "
                "the time and other work took %.0f%% of its CPUs (limit %.0f%%, --interf-max; its CPU time was "
                "%.0f%% of wall x threads): %s\n",
                p->subnet_name, cond_get_int(&p->cond, COND_BATCH, 0), map->text, threads, 100 * sh.wait_share,
                100 * sh.others_share, 100 * s->max_interference, 100 * sh.cpu_share,
                retry ? "measuring it again" : "FLAGGED: the least disturbed attempt is kept, marked interference_flagged");
        if (!retry) {
            p->interference_flagged = 1;
            break;
        }
    }
    if (!rc) {
        cpu_set_t seen;
        char text[256];
        CPU_ZERO(&seen);
        affinity_tasks_last_cpu(&seen, 0);
        affinity_omp_probe(&seen);
        cpulist_format(&seen, text, sizeof text);
        p->peak_rss_kib = profile_peak_rss_kib();
        p->energy_j = best.energy_j, p->avg_power_w = best.avg_power_w;
        p->cpu_share = best.shares.cpu_share, p->wait_share = best.shares.wait_share;
        p->others_share = best.shares.others_share;
        p->attempts = attempts;
        fw->device_ms = best.device_ms, fw->n_device = best.n_device, fw->cap_device = best.cap_device;
        best.device_ms = NULL;
        rc = profile_report_str(&p->cpus_seen, text, err) || store_timing(p, &best.samples, err) ||
                     store_device_timing(p, fw, err)
                 ? -1
                 : 0;
    }
    attempt_free(&best);
    return rc;
}

/* Every subnet at one batch and thread count, through a backend opened for them. */
static int measure_batch(const ProfileSweep *s, const ModelDesc *d, const ModelWeights *w, int batch, int threads,
                         const ProfileMapping *map, long khz, long long gpu_hz, const float *input, float *logits,
                         const EnergySensors *sensors, NvmlClocks *nc, const cpu_set_t *sampler, ProfileReport *r,
                         Err *err) {
    Backend *b;
    if (backend_open(s->backend, d, w, batch, threads, &b, err)) return err_prefix(err, "batch %d, %d threads", batch, threads);
    BackendInfo info;
    backend_info(b, &info);
    char omp_wait[96];
    interference_omp_wait(omp_wait, sizeof omp_wait);
    int rc = 0;
    for (int si = 0; si < s->n_subnets && !rc; si++) {
        const Subnet *sn = &d->subnets[s->subnets[si]];
        ProfilePoint *p = profile_report_add_point(r, err);
        if (!p) {
            rc = -1;
            break;
        }
        p->subnet = s->subnets[si];
        p->macs = (long long)model_subnet_macs(d, sn->count);
        p->params = (long long)model_subnet_params(d, sn->count);
        Forward fw = {b, input, logits, batch, NULL, 0, 0};
        rc = cond_set_int(&p->cond, COND_BATCH, batch, err) || cond_set_int(&p->cond, COND_THREADS, info.threads, err) ||
                     (khz > 0 && cond_set_int(&p->cond, COND_CPU_FREQ, khz, err)) ||
                     (gpu_hz > 0 && cond_set_int(&p->cond, COND_GPU_FREQ, profile_gpu_khz(gpu_hz), err)) ||
                     profile_report_str(&p->subnet_name, sn->name, err) || cond_set(&p->cond, COND_CPUS, map->text, err) ||
                     cond_set(&p->cond, COND_BACKEND, info.name, err) || cond_set(&p->cond, COND_DEVICE, info.device, err) ||
                     backend_set_subnet(b, p->subnet, err) || cond_set(&p->cond, COND_OMP_WAIT, omp_wait, err) ||
                     measure_one(s, sensors, nc, &fw, sampler, map, info.threads, p, err)
                 ? -1
                 : 0;
        free(fw.device_ms);
        if (rc) profile_report_drop_last(r);
    }
    backend_close(b);
    return rc;
}

long long profile_gpu_khz(long long hz) { return (hz + 500) / 1000; }

/* The GPU at one frequency of the sweep: an NVIDIA GPU's SM clock (MHz) through NVML, else devfreq. */
static int set_gpu(const ProfileSweep *s, Devfreq *gf, NvmlClocks *nc, long long hz, Err *err) {
    if (!s->gpu_by_nvml) return devfreq_set(gf, hz, err);
    int rc = nvml_clocks_set(nc, (unsigned)(hz / 1000000), err);
    return rc > 0 ? err_set(err, "GPU clocks cannot be set: %s", nc->reason) : rc;
}

int profile_sweep_run(const ProfileSweep *s, const ModelDesc *d, const ModelWeights *w, const cpu_set_t *allowed,
                      Cpufreq *cf, Devfreq *gf, NvmlClocks *nc, const EnergySensors *sensors, ProfileReport *r,
                      Err *err) {
    int max_batch, max_threads;
    profile_sweep_maxima(s, &max_batch, &max_threads);
    size_t n_in = (size_t)max_batch * (size_t)(d->in_c * d->in_h * d->in_w);
    float *input = malloc(n_in * sizeof *input), *logits = malloc(sizeof(float) * (size_t)max_batch * d->classes);
    if (!input || !logits) {
        free(input);
        free(logits);
        return err_set(err, "out of memory for a batch of %d inputs", max_batch);
    }
    Rng rng;
    rng_seed(&rng, s->seed);
    for (size_t i = 0; i < n_in; i++) input[i] = rng_normal(&rng);
    int rc = 0;
    for (int mi = 0; mi < s->n_maps && !rc; mi++) {
        const ProfileMapping *map = &s->maps[mi];
        if ((rc = affinity_pin_process(&map->cpus, allowed, "--cpus", err))) break;
        cpu_set_t sampler;
        CPU_XOR(&sampler, allowed, &map->cpus); /* the CPUs outside the mapping, if any */
        if (!CPU_COUNT(&sampler)) sampler = map->cpus;
        for (int fi = 0; fi < (s->n_freqs[mi] ? s->n_freqs[mi] : 1) && !rc; fi++) {
            long khz = s->n_freqs[mi] ? s->freqs[mi][fi] : 0;
            if (khz && (rc = cpufreq_set(cf, &map->cpus, khz, err))) break;
            for (int gi = 0; gi < (s->n_gpu ? s->n_gpu : 1) && !rc; gi++) {
                long long gpu_hz = s->n_gpu ? s->gpu_hz[gi] : 0;
                if (gpu_hz && (rc = set_gpu(s, gf, nc, gpu_hz, err))) break;
                for (int ti = 0; ti < (s->n_threads ? s->n_threads : 1) && !rc; ti++) {
                    int threads = s->n_threads ? s->threads[ti] : CPU_COUNT(&map->cpus);
                    for (int bi = 0; bi < s->n_batches && !rc; bi++)
                        rc = measure_batch(s, d, w, s->batches[bi], threads, map, khz, gpu_hz, input, logits, sensors,
                                           nc, &sampler, r, err);
                }
            }
        }
    }
    free(input);
    free(logits);
    return rc;
}
