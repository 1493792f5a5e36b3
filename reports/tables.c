/* reports/tables.c — the report's tables from a RunData and its Aggregate (see tables.h). Synthetic
 * models (random weights) get their own table of costs and never an accuracy: no row in the accuracy,
 * training and front tables, an empty accuracy cell in the latency table, and no accuracy column at
 * all when every model of the run is synthetic. */
#include "reports/tables.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct Builder {
    ReportSections *out;
    ReportSection *cur;
    long row;
    int oom;
} Builder;

static void section(Builder *b, const char *title, const char *const *cols, size_t n_cols) {
    ReportSection *p = realloc(b->out->items, (b->out->n + 1) * sizeof *p);
    if (!p) {
        b->oom = 1;
        b->cur = NULL;
        return;
    }
    b->out->items = p;
    b->cur = &p[b->out->n++];
    memset(b->cur, 0, sizeof *b->cur);
    snprintf(b->cur->title, sizeof b->cur->title, "%s", title);
    if (n_cols && table_init(&b->cur->table, cols, n_cols)) b->oom = 1;
}

static void note(Builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(Builder *b, const char *fmt, ...) {
    if (!b->cur) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->cur->note, sizeof b->cur->note, fmt, ap);
    va_end(ap);
}

static void row(Builder *b) {
    b->row = b->cur && b->cur->table.n_cols ? table_add_row(&b->cur->table) : -1;
    if (b->row < 0) b->oom = 1;
}

static void text(Builder *b, size_t col, const char *s) {
    if (b->row >= 0 && table_set(&b->cur->table, (size_t)b->row, col, s ? CELL_TEXT : CELL_NULL, s)) b->oom = 1;
}

/* A number with a printf format; NaN stays an empty (NULL) cell. */
static void num(Builder *b, size_t col, const char *fmt, double v) {
    if (b->row < 0 || isnan(v)) return;
    char buf[64];
    snprintf(buf, sizeof buf, fmt, v);
    if (table_set(&b->cur->table, (size_t)b->row, col, CELL_REAL, buf)) b->oom = 1;
}

static void field(Builder *b, const char *name, const char *value) {
    row(b);
    text(b, 0, name);
    text(b, 1, value && value[0] ? value : "-");
}

static void provenance(Builder *b, const RunData *d) {
    static const char *const cols[] = {"field", "value"};
    section(b, "Provenance", cols, 2);
    char date[64] = "-", commit[128];
    if (!isnan(d->started_at)) {
        time_t t = (time_t)d->started_at;
        struct tm tm;
        strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
    }
    snprintf(commit, sizeof commit, "%s%s", d->git_commit ? d->git_commit : "", d->git_dirty ? " (dirty)" : "");
    field(b, "run", d->uuid);
    field(b, "experiment", d->experiment);
    field(b, "status", rundata_status_text(d));
    field(b, "date", date);
    field(b, "git commit", commit);
    field(b, "build id", d->build_id);
    field(b, "dynn version", d->dynn_version);
    field(b, "compiler", d->compiler);
    field(b, "flags", d->cflags);
    field(b, "host", d->host);
    field(b, "cpu", d->cpu_model);
    field(b, "experiment file", d->spec_path);
    field(b, "experiment file sha256", d->spec_sha256);
}

/* Models that were trained (not synthetic). */
static size_t trained_models(const RunData *d) {
    size_t n = 0;
    for (size_t i = 0; i < d->n_models; i++) n += !d->models[i].synthetic;
    return n;
}

static void missing(Builder *b, const RunData *d, const Aggregate *a) {
    char what[512] = "";
    size_t unlinked = 0, no_samples = 0, energy = 0, freq = 0;
    for (size_t i = 0; i < d->n_meas; i++) {
        freq += d->meas[i].frequency_khz > 0;
        unlinked += d->meas[i].model < 0;
        no_samples += d->meas[i].n_samples == 0;
        energy += !isnan(d->meas[i].energy_j);
    }
    size_t len = 0;
#define SAY(...) len += (size_t)snprintf(what + len, len < sizeof what ? sizeof what - len : 0, __VA_ARGS__)
    size_t trained = trained_models(d);
    if (!d->n_models) SAY("No stage of this run recorded per-subnet accuracy (no train stage): accuracy tables and plots are empty. ");
    else if (!trained)
        SAY("Every model of this run is synthetic (random weights, no training): latency only, so no accuracy, Pareto fronts, "
            "accuracy plots or baseline comparison. ");
    if (!d->n_meas) SAY("No measurements (no profile stage ran): latency, energy, Pareto fronts and dynamic ranges are missing. ");
    else if (!energy) SAY("No energy was measured (no power sensor): energy fronts and ranges are missing. ");
    if (d->n_meas && !freq) SAY("No CPU frequency was set (cpufreq absent or read-only here, or no frequency sweep): the +DVFS ranges are missing. ");
    if (unlinked) SAY("%zu measurement(s) could not be linked to the model they measured (profile stage needs no single train stage). ", unlinked);
    if (no_samples) SAY("%zu measurement(s) have no latency samples. ", no_samples);
    if (trained && !a->n_baselines) SAY("No individually trained baseline (method `individual`): no baseline comparison. ");
#undef SAY
    if (!what[0]) return;
    section(b, "What is missing", NULL, 0);
    note(b, "%s", what);
}

