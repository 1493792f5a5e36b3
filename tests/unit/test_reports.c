/* tests/unit/test_reports.c — the report computations without a database: Pareto fronts (dominated
 * points, ties, NaN), dynamic ranges on a hand-made grid (width vs mapping vs DVFS vs combined),
 * percentiles, the individually trained baseline comparison, and `dynn check`'s baseline files
 * (tolerances, regressions, missing entries, parse errors, write/parse round trip); where a report may
 * be written (report_dest_check); a synthetic model (random weights) beside a trained one never shows
 * an accuracy (no front, no delta, no accuracy row or cell, a table of its own). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>

#include "reports/aggregate.h"
#include "reports/baseline.h"
#include "reports/pareto.h"
#include "reports/report.h"
#include "reports/tables.h"
#include "tests/unit/testutil.h"

static void test_pareto_front(void **state) {
    (void)state;
    /* 0 and 5 are identical (only 0 kept); 2 has the cost of 1 and less value; 3 the value of 1 at a
     * higher cost; 6 has a NaN cost */
    const double cost[] = {1, 2, 2, 3, 4, 1, NAN, 0.5};
    const double value[] = {0.5, 0.7, 0.6, 0.7, 0.9, 0.5, 1.0, 0.2};
    size_t out[8];
    long n = pareto_front(cost, value, 8, out);
    assert_int_equal(n, 4);
    assert_int_equal(out[0], 7);
    assert_int_equal(out[1], 0);
    assert_int_equal(out[2], 1);
    assert_int_equal(out[3], 4);
    /* a point that beats everything is the whole front */
    const double c2[] = {3, 1, 2}, v2[] = {0.1, 0.9, 0.5};
    assert_int_equal(pareto_front(c2, v2, 3, out), 1);
    assert_int_equal(out[0], 1);
    assert_int_equal(pareto_front(c2, v2, 0, out), 0);
}

static void test_percentile(void **state) {
    (void)state;
    const double x[] = {3, 1, 2, 5, 4};
    assert_true(fabs(agg_percentile(x, 5, 50) - 3) < 1e-12);
    assert_true(fabs(agg_percentile(x, 5, 90) - 4.6) < 1e-12);
    assert_true(fabs(agg_percentile(x, 4, 50) - 2.5) < 1e-12); /* {3,1,2,5}: between 2 and 3 */
    assert_true(isnan(agg_percentile(x, 0, 50)));
}

/* 2 subnets x mappings A, B x 600 / 1200 MHz, latencies (ms):
 *            A,1200  B,1200  A,600  B,600
 *   s0         2      0.5      6     1.5
 *   s1         4      2       12     6
 * Reference: 1200 MHz; s1 is fastest there on B. width at B,1200 = 2/0.5 = 4 (at A it would be 2);
 * mapping at 1200 = 4/0.5 = 8; DVFS at B = 6/0.5 = 12; combined = 12/0.5 = 24. */
static void test_dynamic_ranges(void **state) {
    (void)state;
    AggPoint pts[8];
    memset(pts, 0, sizeof pts);
    const double lat[2][4] = {{2, 0.5, 6, 1.5}, {4, 2, 12, 6}};
    size_t k = 0;
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < 4; c++, k++) {
            pts[k].subnet_index = s;
            strcpy(pts[k].mapping, c % 2 ? "B" : "A");
            pts[k].frequency_khz = c < 2 ? 1200000 : 600000;
            pts[k].p50_s = lat[s][c] / 1e3;
            pts[k].energy_j = c == 1 ? (s ? 0.02 : 0.01) : NAN; /* energy only at B,1200 */
        }
    AggGroup g = {.points = pts, .n_points = 8};
    agg_ranges(&g);
    assert_string_equal(g.ref_mapping, "B");
    assert_int_equal(g.ref_frequency_khz, 1200000);
    assert_int_equal(g.n_mappings, 2);
    assert_int_equal(g.n_frequencies, 2);
    assert_true(fabs(g.latency.width - 4) < 1e-9);
    assert_true(fabs(g.latency.mapping - 8) < 1e-9);
    assert_true(fabs(g.latency.dvfs - 12) < 1e-9);
    assert_true(fabs(g.latency.combined - 24) < 1e-9);
    assert_true(fabs(g.energy.width - 2) < 1e-9);
    assert_true(fabs(g.energy.combined - 2) < 1e-9);
    /* no energy anywhere: NaN ranges; one point: range 1 */
    for (size_t i = 0; i < 8; i++) pts[i].energy_j = NAN;
    g.n_points = 1;
    agg_ranges(&g);
    assert_true(isnan(g.energy.combined));
    assert_true(fabs(g.latency.combined - 1) < 1e-12);
}

static RdSubnet subnet(const char *name, int index, double width, double acc) {
    return (RdSubnet){.name = (char *)name, .index = index, .width = width, .accuracy = acc, .macs = width * 1e6,
                      .loss = NAN, .params = NAN, .bytes_touched = NAN};
}

