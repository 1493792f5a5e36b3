/* stages/profile.c — the `profile` stage type: measure a model's subnets on a platform over a sweep
 * of batch sizes, core mappings and frequencies; every sample lands in the measurements table.
 *
 *   params:
 *     platform: odroid-xu3          # a board of the experiment's platforms:, experiments/platforms/NAME.yaml,
 *                                   # a path to a .yaml, or a mapping (docs/FORMATS.md, Platform descriptions)
 *     model: model                  # an artifact name, a needed instance ("train@seed=1": its model), or a path
 *     subnets: [0, 2]               # indices or names, one `dynn profile --subnets` each (default: all, one invocation)
 *     batch: [1, 8]                 # default 1
 *     mapping:                      # default: one mapping, the stage's `threads`, no pinning
 *       - {cpus: little, threads: 4}   # a cluster of the platform, or a cpu list "0-3"
 *       - {cpus: "4-7", threads: 2}
 *     frequencies_khz: all          # the mapping's cluster table, or a list of kHz (default: none)
 *     gpu_frequencies_hz: all       # the board's gpu table, or a list of Hz (default: the GPU is not touched)
 *     gpu_nvml: 0                   # an NVIDIA GPU (NVML index): its clocks recorded, gpu_frequencies_hz its SM clocks
 *     warmup: 3                     # passed through to `dynn profile`, as backend, repeat,
 *     repeat: 10                    # min_time_ms and sample_ms
 *     min_time_ms: 200
 *     max_interference: 0.15        # --interf-max, --interf-retries, --wait-policy: a point whose CPUs other
 *     interference_retries: 2       # work shared is measured again, then recorded flagged
 *     wait_policy: active           # (platforms/interference.h); the log says FLAGGED
 *
 * Every param that is an option of `dynn profile` is checked against the one option table
 * (platforms/profile_options.c) with its ranges and messages, so `dynn validate` refuses what the
 * profiler on the target would refuse.
 * The sweep is the cartesian product mapping x frequency x GPU frequency x subnet x batch, one `dynn profile`
 * invocation per point through the platform (platforms/platform.h), so when a board goes away
 * mid-sweep the points measured before are recorded, then the stage fails saying where it stopped
 * (the runner keeps a failed stage's measurements).
 *
 * The board is this stage's alone from deploy to cleanup: the stage process holds the board's lock
 * (platforms/platform_lock.h) meanwhile, waiting (and saying so in its log) while another process
 * holds it, so two stages, or two runs, never time on one board or sweep its frequencies at once.
 * It records when its sweep ran and how long it waited as metrics: sweep_started_at and
 * sweep_ended_at (Unix time, s), board_wait_s. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "platforms/platform.h"
#include "platforms/platform_lock.h"
#include "platforms/profile_json.h"
#include "platforms/profile_options.h"
#include "stages/stage_inputs.h"
#include "stages/stage_types.h"
#include "util/fs.h"
#include "util/provenance.h"

static const char *const own_keys[] = {"platform", "model", "mapping"}; /* the rest: the option table's params */
static const char *const mapping_keys[] = {"cpus", "threads"};
#define COUNT(a) (sizeof(a) / sizeof *(a))
#define MAX_LIST PROFILE_MAX_LIST /* values of one list param */

/* ---- validate ---- */

/* One value of option o at node v (a scalar, or an item of a list): an integer within the table's
 * range (ynode_int's positioned message), else checked as `dynn profile` checks its argument. */
static int check_value(const StageCheck *c, const ProfileOption *o, const char *key, const YNode *v, Err *err) {
    char what[128];
    snprintf(what, sizeof what, "stage '%s': '%s'", c->stage, key);
    if (v->kind != YNODE_SCALAR || strchr(v->str, ','))
        return ynode_err(err, c->file, v, "%s must be %s", what, o->kind == POPT_NAMES || o->kind == POPT_INTS ||
                         o->kind == POPT_FREQS || o->kind == POPT_HZ ? "a value or a list of single values" : "one value");
    long long x;
    if (o->kind == POPT_INTS || o->kind == POPT_FREQS || o->kind == POPT_HZ || o->kind == POPT_INT)
        return ynode_int(v, (long long)o->min, (long long)o->max, c->file, what, &x, err);
    Err why;
    if (profile_option_check(o, v->str, what, &why)) return ynode_err(err, c->file, v, "%s", why.msg);
    return 0;
}