static void accuracy(Builder *b, const RunData *d) {
    static const char *const cols[] = {"model", "method", "subnet", "index", "MACs fraction", "accuracy (%)", "MACs (M)", "params (k)"};
    section(b, "Accuracy per subnet", cols, 8);
    if (!trained_models(d)) note(b, "No model recorded per-subnet accuracy.");
    for (size_t i = 0; i < d->n_models; i++) {
        const RdModel *m = &d->models[i];
        if (m->synthetic) continue;
        for (size_t k = 0; k < m->n_subnets; k++) {
            const RdSubnet *s = &m->subnets[k];
            row(b);
            text(b, 0, m->stage);
            text(b, 1, m->method);
            text(b, 2, s->name);
            num(b, 3, "%.0f", s->index);
            num(b, 4, "%.3f", s->width);
            num(b, 5, "%.2f", s->accuracy * 100);
            num(b, 6, "%.3f", s->macs / 1e6);
            num(b, 7, "%.1f", s->params / 1e3);
        }
    }
}

/* Synthetic models: what their subnets cost, no accuracy column. */
static void synthetic_models(Builder *b, const RunData *d) {
    static const char *const cols[] = {"model", "subnet", "index", "MACs fraction", "MACs (M)", "params (k)", "model (MiB)"};
    section(b, "Synthetic models (latency only)", cols, 7);
    note(b, "Random weights (dynn train --synthetic-weights): no data set, no training, so no accuracy; they are measured "
            "for latency at a scale whose data set is not at hand.");
    for (size_t i = 0; i < d->n_models; i++) {
        const RdModel *m = &d->models[i];
        if (!m->synthetic) continue;
        for (size_t k = 0; k < m->n_subnets; k++) {
            const RdSubnet *s = &m->subnets[k];
            row(b);
            text(b, 0, m->stage);
            text(b, 1, s->name);
            num(b, 2, "%.0f", s->index);
            num(b, 3, "%.3f", s->width);
            num(b, 4, "%.3f", s->macs / 1e6);
            num(b, 5, "%.1f", s->params / 1e3);
            num(b, 6, "%.3f", m->model_bytes / 1048576.0);
        }
    }
}

static void freq_text(char *out, size_t size, long long khz) {
    if (khz > 0) snprintf(out, size, "%lld", khz / 1000);
    else snprintf(out, size, "-");
}

/* What ran the measurement, beside the platform: "cpu / x86_64"; "-" for what was not recorded. */
static const char *backend_device(const RdMeasurement *m, char *out, size_t size) {
    const char *backend = cond_get(&m->cond, COND_BACKEND), *device = cond_get(&m->cond, COND_DEVICE);
    snprintf(out, size, "%s / %s", backend ? backend : "-", device ? device : "-");
    return out;
}

/* The GPU's clocks of a measurement: the frequency set ("921.6", MHz; devfreq or an NVIDIA GPU's SM
 * clock) and the SM / memory clocks seen through NVML ("1410 / 1593"); "-" for what was not recorded. */
static void gpu_clock_text(const RdMeasurement *m, char *set, size_t set_size, char *seen, size_t seen_size) {
    long long khz = cond_get_int(&m->cond, COND_GPU_FREQ, 0);
    const char *sm = cond_get(&m->cond, COND_GPU_SM_CLOCK), *mem = cond_get(&m->cond, COND_GPU_MEM_CLOCK);
    if (khz > 0) snprintf(set, set_size, "%g", (double)khz / 1000.0);
    else snprintf(set, set_size, "-");
    if (sm || mem) snprintf(seen, seen_size, "%s / %s", sm ? sm : "-", mem ? mem : "-");
    else snprintf(seen, seen_size, "-");
}

