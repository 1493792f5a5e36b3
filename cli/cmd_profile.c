/* cli/cmd_profile.c — `dynn profile MODEL`: latency (and energy) of subnets on this machine over a
 * sweep of batch sizes, CPU mappings, thread counts and frequencies. Options and set-up here; the
 * timing loop is platforms/profiler.c, printing cli/profile_out.c. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/args.h"
#include "cli/commands.h"
#include "cli/profile_sweep.h"
#include "nn/checkpoint.h"
#include "nn/parallel.h"
#include "nn/rng.h"
#include "platforms/affinity.h"
#include "platforms/platform_file.h"

static const char *PROFILE_USAGE =
    "usage: dynn profile MODEL.dnn [--subnets all|LIST] [--batch LIST] [--cpus LIST] [--threads LIST]\n"
    "                    [--freq LIST] [--warmup N] [--repeat N] [--min-time-ms MS] [--json]\n"
    "  times every combination of subnet x batch x CPU mapping x threads x frequency: warm-up runs\n"
    "  discarded, then timed forward passes until both --repeat runs and --min-time-ms are reached;\n"
    "  median, p90, p99, mean, stddev, min, max, every sample, peak memory, energy when sensors exist\n"
    "  --subnets LIST      subnet names or indices, comma-separated, or all (all)\n"
    "  --batch LIST        batch sizes, e.g. 1,128 (1)\n"
    "  --cpus LIST         CPU mappings, comma-separated; a mapping is a CPU, a range (0-3), a cluster\n"
    "                      name from --platform (big, little), or parts joined by + (0+2-3, big+little);\n"
    "                      the process is pinned to it (default: every CPU it may use)\n"
    "  --threads LIST      OpenMP/OpenBLAS threads (default: the number of CPUs of each mapping)\n"
    "  --freq LIST         CPU frequencies in kHz, all, min, max (cpufreq; the original governor and\n"
    "                      limits are restored afterwards, also on error or Ctrl-C). Where cpufreq is\n"
    "                      absent or read-only this is noted and the current frequency is measured\n"
    "  --warmup N (3)  --repeat N (10)  --min-time-ms MS (200)\n"
    "  --platform FILE     platform description: a board file of experiments/platforms/, or its subset\n"
    "                      (YAML: clusters, frequencies_khz, power sensors)\n"
    "  --sysfs-root DIR    where sysfs is (/sys; env DYNN_SYSFS_ROOT)\n"
    "  --sample-ms MS      power sampling period (2)\n"
    "  --seed S            seed of the random input (1)\n"
    "  --json              one JSON object on stdout (docs/FORMATS.md, Profile output)\n";

#define MAX_LIST 64

typedef struct Options {
    const char *subnets, *batch, *cpus, *threads, *freq, *platform, *sysfs_root;
    int warmup, repeat, json;
    double min_time_ms, sample_ms;
    unsigned long long seed;
} Options;

typedef struct Mapping {
    cpu_set_t cpus;
    char text[256];
} Mapping;

/* Comma-separated integers within [min, max]. */
static int parse_int_list(const char *opt, const char *text, long min, long max, int *out, int *n, Err *err) {
    char copy[1024];
    *n = 0;
    if (snprintf(copy, sizeof copy, "%s", text) >= (int)sizeof copy) return err_set(err, "%s: list too long", opt);
    if (!copy[0] || copy[strlen(copy) - 1] == ',') return err_set(err, "%s: '%s' is not a list of integers", opt, text);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_LIST) return err_set(err, "%s: more than %d values", opt, MAX_LIST);
        if (arg_int(opt, tok, min, max, &out[*n], err)) return -1;
        (*n)++;
    }
    return 0;
}