/* A param of the option table: the same kinds and ranges as the option of `dynn profile`; a list
 * has at most PROFILE_MAX_LIST values, none twice. */
static int check_option(const StageCheck *c, const ProfileOption *o, const YNode *v, Err *err) {
    int list = o->kind == POPT_INTS || o->kind == POPT_FREQS || o->kind == POPT_HZ || o->kind == POPT_NAMES;
    if (v->kind != YNODE_SEQ || !list) return check_value(c, o, o->param, v, err);
    if (!v->len) return ynode_err(err, c->file, v, "stage '%s': '%s' is an empty list", c->stage, o->param);
    if (v->len > PROFILE_MAX_LIST)
        return ynode_err(err, c->file, v, "stage '%s': '%s' has more than %d values", c->stage, o->param, PROFILE_MAX_LIST);
    for (size_t i = 0; i < v->len; i++) {
        if (check_value(c, o, o->param, v->items[i], err)) return -1;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(v->items[j]->str, v->items[i]->str) ||
                (o->kind != POPT_NAMES && strtoll(v->items[j]->str, NULL, 10) == strtoll(v->items[i]->str, NULL, 10)))
                return ynode_err(err, c->file, v->items[i], "stage '%s': '%s' lists %s twice", c->stage, o->param,
                                 v->items[i]->str);
    }
    return 0;
}

static int check_mapping(const StageCheck *c, const PlatformDesc *d, int want_freqs, Err *err) {
    const YNode *m = ynode_get(c->params, "mapping");
    if (!m) {
        if (want_freqs)
            return ynode_err(err, c->file, ynode_get(c->params, "frequencies_khz"),
                             "stage '%s': 'frequencies_khz: all' needs a 'mapping' whose cpus name a cluster", c->stage);
        return 0;
    }
    if (m->kind != YNODE_SEQ || !m->len)
        return ynode_err(err, c->file, m, "stage '%s': 'mapping' must be a non-empty list of {cpus, threads}", c->stage);
    for (size_t i = 0; i < m->len; i++) {
        const YNode *e = m->items[i], *cpus, *threads;
        char context[160];
        snprintf(context, sizeof context, "a mapping of stage '%s'", c->stage);
        if (ynode_expect(e, YNODE_MAP, c->file, "a mapping entry", err) ||
            ynode_check_keys(e, mapping_keys, COUNT(mapping_keys), c->file, context, err))
            return -1;
        if (!(threads = ynode_get(e, "threads")))
            return ynode_err(err, c->file, e, "stage '%s': a mapping needs 'threads'", c->stage);
        if (check_value(c, profile_option_find("threads"), "threads", threads, err)) return -1; /* its point's --threads */
        if (!(cpus = ynode_get(e, "cpus"))) {
            if (want_freqs)
                return ynode_err(err, c->file, e, "stage '%s': 'frequencies_khz: all' needs 'cpus' naming a cluster", c->stage);
            continue;
        }
        if (cpus->kind != YNODE_SCALAR || !cpus->str[0])
            return ynode_err(err, c->file, cpus, "stage '%s': 'cpus' must be a cluster name or a cpu list", c->stage);
        const DescCluster *cl = platform_desc_cluster(d, cpus->str);
        if (!cl && !platform_desc_cpu_list_valid(cpus->str))
            return ynode_err(err, c->file, cpus, "stage '%s': cpus '%s' is neither a cluster of platform '%s' nor a cpu list like \"0-3\"",
                             c->stage, cpus->str, d->name);
        if (want_freqs && (!cl || !cl->n_freqs))
            return ynode_err(err, c->file, cpus, "stage '%s': 'frequencies_khz: all', but platform '%s' has no frequency table for cpus '%s'",
                             c->stage, d->name, cpus->str);
    }
    return 0;
}