/* with_accuracy 0: no accuracy column (every model synthetic) */
static void latency(Builder *b, const Aggregate *a, int with_accuracy) {
    static const char *const cols[] = {"method / platform / batch", "subnet", "mapping", "MHz", "samples", "p50 (ms)", "p90 (ms)",
                                       "p99 (ms)", "energy (mJ)", "accuracy (%)", "backend / device", "GPU MHz (set)",
                                       "GPU SM / mem MHz (seen)"};
    static const char *const cols_latency_only[] = {"method / platform / batch", "subnet", "mapping", "MHz", "samples",
                                                    "p50 (ms)", "p90 (ms)", "p99 (ms)", "energy (mJ)", "backend / device",
                                                    "GPU MHz (set)", "GPU SM / mem MHz (seen)"};
    section(b, "Latency percentiles", with_accuracy ? cols : cols_latency_only, with_accuracy ? 13 : 12);
    if (!a->n_groups) note(b, "No measurements.");
    else note(b, "Per inference (one forward pass of `batch` images); energy per inference = measured energy / samples.");
    if (a->n_flagged)
        note(b, "%zu measurements flagged for interference are not listed here nor plotted: see \"Flagged measurements "
                "(interference)\".", a->n_flagged);
    for (size_t gi = 0; gi < a->n_groups; gi++) {
        const AggGroup *g = &a->groups[gi];
        for (size_t i = 0; i < g->n_points; i++) {
            const AggPoint *p = &g->points[i];
            char f[32], bd[256], gpu_set[32], gpu_seen[64];
            freq_text(f, sizeof f, p->frequency_khz);
            gpu_clock_text(p->m, gpu_set, sizeof gpu_set, gpu_seen, sizeof gpu_seen);
            row(b);
            text(b, 0, g->label);
            text(b, 1, p->m->subnet);
            text(b, 2, p->mapping);
            text(b, 3, f);
            num(b, 4, "%.0f", (double)p->m->n_samples);
            num(b, 5, "%.4f", p->p50_s * 1e3);
            num(b, 6, "%.4f", p->p90_s * 1e3);
            num(b, 7, "%.4f", p->p99_s * 1e3);
            num(b, 8, "%.4f", p->energy_j * 1e3);
            int c = 9;
            if (with_accuracy) num(b, c++, "%.2f", p->accuracy * 100);
            text(b, c++, backend_device(p->m, bd, sizeof bd));
            text(b, c++, gpu_set);
            text(b, c, gpu_seen);
        }
    }
}

/* Measurements the profiler flagged for interference: not points of any table, front, range or figure. */
static void flagged(Builder *b, const RunData *d, const Aggregate *a) {
    static const char *const cols[] = {"method / platform / batch", "subnet", "mapping", "samples", "p50 (ms) FLAGGED",
                                       "threads waited (%)", "other work (%)", "CPU time / (wall x threads) (%)",
                                       "attempts", "OpenMP wait"};
    section(b, "Flagged measurements (interference)", cols, 10);
    note(b, "FLAGGED: other work shared the measured CPUs on every attempt (its threads waited for a CPU, or other "
            "work ran on the CPUs, beyond the profiler's --interf-max), so these %zu figures are not the "
            "machine's latency and are left out of every other table, front, range and figure. Re-run them on a "
            "quiet machine.", a->n_flagged);
    for (size_t i = 0; i < a->n_flagged; i++) {
        const RdMeasurement *m = a->flagged[i];
        char group[256], mapping[96];
        snprintf(group, sizeof group, "%s/%s/b%d", agg_model_name(d, m->model), m->platform, m->batch);
        agg_mapping_label(m, mapping, sizeof mapping);
        double p50 = agg_percentile(m->latency_s, m->n_samples, 50);
        row(b);
        text(b, 0, group);
        text(b, 1, m->subnet);
        text(b, 2, mapping);
        num(b, 3, "%.0f", (double)m->n_samples);
        num(b, 4, "%.4f", p50 * 1e3);
        num(b, 5, "%.0f", m->wait_share * 100);
        num(b, 6, "%.0f", m->others_share * 100);
        num(b, 7, "%.0f", m->cpu_share * 100);
        num(b, 8, "%.0f", m->attempts > 0 ? (double)m->attempts : NAN);
        const char *w = cond_get(&m->cond, COND_OMP_WAIT);
        text(b, 9, w ? w : "-");
    }
}