/* A dynamic model (4 subnets) and an individual one (2 subnets, matched by width), measurements of
 * the dynamic one linked to it; fronts and deltas come out of aggregate_run. */
static void test_aggregate_run_and_baseline(void **state) {
    (void)state;
    RdSubnet dyn[] = {subnet("w0.25", 0, 0.25, 0.80), subnet("w0.5", 1, 0.5, 0.85), subnet("w0.75", 2, 0.75, 0.88),
                      subnet("w1.0", 3, 1.0, 0.90)};
    RdSubnet ind[] = {subnet("w0.5", 0, 0.5, 0.86), subnet("w1.0", 1, 1.0, 0.89)};
    RdModel models[] = {{.stage = "train@m=u", .method = "uniform", .subnets = dyn, .n_subnets = 4},
                        {.stage = "train@m=i", .method = "individual", .subnets = ind, .n_subnets = 2}};
    double s0[] = {0.003, 0.001, 0.002}, s1[] = {0.004}, s2[] = {0.0035}, s3[] = {0.010};
    RdMeasurement meas[] = {
        {.model = 0, .platform = "local", .subnet = "w0.25", .cpus = "0", .threads = 1, .batch = 1, .energy_j = 0.03, .latency_s = s0, .n_samples = 3},
        {.model = 0, .platform = "local", .subnet = "w0.5", .cpus = "0", .threads = 1, .batch = 1, .energy_j = NAN, .latency_s = s1, .n_samples = 1},
        {.model = 0, .platform = "local", .subnet = "w0.75", .cpus = "0", .threads = 1, .batch = 1, .energy_j = NAN, .latency_s = s2, .n_samples = 1},
        {.model = 0, .platform = "local", .subnet = "w1.0", .cpus = "0", .threads = 1, .batch = 1, .energy_j = NAN, .latency_s = s3, .n_samples = 1},
    };
    RunData d = {.models = models, .n_models = 2, .meas = meas, .n_meas = 4};
    Aggregate a;
    Err err;
    assert_int_equal(aggregate_run(&d, &a, &err), 0);
    assert_int_equal(a.n_groups, 1);
    const AggGroup *g = &a.groups[0];
    assert_string_equal(g->label, "uniform/local/b1");
    assert_string_equal(g->points[0].mapping, "cpus=0 threads=1");
    assert_true(fabs(g->points[0].p50_s - 0.002) < 1e-12);
    assert_true(fabs(g->points[0].energy_j - 0.01) < 1e-12); /* per inference: 0.03 J over 3 samples */
    /* w0.75 (3.5 ms, 88 %) beats w0.5 (4 ms, 85 %): w0.5 is off the latency front */
    assert_int_equal(g->n_front_latency, 3);
    assert_string_equal(g->points[g->front_latency[0]].m->subnet, "w0.25");
    assert_string_equal(g->points[g->front_latency[1]].m->subnet, "w0.75");
    assert_string_equal(g->points[g->front_latency[2]].m->subnet, "w1.0");
    assert_int_equal(g->n_front_energy, 1);
    assert_true(fabs(g->latency.width - 5) < 1e-9);
    /* baseline: only the widths the individual model has */
    assert_int_equal(a.n_baselines, 1);
    assert_int_equal(a.n_deltas, 2);
    assert_int_equal(a.n_vs_uniform, 0); /* no non-uniform model */
    assert_string_equal(a.deltas[0].subnet, "w0.5");
    assert_true(fabs(a.deltas[0].delta - (-0.01)) < 1e-12);
    assert_string_equal(a.deltas[1].subnet, "w1.0");
    assert_true(fabs(a.deltas[1].delta - 0.01) < 1e-12);
    aggregate_free(&a);
    /* same subnet count: matched by index, whatever the names */
    RdSubnet ind4[] = {subnet("a", 0, NAN, 0.70), subnet("b", 1, NAN, 0.80), subnet("c", 2, NAN, 0.90), subnet("d", 3, NAN, 0.95)};
    models[1].subnets = ind4;
    models[1].n_subnets = 4;
    assert_int_equal(aggregate_run(&d, &a, &err), 0);
    assert_int_equal(a.n_deltas, 4);
    assert_string_equal(a.deltas[2].reference_subnet, "c");
    assert_true(fabs(a.deltas[2].delta - (-0.02)) < 1e-12);
    aggregate_free(&a);
}

/* One model measured through the cpu backend and through two OpenCL devices: each device is its own
 * group (named by its backend, numbered when one backend ran on two devices), and every subnet of a
 * device group is compared with the cpu group's: cpu median / device median, by hand below. */