static int profile_validate(const StageCheck *c, Err *err) {
    char context[300];
    const char *keys[COUNT(own_keys) + 32];
    size_t n_keys = 0, n_opts;
    const ProfileOption *opts = profile_options(&n_opts);
    for (size_t i = 0; i < COUNT(own_keys); i++) keys[n_keys++] = own_keys[i];
    for (size_t i = 0; i < n_opts && n_keys < COUNT(keys); i++)
        if (opts[i].param) keys[n_keys++] = opts[i].param;
    snprintf(context, sizeof context, "params of stage '%s' (profile)", c->stage);
    if (ynode_check_keys(c->params, keys, n_keys, c->file, context, err)) return -1;
    const YNode *platform = ynode_get(c->params, "platform"), *model = ynode_get(c->params, "model"), *n;
    if (!platform) return ynode_err(err, c->file, c->at, "stage '%s' (profile) is missing param 'platform'", c->stage);
    if (!model) return ynode_err(err, c->file, c->at, "stage '%s' (profile) is missing param 'model'", c->stage);
    if (model->kind != YNODE_SCALAR || !model->str[0])
        return ynode_err(err, c->file, model, "stage '%s': 'model' must be an artifact name or a path", c->stage);
    int all_freqs = 0, all_gpu = 0;
    if ((n = ynode_get(c->params, "frequencies_khz")) && n->kind == YNODE_SCALAR) { /* the stage's own word */
        if (strcmp(n->str, "all"))
            return ynode_err(err, c->file, n, "stage '%s': 'frequencies_khz' must be 'all' or a list of kHz", c->stage);
        all_freqs = 1;
    }
    const YNode *gpu = ynode_get(c->params, "gpu_frequencies_hz");
    if (gpu && gpu->kind == YNODE_SCALAR) { /* the same word: the board's gpu table */
        if (strcmp(gpu->str, "all"))
            return ynode_err(err, c->file, gpu, "stage '%s': 'gpu_frequencies_hz' must be 'all' or a list of Hz", c->stage);
        all_gpu = 1;
    }
    for (size_t i = 0; i < n_opts; i++)
        if (opts[i].param && (n = ynode_get(c->params, opts[i].param)) && !(all_freqs && opts[i].kind == POPT_FREQS) &&
            !(all_gpu && opts[i].kind == POPT_HZ) && check_option(c, &opts[i], n, err))
            return -1;
    PlatformDescFile pf;
    if (platform_desc_open_param(platform, c->file, ".", &pf, err)) return -1;
    int rc = check_mapping(c, &pf.desc, all_freqs, err);
    if (!rc && gpu && !pf.desc.has_gpu && !ynode_get(c->params, "gpu_nvml"))
        rc = ynode_err(err, c->file, gpu, "stage '%s': 'gpu_frequencies_hz', but platform '%s' has no 'gpu: {devfreq: NODE}' "
                       "(and no 'gpu_nvml: N' names an NVIDIA GPU)", c->stage, pf.desc.name);
    if (!rc && all_gpu && !pf.desc.gpu.n_freqs)
        rc = ynode_err(err, c->file, gpu, "stage '%s': 'gpu_frequencies_hz: all', but platform '%s' has no gpu 'frequencies_hz'",
                       c->stage, pf.desc.name);
    platform_desc_free(&pf);
    return rc;
}

/* ---- run ---- */

typedef struct Point {
    const char *subnet; /* NULL: the profiler's default */
    const char *batch;
    const char *cpus;   /* NULL: no pinning */
    char threads[16];
    char freq[24];      /* "" : no frequency */
    char gpu_freq[24];  /* Hz; "" : the GPU is not touched */
} Point;

/* The list of scalars under key, or one NULL entry when absent (so loops run once). */
static size_t values(const YNode *params, const char *key, const char *dflt, const char **out, size_t max) {
    const YNode *n = ynode_get(params, key), *bad;
    if (!n) {
        out[0] = dflt;
        return 1;
    }
    size_t count = ynode_string_list(n, &bad);
    if (count > max) count = max;
    for (size_t i = 0; i < count; i++) out[i] = ynode_string_at(n, i)->str;
    return count;
}

/* The cartesian product mapping x frequency x GPU frequency x subnet x batch, in that order
 * (outermost first). */
