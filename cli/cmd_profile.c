/* cli/cmd_profile.c — `dynn profile MODEL`: latency (and energy) of subnets on this machine over a
 * sweep of batch sizes, CPU mappings, thread counts, CPU frequencies and GPU frequencies (devfreq, or an NVIDIA
 * GPU's clocks through NVML). Options (the table shared with
 * the profile stage, platforms/profile_options.c) and set-up here: the model's description and
 * weights (no training model), the checks done before anything is measured, DVFS (cpufreq for the
 * CPUs, devfreq or NVML for a GPU) and power sensors;
 * the sweep is platforms/profile_sweep.c (through an inference backend, nn/backend.h), the JSON
 * platforms/profile_json.c, the table cli/profile_out.c. `--platform FILE` is read by the one board
 * reader (platforms/platform_desc.c); a board of a type other than `local` is profiled there, through
 * its platform type (platforms/platform.h), unless --here says this machine is that board. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/profile_out.h"
#include "nn/backend.h"
#include "nn/checkpoint.h"
#include "platforms/affinity.h"
#include "platforms/platform.h"
#include "platforms/profile_json.h"
#include "platforms/counter.h"
#include "platforms/interference.h"
#include "platforms/profile_sweep.h"
#include "util/args.h"
#include "util/cliopt.h"
#include "util/provenance.h"
#include "nn/kernel_set.h"
#include "util/version.h"

static const char PROFILE_SUMMARY[] =
    "  times every combination of subnet x batch x CPU mapping x threads x frequency through an inference\n"
    "  backend opened for each batch and thread count: warm-up runs discarded, then timed forward passes\n"
    "  until both --repeat runs and --min-time-ms are reached; median, p90, p99, mean, stddev, min, max,\n"
    "  every sample, peak memory, energy when sensors exist. The same options are the profile stage's\n"
    "  params (docs/FORMATS.md); in parentheses: default; range\n";

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
        if (*n == PROFILE_MAX_LIST) return err_set(err, "--subnets: more than %d subnets", PROFILE_MAX_LIST);
        out[(*n)++] = found;
    }
    if (*n == 0) return err_set(err, "--subnets: empty list");
    return 0;
}

/* One mapping: parts joined by '+', each a cluster name or a CPU list. */
static int parse_mapping(const char *text, const PlatformDesc *pf, const cpu_set_t *allowed, ProfileMapping *m, Err *err) {
    char copy[256];
    if (snprintf(copy, sizeof copy, "%s", text) >= (int)sizeof copy) return err_set(err, "--cpus: '%s' is too long", text);
    CPU_ZERO(&m->cpus);
    char *save = NULL;
    for (char *part = strtok_r(copy, "+", &save); part; part = strtok_r(NULL, "+", &save)) {
        cpu_set_t one;
        const DescCluster *c = NULL;
        for (size_t i = 0; pf && i < pf->n_clusters && !c; i++)
            if (!strcmp(pf->clusters[i].name, part)) c = &pf->clusters[i];
        if (c) {
            if (cpulist_parse(c->cpus, part, &one, err)) return -1;
        } else if (part[0] < '0' || part[0] > '9') {
            if (!pf) return err_set(err, "--cpus: '%s' is not a CPU list, and cluster names need --platform FILE", part);
            char names[256] = "";
            for (size_t i = 0; i < pf->n_clusters; i++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", pf->clusters[i].name);
            return err_set(err, "--cpus: no cluster '%s' in %s (clusters: %s)", part, pf->file, names[0] ? names : "none");
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

static int parse_mappings(const char *text, const PlatformDesc *pf, const cpu_set_t *allowed, ProfileMapping *out, int *n,
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
        if (*n == PROFILE_MAX_LIST) return err_set(err, "--cpus: more than %d mappings", PROFILE_MAX_LIST);
        if (parse_mapping(tok, pf, allowed, &out[*n], err)) return -1;
        (*n)++;
    }
    return 0;
}

/* Sensors from the platform file, else RAPL package domains; unreadable ones make energy
 * unavailable (with the reason in r), never a failure. Returns -1 only when out of memory. */
static int setup_energy(const char *sysfs_root, const PlatformDesc *pf, EnergySensors *es, ProfileReport *r, Err *err) {
    Err why;
    char reason[600] = "";
    memset(es, 0, sizeof *es);
    for (size_t i = 0; pf && i < pf->n_sensors && !reason[0]; i++) {
        const DescSensor *s = &pf->sensors[i];
        SensorKind kind = SENSOR_HWMON;
        if (energy_sensor_kind(s->kind, &kind)) err_set(&why, "unknown sensor kind '%s'", s->kind); /* the reader refuses it */
        else if (energy_add_sensor(es, sysfs_root, s->name, kind, s->path, s->scale, &why) == 0) continue;
        snprintf(reason, sizeof reason, "%.200s: %.390s", pf->file, why.msg);
        es->n = 0;
    }
    if (!reason[0] && !es->n && energy_add_rapl_domains(es, sysfs_root) == 0)
        snprintf(reason, sizeof reason,
                 "no power sensors: no --platform file with sensors, and no RAPL under %.400s/class/powercap", sysfs_root);
    r->energy_available = !reason[0];
    if (profile_report_str(&r->energy_reason, reason, err)) return -1;
    if (!r->energy_available) return 0;
    if (!(r->sensors = calloc((size_t)es->n, sizeof *r->sensors))) return err_set(err, "out of memory");
    for (int i = 0; i < es->n; i++, r->n_sensors++)
        if (profile_report_str(&r->sensors[i].name, es->s[i].name, err) ||
            profile_report_str(&r->sensors[i].kind, energy_sensor_kind_name(es->s[i].kind), err) ||
            profile_report_str(&r->sensors[i].path, es->s[i].path, err))
            return -1;
    return 0;
}

/* The report's facts about the model, this host, this build and DVFS. */
static int describe_run(ProfileReport *r, const char *path, unsigned long crc, const Cpufreq *cf, const char *sysfs_root,
                        Err *err) {
    char host[256], cpu[256], hex[16];
    struct utsname u;
    provenance_host(host, sizeof host);
    provenance_cpu_model(cpu, sizeof cpu);
    snprintf(hex, sizeof hex, "%08lx", crc);
    r->host_ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    r->dvfs_available = cf->available;
    if (profile_report_str(&r->model, path, err) || profile_report_str(&r->model_crc32, hex, err) ||
        profile_report_str(&r->host_name, host, err) ||
        profile_report_str(&r->host_arch, uname(&u) == 0 ? u.machine : "unknown", err) ||
        profile_report_str(&r->host_cpu_model, cpu, err) || profile_report_str(&r->build, kernel_set_build_id(), err) ||
        profile_report_str(&r->dvfs_reason, cf->reason, err) || profile_report_str(&r->dvfs_sysfs_root, sysfs_root, err) ||
        profile_report_str(&r->dvfs_method, cpufreq_method_name(cf->method), err))
        return -1;
    if (cf->n_policies && !(r->policies = calloc((size_t)cf->n_policies, sizeof *r->policies)))
        return err_set(err, "out of memory");
    for (int i = 0; i < cf->n_policies; i++, r->n_policies++) {
        ProfilePolicy *p = &r->policies[i];
        p->cpu = cf->policies[i].cpu;
        if (cf->policies[i].n_freqs && !(p->khz = calloc((size_t)cf->policies[i].n_freqs, sizeof *p->khz)))
            return err_set(err, "out of memory");
        for (int k = 0; k < cf->policies[i].n_freqs; k++) p->khz[p->n_khz++] = cf->policies[i].freqs_khz[k];
    }
    return 0;
}

/* The report's gpu_clocks object (--gpu-nvml): the device, how its clocks were set (or why not), the clocks
 * it supports. */
static int describe_gpu_clocks(const NvmlClocks *nc, ProfileReport *r, Err *err) {
    r->gpu_clocks = 1;
    r->gpu_clocks_index = nc->index;
    r->gpu_clocks_mem_locked = nc->mem_locked;
    r->gpu_clocks_mem_mhz = nc->method != NVML_CLOCKS_NONE ? nc->mem_mhz[nc->n_mem - 1] : 0;
    const char *reason = nc->method != NVML_CLOCKS_NONE ? "" : nc->available ? "not asked (no --gpu-freq)" : nc->reason;
    if (profile_report_str(&r->gpu_clocks_name, nc->name, err) ||
        profile_report_str(&r->gpu_clocks_method, nvml_clocks_method_name(nc->method), err) ||
        profile_report_str(&r->gpu_clocks_reason, reason, err))
        return -1;
    if (nc->n_sm && !(r->gpu_sm_mhz = calloc((size_t)nc->n_sm, sizeof *r->gpu_sm_mhz))) return err_set(err, "out of memory");
    for (int i = 0; i < nc->n_sm; i++) r->gpu_sm_mhz[r->n_gpu_sm_mhz++] = nc->sm_mhz[i];
    return 0;
}

/* An NVIDIA GPU through NVML (--gpu-nvml N): opened (a missing driver library or device is an error);
 * with --gpu-freq its SM clocks are resolved and the first one set, which chooses locked or application
 * clocks; where the driver refuses both this is noted and the sweep measures at the clocks the driver
 * chooses. Every point records the clocks seen. */
static int setup_nvml(const ProfileSettings *o, NvmlClocks *nc, ProfileSweep *s, ProfileReport *r, Err *err) {
    if (o->gpu_devfreq)
        return err_set(err, "--gpu-nvml and --gpu-devfreq both name the GPU whose frequency --gpu-freq sets: give one");
    if (nvml_clocks_open(nc, NULL, o->gpu_nvml, err)) return -1;
    if (o->gpu_freq && nc->available) {
        if (nvml_clocks_resolve(nc, o->gpu_freq, s->gpu_hz, PROFILE_MAX_GPU, &s->n_gpu, err)) return -1;
        int rc = nvml_clocks_set(nc, (unsigned)(s->gpu_hz[0] / 1000000), err); /* chooses the method */
        if (rc < 0) return -1;
        if (rc > 0) s->n_gpu = 0;
        s->gpu_by_nvml = 1;
    }
    if (o->gpu_freq && !nc->available)
        fprintf(stderr, "dynn profile: note: GPU clocks not set (%s); measuring at the clocks the driver chooses, "
                        "recorded per point\n", nc->reason);
    return describe_gpu_clocks(nc, r, err);
}

/* GPU DVFS: an NVIDIA GPU's clocks with --gpu-nvml (setup_nvml), else the node of --gpu-devfreq, else the
 * board's `gpu: {devfreq}`; only with --gpu-freq (without
 * it nothing about the GPU is read or written). An absent or read-only node is noted and the current
 * GPU frequency measured; a usage error returns -1. */
static int setup_gpu(const ProfileSettings *o, const PlatformDesc *pf, Devfreq *gf, NvmlClocks *nc, ProfileSweep *s,
                     ProfileReport *r, Err *err) {
    if (o->gpu_nvml >= 0) return setup_nvml(o, nc, s, r, err);
    if (!o->gpu_freq) return 0;
    const char *node = o->gpu_devfreq ? o->gpu_devfreq : pf && pf->has_gpu ? pf->gpu.devfreq : NULL;
    if (!node)
        return err_set(err, "--gpu-freq: no GPU devfreq node: name it with --gpu-devfreq NODE (a directory of "
                            "%s/class/devfreq) or give a --platform board with 'gpu: {devfreq: NODE}'", o->sysfs_root);
    if (devfreq_open(gf, o->sysfs_root, node, err)) return err_prefix(err, "--gpu-devfreq");
    if (!gf->available)
        fprintf(stderr, "dynn profile: note: GPU DVFS unavailable (%s); measuring at the current GPU frequency\n", gf->reason);
    else if (devfreq_resolve(gf, o->gpu_freq, s->gpu_hz, DEVFREQ_MAX_FREQS, &s->n_gpu, err))
        return -1;
    r->gpu_dvfs = 1;
    r->gpu_dvfs_available = gf->available;
    if (profile_report_str(&r->gpu_dvfs_reason, gf->reason, err) || profile_report_str(&r->gpu_dvfs_node, node, err) ||
        profile_report_str(&r->gpu_dvfs_method, devfreq_method_name(gf->method), err))
        return -1;
    if (gf->n_freqs && !(r->gpu_hz = calloc((size_t)gf->n_freqs, sizeof *r->gpu_hz))) return err_set(err, "out of memory");
    for (int i = 0; i < gf->n_freqs; i++) r->gpu_hz[r->n_gpu_hz++] = gf->freqs_hz[i];
    return 0;
}

/* The options from the table (platforms/profile_options.c) and the checkpoint into *path; 1 after
 * printing --help. */
static int parse_options(int argc, char **argv, ProfileSettings *o, const char **path, Err *err) {
    static ProfileCliOptions cli; /* large; one parse per process */
    profile_cli_options(&cli, o);
    char epilog[2048];
    size_t len = (size_t)snprintf(epilog, sizeof epilog, "  backends built in:");
    size_t n;
    const BackendType *const *types = backend_types(&n);
    for (size_t i = 0; i < n && len < sizeof epilog; i++)
        len += (size_t)snprintf(epilog + len, sizeof epilog - len, "%s %s (%s)", i ? "," : "", types[i]->name,
                                types[i]->summary);
    if (len < sizeof epilog - 1) epilog[len] = '\n', epilog[len + 1] = '\0';
    size_t n_pos = 0;
    *path = NULL;
    const CliOptCommand c = {.name = "profile", .synopsis = "MODEL.dnn [options]", .summary = PROFILE_SUMMARY,
                             .epilog = epilog, .opts = cli.opts, .n_opts = cli.n, .pos = path, .max_pos = 1,
                             .n_pos = &n_pos};
    int rc = cliopt_parse(&c, argc, argv, err);
    if (rc == CLIOPT_HELP) {
        cliopt_help(&c, stdout);
        return 1;
    }
    if (rc) return -1;
    if (!*path) return err_set(err, "expected one checkpoint file (see dynn profile --help)");
    Err why;
    if (!backend_find(o->backend, &why)) return err_set(err, "--backend: %s", why.msg);
    return 0;
}

/* The options of this command line to pass on to the board's profiler: every option but --platform,
 * --here and --json (the board's dynn gets its own), with its value; the model is left out. The
 * options were parsed already (util/cliopt: whole names, `--name value` or `--name=value`). */
static size_t remote_args(int argc, char **argv, const char **out) {
    size_t n_opts, n = 0;
    const ProfileOption *table = profile_options(&n_opts);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) break; /* the rest is the model */
        if (strncmp(a, "--", 2)) continue;
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const ProfileOption *o = NULL;
        for (size_t k = 0; k < n_opts && !o; k++)
            if (strlen(table[k].name) == len && !strncmp(table[k].name, name, len)) o = &table[k];
        if (!o) continue;
        int takes_value = o->kind != POPT_FLAG && !eq && i + 1 < argc;
        if (strcmp(o->name, "platform") && strcmp(o->name, "here") && strcmp(o->name, "json")) {
            out[n++] = a;
            if (takes_value) out[n++] = argv[i + 1];
        }
        i += takes_value;
    }
    out[n++] = "--here";
    return n;
}

/* What the board said about DVFS, for the table's first line. */
static void report_cpufreq(const ProfileReport *r, Cpufreq *cf) {
    cf->available = r->dvfs_available;
    snprintf(cf->reason, sizeof cf->reason, "%s", r->dvfs_reason ? r->dvfs_reason : "");
    cf->method = CPUFREQ_NONE;
    for (CpufreqMethod m = CPUFREQ_NONE; m <= CPUFREQ_MINMAX; m++)
        if (r->dvfs_method && !strcmp(cpufreq_method_name(m), r->dvfs_method)) cf->method = m;
}

/* `--platform FILE` of a board reached through its type (ssh, a plugin's): the model is profiled
 * there as the profile stage does it. This dynn (or the board's `binary`), the model and FILE itself
 * are deployed, `dynn profile MODEL --platform FILE OPTIONS --here --json` runs on the board, what it
 * printed is shown (the JSON as it came with --json, else the table) and the deployment removed.
 * Returns the exit status: 1 when the model cannot be read, the board cannot be reached or its
 * profiler failed (after printing what it measured). */
static int profile_remote(const PlatformDescFile *board, const char *model, int argc, char **argv, int json) {
    const PlatformDesc *b = &board->desc;
    const PlatformType *type = platform_type_find(b->type); /* the reader refused an unknown type */
    const char **args = calloc((size_t)argc + 2, sizeof *args);
    ModelDesc *d = calloc(1, sizeof *d);
    Cpufreq *cf = calloc(1, sizeof *cf);
    Err err = {{0}};
    char binary[PATH_MAX], target[512], *out = NULL;
    unsigned long crc;
    void *state = NULL;
    int failed = 1;
    type->describe(b, target, sizeof target);
    if (!args || !d || !cf) err_set(&err, "out of memory");
    else if (!checkpoint_read_desc(model, d, &crc, &err) && !platform_desc_binary(b, binary, sizeof binary, &err) &&
             !type->open(b, &state, &err)) {
        size_t n_args = remote_args(argc, argv, args);
        fprintf(stderr, "dynn profile: deploying %s, %s and %s to %s\n", binary, model, board->path, target);
        failed = type->deploy(state, binary, model, board->path, &err) != 0;
        if (!failed) failed = type->profile(state, args, n_args, &out, &err) != 0;
        Err cerr = {{0}};
        if (type->cleanup(state, &cerr)) fprintf(stderr, "dynn profile: warning: cleaning up %s failed: %s\n", target, cerr.msg);
    }
    if (out && json) fputs(out, stdout);
    else if (out) {
        ProfileReport rep;
        Err perr;
        char what[600];
        snprintf(what, sizeof what, "the profile output of %s", target);
        if (profile_json_parse(out, strlen(out), what, &rep, &perr)) {
            if (!failed) err = perr, failed = 1;
        } else {
            report_cpufreq(&rep, cf);
            profile_report_table(&rep, d->arch, cf, stdout);
            profile_report_free(&rep);
        }
    } else if (!failed) failed = err_set(&err, "%s: the profiler printed nothing", target) != 0;
    fflush(stdout);
    if (failed) fprintf(stderr, "dynn profile: %s\n", err.msg);
    free(out);
    free(args);
    free(d);
    free(cf);
    return failed ? 1 : 0;
}

int cmd_profile(int argc, char **argv) {
    ProfileSettings o;
    profile_settings_defaults(&o);
    Err err = {{0}};
    const char *path;
    int prc = parse_options(argc, argv, &o, &path, &err);
    if (prc > 0) return 0;
    PlatformDescFile board = {0};
    if (!prc && o.platform && platform_desc_load_flags(o.platform, o.here ? PLATFORM_READ_HERE : 0, &board, &err)) prc = -1;
    if (prc) {
        fprintf(stderr, "dynn profile: %s\n", err.msg);
        return 2;
    }
    if (o.platform && !o.here && strcmp(board.desc.type, "local")) { /* a board elsewhere: profile there */
        int remote_rc = profile_remote(&board, path, argc, argv, o.json);
        platform_desc_free(&board);
        return remote_rc;
    }
    const PlatformDesc *pf = o.platform ? &board.desc : NULL;
    ProfileSweep *s = calloc(1, sizeof *s);
    Cpufreq *cf = calloc(1, sizeof *cf);
    Devfreq *gf = calloc(1, sizeof *gf);
    NvmlClocks *nc = calloc(1, sizeof *nc);
    ModelDesc *d = calloc(1, sizeof *d);
    EnergySensors *es = calloc(1, sizeof *es);
    ModelWeights w = {0};
    ProfileReport r = {0};
    unsigned long crc = 0;
    cpu_set_t allowed;
    int rc = 2, measuring = 0;
    if (!s || !cf || !gf || !nc || !d || !es) {
        err_set(&err, "out of memory");
        goto done;
    }
    s->warmup = o.warmup, s->repeat = o.repeat, s->min_time_ms = o.min_time_ms, s->sample_ms = o.sample_ms;
    s->backend = o.backend, s->seed = o.seed;
    s->max_interference = o.max_interference, s->interference_retries = o.interference_retries;
    /* Everything is checked before anything is measured (usage errors exit 2). */
    s->n_batches = profile_option_ints(o.batch, s->batches);
    if (o.threads) s->n_threads = profile_option_ints(o.threads, s->threads);
    if (affinity_get(&allowed, &err) || parse_mappings(o.cpus, pf, &allowed, s->maps, &s->n_maps, &err))
        goto done;
    if (o.count) { /* --count instructions: checked here, then measured by this command re-run under callgrind */
        int max_batch, max_threads;
        profile_sweep_maxima(s, &max_batch, &max_threads);
        if (strcmp(o.backend, "cpu")) {
            err_set(&err, "--count instructions counts the cpu backend only (valgrind sees no GPU work), not '%s'", o.backend);
            goto done;
        }
        if (max_threads > 1) {
            err_set(&err, "--count instructions needs one thread (--threads 1, or --cpus with one CPU): the counts of several "
                          "OpenMP threads depend on timing (spin-waits)");
            goto done;
        }
        if (counter_binary_ok(&err)) goto done;
        s->count_instructions = 1;
        if (!counter_under_valgrind()) {
            rc = counter_rerun_under_callgrind(argc, argv, &err);
            if (rc >= 0) { /* its exit status is this command's; it printed its own errors */
                if (rc >= 128) fprintf(stderr, "dynn profile: the run under callgrind died of signal %d\n", rc - 128);
                rc = rc >= 128 ? 1 : rc;
                goto rerun_done;
            }
            rc = 2;
            goto done;
        }
    }
    /* the OpenMP wait policy is read when the process starts: re-run with it set (a counted run sets its own) */
    if (!o.count && interference_apply_wait_policy(o.wait_policy, argc, argv, &err)) goto done;
    rc = 1;
    if (checkpoint_read_weights(path, d, &w, &crc, &err)) goto done;
    r.synthetic = d->synthetic;
    rc = 2;
    if (parse_subnets(d, o.subnets, s->subnets, &s->n_subnets, &err)) goto done;
    if (cpufreq_open(cf, o.sysfs_root, &err)) goto done;
    if (o.freq && !cf->available)
        fprintf(stderr, "dynn profile: note: DVFS unavailable (%s); measuring at the current frequency\n", cf->reason);
    for (int i = 0; o.freq && cf->available && i < s->n_maps; i++)
        if (cpufreq_resolve(cf, &s->maps[i].cpus, o.freq, s->freqs[i], CPUFREQ_MAX_FREQS, &s->n_freqs[i], &err)) goto done;
    if (setup_gpu(&o, pf, gf, nc, s, &r, &err)) goto done;
    rc = 1;
    if (describe_run(&r, path, crc, cf, o.sysfs_root, &err) || setup_energy(o.sysfs_root, pf, es, &r, &err)) goto done;
    if (!r.energy_available && pf && pf->n_sensors)
        fprintf(stderr, "dynn profile: note: energy not measured (%s)\n", r.energy_reason);
    /* the largest deployment of the sweep must fit before anything is measured */
    int max_batch, max_threads;
    profile_sweep_maxima(s, &max_batch, &max_threads);
    Backend *largest;
    if (backend_open(o.backend, d, &w, max_batch, max_threads, &largest, &err)) {
        err_prefix(&err, "%s", path);
        goto done;
    }
    backend_close(largest);
    measuring = 1;
    int sweep_rc = profile_sweep_run(s, d, &w, &allowed, cf, gf, o.gpu_nvml >= 0 ? nc : NULL,
                                     r.energy_available ? es : NULL, &r, &err);
    Err rerr;
    if (nvml_clocks_restore(nc, &rerr) && !sweep_rc) {
        err = rerr;
        sweep_rc = -1;
    }
    if (devfreq_restore(gf, &rerr) && !sweep_rc) {
        err = rerr;
        sweep_rc = -1;
    }
    if (cpufreq_restore(cf, &rerr) && !sweep_rc) {
        err = rerr;
        sweep_rc = -1;
    }
    Err aerr;
    affinity_pin_process(&allowed, &allowed, "restoring the CPU mask", &aerr);
    r.complete = sweep_rc == 0;
    if (o.json) profile_json_write(&r, stdout);
    else profile_report_table(&r, d->arch, cf, stdout);
    fflush(stdout);
    rc = r.complete ? 0 : 1;
done:
    if (rc && !measuring && nc) nvml_clocks_restore(nc, &(Err){{0}});
    if (rc && !measuring && gf) devfreq_restore(gf, &(Err){{0}});
    if (rc && !measuring && cf) cpufreq_restore(cf, &(Err){{0}});
    if (rc) fprintf(stderr, "dynn profile: %s\n", err.msg);
rerun_done:
    profile_report_free(&r);
    model_weights_free(&w);
    free(d);
    free(s);
    platform_desc_free(&board);
    free(cf);
    free(gf);
    if (nc) nvml_clocks_close(nc);
    free(nc);
    free(es);
    return rc;
}