static void ranges(Builder *b, const Aggregate *a) {
    static const char *const cols[] = {"method / platform / batch", "ref. mapping", "ref. MHz", "latency width", "latency +mapping",
                                       "latency +DVFS", "latency all", "energy width", "energy +mapping", "energy +DVFS", "energy all"};
    section(b, "Dynamic ranges (max / min)", cols, 11);
    note(b, "width: subnets only at the reference mapping and frequency; +mapping: all core mappings at the reference "
            "frequency; +DVFS: all frequencies at the reference mapping; all: every operating point. The reference "
            "frequency is the highest measured, the reference mapping the fastest for the largest subnet there.");
    for (size_t gi = 0; gi < a->n_groups; gi++) {
        const AggGroup *g = &a->groups[gi];
        char f[32];
        freq_text(f, sizeof f, g->ref_frequency_khz);
        row(b);
        text(b, 0, g->label);
        text(b, 1, g->ref_mapping);
        text(b, 2, f);
        const double v[8] = {g->latency.width, g->latency.mapping, g->latency.dvfs, g->latency.combined,
                             g->energy.width,  g->energy.mapping,  g->energy.dvfs,  g->energy.combined};
        for (int k = 0; k < 8; k++) {
            if ((k == 2 || k == 6) && g->ref_frequency_khz <= 0) text(b, 3 + (size_t)k, "-"); /* no frequency swept */
            else num(b, 3 + (size_t)k, "%.2fx", v[k]);
        }
    }
}

static void devices(Builder *b, const Aggregate *a) {
    static const char *const cols[] = {"method / platform / backend / batch", "subnet", "device", "device p50 (ms)",
                                       "cpu p50 (ms)", "faster", "by"};
    section(b, "Devices against the CPU", cols, 7);
    note(b, "Each subnet through a backend other than cpu and through the cpu backend on the same platform and batch: the "
            "median latency of each at its reference frequency on its fastest core mapping (host wall time of a forward, "
            "input upload and output download included).");
    for (size_t i = 0; i < a->n_devices; i++) {
        const AggDeviceCmp *x = &a->devices[i];
        row(b);
        text(b, 0, x->device->label);
        text(b, 1, x->subnet);
        text(b, 2, x->device->device);
        num(b, 3, "%.4f", x->device_ms);
        num(b, 4, "%.4f", x->cpu_ms);
        text(b, 5, x->speedup >= 1.0 ? x->device->backend : "cpu");
        num(b, 6, "%.2fx", x->speedup >= 1.0 ? x->speedup : 1.0 / x->speedup);
    }
}

static void fronts(Builder *b, const Aggregate *a) {
    static const char *const cols[] = {"method / platform / batch", "front", "subnet", "mapping", "MHz", "p50 (ms)", "energy (mJ)",
                                       "accuracy (%)"};
    section(b, "Pareto fronts", cols, 8);
    note(b, "Operating points no other point beats on both accuracy and cost, by increasing cost.");
    for (size_t gi = 0; gi < a->n_groups; gi++) {
        const AggGroup *g = &a->groups[gi];
        for (int e = 0; e < 2; e++) {
            size_t n = e ? g->n_front_energy : g->n_front_latency;
            const size_t *idx = e ? g->front_energy : g->front_latency;
            for (size_t i = 0; i < n; i++) {
                const AggPoint *p = &g->points[idx[i]];
                char f[32];
                freq_text(f, sizeof f, p->frequency_khz);
                row(b);
                text(b, 0, g->label);
                text(b, 1, e ? "energy" : "latency");
                text(b, 2, p->m->subnet);
                text(b, 3, p->mapping);
                text(b, 4, f);
                num(b, 5, "%.4f", p->p50_s * 1e3);
                num(b, 6, "%.4f", p->energy_j * 1e3);
                num(b, 7, "%.2f", p->accuracy * 100);
            }
        }
    }
}

/* Rows of reference comparisons (columns delta_cols). */
static void delta_rows(Builder *b, const AggDelta *x, size_t n) {
    for (size_t i = 0; i < n; i++, x++) {
        row(b);
        text(b, 0, x->model);
        text(b, 1, x->subnet);
        num(b, 2, "%.3f", x->width);
        num(b, 3, "%.3f", x->macs / 1e6);
        num(b, 4, "%.2f", x->accuracy * 100);
        text(b, 5, x->reference);
        text(b, 6, x->reference_subnet);
        num(b, 7, "%.2f", x->baseline_accuracy * 100);
        num(b, 8, "%+.2f", x->delta * 100);
    }
}