static int plan(const StageRun *run, const PlatformDesc *d, Point **points, size_t *n_points, Err *err) {
    const char *subnets[MAX_LIST], *batches[MAX_LIST];
    size_t n_sub = values(run->params, "subnets", NULL, subnets, MAX_LIST), n_batch = values(run->params, "batch", "1", batches, MAX_LIST);
    const YNode *mapping = ynode_get(run->params, "mapping"), *freqs = ynode_get(run->params, "frequencies_khz");
    const YNode *gpu = ynode_get(run->params, "gpu_frequencies_hz");
    size_t n_map = mapping ? mapping->len : 1, cap = 0, n_gpu = 0;
    *points = NULL, *n_points = 0;
    long long gl[MAX_LIST];
    if (!gpu) gl[n_gpu++] = 0;
    else if (gpu->kind == YNODE_SCALAR) { /* all */
        if (!d->gpu.n_freqs) return err_set(err, "platform '%s' has no gpu frequency table", d->name);
        for (size_t i = 0; i < d->gpu.n_freqs && n_gpu < MAX_LIST; i++) gl[n_gpu++] = d->gpu.freqs_hz[i];
    } else {
        for (size_t i = 0; i < gpu->len && n_gpu < MAX_LIST; i++) gl[n_gpu++] = strtoll(gpu->items[i]->str, NULL, 10);
    }
    for (size_t m = 0; m < n_map; m++) {
        const YNode *cpus_node = mapping ? ynode_get(mapping->items[m], "cpus") : NULL;
        const YNode *threads_node = mapping ? ynode_get(mapping->items[m], "threads") : NULL;
        const DescCluster *cl = cpus_node ? platform_desc_cluster(d, cpus_node->str) : NULL;
        const char *cpus = cpus_node ? platform_desc_pin_cpus(d, cpus_node->str) : NULL;
        long long fl[MAX_LIST];
        size_t n_freq = 0;
        if (!freqs) fl[n_freq++] = 0;
        else if (freqs->kind == YNODE_SCALAR) { /* all */
            if (!cl || !cl->n_freqs) return err_set(err, "platform '%s' has no frequency table for cpus '%s'", d->name, cpus ? cpus : "(none)");
            for (size_t i = 0; i < cl->n_freqs && n_freq < MAX_LIST; i++) fl[n_freq++] = cl->freqs_khz[i];
        } else {
            for (size_t i = 0; i < freqs->len && n_freq < MAX_LIST; i++) fl[n_freq++] = strtoll(freqs->items[i]->str, NULL, 10);
        }
        for (size_t f = 0; f < n_freq; f++)
            for (size_t g = 0; g < n_gpu; g++)
            for (size_t s = 0; s < n_sub; s++)
                for (size_t b = 0; b < n_batch; b++) {
                    if (*n_points == cap) {
                        cap = cap ? cap * 2 : 16;
                        Point *p = realloc(*points, cap * sizeof *p);
                        if (!p) return err_set(err, "out of memory");
                        *points = p;
                    }
                    Point *p = &(*points)[(*n_points)++];
                    p->subnet = subnets[s], p->batch = batches[b], p->cpus = cpus;
                    snprintf(p->threads, sizeof p->threads, "%s", threads_node ? threads_node->str : "");
                    if (!threads_node) snprintf(p->threads, sizeof p->threads, "%d", run->threads);
                    if (fl[f]) snprintf(p->freq, sizeof p->freq, "%lld", fl[f]);
                    else p->freq[0] = '\0';
                    if (gl[g]) snprintf(p->gpu_freq, sizeof p->gpu_freq, "%lld", gl[g]);
                    else p->gpu_freq[0] = '\0';
                }
    }
    return 0;
}

#define POINT_FLAGS 32 /* room for one "--flag" per option of the table */

/* `dynn profile` arguments of one point (after the model): flags with their values. */
static size_t point_args(const StageRun *run, const Point *p, const char **args, char (*flags)[32]) {
    size_t n = 0;
    if (p->subnet) args[n++] = "--subnets", args[n++] = p->subnet;
    args[n++] = "--batch", args[n++] = p->batch;
    if (p->cpus) args[n++] = "--cpus", args[n++] = p->cpus;
    args[n++] = "--threads", args[n++] = p->threads;
    if (p->freq[0]) args[n++] = "--freq", args[n++] = p->freq;
    if (p->gpu_freq[0]) args[n++] = "--gpu-freq", args[n++] = p->gpu_freq;
    args[n++] = "--here"; /* the target is the board its --platform file describes */
    size_t n_opts; /* the single-valued options of the table, passed through as given */
    const ProfileOption *opts = profile_options(&n_opts);
    for (size_t i = 0; i < n_opts && i < POINT_FLAGS; i++) {
        const YNode *v = opts[i].param ? ynode_get(run->params, opts[i].param) : NULL;
        if (v && (opts[i].kind == POPT_INT || opts[i].kind == POPT_NUMBER || opts[i].kind == POPT_TEXT))
            snprintf(flags[i], sizeof flags[i], "--%s", opts[i].name), args[n++] = flags[i], args[n++] = v->str;
    }
    return n;
}