static void test_devices_against_cpu(void **state) {
    (void)state;
    RdSubnet dyn[] = {subnet("w0.5", 0, 0.5, 0.85), subnet("w1.0", 1, 1.0, 0.90)};
    RdModel models[] = {{.stage = "train", .method = "uniform", .subnets = dyn, .n_subnets = 2}};
    double c0[] = {0.002}, c1[] = {0.004}, a0[] = {0.001}, a1[] = {0.001}, b0[] = {0.004}, b1[] = {0.008};
    RdMeasurement meas[] = {
        {.model = 0, .platform = "local", .subnet = "w0.5", .cpus = "0", .threads = 1, .batch = 1, .energy_j = NAN, .latency_s = c0, .n_samples = 1},
        {.model = 0, .platform = "local", .subnet = "w1.0", .cpus = "0", .threads = 1, .batch = 1, .energy_j = NAN, .latency_s = c1, .n_samples = 1},
        {.model = 0, .platform = "local", .subnet = "w0.5", .cpus = "0", .threads = 1, .batch = 1, .energy_j = NAN, .latency_s = a0, .n_samples = 1},
        {.model = 0, .platform = "local", .subnet = "w1.0", .cpus = "0", .threads = 1, .batch = 1, .energy_j = NAN, .latency_s = a1, .n_samples = 1},
        {.model = 0, .platform = "local", .subnet = "w0.5", .cpus = "0", .threads = 1, .batch = 1, .energy_j = NAN, .latency_s = b0, .n_samples = 1},
        {.model = 0, .platform = "local", .subnet = "w1.0", .cpus = "0", .threads = 1, .batch = 1, .energy_j = NAN, .latency_s = b1, .n_samples = 1},
    };
    static const char *const backend[] = {"cpu", "cpu", "opencl", "opencl", "opencl", "opencl"};
    static const char *const device[] = {"AMD EPYC", "AMD EPYC", "GPU A", "GPU A", "GPU B", "GPU B"};
    Err err;
    for (int i = 0; i < 6; i++) {
        assert_int_equal(cond_set(&meas[i].cond, COND_BACKEND, backend[i], &err), 0);
        assert_int_equal(cond_set(&meas[i].cond, COND_DEVICE, device[i], &err), 0);
    }
    RunData d = {.models = models, .n_models = 1, .meas = meas, .n_meas = 6};
    Aggregate a;
    assert_int_equal(aggregate_run(&d, &a, &err), 0);
    assert_int_equal(a.n_groups, 3);
    assert_string_equal(a.groups[0].label, "uniform/local/b1"); /* the cpu label is unchanged */
    assert_string_equal(a.groups[1].label, "uniform/local/opencl#1/b1");
    assert_string_equal(a.groups[2].label, "uniform/local/opencl#2/b1");
    assert_true(fabs(a.groups[1].latency.width - 1.0) < 1e-12); /* each group's own dynamic range */
    assert_true(fabs(a.groups[2].latency.width - 2.0) < 1e-12);
    assert_int_equal(a.n_devices, 4);
    static const double want[] = {2.0, 4.0, 0.5, 0.5}; /* 2/1, 4/1, 2/4, 4/8 */
    for (int i = 0; i < 4; i++) {
        assert_ptr_equal(a.devices[i].cpu, &a.groups[0]);
        assert_ptr_equal(a.devices[i].device, &a.groups[1 + i / 2]);
        assert_string_equal(a.devices[i].subnet, i % 2 ? "w1.0" : "w0.5");
        assert_true(fabs(a.devices[i].speedup - want[i]) < 1e-12);
    }
    assert_true(fabs(a.devices[1].cpu_ms - 4.0) < 1e-9 && fabs(a.devices[1].device_ms - 1.0) < 1e-9);
    aggregate_free(&a);
    for (int i = 0; i < 6; i++) cond_free(&meas[i].cond);
}

static const ReportSection *find_section(const ReportSections *s, const char *title) {
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->items[i].title, title)) return &s->items[i];
    return NULL;
}

/* A trained uniform model and a synthetic one (whose subnets claim accuracies, as a stage not
 * following the rules could record: they must never show), both measured. */
