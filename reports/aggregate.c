/* reports/aggregate.c — operating points, fronts, dynamic ranges and the accuracy of dynamic subnets
 * against their references (individual baseline, uniform at equal MACs) of a run (see aggregate.h). */
#include "reports/aggregate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/pareto.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double agg_percentile(const double *x, size_t n, double p) {
    if (!n) return NAN;
    double *s = malloc(n * sizeof *s);
    if (!s) return NAN;
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double pos = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(pos), hi = lo + 1 < n ? lo + 1 : lo;
    double v = s[lo] + (pos - (double)lo) * (s[hi] - s[lo]);
    free(s);
    return v;
}

void agg_mapping_label(const RdMeasurement *m, char *out, size_t size) {
    if (m->cpus && m->cpus[0] && m->threads > 0) snprintf(out, size, "cpus=%s threads=%d", m->cpus, m->threads);
    else if (m->cpus && m->cpus[0]) snprintf(out, size, "cpus=%s", m->cpus);
    else if (m->threads > 0) snprintf(out, size, "threads=%d", m->threads);
    else snprintf(out, size, "default");
}

/* ---- dynamic ranges ---- */

/* max/min of latency (or energy) over the points that pass the filter (NULL mapping / freq < 0:
 * any). */
static double range_of(const AggGroup *g, int energy, const char *mapping, long long freq) {
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < g->n_points; i++) {
        const AggPoint *p = &g->points[i];
        if (mapping && strcmp(p->mapping, mapping)) continue;
        if (freq >= 0 && p->frequency_khz != freq) continue;
        double v = energy ? p->energy_j : p->p50_s;
        if (isnan(v)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    if (hi < lo) return NAN;
    return lo > 0 ? hi / lo : NAN;
}

static int seen_mapping(const AggGroup *g, size_t upto, const char *mapping) {
    for (size_t k = 0; k < upto; k++)
        if (!strcmp(g->points[k].mapping, mapping)) return 1;
    return 0;
}

static int seen_frequency(const AggGroup *g, size_t upto, long long f) {
    for (size_t k = 0; k < upto; k++)
        if (g->points[k].frequency_khz == f) return 1;
    return 0;
}

void agg_ranges(AggGroup *g) {
    g->n_mappings = g->n_frequencies = 0;
    g->ref_frequency_khz = 0;
    g->ref_mapping[0] = '\0';
    int top_index = -1;
    for (size_t i = 0; i < g->n_points; i++) {
        const AggPoint *p = &g->points[i];
        if (!seen_mapping(g, i, p->mapping)) g->n_mappings++;
        if (!seen_frequency(g, i, p->frequency_khz)) g->n_frequencies++;
        if (p->frequency_khz > g->ref_frequency_khz) g->ref_frequency_khz = p->frequency_khz;
        if (p->subnet_index > top_index) top_index = p->subnet_index;
    }
    double best = INFINITY;
    for (size_t i = 0; i < g->n_points; i++) {
        const AggPoint *p = &g->points[i];
        if (p->frequency_khz != g->ref_frequency_khz || p->subnet_index != top_index || isnan(p->p50_s)) continue;
        if (p->p50_s < best) best = p->p50_s, snprintf(g->ref_mapping, sizeof g->ref_mapping, "%s", p->mapping);
    }
    if (!g->ref_mapping[0] && g->n_points) snprintf(g->ref_mapping, sizeof g->ref_mapping, "%s", g->points[0].mapping);
    for (int e = 0; e < 2; e++) {
        AggRanges *r = e ? &g->energy : &g->latency;
        r->width = range_of(g, e, g->ref_mapping, g->ref_frequency_khz);
        r->mapping = range_of(g, e, NULL, g->ref_frequency_khz);
        r->dvfs = range_of(g, e, g->ref_mapping, -1);
        r->combined = range_of(g, e, NULL, -1);
    }
}

/* ---- groups ---- */

/* The group of a measurement: one model on one platform, backend and device, at one batch size. */
static AggGroup *find_group(Aggregate *a, long model, const char *platform, const char *backend, const char *device,
                            int batch) {
    for (size_t i = 0; i < a->n_groups; i++) {
        AggGroup *g = &a->groups[i];
        if (g->model == model && !strcmp(g->platform, platform) && !strcmp(g->backend, backend) &&
            !strcmp(g->device, device) && g->batch == batch)
            return g;
    }
    return NULL;
}

static int add_point(Aggregate *a, const RunData *d, const RdMeasurement *m) {
    const char *backend = cond_get(&m->cond, COND_BACKEND), *device = cond_get(&m->cond, COND_DEVICE);
    if (!backend) backend = "";
    if (!device) device = "";
    AggGroup *g = find_group(a, m->model, m->platform, backend, device, m->batch);
    if (!g) {
        AggGroup *p = realloc(a->groups, (a->n_groups + 1) * sizeof *p);
        if (!p) return -1;
        a->groups = p;
        g = &a->groups[a->n_groups++];
        memset(g, 0, sizeof *g);
        g->model = m->model;
        g->method = agg_model_name(d, m->model);
        g->platform = m->platform;
        g->backend = backend;
        g->device = device;
        g->batch = m->batch;
    }
    AggPoint *pts = realloc(g->points, (g->n_points + 1) * sizeof *pts);
    if (!pts) return -1;
    g->points = pts;
    AggPoint *p = &g->points[g->n_points++];
    memset(p, 0, sizeof *p);
    p->m = m;
    p->subnet = m->model >= 0 ? rundata_subnet(&d->models[m->model], m->subnet) : NULL;
    p->subnet_index = p->subnet ? p->subnet->index : m->subnet_index; /* no train stage: the profiler's */
    /* a synthetic model's points have no accuracy, so no front and no accuracy plot point */
    p->accuracy = p->subnet && !d->models[m->model].synthetic ? p->subnet->accuracy : NAN;
    agg_mapping_label(m, p->mapping, sizeof p->mapping);
    p->frequency_khz = m->frequency_khz;
    p->p50_s = agg_percentile(m->latency_s, m->n_samples, 50);
    p->p90_s = agg_percentile(m->latency_s, m->n_samples, 90);
    p->p99_s = agg_percentile(m->latency_s, m->n_samples, 99);
    p->energy_j = m->n_samples && !isnan(m->energy_j) ? m->energy_j / (double)m->n_samples : NAN;
    return 0;
}

/* Fronts of one group: accuracy against latency and against energy. */
static int group_fronts(AggGroup *g) {
    size_t n = g->n_points;
    double *acc = malloc((n ? n : 1) * sizeof *acc), *lat = malloc((n ? n : 1) * sizeof *lat),
           *en = malloc((n ? n : 1) * sizeof *en);
    g->front_latency = malloc((n ? n : 1) * sizeof *g->front_latency);
    g->front_energy = malloc((n ? n : 1) * sizeof *g->front_energy);
    int rc = acc && lat && en && g->front_latency && g->front_energy ? 0 : -1;
    for (size_t i = 0; !rc && i < n; i++) acc[i] = g->points[i].accuracy, lat[i] = g->points[i].p50_s, en[i] = g->points[i].energy_j;
    long k1 = rc ? -1 : pareto_front(lat, acc, n, g->front_latency);
    long k2 = rc ? -1 : pareto_front(en, acc, n, g->front_energy);
    free(acc), free(lat), free(en);
    if (k1 < 0 || k2 < 0) return -1;
    g->n_front_latency = (size_t)k1;
    g->n_front_energy = (size_t)k2;
    return 0;
}

const char *agg_model_name(const RunData *d, long model) {
    if (model < 0) return "(unknown model)";
    for (size_t k = 0; k < d->n_models; k++)
        if ((long)k != model && !strcmp(d->models[k].method, d->models[model].method)) return d->models[model].stage;
    return d->models[model].method;
}

/* Group labels: method/platform/bN, method/platform/BACKEND/bN for a backend other than cpu (and, when
 * one backend ran on several devices here, BACKEND#K, K its order of appearance). */
static void label_groups(Aggregate *a, const RunData *d) {
    for (size_t i = 0; i < a->n_groups; i++) {
        AggGroup *g = &a->groups[i];
        char backend[64] = "";
        if (g->backend[0] && strcmp(g->backend, "cpu")) {
            int nth = 0, devices = 0;
            for (size_t k = 0; k < a->n_groups; k++) {
                const AggGroup *o = &a->groups[k];
                if (strcmp(o->backend, g->backend)) continue;
                int first = 1; /* o's device seen in an earlier group? */
                for (size_t j = 0; j < k && first; j++)
                    if (!strcmp(a->groups[j].backend, g->backend) && !strcmp(a->groups[j].device, o->device)) first = 0;
                if (!first) continue;
                devices++;
                if (!strcmp(o->device, g->device)) nth = devices;
            }
            if (devices > 1) snprintf(backend, sizeof backend, "%.40s#%d/", g->backend, nth);
            else snprintf(backend, sizeof backend, "%.40s/", g->backend);
        }
        snprintf(g->label, sizeof g->label, "%s/%s/%sb%d", agg_model_name(d, g->model), g->platform, backend, g->batch);
    }
}

/* ---- references: the individual baseline and uniform at equal MACs ---- */

int agg_same_arch(const RdModel *x, const RdModel *y) {
    if (!x->arch || !y->arch) return !x->arch && !y->arch;
    return !strcmp(x->arch, y->arch);
}

int agg_nonuniform(const RdModel *m) { return !strncmp(m->method, "nonuniform", 10); }

/* The last model of method `method` with m's architecture, -1 when none. */
static long reference_model(const RunData *d, const RdModel *m, const char *method) {
    long r = -1;
    for (size_t i = 0; i < d->n_models; i++)
        if (&d->models[i] != m && !d->models[i].synthetic && !strcmp(d->models[i].method, method) &&
            agg_same_arch(&d->models[i], m))
            r = (long)i;
    return r;
}

static const RdSubnet *baseline_match(const RdModel *dyn, size_t k, const RdModel *base) {
    if (dyn->n_subnets == base->n_subnets) return &base->subnets[k];
    const RdSubnet *s = &dyn->subnets[k], *best = NULL;
    double best_gap = 0.05;
    for (size_t j = 0; j < base->n_subnets; j++) {
        double gap = fabs(base->subnets[j].width - s->width);
        if (!isnan(gap) && gap <= best_gap) best = &base->subnets[j], best_gap = gap;
    }
    return best;
}

/* The uniform model's accuracy at `macs` (see aggregate.h) into *acc and the subnet(s) it came
 * from into label; 0 when macs lies outside the uniform subnets' range (beyond the slack). */
static int uniform_at_macs(const RdModel *u, double macs, double *acc, char *label, size_t size) {
    const RdSubnet *lo = NULL, *hi = NULL; /* the largest subnet <= macs, the smallest >= macs */
    for (size_t j = 0; j < u->n_subnets; j++) {
        const RdSubnet *s = &u->subnets[j];
        if (isnan(s->macs) || isnan(s->accuracy)) continue;
        if (s->macs <= macs && (!lo || s->macs > lo->macs)) lo = s;
        if (s->macs >= macs && (!hi || s->macs < hi->macs)) hi = s;
    }
    if (lo && hi && hi->macs > lo->macs) {
        double t = (macs - lo->macs) / (hi->macs - lo->macs);
        *acc = lo->accuracy + t * (hi->accuracy - lo->accuracy);
        snprintf(label, size, "%s..%s", lo->name, hi->name);
        return 1;
    }
    const RdSubnet *only = lo ? lo : hi; /* equal MACs, or outside the range */
    if (!only || fabs(only->macs - macs) > AGG_MACS_SLACK * only->macs) return 0;
    *acc = only->accuracy;
    snprintf(label, size, "%s", only->name);
    return 1;
}

static int push_delta(AggDelta **list, size_t *n, AggDelta x) {
    AggDelta *p = realloc(*list, (*n + 1) * sizeof *p);
    if (!p) return -1;
    *list = p;
    x.delta = x.accuracy - x.baseline_accuracy;
    p[(*n)++] = x;
    return 0;
}

static int reference_deltas(Aggregate *a, const RunData *d) {
    for (size_t i = 0; i < d->n_models; i++) {
        const RdModel *m = &d->models[i];
        if (m->synthetic) continue; /* no accuracy to compare */
        if (!strcmp(m->method, "individual")) {
            a->n_baselines++;
            continue;
        }
        long bi = reference_model(d, m, "individual"), ui = reference_model(d, m, "uniform");
        const int nonuniform = agg_nonuniform(m);
        for (size_t k = 0; k < m->n_subnets; k++) {
            const RdSubnet *s = &m->subnets[k];
            AggDelta x = {.model = agg_model_name(d, (long)i), .subnet = s->name, .index = s->index, .width = s->width,
                          .macs = s->macs, .accuracy = s->accuracy};
            const RdSubnet *b = bi >= 0 ? baseline_match(m, k, &d->models[bi]) : NULL;
            if (b) {
                AggDelta y = x;
                y.reference = agg_model_name(d, bi);
                snprintf(y.reference_subnet, sizeof y.reference_subnet, "%s", b->name);
                y.baseline_accuracy = b->accuracy;
                if (push_delta(&a->deltas, &a->n_deltas, y)) return -1;
            }
            if (nonuniform && ui >= 0 && !isnan(s->macs)) {
                x.reference = agg_model_name(d, ui);
                if (uniform_at_macs(&d->models[ui], s->macs, &x.baseline_accuracy, x.reference_subnet, sizeof x.reference_subnet) &&
                    push_delta(&a->vs_uniform, &a->n_vs_uniform, x))
                    return -1;
            }
        }
    }
    return 0;
}

/* ---- devices against the CPU ---- */

static int is_cpu(const AggGroup *g) { return !g->backend[0] || !strcmp(g->backend, "cpu"); }

/* The median latency of subnet `index` in g at its reference frequency on its fastest mapping (s);
 * NaN when g has no such point. *name gets the subnet's name. */
static double best_p50(const AggGroup *g, int index, const char **name) {
    double best = NAN;
    for (size_t i = 0; i < g->n_points; i++) {
        const AggPoint *p = &g->points[i];
        if (p->subnet_index != index || p->frequency_khz != g->ref_frequency_khz || isnan(p->p50_s)) continue;
        if (isnan(best) || p->p50_s < best) best = p->p50_s, *name = p->m->subnet;
    }
    return best;
}

static int compare_devices(Aggregate *a) {
    for (size_t i = 0; i < a->n_groups; i++) {
        const AggGroup *g = &a->groups[i];
        if (is_cpu(g)) continue;
        const AggGroup *c = NULL;
        for (size_t k = 0; k < a->n_groups && !c; k++) {
            const AggGroup *o = &a->groups[k];
            if (is_cpu(o) && o->model == g->model && !strcmp(o->platform, g->platform) && o->batch == g->batch) c = o;
        }
        if (!c) continue;
        int top = -1;
        for (size_t k = 0; k < g->n_points; k++)
            if (g->points[k].subnet_index > top) top = g->points[k].subnet_index;
        for (int index = 0; index <= top; index++) {
            const char *name = NULL, *cpu_name = NULL;
            double dev = best_p50(g, index, &name), cpu = best_p50(c, index, &cpu_name);
            if (isnan(dev) || isnan(cpu)) continue;
            AggDeviceCmp *p = realloc(a->devices, (a->n_devices + 1) * sizeof *p);
            if (!p) return -1;
            a->devices = p;
            a->devices[a->n_devices++] = (AggDeviceCmp){.device = g, .cpu = c, .subnet = name, .index = index,
                                                        .cpu_ms = cpu * 1e3, .device_ms = dev * 1e3, .speedup = cpu / dev};
        }
    }
    return 0;
}

int aggregate_run(const RunData *d, Aggregate *out, Err *err) {
    memset(out, 0, sizeof *out);
    int rc = 0;
    for (size_t i = 0; i < d->n_meas && !rc; i++) { /* a counted point's times are valgrind's: not a latency */
        if (cond_get(&d->meas[i].cond, COND_COUNTER)) continue;
        if (!d->meas[i].interference_flagged) {
            rc = add_point(out, d, &d->meas[i]);
            continue;
        }
        const RdMeasurement **grown = realloc(out->flagged, (out->n_flagged + 1) * sizeof *grown); /* not a latency either */
        if (!grown) rc = -1;
        else out->flagged = grown, out->flagged[out->n_flagged++] = &d->meas[i];
    }
    for (size_t i = 0; i < out->n_groups && !rc; i++) {
        agg_ranges(&out->groups[i]);
        rc = group_fronts(&out->groups[i]);
    }
    if (!rc) label_groups(out, d);
    if (!rc) rc = reference_deltas(out, d);
    if (!rc) rc = compare_devices(out);
    if (rc) {
        aggregate_free(out);
        return err_set(err, "out of memory aggregating %zu measurements", d->n_meas);
    }
    return 0;
}

void aggregate_free(Aggregate *a) {
    for (size_t i = 0; i < a->n_groups; i++) {
        free(a->groups[i].points);
        free(a->groups[i].front_latency);
        free(a->groups[i].front_energy);
    }
    free(a->groups);
    free(a->devices);
    free(a->deltas);
    free(a->vs_uniform);
    free(a->flagged);
    memset(a, 0, sizeof *a);
}