static void point_text(const Point *p, char *out, size_t size) {
    snprintf(out, size, "subnet %s, batch %s, cpus %s, threads %s, %s%s%s%s%s", p->subnet ? p->subnet : "(default)", p->batch,
             p->cpus ? p->cpus : "(any)", p->threads, p->freq[0] ? p->freq : "no frequency", p->freq[0] ? " kHz" : "",
             p->gpu_freq[0] ? ", GPU " : "", p->gpu_freq, p->gpu_freq[0] ? " Hz" : "");
}

static int record_points(const StageRun *run, const PlatformDesc *d, const ProfileReport *rep, size_t *recorded, Err *err) {
    for (size_t i = 0; i < rep->n_points; i++) {
        const ProfilePoint *p = &rep->points[i];
        double *lat = calloc(p->n_samples, sizeof *lat);
        if (!lat) return err_set(err, "out of memory");
        for (size_t k = 0; k < p->n_samples; k++) lat[k] = p->samples_ms[k] / 1000.0;
        MeasCondition pairs[COND_COUNT + 1];
        size_t n_pairs = 0;
        for (int k = 0; k < COND_COUNT; k++)
            if (cond_get(&p->cond, k)) pairs[n_pairs++] = (MeasCondition){cond_keys[k].name, cond_get(&p->cond, k)};
        pairs[n_pairs++] = (MeasCondition){cond_keys[COND_PLATFORM].name, d->name}; /* the platform measured on */
        Measurement m = {.subnet = p->subnet_name,
                         .energy_j = p->energy_j * (double)p->n_samples, /* the profiler gives it per inference */
                         .latency_s = lat,
                         .n_latency = p->n_samples, .subnet_index = p->subnet, .macs = p->macs,
                         .peak_rss_kib = p->peak_rss_kib, .avg_power_w = p->avg_power_w,
                         .conditions = pairs, .n_conditions = n_pairs, .instructions = p->instructions,
                         .cpu_share = p->cpu_share, .wait_share = p->wait_share, .others_share = p->others_share,
                         .attempts = p->attempts, .interference_flagged = p->interference_flagged};
        int rc = run->sink->measurement_shared(run->sink, &m, err);
        free(lat);
        if (rc) return -1;
        (*recorded)++;
        char freq[80] = "no frequency";
        if (cond_get(&p->cond, COND_CPU_FREQ)) snprintf(freq, sizeof freq, "%s kHz", cond_get(&p->cond, COND_CPU_FREQ));
        if (cond_get(&p->cond, COND_GPU_FREQ))
            snprintf(freq + strlen(freq), sizeof freq - strlen(freq), " gpu %s kHz", cond_get(&p->cond, COND_GPU_FREQ));
        printf("  subnet %s batch %lld cpus %s threads %lld %s: median %.4f ms (%zu samples)%s\n", p->subnet_name,
               cond_get_int(&p->cond, COND_BATCH, 0), cond_get(&p->cond, COND_CPUS) ? cond_get(&p->cond, COND_CPUS) : "(null)",
               cond_get_int(&p->cond, COND_THREADS, 0), freq, p->median_ms, p->n_samples,
               p->interference_flagged ? " FLAGGED: other work shared its CPUs (interference), not a latency" : "");
    }
    return 0;
}

static int sweep(const StageRun *run, const PlatformType *type, void *state, const PlatformDesc *d, const char *target,
                 Err *err) {
    Point *points;
    size_t n_points, recorded = 0;
    if (plan(run, d, &points, &n_points, err)) return free(points), -1;
    printf("profiling on %s: %zu point%s\n", target, n_points, n_points == 1 ? "" : "s");
    int rc = 0;
    for (size_t i = 0; i < n_points && !rc; i++) {
        const char *args[32 + 2 * POINT_FLAGS];
        char flags[POINT_FLAGS][32];
        size_t n_args = point_args(run, &points[i], args, flags);
        char where[512], what[600];
        point_text(&points[i], where, sizeof where);
        snprintf(what, sizeof what, "%s profile output (point %zu of %zu)", d->name, i + 1, n_points);
        fflush(stdout);
        char *out = NULL;
        Err why = {{0}};
        int failed = type->profile(state, args, n_args, &out, &why);
        ProfileReport rep;
        Err perr;
        int printed = out != NULL, parsed = printed && !profile_json_parse(out, strlen(out), what, &rep, &perr);
        free(out);
        if (parsed) { /* a failed run that still printed JSON is a partial sweep: keep its points */
            rc = record_points(run, d, &rep, &recorded, err);
            if (!rc && !failed && (!rep.complete || !rep.n_points))
                failed = err_set(&why, "%s: the profiler reported an incomplete sweep", target);
            profile_report_free(&rep);
            if (rc) break;
        } else if (!failed) {
            failed = -1;
            why = perr;
            if (!printed) err_set(&why, "%s: the profiler printed nothing", target);
        }
        if (failed)
            rc = err_set(err, "sweep point %zu of %zu (%s) failed: %s; kept the %zu measurement%s taken before", i + 1, n_points,
                         where, why.msg, recorded, recorded == 1 ? "" : "s");
    }
    if (!rc) printf("profiled %zu point%s on %s: %zu measurement%s\n", n_points, n_points == 1 ? "" : "s", target, recorded,
                    recorded == 1 ? "" : "s");
    free(points);
    return rc;
}