static void test_synthetic_model_has_no_accuracy(void **state) {
    (void)state;
    RdSubnet trained[] = {subnet("w0.5", 0, 0.5, 0.85), subnet("w1.0", 1, 1.0, 0.90)};
    RdSubnet synth[] = {subnet("c1", 0, 0.2, 0.50), subnet("c2", 1, 1.0, 0.60)};
    RdModel models[] = {{.stage = "train", .method = "uniform", .subnets = trained, .n_subnets = 2, .slim_seconds = NAN},
                        {.stage = "train_resnet18", .method = "synthetic", .synthetic = 1, .subnets = synth, .n_subnets = 2,
                         .model_bytes = 1048576.0}};
    double l0[] = {0.001}, l1[] = {0.002}, l2[] = {0.010}, l3[] = {0.040};
    RdMeasurement meas[] = {
        {.model = 0, .platform = "local", .subnet = "w0.5", .cpus = "0", .threads = 1, .batch = 1, .energy_j = NAN, .latency_s = l0, .n_samples = 1},
        {.model = 0, .platform = "local", .subnet = "w1.0", .cpus = "0", .threads = 1, .batch = 1, .energy_j = NAN, .latency_s = l1, .n_samples = 1},
        {.model = 1, .platform = "local", .subnet = "c1", .cpus = "0", .threads = 1, .batch = 1, .energy_j = NAN, .latency_s = l2, .n_samples = 1},
        {.model = 1, .platform = "local", .subnet = "c2", .cpus = "0", .threads = 1, .batch = 1, .energy_j = NAN, .latency_s = l3, .n_samples = 1},
    };
    RunData d = {.models = models, .n_models = 2, .meas = meas, .n_meas = 4};
    Aggregate a;
    Err err;
    assert_int_equal(aggregate_run(&d, &a, &err), 0);
    assert_int_equal(a.n_groups, 2);
    assert_string_equal(a.groups[1].label, "synthetic/local/b1");
    for (size_t i = 0; i < a.groups[1].n_points; i++) assert_true(isnan(a.groups[1].points[i].accuracy));
    assert_int_equal(a.groups[1].n_front_latency, 0);
    assert_true(fabs(a.groups[1].latency.width - 4.0) < 1e-9); /* its latency range is there */
    assert_int_equal(a.groups[0].n_front_latency, 2);
    assert_int_equal(a.n_deltas, 0);
    ReportSections s;
    assert_int_equal(report_tables(&d, &a, &s, &err), 0);
    const ReportSection *acc = find_section(&s, "Accuracy per subnet"), *syn = find_section(&s, "Synthetic models (latency only)"),
                        *lat = find_section(&s, "Latency percentiles"), *train = find_section(&s, "Training budget");
    assert_non_null(acc);
    assert_non_null(syn);
    assert_non_null(lat);
    assert_non_null(train);
    assert_int_equal(acc->table.n_rows, 2); /* the trained model's subnets only */
    assert_string_equal(table_cell(&acc->table, 0, 0)->text, "train");
    assert_int_equal(train->table.n_rows, 1);
    /* greedy slimming's seconds: a column, empty for a method without slimming, filled for one with it */
    assert_string_equal(train->table.cols[6], "of which greedy slimming (s)");
    assert_int_equal(table_cell(&train->table, 0, 6)->type, CELL_NULL);
    assert_int_equal(syn->table.n_rows, 2);
    for (size_t c = 0; c < syn->table.n_cols; c++) assert_null(strstr(syn->table.cols[c], "accuracy"));
    assert_string_equal(table_cell(&syn->table, 1, 1)->text, "c2");
    assert_int_equal(lat->table.n_cols, 13); /* with the two GPU clock columns */;
    assert_string_equal(lat->table.cols[9], "accuracy (%)");
    assert_int_equal(lat->table.n_rows, 4);
    assert_int_equal(table_cell(&lat->table, 0, 9)->type, CELL_REAL); /* trained: 85.00 */
    assert_string_equal(table_cell(&lat->table, 2, 0)->text, "synthetic/local/b1");
    assert_int_equal(table_cell(&lat->table, 2, 9)->type, CELL_NULL);
    assert_int_equal(table_cell(&lat->table, 3, 9)->type, CELL_NULL);
    report_sections_free(&s);
    models[0].method = "nonuniform-multi";
    models[0].slim_seconds = 81.4;
    assert_int_equal(report_tables(&d, &a, &s, &err), 0);
    train = find_section(&s, "Training budget");
    assert_string_equal(table_cell(&train->table, 0, 6)->text, "81");
    report_sections_free(&s);
    models[0].method = "uniform";
    models[0].slim_seconds = NAN;
    aggregate_free(&a);
    /* only the synthetic model: no accuracy column, table, front or baseline section at all */
    d.models = &models[1];
    d.n_models = 1;
    for (int i = 2; i < 4; i++) meas[i].model = 0;
    d.meas = &meas[2];
    d.n_meas = 2;
    assert_int_equal(aggregate_run(&d, &a, &err), 0);
    assert_int_equal(report_tables(&d, &a, &s, &err), 0);
    assert_null(find_section(&s, "Accuracy per subnet"));
    assert_null(find_section(&s, "Pareto fronts"));
    assert_null(find_section(&s, "Against the individually trained baseline"));
    assert_null(find_section(&s, "Training budget"));
    lat = find_section(&s, "Latency percentiles");
    assert_non_null(lat);
    for (size_t c = 0; c < lat->table.n_cols; c++) assert_null(strstr(lat->table.cols[c], "accuracy"));
    assert_int_equal(lat->table.n_cols, 12);
    const ReportSection *miss = find_section(&s, "What is missing");
    assert_non_null(miss);
    assert_non_null(strstr(miss->note, "Every model of this run is synthetic"));
    report_sections_free(&s);
    aggregate_free(&a);
}

/* Two architectures, each with its own individual baseline; a non-uniform model against uniform at
 * equal MACs (interpolated inside the range, the end subnet within the slack, nothing beyond). */