static int parse_subnets(const ModelDesc *d, const char *text, int *out, int *n, Err *err) {
    *n = 0;
    if (!strcmp(text, "all")) {
        for (int i = 0; i < d->n_subnets; i++) out[(*n)++] = i;
        return 0;
    }
    char copy[1024];
    if (snprintf(copy, sizeof copy, "%s", text) >= (int)sizeof copy) return err_set(err, "--subnets: list too long");
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int found = -1;
        for (int i = 0; i < d->n_subnets && found < 0; i++)
            if (!strcmp(d->subnets[i].name, tok)) found = i;
        char *end;
        long v = strtol(tok, &end, 10);
        if (found < 0 && !*end && v >= 0 && v < d->n_subnets) found = (int)v;
        if (found < 0) {
            char names[512] = "";
            for (int i = 0; i < d->n_subnets; i++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", d->subnets[i].name);
            return err_set(err, "--subnets: no subnet '%s' (this model has %s; or an index 0..%d, or all)", tok, names,
                           d->n_subnets - 1);
        }
        if (*n == MAX_LIST) return err_set(err, "--subnets: more than %d subnets", MAX_LIST);
        out[(*n)++] = found;
    }
    if (*n == 0) return err_set(err, "--subnets: empty list");
    return 0;
}

/* One mapping: parts joined by '+', each a cluster name or a CPU list. */
static int parse_mapping(const char *text, const PlatformFile *pf, const cpu_set_t *allowed, Mapping *m, Err *err) {
    char copy[256];
    if (snprintf(copy, sizeof copy, "%s", text) >= (int)sizeof copy) return err_set(err, "--cpus: '%s' is too long", text);
    CPU_ZERO(&m->cpus);
    char *save = NULL;
    for (char *part = strtok_r(copy, "+", &save); part; part = strtok_r(NULL, "+", &save)) {
        cpu_set_t one;
        const PlatformCluster *c = pf ? platform_cluster(pf, part) : NULL;
        if (c) one = c->cpus;
        else if (part[0] < '0' || part[0] > '9') {
            if (!pf) return err_set(err, "--cpus: '%s' is not a CPU list, and cluster names need --platform FILE", part);
            char names[256] = "";
            for (int i = 0; i < pf->n_clusters; i++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", pf->clusters[i].name);
            return err_set(err, "--cpus: no cluster '%s' in %s (clusters: %s)", part, pf->path, names[0] ? names : "none");
        } else if (cpulist_parse(part, "--cpus", &one, err)) return -1;
        CPU_OR(&m->cpus, &m->cpus, &one);
    }
    if (!CPU_COUNT(&m->cpus)) return err_set(err, "--cpus: empty mapping in '%s'", text);
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &m->cpus) && !CPU_ISSET(c, allowed)) {
            char have[256];
            cpulist_format(allowed, have, sizeof have);
            return err_set(err, "--cpus: CPU %d is not available (this process may run on %s)", c, have);
        }
    cpulist_format(&m->cpus, m->text, sizeof m->text);
    return 0;
}

static int parse_mappings(const char *text, const PlatformFile *pf, const cpu_set_t *allowed, Mapping *out, int *n,
                          Err *err) {
    *n = 0;
    if (!text) {
        out[0].cpus = *allowed;
        cpulist_format(allowed, out[0].text, sizeof out[0].text);
        *n = 1;
        return 0;
    }
    char copy[1024];
    if (snprintf(copy, sizeof copy, "%s", text) >= (int)sizeof copy) return err_set(err, "--cpus: list too long");
    if (!copy[0] || copy[strlen(copy) - 1] == ',' || strstr(copy, ",,"))
        return err_set(err, "--cpus: '%s' has an empty mapping", text);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_LIST) return err_set(err, "--cpus: more than %d mappings", MAX_LIST);
        if (parse_mapping(tok, pf, allowed, &out[*n], err)) return -1;
        (*n)++;
    }
    return 0;
}

/* Sensors from the platform file, else RAPL package domains; unreadable ones make energy
 * unavailable (with the reason), never a failure. */
static void setup_energy(const Options *o, const PlatformFile *pf, EnergySensors *es, ProfileReport *r) {
    Err err;
    memset(es, 0, sizeof *es);
    r->energy_available = 0;
    for (int i = 0; pf && i < pf->n_sensors; i++) {
        const PlatformSensor *s = &pf->sensors[i];
        if (energy_add_sensor(es, o->sysfs_root, s->name, s->kind, s->path, s->scale, &err)) {
            snprintf(r->energy_reason, sizeof r->energy_reason, "%.200s: %.390s", pf->path, err.msg);
            es->n = 0;
            return;
        }
    }
    if (!es->n && energy_add_rapl_domains(es, o->sysfs_root) == 0) {
        snprintf(r->energy_reason, sizeof r->energy_reason,
                 "no power sensors: no --platform file with sensors, and no RAPL under %.400s/class/powercap", o->sysfs_root);
        return;
    }
    r->energy_available = 1;
    r->energy_reason[0] = '\0';
}