/* Waits for the board's lock (see the top of this file); progress lines go to the stage's log. */
static int take_board(const StageRun *run, const PlatformDesc *d, PlatformLock *lock, Err *err) {
    char identity[PLATFORM_IDENTITY_MAX], label[PLATFORM_IDENTITY_MAX + PLATFORM_DESC_MAX_NAME + 16], holder[512];
    platform_identity(d, identity, sizeof identity);
    snprintf(label, sizeof label, "board '%s' (%s)", d->name, identity);
    snprintf(holder, sizeof holder, "stage '%s' of run %s", run->name, run->run_uuid && run->run_uuid[0] ? run->run_uuid : "(none)");
    PlatformLockRequest req = {.identity = identity, .label = label, .holder = holder, .progress = stdout};
    if (platform_lock_wait_limit(&req.timeout_s, err)) return -1;
    fflush(stdout);
    if (platform_lock_acquire(&req, lock, err)) return -1;
    printf("took %s (waited %.1f s)\n", label, lock->waited_s);
    return 0;
}

static int record_times(const StageRun *run, double wait_s, double started, double ended, Err *err) {
    RecordSink *s = run->sink;
    if (s->metric(s, "board_wait_s", wait_s, NULL, 0, err) || s->metric(s, "sweep_started_at", started, NULL, 0, err) ||
        s->metric(s, "sweep_ended_at", ended, NULL, 0, err))
        return -1;
    return 0;
}

static int profile_run(const StageRun *run, Err *err) {
    PlatformDescFile pf;
    if (platform_desc_open_param(ynode_get(run->params, "platform"), "params", run->workdir, &pf, err)) return -1;
    const PlatformDesc *d = &pf.desc;
    const PlatformType *type = platform_type_find(d->type);
    char model[PATH_MAX], binary[PATH_MAX], target[512];
    type->describe(d, target, sizeof target);
    void *state = NULL;
    PlatformLock lock = {.fd = -1};
    const char *name = ynode_get(run->params, "model")->str;
    char what[300];
    snprintf(what, sizeof what, "model '%s'", name);
    int rc = stage_find_model(run, name, 1, what, model, sizeof model, err);
    if (!rc) rc = platform_desc_binary(d, binary, sizeof binary, err);
    if (!rc) rc = take_board(run, d, &lock, err);
    if (!rc) rc = type->open(d, &state, err);
    if (rc) {
        platform_lock_release(&lock);
        platform_desc_free(&pf);
        return -1;
    }
    /* the board file itself goes to the target (an inline mapping: written as it is to the scratch
     * directory); the profiler there reads it with --here */
    char pfile[PATH_MAX];
    rc = platform_desc_board_file(&pf, run->scratch, pfile, sizeof pfile, err);
    if (!rc) {
        printf("deploying %s, %s and %s to %s\n", binary, model, pfile, target);
        fflush(stdout);
        rc = type->deploy(state, binary, model, pfile, err);
    }
    double started = provenance_now();
    if (!rc) rc = sweep(run, type, state, d, target, err);
    double ended = provenance_now();
    Err cerr = {{0}};
    if (type->cleanup(state, &cerr)) fprintf(stderr, "dynn: warning: cleaning up %s failed: %s\n", target, cerr.msg);
    platform_lock_release(&lock); /* after cleanup: the next holder finds the board as it was */
    if (!rc) rc = record_times(run, lock.waited_s, started, ended, err);
    platform_desc_free(&pf);
    return rc;
}

const StageType stage_type_profile = {
    .name = "profile",
    .summary = "measure a model's subnets on a platform (local, ssh, plugin) over batch x mapping x frequency",
    .validate = profile_validate,
    .run = profile_run,
};