static void test_references_per_architecture(void **state) {
    (void)state;
    RdSubnet uni[] = {subnet("w0.25", 0, 0.25, 0.80), subnet("w0.5", 1, 0.5, 0.84), subnet("w1.0", 2, 1.0, 0.90)};
    RdSubnet non[] = {subnet("f0.1", 0, 0.1, 0.70), subnet("f0.24", 1, 0.24, 0.81), subnet("f0.75", 2, 0.75, 0.88),
                      subnet("f1.2", 3, 1.2, 0.91)};
    RdSubnet ind_r[] = {subnet("w0.25", 0, 0.25, 0.82), subnet("w0.5", 1, 0.5, 0.85), subnet("w1.0", 2, 1.0, 0.92)};
    RdSubnet inc_a[] = {subnet("g1", 0, 0.25, 0.60), subnet("g2", 1, 0.5, 0.65), subnet("g3", 2, 1.0, 0.70)};
    RdSubnet ind_a[] = {subnet("w0.25", 0, 0.25, 0.61), subnet("w0.5", 1, 0.5, 0.67), subnet("w1.0", 2, 1.0, 0.75)};
    RdModel models[] = {
        {.stage = "train@method=uniform", .method = "uniform", .arch = "resnet20", .subnets = uni, .n_subnets = 3},
        {.stage = "train@method=nonuniform-multi", .method = "nonuniform-multi", .arch = "resnet20", .subnets = non, .n_subnets = 4},
        {.stage = "train@method=individual", .method = "individual", .arch = "resnet20", .subnets = ind_r, .n_subnets = 3},
        {.stage = "train_alexnet@method=incremental", .method = "incremental", .arch = "alexnet", .subnets = inc_a, .n_subnets = 3},
        {.stage = "train_alexnet@method=individual", .method = "individual", .arch = "alexnet", .subnets = ind_a, .n_subnets = 3},
    };
    RunData d = {.models = models, .n_models = 5};
    Aggregate a;
    Err err;
    assert_int_equal(aggregate_run(&d, &a, &err), 0);
    assert_int_equal(a.n_baselines, 2);
    /* uniform 3 + incremental 3 against their own architecture's baseline; the non-uniform model has
     * 4 subnets against 3, matched by width within 0.05: only f0.24 (w0.25) */
    assert_int_equal(a.n_deltas, 7);
    for (size_t i = 0; i < a.n_deltas; i++) {
        const AggDelta *x = &a.deltas[i];
        if (!strcmp(x->model, "incremental")) {
            assert_string_equal(x->reference, "train_alexnet@method=individual");
        } else {
            assert_string_equal(x->reference, "train@method=individual");
        }
    }
    assert_string_equal(a.deltas[6].model, "incremental");
    assert_true(fabs(a.deltas[6].delta - (-0.05)) < 1e-12); /* g3 0.70 against alexnet w1.0 0.75, not resnet's 0.92 */
    assert_string_equal(a.deltas[3].model, "nonuniform-multi");
    assert_string_equal(a.deltas[3].subnet, "f0.24");
    assert_true(fabs(a.deltas[3].delta - (-0.01)) < 1e-12);
    /* against uniform at equal MACs: f0.1 is 60% below the smallest uniform subnet (skipped); f0.24 is
     * within 10% of w0.25 (its accuracy); f0.75 interpolates w0.5..w1.0 (0.87); f1.2 is 20% above w1.0 */
    assert_int_equal(a.n_vs_uniform, 2);
    assert_string_equal(a.vs_uniform[0].subnet, "f0.24");
    assert_string_equal(a.vs_uniform[0].reference_subnet, "w0.25");
    assert_true(fabs(a.vs_uniform[0].delta - 0.01) < 1e-12);
    assert_string_equal(a.vs_uniform[1].reference_subnet, "w0.5..w1.0");
    assert_true(fabs(a.vs_uniform[1].baseline_accuracy - 0.87) < 1e-12);
    assert_true(fabs(a.vs_uniform[1].delta - 0.01) < 1e-12);
    assert_string_equal(a.vs_uniform[1].reference, "uniform");
    aggregate_free(&a);
}

static BaselineEntry acc_entry(const char *subnet, double v) {
    return (BaselineEntry){.kind = BASE_ACCURACY, .method = "uniform", .subnet = (char *)subnet, .value = v};
}

static BaselineEntry lat_entry(const char *subnet, double v) {
    return (BaselineEntry){.kind = BASE_LATENCY, .method = "uniform", .subnet = (char *)subnet, .platform = "local",
                           .mapping = "threads=1", .batch = 1, .value = v};
}