static const char *const delta_cols[] = {"model", "subnet", "MACs fraction", "MACs (M)", "accuracy (%)", "reference",
                                         "reference subnet", "reference (%)", "difference (points)"};

/* A section of reference comparisons: `empty` when there are none, else `what` and the rows. */
static void delta_section(Builder *b, const char *title, const char *empty, const char *what, const AggDelta *x,
                          size_t n) {
    section(b, title, delta_cols, 9);
    note(b, "%s", n ? what : empty);
    delta_rows(b, x, n);
}

static void baseline(Builder *b, const Aggregate *a) {
    delta_section(b, "Against the individually trained baseline",
                  a->n_baselines ? "No dynamic model has an individually trained model of its architecture in this run."
                                 : "No model with method `individual` in this run.",
                  "Each subnet of a dynamic model against the separately trained model of the same architecture, at "
                  "the same index (or nearest width); positive: the dynamic subnet is more accurate.",
                  a->deltas, a->n_deltas);
}

static void against_uniform(Builder *b, const Aggregate *a) {
    char what[400];
    snprintf(what, sizeof what,
             "Each non-uniform subnet against the uniform model's accuracy at the same MACs, interpolated linearly in "
             "MACs between the two uniform subnets around it (a..b), or a uniform subnet within %.0f%% of its MACs; "
             "positive: the non-uniform subnet is more accurate.", AGG_MACS_SLACK * 100);
    delta_section(b, "Non-uniform against uniform at equal MACs",
                  "No non-uniform model with a uniform model of the same architecture in this run.", what, a->vs_uniform,
                  a->n_vs_uniform);
}

/* The training budget of each model: what the accuracies were bought with. */
static void training(Builder *b, const RunData *d) {
    static const char *const cols[] = {"model", "method", "epochs", "train images", "test images", "wall time (s)",
                                       "of which greedy slimming (s)", "training TFLOPs", "model (MiB)",
                                       "as separate models (MiB)"};
    section(b, "Training budget", cols, 10);
    note(b, "Epochs are passes over the training images summed over a method's phases (individual: over its "
            "separately trained widths). Accuracies are measured on the test images listed. Greedy slimming "
            "(non-uniform methods) is the search for each subnet's channels on held-out images.");
    for (size_t i = 0; i < d->n_models; i++) {
        const RdModel *m = &d->models[i];
        if (m->synthetic) continue;
        row(b);
        text(b, 0, m->stage);
        text(b, 1, m->method);
        num(b, 2, "%g", m->epochs);
        num(b, 3, "%.0f", m->train_images);
        num(b, 4, "%.0f", m->test_images);
        num(b, 5, "%.0f", m->train_seconds);
        num(b, 6, "%.0f", m->slim_seconds);
        num(b, 7, "%.3f", m->train_flops / 1e12);
        num(b, 8, "%.3f", m->model_bytes / 1048576.0);
        num(b, 9, "%.3f", m->separate_models_bytes / 1048576.0);
    }
}

int report_tables(const RunData *d, const Aggregate *a, ReportSections *out, Err *err) {
    memset(out, 0, sizeof *out);
    Builder b = {.out = out, .row = -1};
    /* with models and none of them trained, only synthetic ones: no accuracy anywhere */
    int only_synthetic = d->n_models && !trained_models(d);
    provenance(&b, d);
    missing(&b, d, a);
    if (!only_synthetic) accuracy(&b, d);
    if (!b.oom && d->n_models > trained_models(d)) synthetic_models(&b, d);
    if (!b.oom && trained_models(d)) training(&b, d);
    if (!b.oom && d->n_meas) {
        latency(&b, a, !only_synthetic);
        if (a->n_flagged) flagged(&b, d, a);
        ranges(&b, a);
        if (a->n_devices) devices(&b, a);
        if (!only_synthetic) fronts(&b, a);
    }
    if (!b.oom && !only_synthetic) baseline(&b, a);
    int nonuniform = 0;
    for (size_t i = 0; i < d->n_models; i++) nonuniform |= agg_nonuniform(&d->models[i]);
    if (!b.oom && nonuniform) against_uniform(&b, a);
    if (b.oom) {
        report_sections_free(out);
        return err_set(err, "out of memory building the report tables");
    }
    return 0;
}

void report_sections_free(ReportSections *s) {
    for (size_t i = 0; i < s->n; i++) table_free(&s->items[i].table);
    free(s->items);
    memset(s, 0, sizeof *s);
}