typedef struct Forward {
    Model *m;
    const float *input;
    int batch;
} Forward;

static int run_forward(void *ctx, Err *err) {
    (void)err;
    Forward *f = ctx;
    model_forward(f->m, f->input, f->batch);
    return 0;
}

static ProfileResult *new_result(ProfileReport *r, Err *err) {
    if (r->n_results == r->cap_results) {
        int cap = r->cap_results ? 2 * r->cap_results : 16;
        ProfileResult *p = realloc(r->results, (size_t)cap * sizeof *p);
        if (!p) return err_set(err, "out of memory"), NULL;
        r->results = p;
        r->cap_results = cap;
    }
    ProfileResult *x = &r->results[r->n_results];
    memset(x, 0, sizeof *x);
    return x;
}

/* One combination: warm-up, timed loop (with the power sampler around it), statistics. */
static int measure_one(const Options *o, ProfileReport *r, Forward *fw, const cpu_set_t *sampler_cpus,
                       ProfileResult *x, Err *err) {
    ProfileLoop loop = {.warmup = o->warmup, .repeat = o->repeat, .min_time_s = o->min_time_ms / 1e3};
    x->warmup = o->warmup;
    x->repeat = o->repeat;
    x->min_time_ms = o->min_time_ms;
    x->energy_j = x->avg_power_w = NAN;
    profile_reset_peak_rss();
    for (int i = 0; i < o->warmup; i++) run_forward(fw, err);
    loop.warmup = 0;
    EnergyMeter meter;
    if (r->energy_available && energy_meter_start(&meter, r->sensors, o->sample_ms / 1e3, sampler_cpus, err)) return -1;
    int rc = profile_measure(&loop, run_forward, fw, NULL, NULL, &x->samples, err);
    if (r->energy_available) {
        Err merr;
        if (energy_meter_stop(&meter, &merr) && !rc) rc = err_set(err, "power sampling: %s", merr.msg);
        double secs = energy_meter_seconds(&meter);
        if (!rc && x->samples.n > 0 && secs > 0) {
            x->energy_j = meter.joules / (double)x->samples.n;
            x->avg_power_w = meter.joules / secs;
        }
    }
    if (rc) return -1;
    cpu_set_t seen;
    CPU_ZERO(&seen);
    affinity_tasks_last_cpu(&seen, 0);
    affinity_omp_probe(&seen);
    cpulist_format(&seen, x->cpus_seen, sizeof x->cpus_seen);
    x->peak_rss_kib = profile_peak_rss_kib();
    return profile_stats(x->samples.s, x->samples.n, &x->st, err);
}

typedef struct Sweep {
    int subnets[MAX_LIST], n_subnets, batches[MAX_LIST], n_batches, threads[MAX_LIST], n_threads;
    Mapping maps[MAX_LIST];
    int n_maps;
    long freqs[MAX_LIST][CPUFREQ_MAX_FREQS];
    int n_freqs[MAX_LIST];
} Sweep;

/* Order: mapping > frequency > threads > batch > subnet. */
static int run_sweep(const Options *o, const Sweep *s, const cpu_set_t *allowed, Cpufreq *cf, Model *m,
                     const float *input, ProfileReport *r, Err *err) {
    for (int mi = 0; mi < s->n_maps; mi++) {
        const Mapping *map = &s->maps[mi];
        if (affinity_pin_process(&map->cpus, allowed, "--cpus", err)) return -1;
        cpu_set_t sampler;
        CPU_XOR(&sampler, allowed, &map->cpus); /* the CPUs outside the mapping, if any */
        if (!CPU_COUNT(&sampler)) sampler = map->cpus;
        for (int fi = 0; fi < (s->n_freqs[mi] ? s->n_freqs[mi] : 1); fi++) {
            long khz = s->n_freqs[mi] ? s->freqs[mi][fi] : 0;
            if (khz && cpufreq_set(cf, &map->cpus, khz, err)) return -1;
            int n_threads = s->n_threads ? s->n_threads : 1;
            for (int ti = 0; ti < n_threads; ti++) {
                int threads = nn_set_threads(s->n_threads ? s->threads[ti] : CPU_COUNT(&map->cpus));
                /* The convolutions run num_threads(m->threads) teams: lower it too (the model was
                 * created for the largest count, and the scratch space for more threads fits fewer). */
                m->threads = threads;
                for (int bi = 0; bi < s->n_batches; bi++)
                    for (int si = 0; si < s->n_subnets; si++) {
                        ProfileResult *x = new_result(r, err);
                        if (!x) return -1;
                        x->subnet = s->subnets[si];
                        x->batch = s->batches[bi];
                        x->threads = threads;
                        x->freq_khz = khz;
                        snprintf(x->cpus, sizeof x->cpus, "%s", map->text);
                        model_set_subnet(m, x->subnet);
                        Forward fw = {m, input, x->batch};
                        int rc = measure_one(o, r, &fw, &sampler, x, err);
                        if (rc) {
                            profile_samples_free(&x->samples);
                            return -1;
                        }
                        r->n_results++;
                    }
            }
        }
    }
    return 0;
}