static void test_check_tolerances(void **state) {
    (void)state;
    BaselineEntry be[] = {acc_entry("w0.5", 0.90), acc_entry("w1.0", 0.92), lat_entry("w0.5", 0.50), lat_entry("w0.25", 0.30),
                          acc_entry("w0.25", 0.80)};
    Baseline base = {.accuracy_points = 1.0, .latency_ratio = 0.10, .entries = be, .n = 5};
    /* w0.5: -0.5 points (ok); w1.0: -2 points (regression); latency w0.5 +8 % (ok), w0.25 +20 %
     * (regression); accuracy w0.25 missing; w2.0 new */
    BaselineEntry ce[] = {acc_entry("w0.5", 0.895), acc_entry("w1.0", 0.90), lat_entry("w0.5", 0.54), lat_entry("w0.25", 0.36),
                          acc_entry("w2.0", 0.95)};
    Baseline cur = {.entries = ce, .n = 5};
    CheckResult r;
    Err err;
    assert_int_equal(baseline_compare(&base, &cur, &r, &err), 0);
    assert_int_equal(r.n, 6);
    assert_int_equal(r.rows[0].status, CHECK_OK);
    assert_true(fabs(r.rows[0].change - (-0.5)) < 1e-9);
    assert_int_equal(r.rows[1].status, CHECK_REGRESSION);
    assert_int_equal(r.rows[2].status, CHECK_OK);
    assert_true(fabs(r.rows[2].change - 0.08) < 1e-9);
    assert_int_equal(r.rows[3].status, CHECK_REGRESSION);
    assert_int_equal(r.rows[4].status, CHECK_MISSING);
    assert_int_equal(r.rows[5].status, CHECK_NEW);
    assert_int_equal(r.regressions, 3);
    check_result_free(&r);
    /* faster and more accurate is never a regression; a different mapping is a different entry */
    BaselineEntry better[] = {acc_entry("w0.5", 0.99), acc_entry("w1.0", 0.99), lat_entry("w0.5", 0.1), lat_entry("w0.25", 0.1),
                              acc_entry("w0.25", 0.99)};
    cur.entries = better;
    assert_int_equal(baseline_compare(&base, &cur, &r, &err), 0);
    assert_int_equal(r.regressions, 0);
    check_result_free(&r);
    better[3].mapping = "threads=2";
    assert_int_equal(baseline_compare(&base, &cur, &r, &err), 0);
    assert_int_equal(r.regressions, 1);
    assert_int_equal(r.rows[3].status, CHECK_MISSING);
    check_result_free(&r);
}

static BaselineEntry ins_entry(const char *subnet, const char *counter, double v) {
    return (BaselineEntry){.kind = BASE_INSTRUCTIONS, .method = "uniform", .subnet = (char *)subnet, .platform = "local",
                           .counter = (char *)counter, .batch = 1, .value = v};
}

/* Instructions: more than baseline x (1 + tolerance) is a regression, fewer never; a run counted with
 * another kernel set, or of another experiment, cannot be judged (baseline_comparable). */
static void test_check_instructions(void **state) {
    (void)state;
    const char *v3 = "callgrind x86-64-v3", *v4 = "callgrind x86-64-v4";
    BaselineEntry be[] = {ins_entry("w0.25", v3, 100000), ins_entry("w0.5", v3, 200000), ins_entry("w1.0", v3, 400000)};
    Baseline base = {.instructions = 0.02, .entries = be, .n = 3, .experiment = "ci-regression"};
    /* +1.9% ok, +2.1% regression, -30% ok */
    BaselineEntry ce[] = {ins_entry("w0.25", v3, 101900), ins_entry("w0.5", v3, 204200), ins_entry("w1.0", v3, 280000)};
    Baseline cur = {.entries = ce, .n = 3};
    CheckResult r;
    Err err;
    assert_int_equal(baseline_comparable(&base, &cur, "ci-regression", &err), 0);
    assert_int_equal(baseline_compare(&base, &cur, &r, &err), 0);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.rows[0].status, CHECK_OK);
    assert_int_equal(r.rows[1].status, CHECK_REGRESSION);
    assert_true(fabs(r.rows[1].change - 0.021) < 1e-9);
    assert_int_equal(r.rows[2].status, CHECK_OK);
    assert_int_equal(r.regressions, 1);
    check_result_free(&r);
    char where[256];
    baseline_entry_where(&be[0], where, sizeof where);
    assert_string_equal(where, "uniform/local/b1/callgrind x86-64-v3");
    /* another experiment; another kernel set: refused with the reason */
    assert_int_equal(baseline_comparable(&base, &cur, "default", &err), -1);
    assert_non_null(strstr(err.msg, "the run is of experiment 'default', the baseline's numbers are of 'ci-regression'"));
    for (size_t i = 0; i < 3; i++) ce[i].counter = (char *)v4;
    assert_int_equal(baseline_comparable(&base, &cur, "ci-regression", &err), -1);
    assert_non_null(strstr(err.msg, "counted by 'callgrind x86-64-v4', the baseline's by 'callgrind x86-64-v3'"));
    /* other counters' entries are different entries: MISSING, not compared */
    assert_int_equal(baseline_compare(&base, &cur, &r, &err), 0);
    assert_int_equal(r.rows[0].status, CHECK_MISSING);
    check_result_free(&r);
    /* a run that counted nothing can be judged: its missing counts are MISSING rows */
    cur.n = 0;
    assert_int_equal(baseline_comparable(&base, &cur, NULL, &err), 0);
}

