/* reports/stage_aggregate.c — the `aggregate` stage type: Pareto fronts, dynamic ranges and the comparison
 * with the individually trained baseline of the train and profile stages it needs (reports/aggregate.h),
 * recorded as metrics. No params.
 *
 * Metrics, subnet = the group label "method/platform/bBATCH":
 *   range_latency_{width,mapping,dvfs,combined}, range_energy_{…} (max / min; energy only when
 *   measured), pareto_latency_points, pareto_energy_points, operating_points;
 * subnet = "method/SUBNET": accuracy_vs_individual (dynamic minus individual accuracy of the same
 * architecture, fraction), accuracy_vs_uniform (non-uniform minus uniform at equal MACs). */
#include <math.h>
#include <stdio.h>

#include "reports/aggregate.h"
#include "reports/stage_results.h"
#include "reports/stage_types.h"

static int aggregate_validate(const StageCheck *c, Err *err) {
    char context[300];
    snprintf(context, sizeof context, "params of stage '%s' (aggregate, which takes none)", c->stage);
    return ynode_check_keys(c->params, NULL, 0, c->file, context, err);
}

static int put(RecordSink *sink, const char *name, double v, const char *subnet, Err *err) {
    return isnan(v) ? 0 : sink->metric(sink, name, v, subnet, 0, err);
}

static int put_deltas(RecordSink *sink, const char *name, const AggDelta *x, size_t n, Err *err) {
    for (size_t i = 0; i < n; i++) {
        char subnet[256];
        snprintf(subnet, sizeof subnet, "%s/%s", x[i].model, x[i].subnet);
        if (put(sink, name, x[i].delta, subnet, err)) return -1;
    }
    return 0;
}

static int aggregate_run_stage(const StageRun *run, Err *err) {
    RunData d;
    if (stage_load_results(run, &d, err)) return -1;
    Aggregate a;
    if (aggregate_run(&d, &a, err)) {
        rundata_free(&d);
        return -1;
    }
    RecordSink *s = run->sink;
    int rc = 0;
    for (size_t i = 0; i < a.n_groups && !rc; i++) {
        const AggGroup *g = &a.groups[i];
        const char *l = g->label;
        int energy = !isnan(g->energy.combined);
        rc = put(s, "range_latency_width", g->latency.width, l, err) || put(s, "range_latency_mapping", g->latency.mapping, l, err) ||
             put(s, "range_latency_dvfs", g->latency.dvfs, l, err) || put(s, "range_latency_combined", g->latency.combined, l, err) ||
             put(s, "range_energy_width", g->energy.width, l, err) || put(s, "range_energy_mapping", g->energy.mapping, l, err) ||
             put(s, "range_energy_dvfs", g->energy.dvfs, l, err) || put(s, "range_energy_combined", g->energy.combined, l, err) ||
             put(s, "pareto_latency_points", (double)g->n_front_latency, l, err) ||
             (energy && put(s, "pareto_energy_points", (double)g->n_front_energy, l, err)) ||
             put(s, "operating_points", (double)g->n_points, l, err);
        printf("%s: %zu operating points, latency range width %.2fx, +mapping %.2fx, +DVFS %.2fx, all %.2fx\n", l, g->n_points,
               g->latency.width, g->latency.mapping, g->latency.dvfs, g->latency.combined);
    }
    for (size_t i = 0; i < a.n_devices && !rc; i++) { /* subnet: "uniform/local/opencl/b1/w0.50" */
        const AggDeviceCmp *x = &a.devices[i];
        char subnet[320];
        snprintf(subnet, sizeof subnet, "%s/%s", x->device->label, x->subnet);
        rc = put(s, "speedup_vs_cpu", x->speedup, subnet, err);
        printf("%s: %.3f ms on %s, %.3f ms on the cpu backend: %.2fx\n", subnet, x->device_ms, x->device->device, x->cpu_ms,
               x->speedup);
    }
    rc = rc || put_deltas(s, "accuracy_vs_individual", a.deltas, a.n_deltas, err) ||
         put_deltas(s, "accuracy_vs_uniform", a.vs_uniform, a.n_vs_uniform, err);
    aggregate_free(&a);
    rundata_free(&d);
    return rc ? -1 : 0;
}

const StageType stage_type_aggregate = {
    .name = "aggregate",
    .summary = "Pareto fronts, dynamic ranges and baseline comparison of the train/profile stages it needs (metrics)",
    .validate = aggregate_validate,
    .run = aggregate_run_stage,
};