static int parse_options(int argc, char **argv, Options *o, Err *err) {
    enum { O_SUBNETS = 256, O_BATCH, O_CPUS, O_THREADS, O_FREQ, O_MINTIME, O_WARMUP, O_REPEAT, O_JSON, O_HELP,
           O_PLATFORM, O_SYSFS, O_SAMPLE, O_SEED };
    static const struct option opts[] = {
        {"subnets", 1, 0, O_SUBNETS}, {"batch", 1, 0, O_BATCH}, {"cpus", 1, 0, O_CPUS},
        {"threads", 1, 0, O_THREADS}, {"freq", 1, 0, O_FREQ}, {"min-time-ms", 1, 0, O_MINTIME},
        {"warmup", 1, 0, O_WARMUP}, {"repeat", 1, 0, O_REPEAT}, {"json", 0, 0, O_JSON}, {"help", 0, 0, O_HELP},
        {"platform", 1, 0, O_PLATFORM}, {"sysfs-root", 1, 0, O_SYSFS}, {"sample-ms", 1, 0, O_SAMPLE},
        {"seed", 1, 0, O_SEED}, {0, 0, 0, 0},
    };
    float f;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case O_SUBNETS: o->subnets = optarg; break;
        case O_BATCH: o->batch = optarg; break;
        case O_CPUS: o->cpus = optarg; break;
        case O_THREADS: o->threads = optarg; break;
        case O_FREQ: o->freq = optarg; break;
        case O_MINTIME: bad = arg_float("--min-time-ms", optarg, 0, 3.6e6, &f, err); o->min_time_ms = f; break;
        case O_WARMUP: bad = arg_int("--warmup", optarg, 0, 1000000, &o->warmup, err); break;
        case O_REPEAT: bad = arg_int("--repeat", optarg, 1, 1000000, &o->repeat, err); break;
        case O_JSON: o->json = 1; break;
        case O_HELP: return 1;
        case O_PLATFORM: o->platform = optarg; break;
        case O_SYSFS: o->sysfs_root = optarg; break;
        case O_SAMPLE: bad = arg_float("--sample-ms", optarg, 0.1, 1000, &f, err); o->sample_ms = f; break;
        case O_SEED: bad = arg_u64("--seed", optarg, &o->seed, err); break;
        default: return err_set(err, "unknown or incomplete option '%s' (see dynn profile --help)", argv[optind - 1]);
        }
        if (bad) return -1;
    }
    if (optind != argc - 1) return err_set(err, "expected one checkpoint file (see dynn profile --help)");
    return 0;
}