static void expect_parse_error(const char *yaml, const char *message) {
    Baseline b;
    Err err;
    assert_int_equal(baseline_parse(yaml, strlen(yaml), "base.yaml", &b, &err), -1);
    if (!strstr(err.msg, message)) fail_msg("wanted '%s' in: %s", message, err.msg);
}

static void test_baseline_parse_errors(void **state) {
    (void)state;
    expect_parse_error("- a\n- b\n", "base.yaml:1:1: a baseline file must be a mapping");
    expect_parse_error("format: other\nversion: 1\n", "base.yaml:1:9: not a dynn baseline");
    expect_parse_error("version: 1\n", "base.yaml:1:1: not a dynn baseline");
    expect_parse_error("format: dynn-baseline\nversion: 3\n", "base.yaml:2:10: baseline 'version' must be 1 or 2");
    expect_parse_error("format: dynn-baseline\nversion: 1\naccuracyy: []\n", "base.yaml:3:1: unknown key 'accuracyy'");
    expect_parse_error("format: dynn-baseline\nversion: 1\n", "no 'accuracy', 'latency' or 'instructions' entries");
    expect_parse_error("format: dynn-baseline\nversion: 2\ninstructions:\n  - {method: u, subnet: w1, platform: p, batch: 1, "
                       "instructions: 100}\n", "'instructions' entry 1 is missing 'counter'");
    expect_parse_error("format: dynn-baseline\nversion: 2\ninstructions:\n  - {method: u, subnet: w1, platform: p, batch: 1, "
                       "counter: c, instructions: 0}\n", "instructions: 0 is out of range");
    expect_parse_error("format: dynn-baseline\nversion: 2\nexperiment: ''\naccuracy: []\n", "'experiment' must be a non-empty string");
    expect_parse_error("format: dynn-baseline\nversion: 1\ntolerance: {accuracy_points: lots}\naccuracy: []\n",
                       "base.yaml:3:30: accuracy_points: 'lots' is not a number");
    expect_parse_error("format: dynn-baseline\nversion: 1\naccuracy:\n  - {method: u, subnet: w1, accuracy: 1.5}\n",
                       "base.yaml:4:39: accuracy: 1.5 is out of range [0, 1]");
    expect_parse_error("format: dynn-baseline\nversion: 1\naccuracy:\n  - {method: u, accuracy: 0.5}\n",
                       "base.yaml:4:5: 'accuracy' entry 1 is missing 'subnet'");
    expect_parse_error("format: dynn-baseline\nversion: 1\nlatency:\n  - {method: u, subnet: w1, platform: p, mapping: m, ratio: 0.5}\n",
                       "'latency' entry 1 is missing 'batch'");
    expect_parse_error("format: dynn-baseline\nversion: 1\naccuracy: {method: u}\n", "base.yaml:3:11: 'accuracy' must be a list");
    expect_parse_error("format: dynn-baseline\nversion: 1\naccuracy: [\n", "base.yaml");
}

static void test_baseline_round_trip(void **state) {
    char *dir = *state, path[512];
    tu_path(path, sizeof path, dir, "base.yaml");
    BaselineEntry e[] = {acc_entry("w0.5", 0.8125), lat_entry("w \"q\"", 0.3125),
                         ins_entry("w0.5", "callgrind x86-64-v3 (cc 12.2.0, -O3)", 3614688)};
    e[1].frequency_khz = 1200000;
    Baseline b = {.accuracy_points = 0.5, .latency_ratio = 0.2, .instructions = 0.015, .entries = e, .n = 3,
                  .experiment = "ci-regression"}, back;
    Err err;
    assert_int_equal(baseline_write(path, &b, &err), 0);
    assert_int_equal(baseline_load(path, &back, &err), 0);
    assert_true(back.accuracy_points == 0.5 && back.latency_ratio == 0.2 && back.instructions == 0.015);
    assert_string_equal(back.experiment, "ci-regression");
    assert_int_equal(back.n, 3);
    assert_int_equal(back.entries[2].kind, BASE_INSTRUCTIONS);
    assert_true(back.entries[2].value == 3614688);
    assert_string_equal(back.entries[2].counter, "callgrind x86-64-v3 (cc 12.2.0, -O3)");
    assert_int_equal(back.entries[0].kind, BASE_ACCURACY);
    assert_true(back.entries[0].value == 0.8125);
    assert_string_equal(back.entries[1].subnet, "w \"q\"");
    assert_string_equal(back.entries[1].mapping, "threads=1");
    assert_int_equal(back.entries[1].frequency_khz, 1200000);
    CheckResult r;
    assert_int_equal(baseline_compare(&back, &b, &r, &err), 0);
    assert_int_equal(r.regressions, 0);
    assert_int_equal(r.n, 3);
    check_result_free(&r);
    baseline_free(&back);
}