int cmd_profile(int argc, char **argv) {
    Options o = {.subnets = "all", .batch = "1", .warmup = 3, .repeat = 10, .min_time_ms = 200, .sample_ms = 2,
                 .seed = 1, .sysfs_root = getenv("DYNN_SYSFS_ROOT")};
    Err err = {{0}};
    int prc = parse_options(argc, argv, &o, &err);
    if (prc > 0) {
        fputs(PROFILE_USAGE, stdout);
        return 0;
    }
    if (prc) {
        fprintf(stderr, "dynn profile: %s\n", err.msg);
        return 2;
    }
    if (!o.sysfs_root || !*o.sysfs_root) o.sysfs_root = "/sys";
    const char *path = argv[optind];
    Sweep *s = calloc(1, sizeof *s);
    PlatformFile *pf = o.platform ? calloc(1, sizeof *pf) : NULL;
    Cpufreq *cf = calloc(1, sizeof *cf);
    ModelDesc *d = calloc(1, sizeof *d);
    EnergySensors *es = calloc(1, sizeof *es);
    ProfileReport r = {.model_path = path, .cf = cf, .sysfs_root = o.sysfs_root, .sensors = es, .complete = 0};
    Model m = {0};
    float *input = NULL;
    cpu_set_t allowed;
    int rc = 2, measuring = 0, max_batch = 1, max_threads = 1;
    if (!s || (o.platform && !pf) || !cf || !d || !es) {
        err_set(&err, "out of memory");
        goto done;
    }
    /* Everything is checked before anything is measured (usage errors exit 2). */
    if (parse_int_list("--batch", o.batch, 1, 65536, s->batches, &s->n_batches, &err) ||
        (o.threads && parse_int_list("--threads", o.threads, 1, 1024, s->threads, &s->n_threads, &err)) ||
        affinity_get(&allowed, &err) || (pf && platform_file_load(o.platform, pf, &err)) ||
        parse_mappings(o.cpus, pf, &allowed, s->maps, &s->n_maps, &err))
        goto done;
    rc = 1;
    if (checkpoint_read_desc(path, d, &r.model_crc, &err)) goto done;
    r.d = d;
    rc = 2;
    if (parse_subnets(d, o.subnets, s->subnets, &s->n_subnets, &err)) goto done;
    if (cpufreq_open(cf, o.sysfs_root, &err)) goto done;
    if (o.freq && !cf->available)
        fprintf(stderr, "dynn profile: note: DVFS unavailable (%s); measuring at the current frequency\n", cf->reason);
    for (int i = 0; o.freq && cf->available && i < s->n_maps; i++)
        if (cpufreq_resolve(cf, &s->maps[i].cpus, o.freq, s->freqs[i], CPUFREQ_MAX_FREQS, &s->n_freqs[i], &err)) goto done;
    rc = 1;
    setup_energy(&o, pf, es, &r);
    if (!r.energy_available && pf && pf->n_sensors)
        fprintf(stderr, "dynn profile: note: energy not measured (%s)\n", r.energy_reason);
    for (int i = 0; i < s->n_batches; i++) max_batch = s->batches[i] > max_batch ? s->batches[i] : max_batch;
    for (int i = 0; i < s->n_threads; i++) max_threads = s->threads[i] > max_threads ? s->threads[i] : max_threads;
    for (int i = 0; i < s->n_maps; i++)
        max_threads = CPU_COUNT(&s->maps[i].cpus) > max_threads ? CPU_COUNT(&s->maps[i].cpus) : max_threads;
    if (checkpoint_load(path, &m, max_batch, max_threads, &err)) goto done;
    r.d = m.d;
    size_t n_in = (size_t)max_batch * (size_t)(m.d->in_c * m.d->in_h * m.d->in_w);
    if (!(input = malloc(n_in * sizeof *input))) {
        err_set(&err, "out of memory for a batch of %d inputs", max_batch);
        goto done;
    }
    Rng rng;
    rng_seed(&rng, o.seed);
    for (size_t i = 0; i < n_in; i++) input[i] = rng_normal(&rng);
    measuring = 1;
    int sweep_rc = run_sweep(&o, s, &allowed, cf, &m, input, &r, &err);
    Err rerr;
    if (cpufreq_restore(cf, &rerr) && !sweep_rc) {
        err = rerr;
        sweep_rc = -1;
    }
    Err aerr;
    affinity_pin_process(&allowed, &allowed, "restoring the CPU mask", &aerr);
    r.complete = sweep_rc == 0;
    if (o.json) profile_report_json(&r, stdout);
    else profile_report_table(&r, stdout);
    fflush(stdout);
    rc = r.complete ? 0 : 1;
done:
    if (rc && !measuring && cf) cpufreq_restore(cf, &(Err){{0}});
    if (rc) fprintf(stderr, "dynn profile: %s\n", err.msg);
    for (int i = 0; i < r.n_results; i++) profile_samples_free(&r.results[i].samples);
    free(r.results);
    free(input);
    if (m.d) model_free(&m);
    free(d);
    free(s);
    free(pf);
    free(cf);
    free(es);
    return rc;
}