/* refused(wd, db, out, message part): report_dest_check refuses out with a message containing part. */
static void refused(const char *wd, const char *db, const char *out, const char *part) {
    char dir[PATH_MAX];
    Err err = {{0}};
    assert_int_equal(report_dest_check(out, wd, db, dir, sizeof dir, &err), -1);
    if (!strstr(err.msg, part)) fail_msg("'%s': got \"%s\", wanted \"%s\"", out, err.msg, part);
}

/* allowed(wd, db, out, real, rel): out is accepted and its physical path is real/rel. */
static void allowed(const char *wd, const char *db, const char *out, const char *real, const char *rel) {
    char dir[PATH_MAX], want[PATH_MAX];
    Err err = {{0}};
    if (report_dest_check(out, wd, db, dir, sizeof dir, &err)) fail_msg("'%s' refused: %s", out, err.msg);
    assert_string_equal(dir, tu_path(want, sizeof want, real, rel));
}

static void test_report_dest(void **state) {
    char *base = *state, wd[PATH_MAX], real[PATH_MAX], p[PATH_MAX];
    const char *db = ".dynn/results.db";
    tu_path(wd, sizeof wd, base, "w");
    assert_int_equal(mkdir(wd, 0777), 0);
    assert_non_null(realpath(wd, real));
    /* by the letters */
    refused(wd, db, "", "'' is the working directory");
    refused(wd, db, "./", "'./' is the working directory");
    refused(wd, db, "/abs", "'/abs' must be relative to the working directory");
    refused(wd, db, "a/../b", "'a/../b' may not contain '..'");
    /* the default state directory, before it exists, and inside it */
    refused(wd, db, "./.dynn//", "'./.dynn//' is the dynn state directory");
    refused(wd, db, ".dynn/x", "'.dynn/x' is inside the dynn state directory");
    refused(wd, "st/r.db", "st/", "'st/' is the dynn state directory"); /* the one --db names */
    refused(wd, "st/sub/r.db", "st", "'st' contains the dynn state directory");
    allowed(wd, db, "./rep/", real, "rep");
    /* the state directory is the working directory: only dynn's entries there */
    refused(wd, "r.db", "store", "'store' is dynn's store");
    refused(wd, "r.db", "logs/x", "'logs/x' is inside dynn's logs");
    refused(wd, "r.db", "work", "'work' is dynn's work");
    refused(wd, "r.db", "r.db-wal", "'r.db-wal' is the results database's file");
    allowed(wd, "r.db", "rep", real, "rep");
    /* ... or above it (an absolute database path) */
    tu_path(p, sizeof p, base, "r.db");
    allowed(wd, p, "rep", real, "rep");
    /* existing things: a symlink inside is followed on the way, refused at the end */
    assert_int_equal(mkdir(tu_path(p, sizeof p, wd, "a"), 0777), 0);
    assert_int_equal(symlink("a", tu_path(p, sizeof p, wd, "l")), 0);
    allowed(wd, db, "l/rep", real, "a/rep");
    refused(wd, db, "l", "'l' is a symlink; give a directory");
    allowed(wd, db, "a", real, "a"); /* empty */
    tu_write_file(tu_path(p, sizeof p, wd, "a/notes"), "x", 1);
    refused(wd, db, "a", "'a' exists, is not empty and is not a dynn report (no .dynn-report)");
    tu_write_file(tu_path(p, sizeof p, wd, "a/.dynn-report"), "", 0); /* a marker must say what it is */
    refused(wd, db, "a", "is not a dynn report");
    assert_int_equal(unlink(p), 0);
    assert_int_equal(mkfifo(p, 0666), 0); /* ... and be a file: a FIFO is refused, not read (no hang) */
    refused(wd, db, "a", "is not a dynn report");
    assert_int_equal(unlink(p), 0);
    tu_write_file(tu_path(p, sizeof p, wd, "a/.dynn-report"), "dynn-report 1\nrun x\n", 20);
    allowed(wd, db, "a", real, "a");
    refused(wd, db, "a/notes", "'a/notes' exists and is not a directory");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pareto_front),
        cmocka_unit_test(test_percentile),
        cmocka_unit_test(test_dynamic_ranges),
        cmocka_unit_test(test_aggregate_run_and_baseline),
        cmocka_unit_test(test_devices_against_cpu),
        cmocka_unit_test(test_references_per_architecture),
        cmocka_unit_test(test_synthetic_model_has_no_accuracy),
        cmocka_unit_test(test_check_tolerances),
        cmocka_unit_test(test_check_instructions),
        cmocka_unit_test(test_baseline_parse_errors),
        cmocka_unit_test_setup_teardown(test_baseline_round_trip, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_report_dest, tu_setup_tmpdir, tu_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
